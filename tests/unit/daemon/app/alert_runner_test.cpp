#include "daemon/app/alert_runner.hpp"
#include "daemon/sinks/line_protocol.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace greenrack;
using accounting::Energy;
using accounting::SourceQuality;
using app::AlertRunner;

namespace {

// Tick timing: 1-minute ticks starting at t0; the engine runs on the tick's end time.
constexpr std::int64_t t0 = 1'764'340'000'000;
constexpr std::int64_t minute = 60'000;

// A small site (one PDU split in two racks r1/r2, PV, grid meter). Every built-in rule is off
// except those `alerts` turns on; site_nongreen is tuned to fire after two minutes above
// 1000 W and to resolve on the first tick below 200 W.
std::string site_toml(const fs::path& state_dir, const std::string& alerts) {
    return std::string(R"([site]
id = "t"
[daemon]
state_directory = ")") +
           state_dir.string() + R"("
profile_dirs = [")" +
           GREENRACK_SOURCE_DIR + R"(/config/profiles"]
[[bus]]
id = "b"
host = "127.0.0.1"
[[device]]
id = "pdu"
bus = "b"
unit_id = 1
profile = "rack_pdu_px3_24"
[[device]]
id = "pv"
bus = "b"
unit_id = 2
profile = "pv_sunspec_103"
[[device]]
id = "grid"
bus = "b"
unit_id = 3
profile = "meter_grid_4q"
[[rack]]
id = "r1"
outlets = [{ device = "pdu", from = 1, to = 12 }]
[[rack]]
id = "r2"
outlets = [{ device = "pdu", from = 13, to = 24 }]
[prometheus]
enabled = false
[alertmanager]
generator_url = "http://greenrack.example/alerts"
[alerts.builtin.rack_nongreen]
enabled = false
[alerts.builtin.site_coverage_low]
enabled = false
[alerts.builtin.data_gap]
enabled = false
[alerts.builtin.balance_residual]
enabled = false
[alerts.builtin.battery_green_low]
enabled = false
[alerts.builtin.spool_dropping]
enabled = false
[alerts.builtin.spool_filling]
enabled = false
)" + alerts;
}

const std::string site_nongreen_on = R"([alerts.builtin.site_nongreen]
threshold = 1000
clear_threshold = 200
for = "2m"
clear_for = "0s"
labels = { team = "ops" }
[alerts.builtin.device_stale]
enabled = false
)";

const std::string site_nongreen_off = R"([alerts.builtin.site_nongreen]
enabled = false
[alerts.builtin.device_stale]
enabled = false
)";

const std::string device_stale_only = R"([alerts.builtin.site_nongreen]
enabled = false
[alerts.builtin.device_stale]
for = "2s"
)";

class TempDir {
public:
    TempDir() {
        std::string pattern =
            (fs::temp_directory_path() / "greenrack-alert-runner-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

config::Config load(const TempDir& dir, const std::string& alerts, const std::string& name) {
    const fs::path file = dir.path() / name;
    std::ofstream(file) << site_toml(dir.path(), alerts);
    return config::load_config(file);
}

struct Published {
    std::string topic;
    std::string payload;
    bool retain = false;
};

struct Notified {
    sinks::AmAlert alert;
    bool resolved = false;
};

struct LogLine {
    spdlog::level::level_enum level;
    std::string text;
};

// One AlertRunner over `config` with every output recorded.
class Harness {
public:
    explicit Harness(const config::Config& config)
        : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
          logger_(std::make_shared<spdlog::logger>("alerts", sink_)),
          runner_(
              config, "greenrack/v1/t",
              [this](const std::string& topic, std::string payload, bool retain) {
                  published.push_back({topic, std::move(payload), retain});
              },
              [this](std::string text) { lines.push_back(std::move(text)); },
              [this](sinks::AmAlert alert, bool resolved) {
                  notified.push_back({std::move(alert), resolved});
              },
              logger_) {
        logger_->set_level(spdlog::level::trace);
    }

    AlertRunner& runner() { return runner_; }

    std::vector<LogLine> logs() const {
        std::vector<LogLine> out;
        for (const auto& msg : sink_->last_raw()) {
            out.push_back({msg.level, std::string(msg.payload.data(), msg.payload.size())});
        }
        return out;
    }
    // Log lines of alert transitions ("alert <rule> <subject> <from> -> <to> ...").
    std::vector<LogLine> transition_logs() const {
        std::vector<LogLine> out;
        for (auto& line : logs()) {
            if (line.text.rfind("alert ", 0) == 0) {
                out.push_back(line);
            }
        }
        return out;
    }
    void clear() {
        published.clear();
        lines.clear();
        notified.clear();
    }

    std::vector<Published> published;
    std::vector<std::string> lines;
    std::vector<Notified> notified;

private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
    std::shared_ptr<spdlog::logger> logger_;
    AlertRunner runner_;
};

Energy ok(double wh) {
    return Energy{wh, SourceQuality::ok};
}

accounting::RackTick rack(std::string id, double nongreen_wh) {
    accounting::RackTick r;
    r.id = std::move(id);
    r.it = ok(nongreen_wh * 2.0);
    r.burdened_wh = nongreen_wh * 2.0;
    r.green_wh = nongreen_wh;
    r.nongreen_wh = nongreen_wh;
    r.valid = true;
    return r;
}

// A valid 1-minute tick number `n` (starting at t0 + n minutes) with `site_nongreen_wh` of
// non-green energy (site nongreen_w = Wh x 60); r2 carries three times r1's non-green energy.
accounting::TickResult tick(int n, double site_nongreen_wh) {
    accounting::TickResult t;
    t.start_ms = t0 + n * minute;
    t.tau_s = 60.0;
    t.valid = true;
    t.quality = SourceQuality::ok;
    t.load = ok(100.0);
    t.it_wh = 80.0;
    t.renewable = ok(100.0 - site_nongreen_wh);
    t.pv = ok(100.0 - site_nongreen_wh);
    t.wind = ok(0.0);
    t.discharge = ok(0.0);
    t.charge = ok(0.0);
    t.grid_import = ok(site_nongreen_wh);
    t.grid_export = ok(0.0);
    t.renewable_to_load_wh = 100.0 - site_nongreen_wh;
    t.grid_to_load_wh = site_nongreen_wh;
    t.green_wh = 100.0 - site_nongreen_wh;
    t.nongreen_wh = site_nongreen_wh;
    t.coverage = (100.0 - site_nongreen_wh) / 100.0;
    t.headroom_free_w = 100.0;
    t.headroom_total_w = 250.4;
    t.headroom_storage_w = 50.0;
    t.racks = {rack("r1", site_nongreen_wh / 4.0), rack("r2", site_nongreen_wh * 3.0 / 4.0)};
    return t;
}

// Ends of tick n.
constexpr std::int64_t end_of(int n) {
    return t0 + (n + 1) * minute;
}

// Runs site_nongreen from inactive to firing: 40 Wh a minute is 2400 W; pending at the end of
// tick 0, firing at the end of tick 2 (two minutes later).
void drive_to_firing(Harness& h) {
    for (int n = 0; n < 3; ++n) {
        h.runner().on_tick(tick(n, 40.0), nullptr, end_of(n) + 2'000);
    }
}

const std::string state_topic = "greenrack/v1/t/alerts/site_nongreen/t";
const std::string events_topic = "greenrack/v1/t/events";

nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

core::DeviceReading good_reading(std::size_t device, std::int64_t ts_ms) {
    core::DeviceReading reading;
    reading.device = device;
    reading.ts = std::chrono::system_clock::time_point(std::chrono::milliseconds(ts_ms));
    reading.requests_ok = 1;
    reading.values = {modbus::PointValue{1.0, modbus::Quality::ok, {}}};
    return reading;
}

} // namespace

TEST_CASE("alert runner: a transition to pending publishes state and event, a line and a log, "
          "but does not notify Alertmanager",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);

    h.runner().on_tick(tick(0, 40.0), nullptr, end_of(0) + 2'000);

    REQUIRE(h.published.size() == 2);
    CHECK(h.published[0].topic == state_topic);
    CHECK(h.published[0].retain);
    CHECK(h.published[1].topic == events_topic);
    CHECK_FALSE(h.published[1].retain);
    const auto state = nlohmann::json::parse(h.published[0].payload);
    CHECK(state["state"] == "pending");
    CHECK(state["ts"] == end_of(0)); // the engine runs on the tick's end time
    CHECK(state["active_at"] == end_of(0));
    CHECK(state["fired_at"].is_null());
    CHECK(state["value"] == 2400.0);
    CHECK(state["threshold"] == 1000.0);
    CHECK(state["clear_threshold"] == 200.0);
    CHECK(state["labels"] == nlohmann::json({{"site", "t"}, {"team", "ops"}}));
    const auto event = nlohmann::json::parse(h.published[1].payload);
    CHECK(event["type"] == "alert");
    CHECK(event["from"] == "inactive");
    CHECK(event["to"] == "pending");
    CHECK(event["rule"] == "site_nongreen");
    CHECK(event["subject"] == "t");

    REQUIRE(h.lines.size() == 1);
    CHECK(sinks::count_lines(h.lines[0]) == 1);
    CHECK(h.lines[0].rfind("alert,rule=site_nongreen,scope=site,severity=critical,site=t,"
                           "subject=t state=\"pending\",from_state=\"inactive\",value=2400,",
                           0) == 0);
    CHECK(h.lines[0].ends_with(" " + std::to_string(end_of(0)) + "\n"));

    const auto logs = h.transition_logs();
    REQUIRE(logs.size() == 1);
    CHECK(logs[0].level == spdlog::level::info);
    CHECK(logs[0].text.rfind("alert site_nongreen t inactive -> pending (critical): Site t draws "
                             "2400 W of non-green power",
                             0) == 0);

    CHECK(h.notified.empty());
    CHECK(h.runner().counters().transitions ==
          std::map<std::pair<std::string, std::string>, std::uint64_t>{
              {{"site_nongreen", "pending"}, 1}});
}

TEST_CASE("alert runner: no events while the condition holds short of its for duration",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);
    h.runner().on_tick(tick(0, 40.0), nullptr, end_of(0) + 2'000);
    h.clear();
    h.runner().on_tick(tick(1, 40.0), nullptr, end_of(1) + 2'000); // held 1 of 2 minutes
    CHECK(h.published.empty());
    CHECK(h.lines.empty());
    CHECK(h.notified.empty());
    REQUIRE(h.runner().statuses().size() == 1);
    CHECK(h.runner().statuses()[0].state == alerts::AlertState::pending);
}

TEST_CASE("alert runner: firing notifies Alertmanager with identity labels, starts_at = fired_at "
          "and a cause naming the racks by non-green energy",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);
    drive_to_firing(h);

    REQUIRE(h.notified.size() == 1);
    const auto& am = h.notified[0];
    CHECK_FALSE(am.resolved);
    CHECK(am.alert.labels == std::map<std::string, std::string>{{"alertname", "site_nongreen"},
                                                                {"severity", "critical"},
                                                                {"site", "t"},
                                                                {"scope", "site"},
                                                                {"subject", "t"},
                                                                {"team", "ops"}});
    CHECK(am.alert.starts_at_ms == end_of(2));
    CHECK_FALSE(am.alert.ends_at_ms);
    CHECK(am.alert.generator_url == "http://greenrack.example/alerts");
    // Three ticks of r2 30 Wh and r1 10 Wh.
    CHECK(am.alert.annotations.at("cause") == "r2 0.09 kWh (75%), r1 0.03 kWh (25%)");
    CHECK(am.alert.annotations.at("value") == "2400");
    CHECK(am.alert.annotations.at("headroom_total_w") == "250");
    CHECK(am.alert.annotations.at("summary").find("top racks: r2 0.09 kWh (75%), r1 0.03 kWh "
                                                  "(25%)") != std::string::npos);

    // The firing transition's retained state carries the same cause.
    const auto firing = std::find_if(h.published.rbegin(), h.published.rend(),
                                     [](const Published& p) { return p.topic == state_topic; });
    REQUIRE(firing != h.published.rend());
    const auto state = nlohmann::json::parse(firing->payload);
    CHECK(state["state"] == "firing");
    CHECK(state["fired_at"] == end_of(2));
    CHECK(state["active_at"] == end_of(0));
    const auto& cause = state["cause"];
    REQUIRE(cause.is_object());
    CHECK(cause["window_s"] == 900);
    REQUIRE(cause["racks"].size() == 2);
    CHECK(cause["racks"][0]["rack"] == "r2");
    CHECK(cause["racks"][0]["nongreen_wh"].get<double>() == Approx(90.0));
    CHECK(cause["racks"][0]["share"].get<double>() == Approx(0.75));
    CHECK(cause["racks"][1]["rack"] == "r1");
    CHECK(cause["racks"][1]["nongreen_wh"].get<double>() == Approx(30.0));
    CHECK(cause["racks"][1]["share"].get<double>() == Approx(0.25));
    CHECK(cause["headroom_free_w"] == 100.0);
    CHECK(cause["headroom_total_w"] == 250.4);
    CHECK(cause["headroom_storage_w"] == 50.0);

    // Critical firing logs at error level.
    const auto logs = h.transition_logs();
    REQUIRE(logs.size() == 2);
    CHECK(logs[1].level == spdlog::level::err);
    CHECK(logs[1].text.rfind("alert site_nongreen t pending -> firing (critical): ", 0) == 0);
    CHECK(h.lines.size() == 2); // one batch per evaluation with a transition
    CHECK(h.lines[1].find("state=\"firing\",from_state=\"pending\"") != std::string::npos);
}

TEST_CASE("alert runner: a resolve notifies Alertmanager with resolved and ends_at",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);
    drive_to_firing(h);
    h.clear();

    h.runner().on_tick(tick(3, 1.0), nullptr, end_of(3) + 2'000); // 60 W < 200 W

    REQUIRE(h.notified.size() == 1);
    CHECK(h.notified[0].resolved);
    CHECK(h.notified[0].alert.starts_at_ms == end_of(2));
    CHECK(h.notified[0].alert.ends_at_ms == end_of(3));
    CHECK(h.notified[0].alert.labels.at("alertname") == "site_nongreen");
    REQUIRE(h.published.size() == 2);
    const auto state = nlohmann::json::parse(h.published[0].payload);
    CHECK(state["state"] == "resolved");
    CHECK(state["resolved_at"] == end_of(3));
    CHECK(state["cause"].is_null());
    const auto event = nlohmann::json::parse(h.published[1].payload);
    CHECK(event["from"] == "firing");
    CHECK(event["to"] == "resolved");
    REQUIRE(h.lines.size() == 1);
    CHECK(h.lines[0].find("state=\"resolved\",from_state=\"firing\",value=60,") !=
          std::string::npos);
    const auto logs = h.transition_logs();
    REQUIRE(logs.size() == 3);
    CHECK(logs[2].level == spdlog::level::info);
    CHECK(logs[2].text.rfind("alert site_nongreen t firing -> resolved (critical): ", 0) == 0);
    const auto& counts = h.runner().counters().transitions;
    CHECK(counts.at({"site_nongreen", "pending"}) == 1);
    CHECK(counts.at({"site_nongreen", "firing"}) == 1);
    CHECK(counts.at({"site_nongreen", "resolved"}) == 1);
}

TEST_CASE("alert runner: a pending alert that clears goes back to inactive without notifying",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);
    h.runner().on_tick(tick(0, 40.0), nullptr, end_of(0) + 2'000);
    h.runner().on_tick(tick(1, 1.0), nullptr, end_of(1) + 2'000);
    CHECK(h.notified.empty());
    REQUIRE(h.published.size() == 4);
    CHECK(nlohmann::json::parse(h.published[3].payload)["to"] == "inactive");
}

TEST_CASE("alert runner: the state file is written on transitions only", "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);
    const fs::path file = dir.path() / "alerts.json";
    CHECK(h.runner().state_path() == file);
    CHECK_FALSE(fs::exists(file)); // nothing to restore, nothing written

    h.runner().on_tick(tick(0, 1.0), nullptr, end_of(0) + 2'000); // no transition
    CHECK_FALSE(fs::exists(file));

    h.runner().on_tick(tick(1, 40.0), nullptr, end_of(1) + 2'000); // -> pending
    REQUIRE(fs::exists(file));
    auto saved = read_json(file);
    CHECK(saved["version"] == 1);
    CHECK(saved["site"] == "t");
    REQUIRE(saved["engine"]["alerts"].size() == 1);
    CHECK(saved["engine"]["alerts"][0]["rule"] == "site_nongreen");
    CHECK(saved["engine"]["alerts"][0]["state"] == "pending");

    h.runner().on_tick(tick(2, 40.0), nullptr, end_of(2) + 2'000);
    h.runner().on_tick(tick(3, 40.0), nullptr, end_of(3) + 2'000); // -> firing
    saved = read_json(file);
    CHECK(saved["engine"]["alerts"][0]["state"] == "firing");
    CHECK(saved["engine"]["alerts"][0]["fired_at_ms"] == end_of(3));
}

TEST_CASE("alert runner: a restart restores a firing alert, re-notifies it with its original "
          "starts_at and publishes no new event",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    {
        Harness first(config);
        first.runner().start(t0);
        drive_to_firing(first);
        first.runner().stop();
    }

    Harness second(config);
    second.runner().start(end_of(10));
    CHECK(second.published.empty());
    CHECK(second.lines.empty());
    CHECK(second.runner().counters().transitions.empty());
    REQUIRE(second.notified.size() == 1);
    CHECK_FALSE(second.notified[0].resolved);
    CHECK(second.notified[0].alert.starts_at_ms == end_of(2));
    CHECK(second.notified[0].alert.labels.at("alertname") == "site_nongreen");
    CHECK(second.notified[0].alert.labels.at("subject") == "t");
    CHECK(second.notified[0].alert.labels.at("team") == "ops");
    const auto statuses = second.runner().statuses();
    REQUIRE(statuses.size() == 1);
    CHECK(statuses[0].state == alerts::AlertState::firing);
    CHECK(statuses[0].fired_at_ms == end_of(2));
    bool restored_logged = false;
    for (const auto& line : second.logs()) {
        restored_logged |= line.text.rfind("alerts: restored 1 alerts (1 firing) from ", 0) == 0;
    }
    CHECK(restored_logged);

    // Still above the threshold: it keeps firing without a second firing event.
    second.runner().on_tick(tick(11, 40.0), nullptr, end_of(11) + 2'000);
    CHECK(second.published.empty());
    CHECK(second.notified.size() == 1);
}

TEST_CASE("alert runner: a restored firing alert whose rule is now disabled is resolved at start",
          "[alert_runner]") {
    TempDir dir;
    const auto before = load(dir, site_nongreen_on, "before.toml");
    {
        Harness first(before);
        first.runner().start(t0);
        drive_to_firing(first);
        first.runner().stop();
    }

    const auto after = load(dir, site_nongreen_off, "after.toml");
    Harness second(after);
    const std::int64_t restart = end_of(10);
    second.runner().start(restart);

    REQUIRE(second.notified.size() == 1);
    CHECK(second.notified[0].resolved);
    CHECK(second.notified[0].alert.labels.at("alertname") == "site_nongreen");
    CHECK(second.notified[0].alert.labels.at("severity") == "critical");
    CHECK(second.notified[0].alert.labels.at("site") == "t");
    CHECK(second.notified[0].alert.starts_at_ms == end_of(2));
    CHECK(second.notified[0].alert.ends_at_ms == restart);

    REQUIRE(second.published.size() == 2);
    CHECK(second.published[0].topic == state_topic);
    CHECK(second.published[0].retain);
    CHECK(nlohmann::json::parse(second.published[0].payload)["state"] == "resolved");
    CHECK(second.published[1].topic == events_topic);
    const auto event = nlohmann::json::parse(second.published[1].payload);
    CHECK(event["from"] == "firing");
    CHECK(event["to"] == "resolved");
    CHECK(event["ts"] == restart);
    CHECK(event["resolved_at"] == restart);
    REQUIRE(second.lines.size() == 1);
    CHECK(second.lines[0].find("state=\"resolved\",from_state=\"firing\"") != std::string::npos);
    CHECK(second.transition_logs().size() == 1);
    CHECK(second.runner().statuses().empty());
    // The resolved alert is not saved again.
    CHECK(read_json(dir.path() / "alerts.json")["engine"]["alerts"].empty());
}

TEST_CASE("alert runner: an unusable state file is moved aside and start-up continues",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    const fs::path file = dir.path() / "alerts.json";
    const std::string garbage = "{ this is not json";

    SECTION("not JSON") {
        std::ofstream(file) << garbage;
    }
    SECTION("saved for another site") {
        std::ofstream(file) << R"({"version":1,"site":"other","engine":{"version":1,"alerts":[]}})";
    }
    SECTION("an engine state of the wrong shape") {
        std::ofstream(file) << R"({"version":1,"site":"t","engine":{"version":1,"alerts":{}}})";
    }

    Harness h(config);
    const std::int64_t now = t0 + 123;
    REQUIRE_NOTHROW(h.runner().start(now));
    CHECK_FALSE(fs::exists(file));
    CHECK(fs::exists(dir.path() / ("alerts.json.unusable-" + std::to_string(now))));
    CHECK(h.notified.empty());
    CHECK(h.published.empty());
    bool error_logged = false;
    for (const auto& line : h.logs()) {
        if (line.level == spdlog::level::err &&
            line.text.find("is unusable") != std::string::npos) {
            error_logged = true;
        }
    }
    CHECK(error_logged);

    // The runner works as if there had been no state, and saves a fresh one.
    h.runner().on_tick(tick(0, 40.0), nullptr, end_of(0) + 2'000);
    CHECK(h.published.size() == 2);
    REQUIRE(fs::exists(file));
    CHECK(read_json(file)["site"] == "t");
}

TEST_CASE("alert runner: device_stale fires for a device that never answered after its for, not "
          "for one with a recent good reading",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, device_stale_only, "greenrack.toml");
    REQUIRE(config.devices.size() == 3);
    REQUIRE(config.devices[1].id == "pv");
    REQUIRE(config.devices[1].poll_interval == std::chrono::milliseconds(1'000));
    Harness h(config);
    h.runner().start(t0);

    // pdu (0) answered but only with a failed request: that is not a good reading.
    core::DeviceReading failed = good_reading(0, t0 - 100);
    failed.requests_ok = 0;
    failed.requests_failed = 1;
    failed.values = {modbus::PointValue{0.0, modbus::Quality::error, {}}};
    h.runner().add(failed);
    h.runner().add(good_reading(1, t0 - 500)); // pv: fresh

    h.runner().on_devices(t0); // pdu and grid: pending (for = 2 s)
    CHECK(h.notified.empty());
    REQUIRE(h.published.size() == 4);
    // In the order of the configured devices.
    CHECK(h.published[0].topic == "greenrack/v1/t/alerts/device_stale/pdu");
    CHECK(h.published[2].topic == "greenrack/v1/t/alerts/device_stale/grid");
    for (const auto& p : h.published) {
        CHECK(p.topic.find("/pv") == std::string::npos);
    }

    h.runner().on_devices(t0 + 1'999);
    CHECK(h.notified.empty());

    h.clear();
    h.runner().on_devices(t0 + 2'000); // pv's reading is 2.5 s old: < 3 poll intervals
    REQUIRE(h.notified.size() == 2);
    std::vector<std::string> subjects;
    for (const auto& n : h.notified) {
        CHECK_FALSE(n.resolved);
        CHECK(n.alert.labels.at("alertname") == "device_stale");
        CHECK(n.alert.labels.at("scope") == "device");
        CHECK(n.alert.labels.at("device") == n.alert.labels.at("subject"));
        CHECK(n.alert.starts_at_ms == t0 + 2'000);
        subjects.push_back(n.alert.labels.at("subject"));
    }
    CHECK(subjects == std::vector<std::string>{"pdu", "grid"});
    const auto statuses = h.runner().statuses();
    for (const auto& status : statuses) {
        INFO(status.subject);
        CHECK(status.state ==
              (status.subject == "pv" ? alerts::AlertState::inactive : alerts::AlertState::firing));
    }
    CHECK(statuses.size() == 3);

    // Without a new reading pv goes stale after 3 poll intervals, and then pending.
    h.clear();
    h.runner().on_devices(t0 + 2'500);
    CHECK(h.published.empty());
    h.runner().on_devices(t0 + 2'501);
    REQUIRE(h.published.size() == 2);
    CHECK(h.published[0].topic == "greenrack/v1/t/alerts/device_stale/pv");
    CHECK(nlohmann::json::parse(h.published[0].payload)["state"] == "pending");
}

TEST_CASE("alert runner: a good reading resolves a firing device_stale alert", "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, device_stale_only, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);
    h.runner().on_devices(t0);
    h.runner().on_devices(t0 + 2'000);
    REQUIRE(h.notified.size() == 3); // pdu, pv and grid never answered
    h.clear();

    h.runner().add(good_reading(1, t0 + 2'900));
    h.runner().on_devices(t0 + 3'000);
    REQUIRE(h.notified.size() == 1);
    CHECK(h.notified[0].resolved);
    CHECK(h.notified[0].alert.labels.at("subject") == "pv");
    CHECK(h.notified[0].alert.starts_at_ms == t0 + 2'000);
    CHECK(h.notified[0].alert.ends_at_ms == t0 + 3'000);
}

TEST_CASE("alert runner: stop saves the state, a second start is a no-op", "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    const fs::path file = dir.path() / "alerts.json";
    h.runner().stop(); // never started: nothing written
    CHECK_FALSE(fs::exists(file));
    h.runner().start(t0);
    h.runner().on_tick(tick(0, 1.0), nullptr, end_of(0) + 2'000); // inactive, no transition
    CHECK_FALSE(fs::exists(file));
    h.runner().stop();
    REQUIRE(fs::exists(file));
    const auto saved = read_json(file);
    REQUIRE(saved["engine"]["alerts"].size() == 1);
    CHECK(saved["engine"]["alerts"][0]["state"] == "inactive");
}

TEST_CASE("alert runner: a firing alert's cause keeps the racks but has null headroom on a tick "
          "without green figures",
          "[alert_runner]") {
    TempDir dir;
    const auto config = load(dir, site_nongreen_on, "greenrack.toml");
    Harness h(config);
    h.runner().start(t0);
    drive_to_firing(h);
    h.clear();

    auto gap = tick(3, 40.0);
    gap.valid = false; // nongreen_w has no value: the alert keeps firing (missing = keep)
    h.runner().on_tick(gap, nullptr, end_of(3) + 2'000);
    CHECK(h.published.empty());
    CHECK(h.notified.empty());
    const auto statuses = h.runner().statuses();
    REQUIRE(statuses.size() == 1);
    CHECK(statuses[0].state == alerts::AlertState::firing);
    CHECK_FALSE(statuses[0].value);
    REQUIRE(statuses[0].cause);
    CHECK_FALSE(statuses[0].cause->headroom_free_w);
    CHECK_FALSE(statuses[0].cause->headroom_total_w);
    CHECK_FALSE(statuses[0].cause->headroom_storage_w);
    REQUIRE(statuses[0].cause->racks.size() == 2);
    CHECK(statuses[0].cause->racks[0].rack == "r2");
}

// Alertmanager identifies an alert by its label set, so the resolve must carry the labels the
// firing alert was sent with, even when the rule (and its labels) left the config across a
// restart: the saved state keeps them.
TEST_CASE("alert runner: the resolve of a restored alert whose rule was disabled carries the "
          "labels it fired with",
          "[alert_runner]") {
    TempDir dir;
    const auto before = load(dir, site_nongreen_on, "before.toml");
    std::map<std::string, std::string> fired_labels;
    {
        Harness first(before);
        first.runner().start(t0);
        drive_to_firing(first);
        REQUIRE(first.notified.size() == 1);
        fired_labels = first.notified[0].alert.labels;
        first.runner().stop();
    }
    const auto after = load(dir, site_nongreen_off, "after.toml");
    Harness second(after);
    second.runner().start(end_of(10));
    REQUIRE(second.notified.size() == 1);
    REQUIRE(second.notified[0].resolved);
    CHECK(second.notified[0].alert.labels == fired_labels);
}
