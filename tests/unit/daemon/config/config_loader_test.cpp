#include "daemon/config/config.hpp"
#include "daemon/config/fleet_view.hpp"

#include "drivers/common/config_error.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using greenrack::common::ConfigError;
using greenrack::config::BusType;
using greenrack::config::Config;
using greenrack::config::load_config;
using std::chrono::milliseconds;

namespace {

fs::path source_dir() {
    return GREENRACK_SOURCE_DIR;
}
fs::path fixture_profiles() {
    return fs::path(GREENRACK_FIXTURES_DIR) / "config" / "profiles";
}

// A private directory for the configs one test writes; removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "greenrack-config-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            FAIL("mkdtemp failed");
        }
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }

    const fs::path& path() const { return path_; }

    // Writes `text` to <dir>/<name>; "@PROFILES@" becomes the fixture profile directory.
    fs::path write(const std::string& name, std::string text) const {
        const std::string marker = "@PROFILES@";
        for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker)) {
            text.replace(at, marker.size(), fixture_profiles().string());
        }
        const fs::path file = path_ / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }

private:
    fs::path path_;
};

// Loads `text` and returns the full error message ("" when it loads).
std::string load_error(const TempDir& dir, const std::string& text, fs::path* file = nullptr) {
    const fs::path path = dir.write("greenrack.toml", text);
    if (file != nullptr) {
        *file = path;
    }
    try {
        load_config(path);
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "";
}

// The config must fail with exactly "<file>:<where_and_message>".
void require_error(const std::string& text, const std::string& where_and_message) {
    TempDir dir;
    fs::path file;
    const std::string message = load_error(dir, text, &file);
    REQUIRE(message == file.string() + ":" + where_and_message);
}

Config load_text(const TempDir& dir, const std::string& text) {
    return load_config(dir.write("greenrack.toml", text));
}

} // namespace

// --- Shipped configurations ---------------------------------------------------------------------

TEST_CASE("the reference config loads and describes the example site", "[config]") {
    const Config config = load_config(source_dir() / "config" / "greenrack.toml");

    CHECK(config.site.id == "example");
    CHECK(config.site.name == "Example site");
    CHECK(config.daemon.state_directory == fs::path("/var/lib/greenrack"));
    CHECK(config.daemon.log_level == "info");
    REQUIRE(config.daemon.profile_dirs.size() == 2);
    CHECK(config.daemon.profile_dirs[0] == source_dir() / "config" / "profiles");
    CHECK(config.daemon.profile_dirs[1] == fs::path("/usr/share/greenrack/profiles"));

    // Alerts: the seven built-in rules (one tuned with its defaults) and the example rule.
    CHECK(config.alerts.enabled);
    REQUIRE(config.alerts.rules.size() == 10);
    CHECK(config.alerts.rules[0].name == "rack_nongreen");
    CHECK(config.alerts.rules[0].condition.threshold == 500.0);
    const auto& custom = config.alerts.rules.back();
    CHECK(custom.name == "rack_r01_on_grid");
    CHECK(custom.subjects == std::vector<std::string>{"r01"});
    CHECK(custom.labels.at("team") == "dc-ops");
    CHECK_FALSE(config.alertmanager.enabled);

    CHECK(config.mqtt.enabled);
    CHECK(config.mqtt.uri == "tcp://127.0.0.1:1883");
    CHECK(config.mqtt.client_id == "greenrackd-example");
    CHECK(config.mqtt.topic_prefix == "greenrack/v1");
    CHECK(config.mqtt.qos == 1);
    CHECK(config.mqtt.keepalive == milliseconds(30'000));
    CHECK(config.mqtt.reconnect_min == milliseconds(1'000));
    CHECK(config.mqtt.reconnect_max == milliseconds(30'000));
    CHECK(config.mqtt.max_inflight == 256);
    CHECK(config.mqtt.username.empty());
    CHECK(config.mqtt.password.empty());

    REQUIRE(config.buses.size() == 1);
    const auto& bus = config.buses[0];
    CHECK(bus.id == "gateway");
    CHECK(bus.type == BusType::tcp);
    CHECK(bus.host == "127.0.0.1");
    CHECK(bus.port == 502);
    CHECK(bus.timing.response_timeout == milliseconds(500));
    CHECK(bus.timing.connect_delay == milliseconds(0));
    CHECK(bus.timing.request_gap == milliseconds(0));
    CHECK(bus.connect_timeout == milliseconds(2'000));
    CHECK(bus.reconnect_min == milliseconds(1'000));
    CHECK(bus.reconnect_max == milliseconds(60'000));
    CHECK(bus.max_consecutive_failures == 3);

    REQUIRE(config.devices.size() == 3);
    const std::array<std::pair<const char*, const char*>, 3> expected{{
        {"pdu-r01", "rack_pdu_px3_24"},
        {"pv-1", "pv_sunspec_103"},
        {"grid-meter", "meter_grid_4q"},
    }};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& device = config.devices[i];
        CHECK(device.id == expected[i].first);
        CHECK(device.bus == "gateway");
        CHECK(device.unit_id == static_cast<int>(i + 1));
        CHECK(device.profile_name == expected[i].second);
        REQUIRE(device.profile != nullptr);
        CHECK(device.profile->name == expected[i].second);
        CHECK(device.poll_interval == milliseconds(1'000));
        CHECK(device.timing.response_timeout == milliseconds(500));
        CHECK(device.max_registers == device.profile->max_registers);
        CHECK(device.max_gap == device.profile->max_gap);
    }
    CHECK(config.devices[0].profile->device_role == greenrack::profiles::DeviceRole::rack_pdu);

    REQUIRE(config.racks.size() == 1);
    CHECK(config.racks[0].id == "r01");
    CHECK(config.racks[0].tier == 0);
    REQUIRE(config.racks[0].members.size() == 1);
    CHECK(config.racks[0].members[0].device == "pdu-r01");
    CHECK(config.racks[0].members[0].outlets.empty());
}

TEST_CASE("the demo config matches the simulator's demo site", "[config]") {
    const Config config = load_config(source_dir() / "config" / "examples" / "demo-site.toml");

    CHECK(config.site.id == "demo");
    CHECK(config.mqtt.uri == "tcp://127.0.0.1:1883");
    REQUIRE(config.daemon.profile_dirs.size() == 1);
    CHECK(config.daemon.profile_dirs[0] == source_dir() / "config" / "profiles");
    CHECK(config.daemon.state_directory == source_dir() / "build" / "demo-state");

    REQUIRE(config.buses.size() == 3);
    const std::array<std::pair<const char*, int>, 3> buses{
        {{"pdus", 15020}, {"generation", 15021}, {"storage", 15022}}};
    for (std::size_t i = 0; i < buses.size(); ++i) {
        CHECK(config.buses[i].id == buses[i].first);
        CHECK(config.buses[i].type == BusType::tcp);
        CHECK(config.buses[i].host == "127.0.0.1");
        CHECK(config.buses[i].port == buses[i].second);
    }

    struct Expected {
        std::string id;
        std::string bus;
        int unit_id;
        std::string profile;
    };
    std::vector<Expected> devices;
    for (int n = 1; n <= 8; ++n) {
        devices.push_back({"pdu-r0" + std::to_string(n), "pdus", n, "rack_pdu_px3_24"});
    }
    devices.push_back({"pv-1", "generation", 1, "pv_sunspec_103"});
    devices.push_back({"pv-2", "generation", 2, "sunspec"}); // discovered on the device
    devices.push_back({"wind-1", "generation", 3, "wind_midnite_classic"});
    devices.push_back({"battery-1", "storage", 1, "battery_generic"});
    devices.push_back({"grid-meter", "storage", 2, "meter_grid_4q"});
    devices.push_back({"facility-meter", "storage", 3, "meter_facility_umg604"});
    REQUIRE(config.devices.size() == devices.size());
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const auto& device = config.devices[i];
        INFO("device " << devices[i].id);
        CHECK(device.id == devices[i].id);
        CHECK(device.bus == devices[i].bus);
        CHECK(device.unit_id == devices[i].unit_id);
        CHECK(device.profile_name == devices[i].profile);
        REQUIRE(device.profile != nullptr);
        CHECK(device.poll_interval == milliseconds(1'000));
    }
    CHECK(config.find_device("pdu-r08")->profile->max_index("outlet_power") == 24);

    REQUIRE(config.racks.size() == 9);
    for (int n = 1; n <= 7; ++n) {
        const auto* rack = config.find_rack("r0" + std::to_string(n));
        REQUIRE(rack != nullptr);
        REQUIRE(rack->members.size() == 1);
        CHECK(rack->members[0].device == "pdu-r0" + std::to_string(n));
        CHECK(rack->members[0].outlets.empty());
    }
    std::vector<int> first_half;
    std::vector<int> second_half;
    for (int outlet = 1; outlet <= 12; ++outlet) {
        first_half.push_back(outlet);
        second_half.push_back(outlet + 12);
    }
    const auto* r08 = config.find_rack("r08");
    const auto* r09 = config.find_rack("r09");
    REQUIRE(r08 != nullptr);
    REQUIRE(r09 != nullptr);
    REQUIRE(r08->members.size() == 1);
    REQUIRE(r09->members.size() == 1);
    CHECK(r08->members[0].device == "pdu-r08");
    CHECK(r08->members[0].outlets == first_half);
    CHECK(r09->members[0].device == "pdu-r08");
    CHECK(r09->members[0].outlets == second_half);
}

// --- Defaults, inheritance and resolution
// ---------------------------------------------------------

TEST_CASE("devices inherit the bus timing and profile limits unless they override them",
          "[config]") {
    TempDir dir;
    const Config config = load_text(dir, R"(
[site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "10.0.0.1"
response_timeout = "2s"
request_gap = "20ms"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[device]]
id = "meter"
bus = "b"
unit_id = 2
profile = "test_meter"
poll_interval = "250ms"
response_timeout = "100ms"
max_registers = 64
max_gap = 0
)");
    const auto* pdu = config.find_device("pdu-1");
    const auto* meter = config.find_device("meter");
    REQUIRE(pdu != nullptr);
    REQUIRE(meter != nullptr);
    CHECK(pdu->poll_interval == milliseconds(1'000));
    CHECK(pdu->timing.response_timeout == milliseconds(2'000));
    CHECK(pdu->timing.request_gap == milliseconds(20));
    CHECK(pdu->timing.connect_delay == milliseconds(0));
    CHECK(pdu->max_registers == 125);
    CHECK(pdu->max_gap == 16);
    CHECK(meter->poll_interval == milliseconds(250));
    CHECK(meter->timing.response_timeout == milliseconds(100));
    CHECK(meter->timing.request_gap == milliseconds(20));
    CHECK(meter->max_registers == 64);
    CHECK(meter->max_gap == 0);
    CHECK(pdu->profile != meter->profile);
    CHECK(config.find_bus("b")->port == 502);
    CHECK(config.find_bus("nope") == nullptr);
    CHECK(config.find_device("nope") == nullptr);
    CHECK(config.site.name == "t");
    CHECK(config.mqtt.client_id == "greenrackd-t");
}

TEST_CASE("relative paths are resolved against the config file's directory", "[config]") {
    TempDir dir;
    fs::create_directories(dir.path() / "profiles");
    fs::copy_file(fixture_profiles() / "test_pdu_4.toml",
                  dir.path() / "profiles" / "test_pdu_4.toml");
    dir.write("secrets/mqtt", "s3cret\n");
    const Config config = load_text(dir, R"(
[site]
id = "t"
[daemon]
state_directory = "state"
[mqtt]
username = "greenrack"
password_file = "secrets/mqtt"
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
)");
    CHECK(config.daemon.state_directory == dir.path() / "state");
    REQUIRE(config.daemon.profile_dirs.size() == 2);
    CHECK(config.daemon.profile_dirs[0] == dir.path() / "profiles");
    CHECK(config.mqtt.password == "s3cret");
    CHECK(config.devices[0].profile->name == "test_pdu_4");
}

TEST_CASE("an rtu bus takes its serial settings and unit ids 1..247", "[config]") {
    TempDir dir;
    const Config config = load_text(dir, R"(
[site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "line-1"
type = "rtu"
device = "/dev/ttyUSB0"
baud = 9600
parity = "E"
data_bits = 7
stop_bits = 2
rs485 = true
[[device]]
id = "meter"
bus = "line-1"
unit_id = 247
profile = "test_meter"
)");
    const auto& bus = config.buses.at(0);
    CHECK(bus.type == BusType::rtu);
    CHECK(bus.device == "/dev/ttyUSB0");
    CHECK(bus.baud == 9600);
    CHECK(bus.parity == 'E');
    CHECK(bus.data_bits == 7);
    CHECK(bus.stop_bits == 2);
    CHECK(bus.rs485);
    CHECK(config.devices.at(0).unit_id == 247);
}

TEST_CASE("outlet members of one PDU in one rack are merged and sorted", "[config]") {
    TempDir dir;
    const Config config = load_text(dir, R"(
[site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[device]]
id = "pdu-2"
bus = "b"
unit_id = 2
profile = "test_pdu_4"
[[rack]]
id = "r1"
tier = 3
pdus = ["pdu-2"]
outlets = [{ device = "pdu-1", outlets = [4, 1] }, { device = "pdu-1", from = 2, to = 2 }]
[[rack]]
id = "pdu-1"
outlets = [{ device = "pdu-1", outlets = [3] }]
)");
    const auto* rack = config.find_rack("r1");
    REQUIRE(rack != nullptr);
    CHECK(rack->tier == 3);
    REQUIRE(rack->members.size() == 2);
    CHECK(rack->members[0].device == "pdu-2");
    CHECK(rack->members[0].outlets.empty());
    CHECK(rack->members[1].device == "pdu-1");
    CHECK(rack->members[1].outlets == std::vector<int>{1, 2, 4});
    // Device and rack ids live in separate namespaces.
    REQUIRE(config.find_rack("pdu-1") != nullptr);
    CHECK(config.find_rack("pdu-1")->members.at(0).outlets == std::vector<int>{3});
}

// --- Malformed configurations: each fails with one exact, located message
// --------------------------

TEST_CASE("a TOML syntax error is reported at the parser's position", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "b"
host =
)",
                  "5:7: TOML syntax error: Error while parsing key-value pair: expected value, "
                  "saw '\\n'");
}

TEST_CASE("a missing file is reported", "[config][error]") {
    TempDir dir;
    const fs::path missing = dir.path() / "missing.toml";
    try {
        load_config(missing);
        FAIL("loaded a missing file");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) == missing.string() + ": cannot open file");
    }
}

TEST_CASE("a missing site.id is reported at the site table", "[config][error]") {
    require_error(R"(
[site]
name = "Pilot"
)",
                  "2:1: site.id: required key is missing");
}

TEST_CASE("a missing [site] table is reported at the top of the file", "[config][error]") {
    require_error(R"([mqtt]
qos = 1
)",
                  "1:1: site: required table is missing");
}

TEST_CASE("a site id with capitals or spaces is rejected", "[config][error]") {
    require_error(R"([site]
id = "Qinghai Pilot"
)",
                  "2:6: site.id: invalid id \"Qinghai Pilot\": use 1 to 64 characters a-z, 0-9, "
                  "'_' or '-', starting with a letter or digit");
}

TEST_CASE("a misspelt key is rejected with the closest valid key", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
pol_interval = "5s"
)",
                  "13:16: device[0].pol_interval: unknown key (did you mean \"poll_interval\"?)");
}

TEST_CASE("an unknown key far from any valid key is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
colour = "green"
)",
                  "3:10: site.colour: unknown key (misspelt, or not valid here)");
}

TEST_CASE("a value of the wrong type is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
qos = "1"
)",
                  "4:7: mqtt.qos: expected an integer, got string");
}

TEST_CASE("a malformed duration is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
keepalive = "30 seconds"
)",
                  "4:13: mqtt.keepalive: expected a duration like \"500ms\", \"5s\" or \"2m\", got "
                  "\"30 seconds\"");
}

TEST_CASE("a duration out of range is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
poll_interval = "50ms"
)",
                  "13:17: device[0].poll_interval: must be between 100ms and 3600000ms, got "
                  "\"50ms\"");
}

TEST_CASE("reconnect_max shorter than reconnect_min is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
reconnect_min = "10s"
reconnect_max = "5s"
)",
                  "5:17: mqtt.reconnect_max: reconnect_max (5s) must not be shorter than "
                  "reconnect_min (10s)");
}

TEST_CASE("an unknown bus type is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "b"
type = "udp"
)",
                  "5:8: bus[0].type: unknown value \"udp\" (expected one of \"tcp\", \"rtu\")");
}

TEST_CASE("a tcp bus without host is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"

[[bus]]
id = "b"
port = 502
)",
                  "4:1: bus[0].host: required key is missing");
}

TEST_CASE("a tcp port out of range is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "b"
host = "localhost"
port = 70000
)",
                  "6:8: bus[0].port: must be between 1 and 65535, got 70000");
}

TEST_CASE("a serial option on a tcp bus is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "b"
host = "localhost"
baud = 9600
)",
                  "6:8: bus[0].baud: only valid for an rtu bus (this bus is tcp)");
}

TEST_CASE("an invalid rtu parity is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "line"
type = "rtu"
device = "/dev/ttyS0"
parity = "none"
)",
                  "7:10: bus[0].parity: unknown value \"none\" (expected one of \"N\", \"E\", "
                  "\"O\")");
}

TEST_CASE("a non-standard baud rate is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "line"
type = "rtu"
device = "/dev/ttyS0"
baud = 19000
)",
                  "7:8: bus[0].baud: unsupported baud rate 19000 (expected 300, 600, 1200, 2400, "
                  "4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800 or 921600)");
}

TEST_CASE("[bus] written as a plain table is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[bus]
id = "b"
)",
                  "3:1: bus: expected an array of tables ([[bus]]), got table");
}

TEST_CASE("a duplicate bus id is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "b"
host = "a"
[[bus]]
id = "b"
host = "c"
)",
                  "7:6: bus[1].id: duplicate bus id \"b\" (first defined at line 4)");
}

TEST_CASE("a duplicate device id is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 2
profile = "test_pdu_4"
)",
                  "14:6: device[1].id: duplicate device id \"pdu-1\" (first defined at line 9)");
}

TEST_CASE("a device on an unknown bus is rejected, listing the known buses", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "pdu-gateway"
host = "localhost"
[[bus]]
id = "storage"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "pdu-gw"
)",
                  "11:7: device[0].bus: unknown bus \"pdu-gw\" (known: pdu-gateway, storage)");
}

TEST_CASE("two devices with one unit id on a bus are rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 7
profile = "test_pdu_4"
[[device]]
id = "pdu-2"
bus = "b"
unit_id = 7
)",
                  "16:11: device[1].unit_id: unit id 7 is already used on bus \"b\" by device "
                  "\"pdu-1\"");
}

TEST_CASE("unit id 0 is rejected on an rtu bus", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "line"
type = "rtu"
device = "/dev/ttyS0"
[[device]]
id = "meter"
bus = "line"
unit_id = 0
)",
                  "10:11: device[0].unit_id: must be between 1 and 247 on rtu bus \"line\", got 0");
}

TEST_CASE("unit id 256 is rejected on a tcp bus", "[config][error]") {
    require_error(R"([site]
id = "t"
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "meter"
bus = "b"
unit_id = 256
)",
                  "9:11: device[0].unit_id: must be between 0 and 255 on tcp bus \"b\", got 256");
}

TEST_CASE("an unknown profile is rejected, listing the searched and available profiles",
          "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_8"
)",
                  "12:11: device[0].profile: unknown profile \"test_pdu_8\": no test_pdu_8.toml "
                  "in daemon.profile_dirs (" +
                      fixture_profiles().string() +
                      "); available: test_meter, test_pdu_4, test_pdu_inlet");
}

TEST_CASE("max_registers above the protocol limit is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "meter"
bus = "b"
unit_id = 1
profile = "test_meter"
max_registers = 126
)",
                  "13:17: device[0].max_registers: must be between 1 and 125, got 126");
}

TEST_CASE("max_registers too small for the profile's points is rejected", "[config][error]") {
    require_error(
        R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "meter"
bus = "b"
unit_id = 1
profile = "test_meter"
max_registers = 4
)",
        "13:17: device[0].max_registers: profile \"test_meter\" cannot be read with these "
        "request limits: point 'model' (FC03 0..7) spans 8 registers, more than "
        "max_registers 4");
}

TEST_CASE("a config without devices is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
)",
                  "1:1: device: no devices configured (add at least one [[device]])");
}

TEST_CASE("a bus no device uses is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[bus]]
id = "spare"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
)",
                  "8:1: bus[1]: no [[device]] uses bus \"spare\" (remove it or comment it out)");
}

TEST_CASE("a rack naming an unknown device is rejected, listing the rack PDUs", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[rack]]
id = "r1"
pdus = ["pdu-1", "pdu-9"]
)",
                  "15:18: rack[0].pdus[1]: unknown device \"pdu-9\" (rack PDUs: pdu-1)");
}

TEST_CASE("a rack naming a device that is not a rack PDU is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "grid"
bus = "b"
unit_id = 1
profile = "test_meter"
[[rack]]
id = "r1"
outlets = [{ device = "grid", outlets = [1] }]
)",
                  "15:23: rack[0].outlets[0].device: device \"grid\" is a grid_meter (profile "
                  "\"test_meter\"), not a rack_pdu: only rack PDUs can be rack members");
}

TEST_CASE("an outlet beyond the PDU's outlet count is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[rack]]
id = "r1"
outlets = [{ device = "pdu-1", outlets = [1, 2, 5] }]
)",
                  "15:49: rack[0].outlets[0].outlets[2]: outlet 5 is out of range: \"pdu-1\" has "
                  "outlets 1 to 4");
}

TEST_CASE("an outlet range ending beyond the PDU's outlet count is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[rack]]
id = "r1"
outlets = [{ device = "pdu-1", from = 3, to = 6 }]
)",
                  "15:47: rack[0].outlets[0].to: outlet 6 is out of range: \"pdu-1\" has outlets 1 "
                  "to 4");
}

TEST_CASE("an outlet assigned to two racks is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[rack]]
id = "r1"
outlets = [{ device = "pdu-1", from = 1, to = 2 }]
[[rack]]
id = "r2"
outlets = [{ device = "pdu-1", outlets = [3, 2] }]
)",
                  "18:46: rack[1].outlets[0].outlets[1]: outlet 2 of \"pdu-1\" is already "
                  "assigned to rack \"r1\"");
}

TEST_CASE("a PDU that is both a whole member and split by outlets is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[rack]]
id = "r1"
pdus = ["pdu-1"]
[[rack]]
id = "r2"
outlets = [{ device = "pdu-1", outlets = [1] }]
)",
                  "18:23: rack[1].outlets[0].device: \"pdu-1\" is already assigned whole to rack "
                  "\"r1\": a PDU belongs either whole to one rack or by outlets");
}

TEST_CASE("outlets of a PDU without per-outlet metering are rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_inlet"
[[rack]]
id = "r1"
outlets = [{ device = "pdu-1", outlets = [1] }]
)",
                  "15:23: rack[0].outlets[0].device: profile \"test_pdu_inlet\" of \"pdu-1\" has "
                  "no per-outlet power (role outlet_power): list the PDU in pdus instead");
}

TEST_CASE("a rack without members is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "pdu-1"
bus = "b"
unit_id = 1
profile = "test_pdu_4"
[[rack]]
id = "r1"
pdus = []
)",
                  "13:1: rack[0]: a rack needs at least one member: list whole PDUs in pdus or PDU "
                  "outlets in outlets");
}

TEST_CASE("qos 3 is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
qos = 3
)",
                  "4:7: mqtt.qos: must be between 0 and 2, got 3");
}

TEST_CASE("an mqtt uri with an unknown scheme is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
uri = "http://broker:1883"
)",
                  "4:7: mqtt.uri: invalid broker URI \"http://broker:1883\": unknown scheme "
                  "\"http\" (expected tcp, ssl, mqtt, mqtts, ws or wss)");
}

TEST_CASE("an mqtt uri without a port is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
uri = "tcp://broker"
)",
                  "4:7: mqtt.uri: invalid broker URI \"tcp://broker\": missing port (e.g. "
                  "\"tcp://broker:1883\")");
}

TEST_CASE("a topic prefix with a wildcard is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
topic_prefix = "greenrack/+/v1"
)",
                  "4:16: mqtt.topic_prefix: must not contain the MQTT wildcards '+' or '#', got "
                  "\"greenrack/+/v1\"");
}

TEST_CASE("password and password_file together are rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
username = "greenrack"
password = "secret"
password_file = "/run/credentials/greenrackd/mqtt"
)",
                  "6:17: mqtt.password_file: set either password or password_file, not both");
}

TEST_CASE("an unreadable password_file is rejected with the resolved path", "[config][error]") {
    TempDir dir;
    fs::path file;
    const std::string message = load_error(dir, R"([site]
id = "t"
[mqtt]
username = "greenrack"
password_file = "missing-secret"
)",
                                           &file);
    CHECK(message == file.string() + ":5:17: mqtt.password_file: cannot read \"" +
                         (dir.path() / "missing-secret").string() +
                         "\": No such file or directory");
}

TEST_CASE("a password without a username is rejected", "[config][error]") {
    require_error(R"([site]
id = "t"
[mqtt]
password = "secret"
)",
                  "4:12: mqtt.password: a password needs a username (mqtt.username)");
}

// --- SunSpec devices ---------------------------------------------------------------------------

namespace {

std::string sunspec_site(const std::string& device_keys) {
    return R"([site]
id = "t"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b"
host = "localhost"
[[device]]
id = "inv"
bus = "b"
unit_id = 1
)" + device_keys;
}

} // namespace

TEST_CASE("a device with profile \"sunspec\" gets the points of its role and no register plan",
          "[config][sunspec]") {
    TempDir dir;
    const Config config = load_text(dir, sunspec_site(R"(profile = "sunspec"
role = "pv_inverter"
[[device]]
id = "meter"
bus = "b"
unit_id = 2
profile = "sunspec"
role = "grid_meter"
invert_power = true
max_registers = 60
[[device]]
id = "inv-2"
bus = "b"
unit_id = 3
profile = "sunspec"
role = "pv_inverter"
)"));
    const auto* inverter = config.find_device("inv");
    const auto* meter = config.find_device("meter");
    REQUIRE(inverter != nullptr);
    REQUIRE(meter != nullptr);
    CHECK(inverter->profile_name == "sunspec");
    CHECK(inverter->profile->discovered);
    CHECK(inverter->profile->device_role == greenrack::profiles::DeviceRole::pv_inverter);
    CHECK(inverter->profile->find("ac_power_w"));
    CHECK_FALSE(inverter->invert_power);
    CHECK(inverter->max_registers == 125);
    CHECK(meter->profile->device_role == greenrack::profiles::DeviceRole::grid_meter);
    CHECK(meter->profile->find("net_power_w"));
    CHECK(meter->invert_power);
    CHECK(meter->max_registers == 60);
    // Devices of one role share one profile; the grid meter is the site's grid source.
    CHECK(config.find_device("inv-2")->profile == inverter->profile);
    CHECK(config.accounting.grid == std::vector<std::string>{"meter"});
    CHECK(config.accounting.pv == std::vector<std::string>{"inv", "inv-2"});
}

TEST_CASE("a SunSpec device needs a role it can have", "[config][sunspec][error]") {
    require_error(sunspec_site("profile = \"sunspec\"\n"),
                  "8:1: device[0].role: required key is missing");
    require_error(sunspec_site("profile = \"sunspec\"\nrole = \"rack_pdu\"\n"),
                  "13:8: device[0].role: unknown role \"rack_pdu\" for a SunSpec device "
                  "(pv_inverter, wind_turbine, battery, grid_meter or facility_meter)");
    require_error(sunspec_site("profile = \"sunspec\"\nrole = \"pv\"\n"),
                  "13:8: device[0].role: unknown role \"pv\" for a SunSpec device "
                  "(pv_inverter, wind_turbine, battery, grid_meter or facility_meter)");
}

TEST_CASE("role and invert_power belong to SunSpec devices, max_gap does not",
          "[config][sunspec][error]") {
    require_error(sunspec_site("profile = \"test_meter\"\nrole = \"grid_meter\"\n"),
                  "13:8: device[0].role: only for profile = \"sunspec\" (a profile file sets its "
                  "device_role, and a point's sign with scale = -1)");
    require_error(sunspec_site("profile = \"test_meter\"\ninvert_power = true\n"),
                  "13:16: device[0].invert_power: only for profile = \"sunspec\" (a profile file "
                  "sets its device_role, and a point's sign with scale = -1)");
    require_error(sunspec_site("profile = \"sunspec\"\nrole = \"battery\"\nmax_gap = 4\n"),
                  "14:11: device[0].max_gap: not used with profile = \"sunspec\": each SunSpec "
                  "model is read in as few requests as max_registers allows");
}

// --- [fleet] --------------------------------------------------------------------------------

namespace {

// Two shards: pdu-1 and the meter in hall-a, pdu-2 in hall-b; `fleet` and `extra` appended.
std::string fleet_site(const std::string& fleet, const std::string& device_extra = "") {
    return R"([site]
id = "qh"
[daemon]
profile_dirs = ["@PROFILES@"]
[[bus]]
id = "b1"
host = "127.0.0.1"
[[bus]]
id = "b2"
host = "127.0.0.1"
port = 1502
[[device]]
id = "pdu-1"
bus = "b1"
unit_id = 1
profile = "test_pdu_4"
shard = "hall-a"
[[device]]
id = "meter"
bus = "b1"
unit_id = 2
profile = "test_meter"
shard = "hall-a"
[[device]]
id = "pdu-2"
bus = "b2"
unit_id = 1
profile = "test_pdu_4"
)" + device_extra +
           R"(
[[rack]]
id = "r1"
outlets = [{ device = "pdu-1", outlets = [1, 2] }, { device = "pdu-2", outlets = [1] }]
[[rack]]
id = "r2"
outlets = [{ device = "pdu-2", outlets = [2, 3] }]
)" + fleet;
}

} // namespace

TEST_CASE("a single daemon ignores the devices' shards and runs the whole site", "[config]") {
    TempDir dir;
    const Config config = load_text(dir, fleet_site("", "shard = \"hall-b\"\n"));
    CHECK(config.fleet.role == greenrack::config::FleetRole::single);
    CHECK(config.fleet.shards == std::vector<std::string>{"hall-a", "hall-b"});
    CHECK(config.mqtt.client_id == "greenrackd-qh");
    const Config view = greenrack::config::role_view(config);
    CHECK(view.devices.size() == 3);
    CHECK(view.fleet.site == nullptr);
}

TEST_CASE("a shard's view has its devices, their buses and its members of every rack", "[config]") {
    TempDir dir;
    const Config config = load_text(
        dir, fleet_site("[fleet]\nrole = \"shard\"\nshard = \"hall-b\"\n", "shard = \"hall-b\"\n"));
    CHECK(config.mqtt.client_id == "greenrackd-qh-hall-b");
    const Config view = greenrack::config::role_view(config);
    REQUIRE(view.devices.size() == 1);
    CHECK(view.devices[0].id == "pdu-2");
    REQUIRE(view.buses.size() == 1);
    CHECK(view.buses[0].id == "b2");
    REQUIRE(view.racks.size() == 2);
    REQUIRE(view.racks[0].members.size() == 1);
    CHECK(view.racks[0].members[0].device == "pdu-2");
    CHECK(view.accounting.grid.empty()); // the meter is hall-a's
    REQUIRE(view.fleet.site != nullptr);
    CHECK(view.fleet.site->devices.size() == 3);
}

TEST_CASE("an aggregator's view polls nothing and keeps the site's racks and sources", "[config]") {
    TempDir dir;
    const Config config = load_text(
        dir, fleet_site("[fleet]\nrole = \"aggregator\"\ninstance = \"agg-1\"\ndeadline = \"4s\"\n",
                        "shard = \"hall-b\"\n"));
    CHECK(config.mqtt.client_id == "greenrackd-qh-agg-1");
    CHECK(config.fleet.deadline == milliseconds(4000));
    CHECK(config.fleet.lease_ttl == milliseconds(6000));
    const Config view = greenrack::config::role_view(config);
    CHECK(view.devices.empty());
    CHECK(view.buses.empty());
    CHECK(view.racks.size() == 2);
    CHECK(view.racks[0].members.empty());
    CHECK(view.accounting.grid == std::vector<std::string>{"meter"});
}

TEST_CASE("fleet settings that cannot work are refused at their line", "[config][error]") {
    // A device without a shard in a fleet.
    require_error(
        fleet_site("[fleet]\nrole = \"shard\"\nshard = \"hall-a\"\n"),
        "24:1: device[2]: device \"pdu-2\" has no shard: with fleet.role = \"shard\" every "
        "device needs shard = \"<id>\" (the daemon that polls it)");
    require_error(
        fleet_site("[fleet]\nrole = \"shard\"\nshard = \"hall-c\"\n", "shard = \"hall-b\"\n"),
        "39:9: fleet.shard: no [[device]] has shard = \"hall-c\" (known: hall-a, "
        "hall-b)");
    require_error(fleet_site("[fleet]\nrole = \"leader\"\n", "shard = \"hall-b\"\n"),
                  "38:8: fleet.role: unknown role \"leader\" (single, shard or aggregator)");
    require_error(
        fleet_site("[mqtt]\nqos = 0\n[fleet]\nrole = \"aggregator\"\n", "shard = \"hall-b\"\n"),
        "40:8: fleet.role: a fleet shard or aggregator needs mqtt.qos = 1 or 2 (the "
        "tick parts are delivered at least once), got 0");
    require_error(
        fleet_site("[fleet]\nrole = \"aggregator\"\nlease_ttl = \"3s\"\n", "shard = \"hall-b\"\n"),
        "39:13: fleet.lease_ttl: lease_renew (2s) must be at most half of lease_ttl "
        "(3s), or one late renewal hands the site to the standby");
    require_error(fleet_site("[fleet]\nshard = \"hall-a\"\n", "shard = \"hall-b\"\n"),
                  "38:9: fleet.shard: only with role = \"shard\" (a device's shard is set in its "
                  "[[device]])");
    require_error(fleet_site("", "shard = \"Hall B\"\n"),
                  "29:9: device[2].shard: invalid id \"Hall B\": use 1 to 64 characters a-z, "
                  "0-9, '_' or '-', starting with a letter or digit");
}
