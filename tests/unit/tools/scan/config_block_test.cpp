#include "tools/scan/config_block.hpp"

#include "daemon/config/config.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace greenrack;

namespace {

scan::FoundDevice found(int unit, const char* profile, profiles::DeviceRole role) {
    scan::FoundDevice device;
    device.unit_id = unit;
    device.profile = profile;
    device.role = role;
    device.evidence = std::string(profile) + ": 8 points plausible";
    return device;
}

} // namespace

TEST_CASE("scan: the printed config block names the bus and one device per matched unit, and "
          "greenrackd loads it as it is",
          "[scan]") {
    std::vector<scan::FoundDevice> devices{
        found(1, "pv_sunspec_103", profiles::DeviceRole::pv_inverter),
        found(30, "meter_grid_4q", profiles::DeviceRole::grid_meter)};
    sunspec::Discovery map;
    map.base = 40000;
    map.models = {{1, 40002, 66}, {103, 40070, 50}};
    map.identity = sunspec::DeviceIdentity{"Qinghai Solar", "QS-60K", "", "2.4.1", "SN\n1", {}};
    devices[0].sunspec = map;
    scan::FoundDevice unknown;
    unknown.unit_id = 7;
    devices.push_back(unknown);

    const std::string block =
        scan::render_config(modbus::TcpEndpoint{"10.0.0.5", 1502}, "hall-a", devices);
    CHECK(block.find("[[bus]]\nid = \"hall-a\"\nhost = \"10.0.0.5\"\nport = 1502\n") !=
          std::string::npos);
    CHECK(block.find("# SunSpec at 40000, models 1, 103: Qinghai Solar QS-60K version 2.4.1 "
                     "serial SN 1\n") != std::string::npos); // no line break from the device
    // A SunSpec device is configured for discovery, with the role of the profile that matched.
    CHECK(block.find("# also matches the shipped profile pv_sunspec_103 (pv_sunspec_103: 8 points "
                     "plausible)\n# role: pv_inverter or wind_turbine") != std::string::npos);
    CHECK(block.find("id = \"pv-inverter-u1\"\nbus = \"hall-a\"\nunit_id = 1\nprofile = "
                     "\"sunspec\"\nrole = \"pv_inverter\"\n") != std::string::npos);
    CHECK(block.find("id = \"grid-meter-u30\"") != std::string::npos);
    CHECK(block.find("# unit 7 answered but matches no shipped profile") != std::string::npos);

    // Pasted under a [site] table, it is a valid configuration.
    const auto path = std::filesystem::temp_directory_path() /
                      ("greenrack-scan-block-" + std::to_string(getpid()) + ".toml");
    std::ofstream(path) << "[site]\nid = \"scan\"\n[daemon]\nstate_directory = \"state\"\n"
                        << "profile_dirs = [\"" << GREENRACK_SOURCE_DIR << "/config/profiles\"]\n"
                        << block;
    const config::Config config = config::load_config(path);
    std::filesystem::remove(path);
    REQUIRE(config.devices.size() == 2);
    CHECK(config.devices[0].id == "pv-inverter-u1");
    CHECK(config.devices[0].profile->discovered);
    CHECK(config.devices[1].unit_id == 30);
    CHECK(config.buses.at(0).port == 1502);
}

TEST_CASE("scan: a serial bus is printed as an rtu bus with its line settings", "[scan]") {
    const std::string block = scan::render_config(
        modbus::RtuEndpoint{"/dev/ttyUSB0", 9600, 'E', 8, 1, false}, "rs485-1", {});
    CHECK(block.find("type = \"rtu\"\ndevice = \"/dev/ttyUSB0\"\nbaud = 9600\nparity = \"E\"\n"
                     "data_bits = 8\nstop_bits = 1\n") != std::string::npos);
}

TEST_CASE("scan: a SunSpec device's role comes from its models when no shipped profile matched",
          "[scan]") {
    using profiles::DeviceRole;
    sunspec::Discovery meter;
    meter.models = {{1, 40002, 66}, {203, 40070, 105}};
    CHECK(scan::sunspec_role(meter, std::nullopt) == DeviceRole::grid_meter);
    // A hint the chain can serve wins; one it cannot is ignored.
    CHECK(scan::sunspec_role(meter, DeviceRole::facility_meter) == DeviceRole::facility_meter);
    CHECK(scan::sunspec_role(meter, DeviceRole::pv_inverter) == DeviceRole::grid_meter);

    sunspec::Discovery hybrid;
    hybrid.models = {{1, 40002, 66}, {701, 40070, 153}, {713, 40225, 7}, {802, 40234, 62}};
    CHECK(scan::sunspec_role(hybrid, std::nullopt) == DeviceRole::battery);

    sunspec::Discovery inverter;
    inverter.models = {{1, 40002, 66}, {113, 40070, 60}};
    CHECK(scan::sunspec_role(inverter, std::nullopt) == DeviceRole::pv_inverter);
    CHECK(scan::sunspec_role(inverter, DeviceRole::wind_turbine) == DeviceRole::wind_turbine);

    sunspec::Discovery common_only;
    common_only.models = {{1, 40002, 66}};
    CHECK_FALSE(scan::sunspec_role(common_only, std::nullopt));

    scan::FoundDevice device;
    device.unit_id = 4;
    device.sunspec = meter;
    const std::string block =
        scan::render_config(modbus::TcpEndpoint{"10.0.0.5", 502}, "m", {device});
    CHECK(block.find("# role: grid_meter or facility_meter (what the meter measures); set "
                     "invert_power = true if it reads import as negative\n[[device]]\nid = "
                     "\"grid-meter-u4\"\nbus = \"m\"\nunit_id = 4\nprofile = \"sunspec\"\nrole = "
                     "\"grid_meter\"\n") != std::string::npos);
}
