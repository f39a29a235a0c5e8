#include "daemon/app/reload_plan.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace greenrack;

namespace {

// A site with two buses and three devices; `extra` is appended, `edit` rewrites the text.
config::Config load(const std::string& extra = "",
                    const std::pair<std::string, std::string>& edit = {}) {
    std::string text = std::string(R"([site]
id = "t"
[daemon]
state_directory = "state"
profile_dirs = [")") + GREENRACK_SOURCE_DIR +
                       R"(/config/profiles"]
[mqtt]
uri = "tcp://127.0.0.1:1883"
[[bus]]
id = "a"
host = "127.0.0.1"
port = 1502
[[bus]]
id = "b"
host = "127.0.0.1"
port = 1503
[[device]]
id = "pdu"
bus = "a"
unit_id = 1
profile = "rack_pdu_px3_24"
[[device]]
id = "pv"
bus = "b"
unit_id = 2
profile = "pv_sunspec_103"
poll_interval = "1s"
[[device]]
id = "grid"
bus = "b"
unit_id = 3
profile = "meter_grid_4q"
)" + extra;
    if (!edit.first.empty()) {
        const auto at = text.find(edit.first);
        REQUIRE(at != std::string::npos);
        text.replace(at, edit.first.size(), edit.second);
    }
    const fs::path path =
        fs::temp_directory_path() / ("greenrack-reload-plan-" + std::to_string(getpid()) + ".toml");
    std::ofstream(path) << text;
    config::Config config = config::load_config(path);
    fs::remove(path);
    return config;
}

} // namespace

TEST_CASE("reload plan: an identical config changes nothing", "[reload]") {
    const auto plan = app::plan_reload(load(), load());
    CHECK(plan.devices_added.empty());
    CHECK(plan.devices_removed.empty());
    CHECK(plan.devices_changed.empty());
    CHECK(plan.buses_changed.empty());
    CHECK_FALSE(plan.mqtt_changed);
    CHECK_FALSE(plan.influxdb_changed);
    CHECK_FALSE(plan.prometheus_changed);
    CHECK_FALSE(plan.log_level_changed);
    CHECK(plan.summary() == "no changes to devices or outputs");
    CHECK_FALSE(app::reload_blocker(load(), load()).has_value());
}

TEST_CASE("reload plan: devices added, removed and changed are named by id", "[reload]") {
    const auto running = load();
    const auto next = load("[[device]]\nid = \"meter2\"\nbus = \"b\"\nunit_id = 4\n"
                           "profile = \"meter_grid_4q\"\n",
                           {"unit_id = 2", "unit_id = 5"});
    const auto plan = app::plan_reload(running, next);
    CHECK(plan.devices_added == std::vector<std::string>{"meter2"});
    CHECK(plan.devices_changed == std::vector<std::string>{"pv"});
    CHECK(plan.devices_removed.empty());
    CHECK(plan.buses_changed.empty());
    CHECK(plan.summary() == "devices +1 -0 ~1");

    const auto back = app::plan_reload(next, running);
    CHECK(back.devices_removed == std::vector<std::string>{"meter2"});
}

TEST_CASE("reload plan: a new poll interval or another bus setting counts as a change",
          "[reload]") {
    const auto running = load();
    CHECK(app::plan_reload(running, load("", {"poll_interval = \"1s\"", "poll_interval = \"2s\""}))
              .devices_changed == std::vector<std::string>{"pv"});
    const auto bus = app::plan_reload(running, load("", {"port = 1503", "port = 1504"}));
    CHECK(bus.buses_changed == std::vector<std::string>{"b"});
    CHECK(bus.devices_changed.empty()); // its devices are the same; the bus reconnects
    CHECK(bus.summary() == "buses reconnected: b");
}

TEST_CASE("reload plan: output sections that changed restart only that output", "[reload]") {
    const auto running = load();
    const auto mqtt = app::plan_reload(
        running, load("", {"uri = \"tcp://127.0.0.1:1883\"", "uri = \"tcp://127.0.0.1:1884\""}));
    CHECK(mqtt.mqtt_changed);
    CHECK_FALSE(mqtt.influxdb_changed);
    CHECK(mqtt.summary() == "mqtt restarted");
    // The spool caps belong to both spooling outputs.
    const auto spool = app::plan_reload(running, load("[spool]\nmax_size = \"64MiB\"\n"));
    CHECK(spool.mqtt_changed);
    CHECK(spool.influxdb_changed);
    const auto level =
        app::plan_reload(running, load("", {"[daemon]\n", "[daemon]\nlog_level = \"debug\"\n"}));
    CHECK(level.log_level_changed);
    CHECK_FALSE(level.mqtt_changed);
}

TEST_CASE("reload blocker: the site id, the state directory, the tick and the battery model "
          "need a restart, and the message says so",
          "[reload]") {
    const auto running = load();
    auto site = app::reload_blocker(running, load("", {"id = \"t\"", "id = \"u\""}));
    REQUIRE(site);
    CHECK(*site == "site.id changed from \"t\" to \"u\": this needs a restart (systemctl restart "
                   "greenrackd); the running configuration stays in force");
    CHECK(app::reload_blocker(running,
                              load("", {"state_directory = \"state\"", "state_directory = \"s2\""}))
              ->rfind("daemon.state_directory changed from ", 0) == 0);
    CHECK(*app::reload_blocker(running, load("[accounting]\ntick = \"10s\"\n")) ==
          "accounting.tick changed from 5000 ms to 10000 ms: this needs a restart (systemctl "
          "restart greenrackd); the running configuration stays in force");
    CHECK(app::reload_blocker(running, load("[accounting]\nbattery_model = \"fifo\"\n"))
              ->rfind("accounting.battery_model changed from \"well_mixed\" to \"fifo\"", 0) == 0);
    // Everything else is applied live.
    CHECK_FALSE(app::reload_blocker(running, load("[accounting]\nenabled = false\n")));
}
