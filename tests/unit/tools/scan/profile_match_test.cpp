#include "tools/scan/profile_match.hpp"

#include "drivers/modbus/codec.hpp"
#include "drivers/modbus/transport.hpp"
#include "drivers/profiles/profile_loader.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace greenrack;
using modbus::RegisterKind;

namespace {

// A three-phase meter: voltage (float32, plausible 0..600 V) and power.
const char* meter_toml = R"(
[profile]
name = "test_meter_scan"
device_role = "grid_meter"
default_function = "holding"
[[point]]
name = "phase_1_voltage_v"
address = 0
type = "f32"
unit = "V"
min = 0
max = 600
[[point]]
name = "net_power_w"
address = 2
type = "f32"
unit = "W"
role = "net_power"
min = -1e6
max = 1e6
)";

// Registers of a fake device; unmapped addresses answer exception 02.
struct FakeDevice {
    std::map<std::uint16_t, std::uint16_t> holding;
    int reads = 0;

    scan::RegisterReader reader() {
        return [this](RegisterKind kind, std::uint16_t start, std::span<std::uint16_t> out) {
            ++reads;
            for (std::size_t i = 0; i < out.size(); ++i) {
                auto it = holding.find(static_cast<std::uint16_t>(start + i));
                if (kind != RegisterKind::holding || it == holding.end()) {
                    return modbus::make_error_code(modbus::ModbusErrc::illegal_data_address);
                }
                out[i] = it->second;
            }
            return std::error_code();
        };
    }
    void set_float(std::uint16_t address, double value) {
        std::uint16_t regs[2];
        modbus::encode_raw(value, modbus::DataType::f32, modbus::WordOrder::abcd, regs);
        holding[address] = regs[0];
        holding[address + 1] = regs[1];
    }
};

modbus::ReadPlan plan_of(const profiles::DeviceProfile& profile) {
    return std::get<modbus::ReadPlan>(modbus::plan_reads(profile.points, {}));
}

} // namespace

TEST_CASE("scan: a meter showing a mains voltage and a plausible power matches its profile",
          "[scan]") {
    const auto profile = profiles::parse_profile(meter_toml, "test_meter_scan.toml");
    FakeDevice device;
    device.set_float(0, 231.4);
    device.set_float(2, -1520.0);
    const auto reading = scan::read_profile(profile, plan_of(profile), device.reader());
    CHECK(reading.requests_ok == 1);
    CHECK(reading.values[0].value == Approx(231.4));
    const auto match = scan::judge(profile, reading);
    CHECK(match.matches);
    CHECK(match.score == 2 + 5);
    CHECK(match.reason == "2 points plausible, 1 mains voltages");
}

TEST_CASE("scan: a device whose voltage is not a mains voltage, or out of range, does not match",
          "[scan]") {
    const auto profile = profiles::parse_profile(meter_toml, "test_meter_scan.toml");
    FakeDevice device;
    device.set_float(2, 100.0);
    SECTION("zeros where the voltage should be") {
        device.set_float(0, 0.0);
        const auto match =
            scan::judge(profile, scan::read_profile(profile, plan_of(profile), device.reader()));
        CHECK_FALSE(match.matches);
        CHECK(match.reason == "no voltage near a mains voltage");
    }
    SECTION("a value beyond the plausible range (another device's map)") {
        device.set_float(0, 9000.0);
        const auto match =
            scan::judge(profile, scan::read_profile(profile, plan_of(profile), device.reader()));
        CHECK_FALSE(match.matches);
        CHECK(match.reason.find("phase_1_voltage_v") == 0);
        CHECK(match.reason.find("outside its plausible range") != std::string::npos);
    }
}

TEST_CASE("scan: a device that refuses the profile's registers does not match, and the first "
          "failure ends the attempt",
          "[scan]") {
    auto profile = profiles::parse_profile(meter_toml, "test_meter_scan.toml");
    modbus::PlanOptions options;
    options.max_registers = 2; // one request per point
    const auto plan = std::get<modbus::ReadPlan>(modbus::plan_reads(profile.points, options));
    REQUIRE(plan.requests.size() == 2);
    FakeDevice device; // nothing mapped
    const auto reading = scan::read_profile(profile, plan, device.reader());
    CHECK(device.reads == 1);
    CHECK(reading.requests_failed == 1);
    CHECK(reading.requests_skipped == 1);
    const auto match = scan::judge(profile, reading);
    CHECK_FALSE(match.matches);
    CHECK(match.reason ==
          "1 of 1 requests tried failed (exception 02: illegal data address), 1 not tried");
}

TEST_CASE("scan: a DC device (battery, wind controller) is not asked for a mains voltage",
          "[scan]") {
    std::string toml = meter_toml;
    toml.replace(toml.find("grid_meter"), 10, "battery");
    toml.replace(toml.find("role = \"net_power\""), 18, "");
    const auto profile = profiles::parse_profile(toml, "test_meter_scan.toml");
    FakeDevice device;
    device.set_float(0, 52.1); // a 48 V battery bank
    device.set_float(2, 800.0);
    const auto match =
        scan::judge(profile, scan::read_profile(profile, plan_of(profile), device.reader()));
    CHECK(match.matches);
    CHECK(match.reason == "2 points plausible");
}
