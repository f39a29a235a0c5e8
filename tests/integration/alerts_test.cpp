// Alerts end to end: a cloud passes over the simulated PV of a site with a small battery. The
// battery covers the load first (green), then runs empty and the site draws grid power: the
// site_nongreen alert must fire within `for` + 2 ticks of the first non-green tick, name the
// racks in order of their non-green energy, survive a daemon restart without a second firing,
// and resolve after the cloud. Checked on MQTT (retained state and the event stream) and in a real
// Prometheus Alertmanager through its API.

#include "tests/integration/site_harness.hpp"
#include "tests/support/alertmanager.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr int tick_ms = 1000;
constexpr int for_ms = 5000;
constexpr double threshold_w = 3000.0;
const std::string prefix = "greenrack/v1/cloud/";

std::vector<json> parse_all(const std::vector<std::string>& payloads) {
    std::vector<json> out;
    for (const auto& payload : payloads) {
        out.push_back(json::parse(payload));
    }
    return out;
}

std::vector<json> rule_events(MqttRecorder& mqtt, const std::string& rule) {
    std::vector<json> out;
    for (auto& event : parse_all(mqtt.messages(prefix + "events"))) {
        if (event["rule"] == rule) {
            out.push_back(std::move(event));
        }
    }
    return out;
}

} // namespace

TEST_CASE("a cloud drains the battery, then the site alert fires naming the racks and resolves",
          "[e2e][alerts][solo]") {
    TempDir dir("greenrack-alerts");
    MosquittoBroker broker(dir.path());
    Alertmanager alertmanager(dir.path());
    // 04:30 UTC is late morning in Qinghai: 40 kW of PV against a 16.9 kW load. The battery
    // (60 Wh, empty) may not charge for the first 6 s, so the daemon sees it empty and every
    // watt-hour it stores afterwards is green; it fills in ~12 s, the cloud comes at 22 s, the
    // battery covers the load for ~12 s, then the grid does until the cloud ends at 52 s.
    ScriptedSite site(dir.path(), "cloud", broker.uri(), R"([sim]
seed = 5
start = "2026-06-21T04:30:00Z"
speed = 1.0
step = "1s"

[[listener]]
name = "site"
port = 0

[[device]]
id = "pdu-1"
profile = "rack_pdu_px3_24"
listener = "site"
unit_id = 1
racks = [
    { name = "a", base_load_w = 8000, pattern = "constant", outlets = 12 },
    { name = "b", base_load_w = 5000, pattern = "constant", outlets = 12 },
]

[[device]]
id = "pv-1"
profile = "pv_sunspec_103"
listener = "site"
unit_id = 2
nameplate_w = 40000
cloudiness = 0

[[device]]
id = "battery-1"
profile = "battery_generic"
listener = "site"
unit_id = 3
capacity_wh = 60
max_charge_w = 30000
max_discharge_w = 30000
initial_soc = 0
min_soc = 0
max_soc = 100

[[device]]
id = "grid-meter"
profile = "meter_grid_4q"
listener = "site"
unit_id = 4

[[device]]
id = "facility-meter"
profile = "meter_facility_umg604"
listener = "site"
unit_id = 5
cooling_fraction = 0.3
cooling_fixed_w = 0

[[event]]
kind = "battery_limit"
device = "battery-1"
at = "0s"
duration = "15s"
max_charge_w = 0

[[event]]
kind = "cloud"
at = "30s"
duration = "30s"
factor = 0
)",
                      R"([accounting]
tick = "1s"
publish_delay = "1500ms"
[alertmanager]
enabled = true
urls = [")" + alertmanager.url() +
                          R"("]
resend_interval = "5s"
[alerts]
cause_window = "1m"
[alerts.builtin.site_nongreen]
threshold = 3000
clear_threshold = 1000
for = "5s"
clear_for = "2s"
)");

    MqttRecorder mqtt(broker.uri(), prefix + "#");
    auto daemon = site.start_daemon();

    // Firing: the event arrives within the cloud (at ~40 s of sim time).
    auto is_firing = [](const std::string& payload) {
        auto event = json::parse(payload);
        return event["rule"] == "site_nongreen" && event["to"] == "firing";
    };
    const auto fired = mqtt.wait_for(prefix + "events", is_firing, 60s);
    REQUIRE(fired);
    INFO("daemon log: " << daemon->err());
    const json firing = json::parse(*fired);
    CHECK(firing["from"] == "pending");
    CHECK(firing["severity"] == "critical");
    CHECK(firing["subject"] == "cloud");
    CHECK(firing["threshold"] == threshold_w);

    // Alertmanager has it, with the identity labels and the summary.
    auto am_alert = [&](bool active_only) -> std::optional<json> {
        for (const auto& alert : alertmanager.get_alerts(active_only)) {
            if (alert["labels"].value("alertname", "") == "site_nongreen") {
                return alert;
            }
        }
        return std::nullopt;
    };
    REQUIRE(wait_until([&] { return am_alert(true).has_value(); }, 10s));
    const json in_am = *am_alert(true);
    CHECK(in_am["labels"]["site"] == "cloud");
    CHECK(in_am["labels"]["severity"] == "critical");
    CHECK(in_am["labels"]["scope"] == "site");
    CHECK(in_am["annotations"]["summary"] == firing["summary"]);
    CHECK_THAT(in_am["annotations"]["cause"].get<std::string>(), Catch::StartsWith("a "));

    // Restart while firing: the state is persisted, so no second firing event follows.
    daemon->stop(SIGTERM, 10s);
    daemon = site.start_daemon();

    auto is_resolved = [](const std::string& payload) {
        auto event = json::parse(payload);
        return event["rule"] == "site_nongreen" && event["to"] == "resolved";
    };
    const auto resolved_payload = mqtt.wait_for(prefix + "events", is_resolved, 45s);
    REQUIRE(resolved_payload);
    const json resolved = json::parse(*resolved_payload);
    // The resolve reaches Alertmanager: the alert leaves its active list.
    CHECK(wait_until([&] { return !am_alert(true).has_value(); }, 10s));
    daemon->stop(SIGTERM, 10s);

    // One event per transition and no flapping: exactly one firing and one resolve, in that
    // order. A single tick that crosses the threshold while the sources change (the meters are
    // read at slightly different instants) may start a pending period, which must end at the
    // next tick without firing: that is what `for` is for.
    const auto events = rule_events(mqtt, "site_nongreen");
    std::vector<std::string> transitions;
    for (const auto& event : events) {
        transitions.push_back(event["from"].get<std::string>() + ">" +
                              event["to"].get<std::string>());
    }
    INFO("site_nongreen transitions: " << json(transitions).dump());
    REQUIRE(transitions.size() >= 3);
    CHECK(std::count(transitions.begin(), transitions.end(), "pending>firing") == 1);
    CHECK(std::count(transitions.begin(), transitions.end(), "firing>resolved") == 1);
    CHECK(transitions[transitions.size() - 3] == "inactive>pending");
    CHECK(transitions[transitions.size() - 2] == "pending>firing");
    CHECK(transitions.back() == "firing>resolved");
    for (std::size_t i = 0; i + 3 < transitions.size(); i += 2) {
        CHECK(transitions[i] == "inactive>pending");
        CHECK(transitions[i + 1] == "pending>inactive");
        CHECK(events[i + 1]["ts"].get<std::int64_t>() - events[i]["ts"].get<std::int64_t>() <
              for_ms);
    }
    CHECK(resolved["fired_at"] == firing["fired_at"]);

    // The ticks around it, from the published site state.
    const auto states = parse_all(mqtt.messages(prefix + "site/state"));
    REQUIRE(!states.empty());
    const std::int64_t fired_ts = firing["ts"].get<std::int64_t>();
    double sunny_pv_w = 0.0;
    std::int64_t run_start_ts = 0; // first tick of the breaching run that led to firing
    std::int64_t last_breach_ts = 0;
    for (const auto& s : states) {
        const std::int64_t ts = s["ts"].get<std::int64_t>();
        const bool breach = s["valid"].get<bool>() && s["nongreen_w"].get<double>() > threshold_w;
        if (breach) {
            last_breach_ts = ts;
        }
        if (ts <= fired_ts) {
            run_start_ts = breach ? (run_start_ts == 0 ? ts : run_start_ts) : 0;
        }
    }
    bool battery_covered = false;
    for (const auto& s : states) {
        if (!s["valid"].get<bool>() || s["ts"].get<std::int64_t>() >= run_start_ts) {
            continue;
        }
        const double pv = s["pv_w"].get<double>();
        sunny_pv_w = std::max(sunny_pv_w, pv);
        if (pv < 0.1 * sunny_pv_w && s["battery_discharge_w"].get<double>() > 10'000.0 &&
            s["nongreen_w"].get<double>() < threshold_w) {
            battery_covered = true; // clouded, the (green) battery carries the load
        }
    }
    CHECK(sunny_pv_w > 20'000.0);
    CHECK(battery_covered);
    REQUIRE(run_start_ts > 0);
    CHECK(fired_ts >= run_start_ts + for_ms);
    CHECK(fired_ts <= run_start_ts + for_ms + 2 * tick_ms);
    CHECK(resolved["ts"].get<std::int64_t>() > last_breach_ts);

    // The cause: rack a (8 kW) before rack b (5 kW), shares by their non-green energy, and the
    // clean headroom (none under the cloud).
    const auto& cause = firing["cause"];
    REQUIRE(cause.is_object());
    CHECK(cause["window_s"] == 60);
    REQUIRE(cause["racks"].size() == 2);
    CHECK(cause["racks"][0]["rack"] == "a");
    CHECK(cause["racks"][1]["rack"] == "b");
    CHECK(cause["racks"][0]["share"].get<double>() == Approx(8.0 / 13.0).margin(0.02));
    CHECK(cause["headroom_total_w"].get<double>() < 1000.0);
    CHECK_THAT(firing["summary"].get<std::string>(), Catch::Contains("top racks: a "));

    // The retained state ends resolved.
    const auto retained = mqtt.messages(prefix + "alerts/site_nongreen/cloud");
    REQUIRE(!retained.empty());
    CHECK(json::parse(retained.back())["state"] == "resolved");
}
