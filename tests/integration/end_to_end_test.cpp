// End to end: real mosquitto + greenrack-sim (time frozen, so every value is constant) +
// greenrackd. What the daemon publishes for every device type must equal what the simulator
// serves, point by point.

#include "tests/integration/site_harness.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <regex>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string prefix = "greenrack/v1/it/";

} // namespace

TEST_CASE("every device type's published values equal what the simulator serves", "[e2e]") {
    SiteHarness site;
    MqttRecorder mqtt(site.broker().uri(), prefix + "#");
    auto daemon = site.start_daemon();

    auto served = site.snapshot()["devices"];
    REQUIRE(served.size() == 6);
    for (const auto& [device_id, device] : served.items()) {
        INFO("device " << device_id);
        auto payload = mqtt.wait_for(prefix + "device/" + device_id + "/state", 20s);
        REQUIRE(payload.has_value());
        auto state = json::parse(*payload);
        CHECK(state["device"] == device_id);
        CHECK(state["seq"].get<int>() >= 1);
        CHECK(state["ts"].get<std::int64_t>() > 1'700'000'000'000);
        check_matches_snapshot(state, device);
    }

    // The point the scenario marks unimplemented is published as missing, never as a number.
    auto pv = json::parse(*mqtt.wait_for(prefix + "device/pv-1/state", 1s));
    CHECK(pv["points"]["reactive_power_var"]["quality"] == "missing");
    CHECK(pv["points"]["reactive_power_var"]["value"].is_null());
    // Power with its SunSpec scale factor: a real number in W, not a raw register.
    CHECK(pv["points"]["ac_power_w"]["value"].get<double>() > 1000.0);

    daemon->stop(SIGTERM, 10s);
}

TEST_CASE("status is online while the daemon runs and offline after it stops", "[e2e]") {
    SiteHarness site;
    MqttRecorder mqtt(site.broker().uri(), prefix + "#");
    auto daemon = site.start_daemon();
    auto online = mqtt.wait_for(
        prefix + "status", [](const std::string& p) { return p == "online"; }, 20s);
    REQUIRE(online.has_value());

    auto meta = mqtt.wait_for(prefix + "device/battery-1/meta", 5s);
    REQUIRE(meta.has_value());
    auto description = json::parse(*meta);
    CHECK(description["device_role"] == "battery");
    CHECK(description["unit_id"] == 20);
    CHECK(description["points"]["soc_pct"]["unit"] == "%");

    // Readings keep coming with increasing sequence numbers.
    const std::string topic = prefix + "device/grid-meter/state";
    auto first = json::parse(*mqtt.wait_for(topic, 10s));
    auto later = mqtt.wait_for(
        topic,
        [&](const std::string& p) { return json::parse(p)["seq"] > first["seq"].get<int>(); }, 10s);
    REQUIRE(later.has_value());

    auto status = daemon->stop(SIGTERM, 10s);
    REQUIRE(status.has_value());
    CHECK(*status == 0);
    auto offline = mqtt.wait_for(
        prefix + "status", [](const std::string& p) { return p == "offline"; }, 10s);
    CHECK(offline.has_value());
}

TEST_CASE("greenrackd --once prints every device's decoded values and exits 0", "[e2e]") {
    SiteHarness site;
    auto result =
        run_program(GREENRACKD_BIN, {"--config", site.config_path().string(), "--once"}, 60s);
    INFO(result.out << result.err);
    CHECK(result.status == 0);
    CHECK(result.out.find("6/6 devices answered") != std::string::npos);
    CHECK(result.out.find("pdu-1 (rack_pdu_px3_24, unit 3 on pdus): ok") != std::string::npos);
    CHECK(result.out.find("outlet_24_power_w") != std::string::npos);
    CHECK(result.out.find("\"Test Solar\"") != std::string::npos);
}

TEST_CASE("greenrackd --summary prints a live line per second counting the devices that answer",
          "[e2e]") {
    SiteHarness site;
    auto daemon = site.start_daemon({"--summary"});
    std::smatch match;
    const std::regex line("devices ([0-9]+)/6 ok(, ([0-9]+) partial)?");
    const bool seen = wait_until(
        [&] {
            const std::string out = daemon->out();
            std::string last;
            for (auto it = std::sregex_iterator(out.begin(), out.end(), line);
                 it != std::sregex_iterator(); ++it) {
                last = it->str();
            }
            // Every device answers the simulator: none counted offline.
            return std::regex_search(last, match, line) &&
                   std::stoi(match[1]) + (match[3].matched ? std::stoi(match[3]) : 0) == 6;
        },
        10s);
    INFO(daemon->out() << daemon->err());
    CHECK(seen);
    REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
}

TEST_CASE("greenrackd --once exits 1 and names the device when a device does not answer", "[e2e]") {
    SiteHarness site;
    // A unit id nothing answers on: the simulator ignores unknown units, so the request times out.
    site.write_config("[[device]]\nid = \"ghost\"\nbus = \"plant\"\nunit_id = 99\n"
                      "profile = \"meter_grid_4q\"\nresponse_timeout = \"200ms\"\n");
    auto result =
        run_program(GREENRACKD_BIN, {"--config", site.config_path().string(), "--once"}, 60s);
    INFO(result.out << result.err);
    CHECK(result.status == 1);
    CHECK(result.out.find("ghost (meter_grid_4q, unit 99 on plant): offline") != std::string::npos);
    CHECK(result.out.find("6/7 devices answered") != std::string::npos);
}

TEST_CASE("a bad config stops start-up with file:line:column and exit status 78", "[e2e]") {
    TempDir dir("greenrack-badconfig");
    auto path = dir.path() / "bad.toml";
    write_file(path, "[site]\nid = \"x\"\n[mqtt]\nqos = 3\n");
    auto result = run_program(GREENRACKD_BIN, {"--config", path.string(), "--check-config"});
    CHECK(result.status == 78);
    CHECK(result.err.rfind(path.string() + ":4:7: mqtt.qos: ", 0) == 0);
}

TEST_CASE("greenrackd --check-config accepts the shipped reference and demo configs", "[e2e]") {
    for (const char* file : {"/config/greenrack.toml", "/config/examples/demo-site.toml"}) {
        INFO(file);
        auto result =
            run_program(GREENRACKD_BIN,
                        {"--config", std::string(GREENRACK_SOURCE_DIR) + file, "--check-config"});
        CHECK(result.status == 0);
        CHECK(result.out.find(": ok: site ") != std::string::npos);
    }
    // --plan adds every device's requests, as the daemon logs them at start-up.
    auto plan = run_program(GREENRACKD_BIN,
                            {"--config",
                             std::string(GREENRACK_SOURCE_DIR) + "/config/examples/demo-site.toml",
                             "--check-config", "--plan"});
    CHECK(plan.status == 0);
    CHECK(plan.out.find("device pv-1 (unit 1 on generation, profile pv_sunspec_103): 1 requests, "
                        "110 registers\nFC03 40004..40113 (110 regs): ") != std::string::npos);
    CHECK(plan.out.find("device pv-2 (unit 2 on generation, profile sunspec, role pv_inverter): "
                        "register map discovered on the device") != std::string::npos);
    CHECK(plan.out.find("device pdu-r01 (unit 1 on pdus, profile rack_pdu_px3_24): 26 requests") !=
          std::string::npos);
}

TEST_CASE("greenrackd --version and --help answer without a config, --help names every option, "
          "signal, environment variable, file and exit code",
          "[e2e]") {
    auto version = run_program(GREENRACKD_BIN, {"--version"});
    CHECK(version.status == 0);
    CHECK(version.out.rfind("greenrackd ", 0) == 0);
    auto help = run_program(GREENRACKD_BIN, {"--help"});
    CHECK(help.status == 0);
    // Every option, the signals, the environment it reads, the files and the exit codes.
    for (const char* text :
         {"--config", "--check-config", "--plan", "--once", "--version", "--summary", "--log-level",
          "--help", "SIGHUP", "SIGTERM", "STATE_DIRECTORY", "NOTIFY_SOCKET", "JOURNAL_STREAM",
          "/etc/greenrack/greenrack.toml", "/usr/share/greenrack/profiles/", "64 bad usage",
          "78 invalid configuration"}) {
        INFO(text);
        CHECK(help.out.find(text) != std::string::npos);
    }
}

TEST_CASE("the broker publishes the offline last will when the daemon dies", "[e2e]") {
    SiteHarness site;
    MqttRecorder mqtt(site.broker().uri(), prefix + "#");
    auto daemon = site.start_daemon();
    REQUIRE(mqtt.wait_for(
                    prefix + "status", [](const std::string& p) { return p == "online"; }, 20s)
                .has_value());
    daemon->stop(SIGKILL, 10s);
    CHECK(mqtt.wait_for(
                  prefix + "status", [](const std::string& p) { return p == "offline"; }, 10s)
              .has_value());
}

TEST_CASE("the daemon polls while the broker is down and delivers what it buffered", "[e2e]") {
    SiteHarness site;
    site.broker().stop();
    auto daemon = site.start_daemon();
    sleep_ms(2000);
    CHECK(daemon->running());
    const auto broker_back = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    site.broker().start();
    MqttRecorder mqtt(site.broker().uri(), prefix + "#");
    // Readings taken while the broker was away arrive once it is back, in order.
    auto state = mqtt.wait_for(
        prefix + "device/pdu-1/state",
        [&](const std::string& p) {
            return json::parse(p)["ts"].get<std::int64_t>() > broker_back;
        },
        20s);
    REQUIRE(state.has_value());
    // The first message seen was taken while the broker was down (buffered, not dropped).
    std::int64_t first_ts = 0;
    mqtt.wait_for(
        prefix + "device/pdu-1/state",
        [&](const std::string& p) {
            first_ts = json::parse(p)["ts"].get<std::int64_t>();
            return true;
        },
        1s);
    CHECK(first_ts < broker_back);
    daemon->stop(SIGTERM, 10s);
}
