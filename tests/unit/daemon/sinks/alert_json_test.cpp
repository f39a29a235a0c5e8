#include "daemon/sinks/alert_json.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

using namespace greenrack;
using alerts::AlertEvent;
using alerts::AlertState;
using alerts::AlertStatus;
using alerts::Scope;
using sinks::append_alert_line;
using sinks::encode_alert_event;
using sinks::encode_alert_state;
using sinks::LineBuilder;
using std::chrono::milliseconds;

namespace {

constexpr std::int64_t active_ms = 1'764'340'000'000;
constexpr std::int64_t fired_ms = 1'764'340'060'123;
constexpr std::int64_t publish_ms = 1'764'340'061'000;

// A firing site alert with a cause naming two racks (the shape of site_nongreen).
AlertStatus firing_site_alert() {
    AlertStatus status;
    status.rule = "site_nongreen";
    status.subject = "demo";
    status.scope = Scope::site;
    status.state = AlertState::firing;
    status.since_ms = fired_ms;
    status.active_at_ms = active_ms;
    status.fired_at_ms = fired_ms;
    status.resolved_at_ms = 0;
    status.value = 1500.5;
    status.threshold = 1000.0;
    status.clear_threshold = 200.0;
    status.severity = "critical";
    status.labels = {{"site", "demo"}, {"team", "ops"}};
    status.summary = "Site demo draws 1500 W of non-green power";
    alerts::Cause cause;
    cause.window = milliseconds(900'000);
    cause.racks = {alerts::RackShare{"r2", 1.5, 0.75}, alerts::RackShare{"r1", 0.5, 0.25}};
    cause.headroom_free_w = 100.0;
    cause.headroom_total_w = std::nullopt;
    cause.headroom_storage_w = 50.25;
    status.cause = cause;
    return status;
}

// A device alert that never fired: no cause, no value, only `since` set.
AlertStatus inactive_device_alert() {
    AlertStatus status;
    status.rule = "device_stale";
    status.subject = "pv-1";
    status.scope = Scope::device;
    status.state = AlertState::inactive;
    status.since_ms = active_ms;
    status.threshold = 1.0;
    status.clear_threshold = 1.0;
    status.severity = "warning";
    status.labels = {{"device", "pv-1"}, {"site", "demo"}};
    status.summary = "Device pv-1 has no recent good reading";
    return status;
}

std::set<std::string> keys_of(const nlohmann::json& object) {
    std::set<std::string> keys;
    for (const auto& item : object.items()) {
        keys.insert(item.key());
    }
    return keys;
}

const std::set<std::string> status_keys{
    "ts",        "rule",     "subject",     "scope", "state",     "severity",        "since",
    "active_at", "fired_at", "resolved_at", "value", "threshold", "clear_threshold", "summary",
    "labels",    "cause"};

} // namespace

TEST_CASE("alert state payload carries every status field of a firing alert", "[alert_json]") {
    const auto json = nlohmann::json::parse(encode_alert_state(firing_site_alert(), publish_ms));
    CHECK(keys_of(json) == status_keys);
    CHECK(json["ts"] == publish_ms);
    CHECK(json["rule"] == "site_nongreen");
    CHECK(json["subject"] == "demo");
    CHECK(json["scope"] == "site");
    CHECK(json["state"] == "firing");
    CHECK(json["severity"] == "critical");
    CHECK(json["since"] == fired_ms);
    CHECK(json["active_at"] == active_ms);
    CHECK(json["fired_at"] == fired_ms);
    CHECK(json["resolved_at"].is_null());
    CHECK(json["value"] == 1500.5);
    CHECK(json["threshold"] == 1000.0);
    CHECK(json["clear_threshold"] == 200.0);
    CHECK(json["summary"] == "Site demo draws 1500 W of non-green power");
    CHECK(json["labels"] == nlohmann::json({{"site", "demo"}, {"team", "ops"}}));
}

TEST_CASE("alert cause lists racks with energy and share, window in seconds and headroom",
          "[alert_json]") {
    const auto json = nlohmann::json::parse(encode_alert_state(firing_site_alert(), publish_ms));
    const auto& cause = json["cause"];
    REQUIRE(cause.is_object());
    CHECK(keys_of(cause) == std::set<std::string>{"window_s", "racks", "headroom_free_w",
                                                  "headroom_total_w", "headroom_storage_w"});
    CHECK(cause["window_s"] == 900);
    REQUIRE(cause["racks"].is_array());
    REQUIRE(cause["racks"].size() == 2);
    // Order as given (largest first), each rack with exactly these three members.
    CHECK(cause["racks"][0] ==
          nlohmann::json({{"rack", "r2"}, {"nongreen_wh", 1.5}, {"share", 0.75}}));
    CHECK(cause["racks"][1] ==
          nlohmann::json({{"rack", "r1"}, {"nongreen_wh", 0.5}, {"share", 0.25}}));
    CHECK(cause["headroom_free_w"] == 100.0);
    CHECK(cause["headroom_total_w"].is_null()); // unknown headroom is null, not 0
    CHECK(cause["headroom_storage_w"] == 50.25);
}

TEST_CASE("alert cause with no racks is an object with an empty rack list", "[alert_json]") {
    auto status = firing_site_alert();
    status.cause->racks.clear();
    status.cause->headroom_free_w.reset();
    status.cause->headroom_storage_w.reset();
    const auto json = nlohmann::json::parse(encode_alert_state(status, publish_ms));
    REQUIRE(json["cause"].is_object());
    CHECK(json["cause"]["racks"] == nlohmann::json::array());
    CHECK(json["cause"]["headroom_free_w"].is_null());
    CHECK(json["cause"]["headroom_total_w"].is_null());
    CHECK(json["cause"]["headroom_storage_w"].is_null());
}

TEST_CASE("alert state writes null for times that never happened, no value and no cause",
          "[alert_json]") {
    const auto json =
        nlohmann::json::parse(encode_alert_state(inactive_device_alert(), publish_ms));
    CHECK(keys_of(json) == status_keys);
    CHECK(json["scope"] == "device");
    CHECK(json["state"] == "inactive");
    CHECK(json["since"] == active_ms);
    CHECK(json["active_at"].is_null());
    CHECK(json["fired_at"].is_null());
    CHECK(json["resolved_at"].is_null());
    CHECK(json["value"].is_null());
    CHECK(json["cause"].is_null());
    CHECK(json["labels"] == nlohmann::json({{"device", "pv-1"}, {"site", "demo"}}));
}

TEST_CASE("alert state writes a non-finite value as null and empty labels as an empty object",
          "[alert_json]") {
    auto status = inactive_device_alert();
    status.value = std::numeric_limits<double>::quiet_NaN();
    status.labels.clear();
    status.since_ms = 0;
    const auto json = nlohmann::json::parse(encode_alert_state(status, publish_ms));
    CHECK(json["value"].is_null());
    CHECK(json["since"].is_null());
    CHECK(json["labels"].is_object());
    CHECK(json["labels"].empty());
}

TEST_CASE("alert state names every scope and state as the engine spells them", "[alert_json]") {
    auto status = inactive_device_alert();
    const std::vector<std::pair<Scope, std::string>> scopes{{Scope::site, "site"},
                                                            {Scope::rack, "rack"},
                                                            {Scope::battery, "battery"},
                                                            {Scope::device, "device"}};
    for (const auto& [scope, name] : scopes) {
        status.scope = scope;
        CHECK(nlohmann::json::parse(encode_alert_state(status, publish_ms))["scope"] == name);
    }
    const std::vector<std::pair<AlertState, std::string>> states{
        {AlertState::inactive, "inactive"},
        {AlertState::pending, "pending"},
        {AlertState::firing, "firing"},
        {AlertState::resolved, "resolved"}};
    for (const auto& [state, name] : states) {
        status.state = state;
        CHECK(nlohmann::json::parse(encode_alert_state(status, publish_ms))["state"] == name);
    }
}

TEST_CASE("alert payloads stay valid JSON with quotes, newlines and invalid UTF-8 in texts",
          "[alert_json]") {
    auto status = firing_site_alert();
    status.summary = "say \"hi\"\nback\\slash \xff end";
    status.subject = "r\"1\n";
    status.labels["note"] = "a\tb \xC3";
    status.cause->racks[0].rack = "r\xfe";
    AlertEvent event{AlertState::pending, AlertState::firing, fired_ms, status};

    nlohmann::json state;
    nlohmann::json evt;
    REQUIRE_NOTHROW(state = nlohmann::json::parse(encode_alert_state(status, publish_ms)));
    REQUIRE_NOTHROW(evt = nlohmann::json::parse(encode_alert_event(event)));
    for (const auto* json : {&state, &evt}) {
        CHECK((*json)["summary"] == "say \"hi\"\nback\\slash \xEF\xBF\xBD end");
        CHECK((*json)["subject"] == "r\"1\n");
        CHECK((*json)["labels"]["note"] == "a\tb \xEF\xBF\xBD");
        CHECK((*json)["cause"]["racks"][0]["rack"] == "r\xEF\xBF\xBD");
    }
}

TEST_CASE("alert event is the state payload plus type, from and to, stamped with the event time",
          "[alert_json]") {
    const auto status = firing_site_alert();
    const AlertEvent event{AlertState::pending, AlertState::firing, fired_ms, status};
    const auto json = nlohmann::json::parse(encode_alert_event(event));
    auto expected_keys = status_keys;
    expected_keys.insert({"type", "from", "to"});
    CHECK(keys_of(json) == expected_keys);
    CHECK(json["ts"] == fired_ms);
    CHECK(json["type"] == "alert");
    CHECK(json["from"] == "pending");
    CHECK(json["to"] == "firing");

    // Every status field is the same as in the state payload at the same time stamp.
    const auto state = nlohmann::json::parse(encode_alert_state(status, fired_ms));
    for (const auto& key : status_keys) {
        INFO(key);
        CHECK(json[key] == state[key]);
    }
}

TEST_CASE("alert event for a resolve carries resolved_at and from firing", "[alert_json]") {
    auto status = firing_site_alert();
    status.state = AlertState::resolved;
    status.since_ms = fired_ms + 90'000;
    status.resolved_at_ms = fired_ms + 90'000;
    status.value = 150.0;
    status.cause.reset();
    const AlertEvent event{AlertState::firing, AlertState::resolved, fired_ms + 90'000, status};
    const auto json = nlohmann::json::parse(encode_alert_event(event));
    CHECK(json["from"] == "firing");
    CHECK(json["to"] == "resolved");
    CHECK(json["state"] == "resolved");
    CHECK(json["fired_at"] == fired_ms);
    CHECK(json["resolved_at"] == fired_ms + 90'000);
    CHECK(json["value"] == 150.0);
    CHECK(json["cause"].is_null());
}

TEST_CASE("alert line: measurement alert, sorted tags, state/from/value/threshold/summary, ms",
          "[alert_json][influx]") {
    const AlertEvent event{AlertState::pending, AlertState::firing, fired_ms, firing_site_alert()};
    LineBuilder lines;
    append_alert_line(lines, "demo", event);
    CHECK(lines.lines() == 1);
    CHECK(lines.str() ==
          "alert,rule=site_nongreen,scope=site,severity=critical,site=demo,subject=demo "
          "state=\"firing\",from_state=\"pending\",value=1500.5,threshold=1000,"
          "summary=\"Site demo draws 1500 W of non-green power\" 1764340060123\n");
}

TEST_CASE("alert line leaves out a missing value and escapes tags and the summary",
          "[alert_json][influx]") {
    auto status = inactive_device_alert();
    status.state = AlertState::resolved;
    status.subject = "pv 1,a=b";
    status.summary = "say \"hi\"\nc:\\dir";
    const AlertEvent event{AlertState::firing, AlertState::resolved, fired_ms, status};
    LineBuilder lines;
    append_alert_line(lines, "demo", event);
    CHECK(
        lines.str() ==
        "alert,rule=device_stale,scope=device,severity=warning,site=demo,subject=pv\\ 1\\,a\\=b "
        "state=\"resolved\",from_state=\"firing\",threshold=1,summary=\"say \\\"hi\\\" c:\\\\dir\" "
        "1764340060123\n");
}

TEST_CASE("alert lines of several events append to one buffer", "[alert_json][influx]") {
    LineBuilder lines;
    const AlertEvent first{AlertState::inactive, AlertState::pending, active_ms,
                           firing_site_alert()};
    const AlertEvent second{AlertState::pending, AlertState::firing, fired_ms, firing_site_alert()};
    append_alert_line(lines, "demo", first);
    append_alert_line(lines, "demo", second);
    CHECK(lines.lines() == 2);
    CHECK(sinks::count_lines(lines.str()) == 2);
    CHECK(lines.str().find("state=\"pending\",from_state=\"inactive\"") != std::string::npos);
    CHECK(lines.str().find(" 1764340000000\n") != std::string::npos);
    CHECK(lines.str().ends_with(" 1764340060123\n"));
}
