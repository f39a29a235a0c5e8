// Modbus RTU end to end: greenrack-sim serves a serial line on one end of a socat pty pair,
// greenrackd polls the other end; the published values must equal what the simulator serves.

#include "tests/integration/site_harness.hpp"

#include <catch2/catch.hpp>
#include <csignal>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("devices on an RTU line are decoded exactly and a silent unit does not stop the line",
          "[e2e][rtu]") {
    TempDir dir("greenrack-rtu");
    const auto sim_tty = dir.path() / "ttySim";
    const auto daemon_tty = dir.path() / "ttyDaemon";
    Process socat(
        find_program("socat"),
        {"pty,raw,echo=0,link=" + sim_tty.string(), "pty,raw,echo=0,link=" + daemon_tty.string()},
        dir.path(), "socat");
    REQUIRE(wait_until(
        [&] { return std::filesystem::exists(sim_tty) && std::filesystem::exists(daemon_tty); },
        10s));

    MosquittoBroker broker(dir.path());
    write_file(dir.path() / "rtu.sim.toml", R"(
[sim]
seed = 3
start = "2026-06-21T06:00:00Z"

[[listener]]
name = "line"
serial = ")" + sim_tty.string() + R"("
baud = 19200
parity = "E"

[[device]]
id = "battery-1"
profile = "battery_generic"
listener = "line"
unit_id = 1
capacity_wh = 50000
max_charge_w = 10000
max_discharge_w = 10000

[[device]]
id = "wind-1"
profile = "wind_midnite_classic"
listener = "line"
unit_id = 10
rated_w = 3000

[[device]]
id = "grid-meter"
profile = "meter_grid_4q"
listener = "line"
unit_id = 2
)");
    Process sim(GREENRACK_SIM_BIN,
                {"--scenario", (dir.path() / "rtu.sim.toml").string(), "--profiles",
                 std::string(GREENRACK_SOURCE_DIR) + "/config/profiles", "--freeze", "--snapshot",
                 (dir.path() / "snapshot.json").string(), "--ready-file",
                 (dir.path() / "sim.ready").string()},
                dir.path(), "sim");
    REQUIRE(wait_until([&] { return std::filesystem::exists(dir.path() / "snapshot.json"); }, 15s));

    write_file(dir.path() / "greenrack.toml", R"([site]
id = "rtu"
[daemon]
state_directory = "state"
profile_dirs = [")" + std::string(GREENRACK_SOURCE_DIR) +
                                                  R"(/config/profiles"]
[mqtt]
uri = ")" + broker.uri() + R"("
[[bus]]
id = "line"
type = "rtu"
device = ")" + daemon_tty.string() + R"("
baud = 19200
parity = "E"
response_timeout = "300ms"
[[device]]
id = "battery-1"
bus = "line"
unit_id = 1
profile = "battery_generic"
[[device]]
id = "ghost"
bus = "line"
unit_id = 77
profile = "battery_generic"
response_timeout = "150ms"
[[device]]
id = "wind-1"
bus = "line"
unit_id = 10
profile = "wind_midnite_classic"
[[device]]
id = "grid-meter"
bus = "line"
unit_id = 2
profile = "meter_grid_4q"
)");
    MqttRecorder mqtt(broker.uri(), "greenrack/v1/rtu/#");
    Process daemon(GREENRACKD_BIN, {"--config", (dir.path() / "greenrack.toml").string()},
                   dir.path(), "greenrackd");

    auto served = json::parse(read_file(dir.path() / "snapshot.json"))["devices"];
    REQUIRE(served.size() == 3);
    for (const auto& [device_id, device] : served.items()) {
        INFO("device " << device_id << "\n" << daemon.err());
        auto payload = mqtt.wait_for("greenrack/v1/rtu/device/" + device_id + "/state", 20s);
        REQUIRE(payload.has_value());
        check_matches_snapshot(json::parse(*payload), device);
    }
    // Nobody answers unit 77 on the line: it is offline with a timeout, the others keep going.
    auto ghost = mqtt.wait_for("greenrack/v1/rtu/device/ghost/state", 10s);
    REQUIRE(ghost.has_value());
    auto ghost_state = json::parse(*ghost);
    CHECK(ghost_state["quality"] == "offline");
    CHECK(ghost_state["error"] == "response timeout");
    auto later = mqtt.wait_for(
        "greenrack/v1/rtu/device/grid-meter/state",
        [](const std::string& p) { return json::parse(p)["seq"].get<int>() >= 3; }, 20s);
    REQUIRE(later.has_value());
    CHECK(json::parse(*later)["quality"] == "ok");
    daemon.stop(SIGTERM, 10s);
}
