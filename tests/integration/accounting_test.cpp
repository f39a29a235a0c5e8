// Accounting end to end: the simulator runs a scripted site whose physics is known (constant
// rack loads, PV near noon, a scripted cloud, a battery with small power limits); greenrackd
// polls it and publishes the balance. The test computes the expected coverage, per-rack
// non-green power and hour-so-far CFE itself, from the simulator's own ground truth (its
// snapshot of the bus balance), and compares within 1 %.

#include "tests/integration/site_harness.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <map>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr double rack_a_w = 8000.0;
constexpr double rack_b_w = 5000.0;
constexpr double cooling_fraction = 0.3;
constexpr int cloud_at_s = 20;
constexpr int cloud_s = 20;
constexpr int run_s = 52;

const std::string site_prefix = "greenrack/v1/acct/";

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Seconds since the Unix epoch of an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ".
std::int64_t parse_utc(const std::string& text) {
    std::tm tm{};
    strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return static_cast<std::int64_t>(timegm(&tm));
}

struct Truth {
    double renewable_w, discharge_w, charge_w, import_w, export_w, load_w, it_w;
};

bool within(double expected, double actual, double relative) {
    return std::fabs(expected - actual) <= relative * std::max(std::fabs(expected), 1.0);
}

} // namespace

TEST_CASE("published coverage, rack non-green power and hourly CFE match the physics",
          "[e2e][accounting][solo]") {
    TempDir dir("greenrack-acct");
    MosquittoBroker broker(dir.path());
    const std::string sim_start = "2026-06-21T04:30:00Z";
    ScriptedSite site(dir.path(), "acct", broker.uri(), R"([sim]
seed = 11
start = ")" + sim_start + R"("
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
capacity_wh = 100000
max_charge_w = 2000
max_discharge_w = 2000
initial_soc = 50

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
kind = "cloud"
at = "20s"
duration = "20s"
factor = 0.25
)",
                      "[accounting]\ntick = \"1s\"\npublish_delay = \"1500ms\"\n");
    const auto snapshot_path = site.snapshot_path();
    Process& sim = site.sim();

    MqttRecorder mqtt(broker.uri(), site_prefix + "#");
    auto daemon_process = site.start_daemon();
    Process& daemon = *daemon_process;

    // Record the simulator's ground truth for every physics step, and where its clock sits
    // against the wall clock (sim start in wall ms: the earliest "read time - sim elapsed").
    const std::int64_t sim_start_s = parse_utc(sim_start);
    std::map<std::int64_t, Truth> truth; // by sim second since start
    std::int64_t sim_start_wall = std::numeric_limits<std::int64_t>::max();
    while (truth.empty() || truth.rbegin()->first < run_s) {
        REQUIRE(sim.running());
        REQUIRE(daemon.running());
        const std::int64_t now = wall_ms();
        json snap;
        try {
            snap = json::parse(read_file(snapshot_path));
        } catch (const json::exception&) {
            sleep_ms(20);
            continue;
        }
        const std::int64_t elapsed = parse_utc(snap["sim_time"].get<std::string>()) - sim_start_s;
        const auto& s = snap["site"];
        truth[elapsed] = Truth{s["renewable_w"], s["discharge_w"], s["charge_w"], s["import_w"],
                               s["export_w"],    s["load_w"],      s["it_w"]};
        sim_start_wall = std::min(sim_start_wall, now - elapsed * 1000);
        sleep_ms(50);
    }
    sleep_ms(2500); // the last ticks are published publish_delay after they end
    daemon.stop(SIGTERM, 10s);

    auto truth_at = [&](std::int64_t wall) -> const Truth& {
        std::int64_t second = (wall - sim_start_wall) / 1000;
        auto it = truth.upper_bound(second);
        REQUIRE(it != truth.begin());
        return std::prev(it)->second;
    };
    auto in_steady = [&](std::int64_t tick_start, std::int64_t from_s, std::int64_t to_s) {
        return tick_start >= sim_start_wall + from_s * 1000 &&
               tick_start + 1000 <= sim_start_wall + to_s * 1000;
    };

    // The physics the scenario promises.
    const Truth& sunny = truth.at(10);
    const Truth& cloudy = truth.at(cloud_at_s + cloud_s / 2);
    REQUIRE(within(rack_a_w + rack_b_w, sunny.it_w, 0.001));
    REQUIRE(within((rack_a_w + rack_b_w) * (1 + cooling_fraction), sunny.load_w, 0.001));
    REQUIRE(sunny.renewable_w > sunny.load_w + 2000);   // sunny: surplus charges and exports
    REQUIRE(cloudy.renewable_w < cloudy.load_w - 2000); // cloudy: battery and grid help
    REQUIRE(cloudy.discharge_w == Approx(2000).margin(1));

    // Per tick, in steady stretches: coverage and rack non-green power.
    int sunny_ticks = 0;
    int cloudy_ticks = 0;
    std::vector<json> ticks;
    mqtt.wait_for(
        site_prefix + "site/state",
        [&](const std::string& p) {
            ticks.push_back(json::parse(p));
            return false;
        },
        1s);
    std::map<std::int64_t, json> rack_a;
    mqtt.wait_for(
        site_prefix + "rack/a/state",
        [&](const std::string& p) {
            auto j = json::parse(p);
            rack_a[j["tick_start"].get<std::int64_t>()] = j;
            return false;
        },
        1s);
    REQUIRE(ticks.size() >= 40);
    for (const auto& tick : ticks) {
        const std::int64_t start = tick["tick_start"];
        INFO("tick " << tick.dump());
        const bool sunny_tick = in_steady(start, 4, cloud_at_s - 2);
        const bool cloudy_tick = in_steady(start, cloud_at_s + 3, cloud_at_s + cloud_s - 2);
        if (!sunny_tick && !cloudy_tick) {
            continue;
        }
        REQUIRE(tick["valid"] == true);
        const Truth& t = truth_at(start + 500);
        const double coverage = std::min(t.renewable_w, t.load_w) / t.load_w;
        CHECK(within(coverage, tick["coverage"].get<double>(), 0.01));
        CHECK(within(t.load_w, tick["load_w"].get<double>(), 0.01));
        REQUIRE(rack_a.count(start) == 1);
        const auto& rack = rack_a[start];
        const double burden = t.load_w / t.it_w;
        const double nongreen_a = (1.0 - coverage) * burden * rack_a_w;
        if (sunny_tick) {
            ++sunny_ticks;
            CHECK(rack["nongreen_w"].get<double>() == Approx(0.0).margin(0.01 * rack_a_w));
        } else {
            ++cloudy_ticks;
            CHECK(within(nongreen_a, rack["nongreen_w"].get<double>(), 0.01));
            CHECK(within(t.import_w, tick["grid_import_w"].get<double>(), 0.01));
        }
    }
    CHECK(sunny_ticks >= 8);
    CHECK(cloudy_ticks >= 10);

    // Hour so far (or the closed hour, if the test straddled a clock hour): interval and hourly
    // CFE over exactly the ticks the daemon counted, from the ground truth of each second.
    const json& last = ticks.back();
    const std::int64_t hour_start = last["hour"]["start"];
    double sum_load = 0.0;
    double sum_green = 0.0;
    double sum_rnet = 0.0;
    bool cloud_in_hour = false; // false when the clock hour began after the cloud had passed
    for (const auto& tick : ticks) {
        const std::int64_t start = tick["tick_start"];
        if (start < hour_start || tick["valid"] != true) {
            continue;
        }
        cloud_in_hour = cloud_in_hour || in_steady(start, cloud_at_s + 3, cloud_at_s + cloud_s - 2);
        const Truth& t = truth_at(start + 500);
        const double r_l = std::min(t.renewable_w, t.load_w);
        const double r_c = std::min(t.renewable_w - r_l, t.charge_w);
        sum_load += t.load_w;
        sum_green += r_l; // the battery's green share is ~0 here (cold start, phi near 0)
        sum_rnet += t.renewable_w - r_c;
    }
    REQUIRE(sum_load > 0.0);
    const double interval_cfe = sum_green / sum_load;
    const double hourly_cfe = std::min(sum_load, sum_rnet) / sum_load;
    INFO("interval " << interval_cfe << " hourly " << hourly_cfe << " published "
                     << last["hour"].dump());
    if (cloud_in_hour) {
        CHECK(interval_cfe < 0.95); // the cloud shows
        CHECK(hourly_cfe > interval_cfe);
    } else {
        CHECK(interval_cfe == Approx(1.0)); // only sunshine since the hour began
        CHECK(hourly_cfe == Approx(1.0));
    }
    CHECK(within(interval_cfe, last["hour"]["cfe_interval"].get<double>(), 0.01));
    CHECK(within(hourly_cfe, last["hour"]["cfe_hourly"].get<double>(), 0.01));
}

TEST_CASE("totals survive a restart without double counting or going backwards",
          "[e2e][accounting]") {
    SiteHarness site; // simulator time frozen: constant physics
    site.write_config("[accounting]\ntick = \"1s\"\npublish_delay = \"1200ms\"\n"
                      "persist_interval = \"1s\"\n");
    MqttRecorder mqtt(site.broker().uri(), "greenrack/v1/it/site/#");
    const std::string topic = "greenrack/v1/it/site/state";
    auto valid_with_totals = [](const std::string& p) {
        auto j = json::parse(p);
        return j["valid"] == true && j["totals"]["load_wh"].get<double>() > 0.0;
    };

    std::vector<json> before;
    {
        auto daemon = site.start_daemon();
        REQUIRE(mqtt.wait_for(topic, valid_with_totals, 20s).has_value());
        sleep_ms(3000);
        REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
    }
    mqtt.wait_for(
        topic,
        [&](const std::string& p) {
            before.push_back(json::parse(p));
            return false;
        },
        500ms);
    const json last_before = before.back();
    const double load_before = last_before["totals"]["load_wh"];
    const std::int64_t seq_before = last_before["seq"];
    REQUIRE(std::filesystem::exists(site.dir() / "state" / "accounting.json"));

    auto daemon = site.start_daemon();
    std::vector<json> after;
    mqtt.wait_for(
        topic,
        [&](const std::string& p) {
            auto j = json::parse(p);
            if (j["seq"].get<std::int64_t>() > seq_before) {
                after.push_back(j);
            }
            return after.size() >= 6;
        },
        30s);
    daemon->stop(SIGTERM, 10s);
    REQUIRE(after.size() >= 6);
    INFO(daemon->err());
    CHECK(daemon->err().find("restored totals") != std::string::npos);

    // Totals continue from where they were: never backwards, and each new valid tick adds
    // exactly its own load (no tick counted twice, none replayed).
    double expected = load_before;
    for (const auto& tick : after) {
        INFO(tick.dump());
        if (tick["valid"] == true) {
            expected += tick["load_w"].get<double>() * tick["tick_s"].get<double>() / 3600.0;
        }
        CHECK(tick["totals"]["load_wh"].get<double>() >= load_before);
        CHECK(tick["totals"]["load_wh"].get<double>() ==
              Approx(expected).epsilon(1e-9).margin(1e-6));
    }
    // Sequence numbers keep increasing across the restart.
    CHECK(after.front()["seq"].get<std::int64_t>() > seq_before);
}
