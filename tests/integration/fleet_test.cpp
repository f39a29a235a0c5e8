// Fleet scale end to end (docs/fleet.md): one simulated site polled at the same time by one
// single daemon and by two shards plus an aggregator, through a real mosquitto on loopback. The
// aggregator must publish what the single daemon publishes; a silent shard's racks go missing
// (never green) and come back; a standby aggregator takes over from a stopped one without a
// tick published twice or left out.

#include "tests/integration/mqtt_test_support.hpp"
#include "tests/integration/site_harness.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <map>
#include <set>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// hall-a polls the PDU (both racks) and the PV inverter, hall-b the battery and the meters.
const std::map<std::string, std::string> shard_of = {{"pdu-1", "hall-a"},
                                                     {"pv-1", "hall-a"},
                                                     {"battery-1", "hall-b"},
                                                     {"grid-meter", "hall-b"},
                                                     {"facility-meter", "hall-b"}};

// A site whose load the PV covers only in part (so the racks draw non-green energy) and whose
// rack a follows a random walk: the two pollers' readings are of a moving site.
const std::string scenario = R"([sim]
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
    { name = "a", base_load_w = 8000, pattern = "random_walk", amplitude = 0.2, outlets = 12 },
    { name = "b", base_load_w = 5000, pattern = "constant", outlets = 12 },
]

[[device]]
id = "pv-1"
profile = "pv_sunspec_103"
listener = "site"
unit_id = 2
nameplate_w = 12000
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
)";

void replace_once(std::string& text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
}

// The daemons of one test on one simulated site and broker: every one gets the site with each
// device's shard, its own state directory, topic prefix, /metrics port and [fleet] table.
class Fleet {
public:
    explicit Fleet(const std::string& name)
        : dir_(name), broker_(dir_.path()), site_(dir_.path(), "it", broker_.uri(), scenario, "") {
        base_ = read_file(site_.config_path());
        for (const auto& [device, shard] : shard_of) {
            replace_once(base_, "id = \"" + device + "\"\n",
                         "id = \"" + device + "\"\nshard = \"" + shard + "\"\n");
        }
    }

    MosquittoBroker& broker() { return broker_; }

    // Starts greenrackd `name` with `prefix` as topic prefix and `fleet` as its [fleet] table.
    Process& start(const std::string& name, const std::string& prefix, const std::string& fleet) {
        std::string text = base_ + fleet;
        const std::uint16_t port = free_port();
        ports_[name] = port;
        const auto listen = text.find("listen = \"127.0.0.1:");
        REQUIRE(listen != std::string::npos);
        text.replace(listen, text.find('\n', listen) - listen,
                     "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
        replace_once(text, "state_directory = \"state\"",
                     "state_directory = \"state-" + name + "\"");
        replace_once(text, "uri = \"" + broker_.uri() + "\"\n",
                     "uri = \"" + broker_.uri() + "\"\ntopic_prefix = \"" + prefix + "\"\n");
        const fs::path path = dir_.path() / (name + ".toml");
        write_file(path, text);
        auto process = std::make_unique<Process>(
            GREENRACKD_BIN, std::vector<std::string>{"--config", path.string()}, dir_.path(), name);
        Process& started = *process;
        processes_[name] = std::move(process);
        return started;
    }
    Process& process(const std::string& name) { return *processes_.at(name); }
    std::uint16_t metrics_port(const std::string& name) const { return ports_.at(name); }
    void forget(const std::string& name) { processes_.erase(name); }

private:
    TempDir dir_;
    MosquittoBroker broker_;
    ScriptedSite site_;
    std::string base_;
    std::map<std::string, std::uint16_t> ports_;
    std::map<std::string, std::unique_ptr<Process>> processes_;
};

const std::string shard_a = "[fleet]\nrole = \"shard\"\nshard = \"hall-a\"\n";
const std::string shard_b = "[fleet]\nrole = \"shard\"\nshard = \"hall-b\"\n";
std::string aggregator(const std::string& instance) {
    return "[fleet]\nrole = \"aggregator\"\ninstance = \"" + instance + "\"\n";
}

// Every message on `topic` so far, by tick_start (the last one of a tick wins; `counts` gets
// how many each tick had).
std::map<std::int64_t, json> by_tick(MqttRecorder& recorder, const std::string& topic,
                                     std::map<std::int64_t, int>* counts = nullptr) {
    std::map<std::int64_t, json> out;
    for (const auto& text : recorder.messages(topic)) {
        const json state = json::parse(text);
        const auto tick = state.at("tick_start").get<std::int64_t>();
        out[tick] = state;
        if (counts != nullptr) {
            ++(*counts)[tick];
        }
    }
    return out;
}

std::vector<std::int64_t> common_ticks(const std::map<std::int64_t, json>& a,
                                       const std::map<std::int64_t, json>& b) {
    std::vector<std::int64_t> out;
    for (const auto& [tick, state] : a) {
        if (b.count(tick) != 0U) {
            out.push_back(tick);
        }
    }
    return out;
}

bool within_half_percent(double a, double b) {
    return std::fabs(a - b) <= 0.005 * std::max(std::fabs(a), std::fabs(b)) + 1e-9;
}

// Waits until the wall clock is 0.3 to 1.5 s into a 5 s tick, so that daemons started now all
// begin accounting with the same tick.
void align_to_tick_start() {
    while (true) {
        const std::int64_t into = wall_ms() % 5000;
        if (into >= 300 && into <= 1500) {
            return;
        }
        sleep_ms(static_cast<int>(into < 300 ? 300 - into : 5300 - into));
    }
}

// The value of the /metrics line that starts with `series` (name and labels), or -1.
double metric_line(std::uint16_t port, const std::string& series) {
    const RunResult result = run_program(
        find_program("curl"),
        {"-s", "--max-time", "2", "http://127.0.0.1:" + std::to_string(port) + "/metrics"},
        std::chrono::seconds(5));
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(series + " ", 0) == 0) {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return -1.0;
}

double rack_nongreen_wh(const json& state) {
    return state.at("nongreen_w").get<double>() * state.at("tick_s").get<double>() / 3600.0;
}

} // namespace

TEST_CASE("two shards and an aggregator publish what one daemon polling everything publishes",
          "[fleet][e2e]") {
    Fleet fleet("greenrack-fleet-eq");
    MqttRecorder recorder(fleet.broker().uri(), "#");
    align_to_tick_start();
    fleet.start("single", "single/v1", "");
    fleet.start("hall-a", "fleet/v1", shard_a);
    fleet.start("hall-b", "fleet/v1", shard_b);
    fleet.start("agg-1", "fleet/v1", aggregator("agg-1"));

    const std::string single_site = "single/v1/it/site/state";
    const std::string fleet_site = "fleet/v1/it/site/state";
    REQUIRE(wait_until(
        [&] {
            recorder.wait_for(fleet_site, 200ms);
            return common_ticks(by_tick(recorder, single_site), by_tick(recorder, fleet_site))
                       .size() >= 8;
        },
        100s));
    const auto single = by_tick(recorder, single_site);
    const auto merged = by_tick(recorder, fleet_site);
    const auto ticks = common_ticks(single, merged);
    INFO("ticks compared: " << ticks.size());
    // The same first tick: the hour so far and the totals cover the same ticks.
    CHECK(single.begin()->first == merged.begin()->first);

    for (const auto tick : ticks) {
        const json& a = single.at(tick);
        const json& b = merged.at(tick);
        INFO("tick " << tick << "\nsingle: " << a.dump() << "\nfleet: " << b.dump());
        REQUIRE(a.at("valid").get<bool>());
        REQUIRE(b.at("valid").get<bool>());
        CHECK(a.at("quality") == b.at("quality"));
        CHECK(within_half_percent(a.at("coverage").get<double>(), b.at("coverage").get<double>()));
        CHECK(within_half_percent(a.at("load_w").get<double>(), b.at("load_w").get<double>()));
    }
    const json& last_single = single.at(ticks.back());
    const json& last_fleet = merged.at(ticks.back());
    CHECK(last_single.at("hour").at("start") == last_fleet.at("hour").at("start"));
    CHECK(within_half_percent(last_single.at("hour").at("cfe_hourly").get<double>(),
                              last_fleet.at("hour").at("cfe_hourly").get<double>()));
    CHECK(within_half_percent(last_single.at("totals").at("green_wh").get<double>(),
                              last_fleet.at("totals").at("green_wh").get<double>()));

    for (const std::string rack : {"a", "b"}) {
        const auto rack_single = by_tick(recorder, "single/v1/it/rack/" + rack + "/state");
        const auto rack_fleet = by_tick(recorder, "fleet/v1/it/rack/" + rack + "/state");
        double sum_single = 0.0;
        double sum_fleet = 0.0;
        for (const auto tick : common_ticks(rack_single, rack_fleet)) {
            const double a = rack_nongreen_wh(rack_single.at(tick));
            const double b = rack_nongreen_wh(rack_fleet.at(tick));
            INFO("rack " << rack << " tick " << tick);
            CHECK(within_half_percent(a, b));
            sum_single += a;
            sum_fleet += b;
        }
        INFO("rack " << rack << ": non-green " << sum_single << " Wh single, " << sum_fleet
                     << " Wh fleet");
        CHECK(sum_single > 0.0);
        CHECK(within_half_percent(sum_single, sum_fleet));
    }
    // Every tick had both parts in time: none computed with a shard missing.
    CHECK(metric_line(fleet.metrics_port("agg-1"),
                      "greenrack_fleet_ticks_total{site=\"it\",result=\"partial\"}") == 0.0);
    CHECK(metric_line(fleet.metrics_port("agg-1"),
                      "greenrack_fleet_ticks_total{site=\"it\",result=\"complete\"}") >=
          static_cast<double>(ticks.size()));
}

TEST_CASE("a silent shard's racks are missing, never green, and come back with it",
          "[fleet][e2e]") {
    Fleet fleet("greenrack-fleet");
    MqttRecorder recorder(fleet.broker().uri(), "fleet/v1/it/#");
    fleet.start("hall-a", "fleet/v1", shard_a);
    fleet.start("hall-b", "fleet/v1", shard_b);
    fleet.start("agg-1", "fleet/v1", aggregator("agg-1"));
    const std::string rack_topic = "fleet/v1/it/rack/a/state";
    auto rack_valid = [](const std::string& text) {
        const json state = json::parse(text);
        return state.at("valid").get<bool>() && state.at("quality") == "ok";
    };
    REQUIRE(recorder.wait_for(rack_topic, rack_valid, 40s));

    // hall-a (the PDU of both racks and the renewables) stops for 30 s.
    REQUIRE(fleet.process("hall-a").stop(SIGTERM, 10s) == 0);
    const std::int64_t stopped_ms = wall_ms();
    fleet.forget("hall-a");
    sleep_ms(30'000);

    // Back: its racks are computed again from its parts.
    const std::int64_t restarted_ms = wall_ms();
    fleet.start("hall-a", "fleet/v1", shard_a);
    REQUIRE(recorder.wait_for(
        rack_topic,
        [&](const std::string& text) {
            return rack_valid(text) &&
                   json::parse(text).at("tick_start").get<std::int64_t>() > restarted_ms;
        },
        30s));

    // Every tick wholly inside the outage: rack a (all of its PDU is hall-a's) missing.
    const auto during = by_tick(recorder, rack_topic);
    const auto site_during = by_tick(recorder, "fleet/v1/it/site/state");
    int missing_ticks = 0;
    for (const auto& [tick, state] : during) {
        if (tick < stopped_ms || tick + 5000 > restarted_ms) {
            continue;
        }
        INFO("rack a at tick " << tick << ": " << state.dump());
        CHECK(state.at("quality") == "missing");
        CHECK_FALSE(state.at("valid").get<bool>());
        CHECK(state.at("green_w").is_null()); // no green number while its data is missing
        CHECK(state.at("nongreen_w").is_null());
        // The site tick may still be valid (PV inferred from the facility meter's balance) but
        // it is never of full quality while a rack is unknown.
        CHECK(site_during.at(tick).at("quality") == "missing");
        ++missing_ticks;
    }
    CHECK(missing_ticks >= 4);
    CHECK(metric_line(fleet.metrics_port("agg-1"),
                      "greenrack_fleet_shard_missing_ticks_total{site=\"it\",shard=\"hall-a\"}") >=
          4.0);
    CHECK(fleet.process("agg-1").running());
}

TEST_CASE("a standby aggregator takes over within 10 s and no tick is published twice",
          "[fleet][e2e]") {
    Fleet fleet("greenrack-fleet");
    MqttRecorder recorder(fleet.broker().uri(), "fleet/v1/it/#");
    fleet.start("hall-a", "fleet/v1", shard_a);
    fleet.start("hall-b", "fleet/v1", shard_b);
    fleet.start("agg-1", "fleet/v1", aggregator("agg-1"));
    const std::string active_1 =
        "greenrack_fleet_aggregator_active{site=\"it\",instance=\"agg-1\"}";
    const std::string active_2 =
        "greenrack_fleet_aggregator_active{site=\"it\",instance=\"agg-2\"}";
    REQUIRE(
        wait_until([&] { return metric_line(fleet.metrics_port("agg-1"), active_1) == 1.0; }, 20s));
    fleet.start("agg-2", "fleet/v1", aggregator("agg-2"));
    const std::string site_topic = "fleet/v1/it/site/state";
    // Both compute; only agg-1 publishes.
    REQUIRE(wait_until([&] { return by_tick(recorder, site_topic).size() >= 4; }, 40s));
    REQUIRE(
        wait_until([&] { return metric_line(fleet.metrics_port("agg-2"), active_2) == 0.0; }, 10s));
    sleep_ms(6000);
    CHECK(metric_line(fleet.metrics_port("agg-2"), active_2) == 0.0);
    CHECK(metric_line(fleet.metrics_port("agg-1"), active_1) == 1.0);

    // agg-1 dies without a word (SIGKILL: no lease released).
    fleet.process("agg-1").stop(SIGKILL, 5s);
    const std::int64_t killed_ms = wall_ms();
    fleet.forget("agg-1");
    const std::int64_t last_before = by_tick(recorder, site_topic).rbegin()->first;
    REQUIRE(recorder.wait_for(
        site_topic,
        [&](const std::string& text) {
            return json::parse(text).at("tick_start").get<std::int64_t>() > last_before;
        },
        15s));
    const std::int64_t took_over_ms = wall_ms() - killed_ms;
    INFO("the standby published its first tick " << took_over_ms << " ms after the kill");
    CHECK(took_over_ms <= 10'000);
    CHECK(metric_line(fleet.metrics_port("agg-2"), active_2) == 1.0);

    // And a clean stop of the active one hands over at once, to a new standby.
    fleet.start("agg-3", "fleet/v1", aggregator("agg-3"));
    sleep_ms(12'000);
    REQUIRE(fleet.process("agg-2").stop(SIGTERM, 10s) == 0);
    const std::int64_t handed_ms = wall_ms();
    fleet.forget("agg-2");
    const std::int64_t last_of_2 = by_tick(recorder, site_topic).rbegin()->first;
    REQUIRE(recorder.wait_for(
        site_topic,
        [&](const std::string& text) {
            return json::parse(text).at("tick_start").get<std::int64_t>() > last_of_2;
        },
        15s));
    INFO("handed over in " << wall_ms() - handed_ms << " ms");
    CHECK(wall_ms() - handed_ms <= 10'000);
    sleep_ms(6000);

    // Over the whole run: every tick from the first to the last published exactly once.
    std::map<std::int64_t, int> counts;
    const auto ticks = by_tick(recorder, site_topic, &counts);
    std::int64_t expected = ticks.begin()->first;
    for (const auto& [tick, count] : counts) {
        INFO("tick " << tick);
        CHECK(count == 1);
        CHECK(tick == expected);
        expected = tick + 5000;
    }
    CHECK(counts.size() >= 8);
}

TEST_CASE("a part that misses its deadline becomes a correction record, the tick stays as "
          "published",
          "[fleet][e2e]") {
    Fleet fleet("greenrack-fleet-late");
    MqttRecorder recorder(fleet.broker().uri(), "fleet/v1/it/#");
    // hall-b sends every part 4 s after its tick ends; the aggregator computes a tick 2 s after
    // its end and does not wait; hall-a sends its parts after 1 s, in time.
    fleet.start("hall-a", "fleet/v1", shard_a + "[accounting]\npublish_delay = \"1s\"\n");
    fleet.start("hall-b", "fleet/v1", shard_b + "[accounting]\npublish_delay = \"4s\"\n");
    fleet.start("agg-1", "fleet/v1", aggregator("agg-1") + "deadline = \"0s\"\n");
    const std::string corrections = "fleet/v1/it/site/correction";
    // The corrections of hall-b's parts for ticks whose hall-a part was in (the first ticks may
    // lack it: a shard skips the tick in progress when it starts).
    auto complete_corrections = [&] {
        std::vector<json> out;
        for (const auto& text : recorder.messages(corrections)) {
            json correction = json::parse(text);
            if (correction.at("shard") == "hall-b" &&
                correction.at("after").at("valid").get<bool>()) {
                out.push_back(std::move(correction));
            }
        }
        return out;
    };
    REQUIRE(wait_until(
        [&] {
            recorder.wait_for(corrections, 200ms);
            return complete_corrections().size() >= 3;
        },
        90s));
    const auto published = by_tick(recorder, "fleet/v1/it/site/state");
    int checked = 0;
    for (const json& correction : complete_corrections()) {
        INFO(correction.dump());
        const auto tick = correction.at("tick_start").get<std::int64_t>();
        // Computed without the grid and facility meters: no green figures; with them: some.
        CHECK(correction.at("before").at("quality") == "missing");
        CHECK_FALSE(correction.at("before").at("valid").get<bool>());
        CHECK(correction.at("after").at("quality") == "ok");
        CHECK(correction.at("after").at("load_wh").get<double>() > 0.0);
        CHECK(correction.at("after").at("coverage").get<double>() > 0.0);
        // The racks are hall-a's: their figures come with the site's validity.
        CHECK_FALSE(correction.at("racks").empty());
        // What was published for that tick is what was computed then, not the correction.
        if (published.count(tick) != 0U) {
            const json& state = published.at(tick);
            CHECK(state.at("quality") == correction.at("before").at("quality"));
            CHECK(state.at("valid") == correction.at("before").at("valid"));
            ++checked;
        }
    }
    CHECK(checked >= 2);
    CHECK(metric_line(
              fleet.metrics_port("agg-1"),
              "greenrack_fleet_parts_total{site=\"it\",shard=\"hall-b\",result=\"correction\"}") >=
          3.0);
    CHECK(metric_line(fleet.metrics_port("agg-1"),
                      "greenrack_fleet_corrections_total{site=\"it\"}") >= 3.0);
}
