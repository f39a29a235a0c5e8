#include "daemon/sinks/alertmanager_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using greenrack::sinks::alert_key;
using greenrack::sinks::AmAlert;
using greenrack::sinks::encode_alertmanager_alerts;
using greenrack::sinks::format_rfc3339_ms;

namespace {

// 2026-11-28T15:00:00.123Z
constexpr std::int64_t base_ms = 1'795'878'000'123;

AmAlert sample_alert() {
    AmAlert alert;
    alert.labels = {{"alertname", "RackNonGreen"}, {"severity", "warning"}, {"rack", "r07"}};
    alert.annotations = {{"summary", "rack r07 runs on grid power"}};
    alert.starts_at_ms = base_ms;
    return alert;
}

} // namespace

TEST_CASE("alertmanager times are RFC 3339 UTC with milliseconds", "[alertmanager]") {
    CHECK(format_rfc3339_ms(base_ms) == "2026-11-28T15:00:00.123Z");
    CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_rfc3339_ms(1) == "1970-01-01T00:00:00.001Z");
    CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_rfc3339_ms(951'782'400'000) == "2000-02-29T00:00:00.000Z"); // leap day
    CHECK(format_rfc3339_ms(1'798'761'599'999) == "2026-12-31T23:59:59.999Z");
    CHECK(format_rfc3339_ms(1'798'761'600'000) == "2027-01-01T00:00:00.000Z");
}

TEST_CASE("alertmanager body is a JSON array with one object per alert", "[alertmanager]") {
    CHECK(encode_alertmanager_alerts({}) == "[]");

    AmAlert second = sample_alert();
    second.labels["rack"] = "r08";
    const auto body = nlohmann::json::parse(encode_alertmanager_alerts({sample_alert(), second}));
    REQUIRE(body.is_array());
    REQUIRE(body.size() == 2);
    CHECK(body[0] == nlohmann::json::parse(R"({
        "labels": {"alertname": "RackNonGreen", "severity": "warning", "rack": "r07"},
        "annotations": {"summary": "rack r07 runs on grid power"},
        "startsAt": "2026-11-28T15:00:00.123Z"})"));
    CHECK(body[1]["labels"]["rack"] == "r08");
}

TEST_CASE("alertmanager endsAt appears only on resolved alerts", "[alertmanager]") {
    AmAlert alert = sample_alert();
    CHECK_FALSE(nlohmann::json::parse(encode_alertmanager_alerts({alert}))[0].contains("endsAt"));
    alert.ends_at_ms = base_ms + 60'000;
    CHECK(nlohmann::json::parse(encode_alertmanager_alerts({alert}))[0]["endsAt"] ==
          "2026-11-28T15:01:00.123Z");
    alert.ends_at_ms = 0; // set, even at the epoch
    CHECK(nlohmann::json::parse(encode_alertmanager_alerts({alert}))[0]["endsAt"] ==
          "1970-01-01T00:00:00.000Z");
}

TEST_CASE("alertmanager generatorURL is omitted when empty", "[alertmanager]") {
    AmAlert alert = sample_alert();
    CHECK_FALSE(
        nlohmann::json::parse(encode_alertmanager_alerts({alert}))[0].contains("generatorURL"));
    alert.generator_url = "http://grafana.local/d/greenrack?var-rack=r07&x=\"1\"";
    CHECK(nlohmann::json::parse(encode_alertmanager_alerts({alert}))[0]["generatorURL"] ==
          alert.generator_url);
}

TEST_CASE("alertmanager annotations are always an object and empty label values are left out",
          "[alertmanager]") {
    AmAlert alert;
    alert.labels = {{"alertname", "A"}, {"rack", ""}};
    const auto body = nlohmann::json::parse(encode_alertmanager_alerts({alert}));
    CHECK(body[0]["labels"] == nlohmann::json{{"alertname", "A"}});
    CHECK(body[0]["annotations"] == nlohmann::json::object());
    CHECK(body[0]["startsAt"] == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("alertmanager label values and annotations with quotes, newlines and invalid UTF-8 "
          "stay valid JSON",
          "[alertmanager]") {
    AmAlert alert = sample_alert();
    alert.labels["subject"] = "say \"hi\"\nc:\\dir \xff\xC3 机架";
    alert.annotations["description"] = std::string("tab\there\r\n\x01 nul\0end", 20);
    const std::string text = encode_alertmanager_alerts({alert});
    CHECK(text.find('\n') == std::string::npos);
    const auto body = nlohmann::json::parse(text); // throws on invalid UTF-8 or bad escapes
    CHECK(body[0]["labels"]["subject"] == "say \"hi\"\nc:\\dir \xEF\xBF\xBD\xEF\xBF\xBD 机架");
    CHECK(body[0]["annotations"]["description"] == std::string("tab\there\r\n\x01 nul\0end", 20));
}

TEST_CASE("alertmanager alert key depends on the label set only, not on insertion order",
          "[alertmanager]") {
    AmAlert a;
    a.labels["alertname"] = "RackNonGreen";
    a.labels["rack"] = "r07";
    a.labels["site"] = "demo";
    AmAlert b;
    b.labels["site"] = "demo";
    b.labels["rack"] = "r07";
    b.labels["alertname"] = "RackNonGreen";
    b.annotations["summary"] = "different annotations";
    b.starts_at_ms = base_ms;
    b.ends_at_ms = base_ms + 1;
    CHECK(alert_key(a) == alert_key(b));

    b.labels["rack"] = "r08";
    CHECK(alert_key(a) != alert_key(b));

    // Empty values are absent labels; values cannot be confused with separators.
    AmAlert c = a;
    c.labels["scope"] = "";
    CHECK(alert_key(c) == alert_key(a));
    AmAlert d;
    d.labels = {{"a", "1,b=1:2"}};
    AmAlert e;
    e.labels = {{"a", "1"}, {"b", "2"}};
    CHECK(alert_key(d) != alert_key(e));
    CHECK(alert_key(AmAlert{}).empty());
}
