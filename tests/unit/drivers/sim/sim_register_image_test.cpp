#include "drivers/sim/register_image.hpp"
#include "drivers/sim/scale_factors.hpp"

#include "drivers/modbus/codec.hpp"
#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace greenrack;
using namespace greenrack::sim;
using greenrack::sim::test::test_profile;
using modbus::RegisterKind;

namespace {

const modbus::PointSpec& point(const RegisterImage& image, std::string_view name) {
    auto index = image.profile().find(name);
    REQUIRE(index.has_value());
    return image.profile().points[*index];
}

// What a client decodes from the served registers (value and SF read together).
modbus::PointValue served(const RegisterImage& image, std::string_view name) {
    const auto& p = point(image, name);
    std::optional<std::uint16_t> sf;
    if (p.scale_factor) {
        sf = image.point_registers(image.profile().points[*p.scale_factor])[0];
    }
    return modbus::decode_point(p, image.point_registers(p), sf);
}

int served_sf(const RegisterImage& image, std::string_view sf_name) {
    return static_cast<std::int16_t>(image.point_registers(point(image, sf_name))[0]);
}

} // namespace

TEST_CASE("read quantity 0 or above 125 is exception 03") {
    const RegisterImage image(test_profile("test_pdu"));
    REQUIRE(image.read(RegisterKind::holding, 0x10, 0).exception ==
            ModbusException::illegal_data_value);
    REQUIRE(image.read(RegisterKind::holding, 0x10, 126).exception ==
            ModbusException::illegal_data_value);
    REQUIRE(image.read(RegisterKind::holding, 0x10, 125).exception == ModbusException::none);
}

TEST_CASE("holes = zero: unmapped registers between mapped ones read 0, outside is 02") {
    const RegisterImage image(test_profile("test_pdu"));
    // 0x10..0x17 inlet, 0x100..0x137 outlets. 0x18..0xFF are holes inside the map.
    auto hole = image.read(RegisterKind::holding, 0x18, 8);
    REQUIRE(hole.exception == ModbusException::none);
    REQUIRE(hole.registers.size() == 8);
    for (auto reg : hole.registers) {
        REQUIRE(reg == 0);
    }
    REQUIRE(image.read(RegisterKind::holding, 0x0F, 2).exception ==
            ModbusException::illegal_data_address);
    REQUIRE(image.read(RegisterKind::holding, 0x137, 2).exception ==
            ModbusException::illegal_data_address);
    REQUIRE(image.read(RegisterKind::holding, 0x136, 2).exception == ModbusException::none);
    // No input registers at all in this profile.
    REQUIRE(image.read(RegisterKind::input, 0x10, 1).exception ==
            ModbusException::illegal_data_address);
}

TEST_CASE("holes = exception: any read touching an unmapped register is 02") {
    const RegisterImage image(test_profile("test_pv"));
    // 40000..40015 are points/constants, 40015 is a hole, 40016..40017 the end model.
    REQUIRE(image.read(RegisterKind::holding, 40000, 15).exception == ModbusException::none);
    REQUIRE(image.read(RegisterKind::holding, 40000, 16).exception ==
            ModbusException::illegal_data_address);
    REQUIRE(image.read(RegisterKind::holding, 40015, 1).exception ==
            ModbusException::illegal_data_address);
    REQUIRE(image.read(RegisterKind::holding, 40016, 2).exception == ModbusException::none);
    REQUIRE(image.read(RegisterKind::holding, 40018, 1).exception ==
            ModbusException::illegal_data_address);
}

TEST_CASE("a read longer than the profile's max_registers is exception 03, even inside the map") {
    const RegisterImage image(test_profile("test_pairs"));
    REQUIRE(image.profile().max_registers == 80);
    // 0..99 is all mapped (holes = zero), so only the device's own limit refuses these.
    REQUIRE(image.read(RegisterKind::input, 0, 100).exception ==
            ModbusException::illegal_data_value);
    REQUIRE(image.read(RegisterKind::input, 0, 82).exception ==
            ModbusException::illegal_data_value);
    const auto whole = image.read(RegisterKind::input, 0, 80);
    REQUIRE(whole.exception == ModbusException::none);
    REQUIRE(whole.registers.size() == 80);
    REQUIRE(image.read(RegisterKind::input, 20, 80).exception == ModbusException::none);
    // The limit is checked before the map: a long read past the map's end is still 03.
    REQUIRE(image.read(RegisterKind::input, 60, 90).exception ==
            ModbusException::illegal_data_value);
    // Profiles without a limit of their own accept the protocol's 125.
    const RegisterImage pdu(test_profile("test_pdu"));
    REQUIRE(pdu.profile().max_registers == 125);
    REQUIRE(pdu.read(RegisterKind::holding, 0x10, 125).exception == ModbusException::none);
}

TEST_CASE("even_alignment: an odd start address is exception 02, an odd count 03") {
    const RegisterImage image(test_profile("test_pairs"));
    REQUIRE(image.profile().even_alignment);
    REQUIRE(image.read(RegisterKind::input, 1, 2).exception ==
            ModbusException::illegal_data_address);
    REQUIRE(image.read(RegisterKind::input, 0x35, 2).exception ==
            ModbusException::illegal_data_address);
    REQUIRE(image.read(RegisterKind::input, 0x34, 1).exception ==
            ModbusException::illegal_data_value);
    REQUIRE(image.read(RegisterKind::input, 0x34, 3).exception ==
            ModbusException::illegal_data_value);
    // An odd start with an odd count: the address is judged first.
    REQUIRE(image.read(RegisterKind::input, 0x35, 1).exception ==
            ModbusException::illegal_data_address);
    // Too long and odd: the length is judged first.
    REQUIRE(image.read(RegisterKind::input, 1, 81).exception ==
            ModbusException::illegal_data_value);
    const auto pair = image.read(RegisterKind::input, 0x34, 2);
    REQUIRE(pair.exception == ModbusException::none);
    REQUIRE(pair.registers.size() == 2);
    // The same registers without the quirk: odd starts and counts are answered.
    const RegisterImage grid(test_profile("test_grid"));
    REQUIRE_FALSE(grid.profile().even_alignment);
    REQUIRE(grid.read(RegisterKind::input, 1, 3).exception == ModbusException::none);
    REQUIRE(grid.read(RegisterKind::input, 3, 1).exception == ModbusException::none);
}

TEST_CASE("constant blocks are served verbatim") {
    const RegisterImage image(test_profile("test_pv"));
    auto head = image.read(RegisterKind::holding, 40000, 4);
    REQUIRE(head.exception == ModbusException::none);
    REQUIRE(head.registers[0] == 0x5375); // "Su"
    REQUIRE(head.registers[1] == 0x6E53); // "nS"
    REQUIRE(head.registers[2] == 103);
    REQUIRE(head.registers[3] == 12);
    auto end = image.read(RegisterKind::holding, 40016, 2);
    REQUIRE(end.registers[0] == 0xFFFF);
    REQUIRE(end.registers[1] == 0);
}

TEST_CASE("points serve the physics readings by role and index") {
    RegisterImage image(test_profile("test_pdu"));
    DeviceReadings r;
    r.set("inlet_power", 1234.5);
    r.set("inlet_energy", 98765.4);
    r.set("outlet_power", 300.25, 3);
    image.update(r);
    REQUIRE(served(image, "inlet_power_w").value == Approx(1234.5));
    REQUIRE(served(image, "inlet_energy_wh").value == 98765.0); // u64 Wh, rounded
    REQUIRE(served(image, "outlet_3_power_w").value == Approx(300.25));
    REQUIRE(served(image, "outlet_1_power_w").value == 0.0);
}

TEST_CASE("indexed points without their own reading share the device total") {
    // A profile whose three phase currents have role "current" with index 1..3.
    auto profile = std::make_shared<const profiles::DeviceProfile>(profiles::parse_profile(
        R"(
[profile]
name = "phases"
device_role = "grid_meter"
[[point]]
name = "current_a"
address = 0
type = "f32"
unit = "A"
role = "current"
[[point]]
name = "frequency_hz"
address = 8
type = "f32"
unit = "Hz"
[[group]]
prefix = "phase"
count = 3
base = 2
stride = 2
  [[group.point]]
  name = "current_a"
  address = 0
  type = "f32"
  unit = "A"
  role = "current"
)",
        "phases.toml"));
    RegisterImage image(profile);
    DeviceReadings r;
    r.set("current", 90.0);
    image.update(r);
    REQUIRE(served(image, "current_a").value == 90.0);
    REQUIRE(served(image, "phase_2_current_a").value == 30.0);
    // Role-less frequency point: the plausible default (50 Hz without a frequency reading).
    REQUIRE(served(image, "frequency_hz").value == 50.0);
}

TEST_CASE("SunSpec scale factor is the smallest exponent at which the value fits") {
    RegisterImage image(test_profile("test_pv"));
    DeviceReadings r;
    r.set("ac_power", 3.2); // dawn: 3.2 W fits an i16 as 32000 x 10^-4
    image.update(r);
    REQUIRE(served_sf(image, "w_sf") == -4);
    REQUIRE(served(image, "ac_power_w").value == Approx(3.2));

    r.set("ac_power", 60000.0); // noon: 60 kW needs 6000 x 10^1
    image.update(r);
    REQUIRE(served_sf(image, "w_sf") == 1);
    REQUIRE(served(image, "ac_power_w").value == Approx(60000.0));

    r.set("ac_power", 32767.0); // exactly the i16 maximum at 10^0
    image.update(r);
    REQUIRE(served_sf(image, "w_sf") == 0);
    r.set("ac_power", 32767.4);
    image.update(r);
    REQUIRE(served_sf(image, "w_sf") == 0); // rounds to 32767
    r.set("ac_power", 32767.6);
    image.update(r);
    REQUIRE(served_sf(image, "w_sf") == 1); // would round onto 32768
}

TEST_CASE("scale factor choice fits every point sharing it, sentinels excluded") {
    modbus::PointSpec a;
    a.type = modbus::DataType::i16;
    modbus::PointSpec b;
    b.type = modbus::DataType::u16;
    const std::vector<ScaledValue> values = {{&a, 5.0}, {&b, 650.0}};
    // 5.0 alone would take 10^-3 (5000); 650 in u16 needs 10^-2 (65000 <= 65534).
    REQUIRE(choose_scale_factor(values) == -2);
    REQUIRE(raw_fits(modbus::DataType::u16, 65534.0));
    REQUIRE_FALSE(raw_fits(modbus::DataType::u16, 65535.0));  // 0xFFFF = not implemented
    REQUIRE_FALSE(raw_fits(modbus::DataType::i16, -32768.0)); // 0x8000 = not implemented
    REQUIRE(raw_fits(modbus::DataType::acc32, 4294967295.0));
}

TEST_CASE("unimplemented points serve their type's sentinel and decode as missing") {
    RegisterImage image(test_profile("test_pv"), {"ac_power_w", "manufacturer", "wh_sf"});
    DeviceReadings r;
    r.set("ac_power", 1000.0);
    r.set("ac_energy", 5000.0);
    r.set_text("manufacturer", "ACME");
    image.update(r);
    REQUIRE(image.point_registers(point(image, "ac_power_w"))[0] == 0x8000);
    REQUIRE(served(image, "ac_power_w").quality == modbus::Quality::missing);
    REQUIRE(served(image, "manufacturer").quality == modbus::Quality::missing);
    // An unimplemented scale factor makes the points it scales missing too.
    REQUIRE(image.point_registers(point(image, "wh_sf"))[0] == 0x8000);
    REQUIRE(served(image, "ac_energy_wh").quality == modbus::Quality::missing);
}

TEST_CASE("identity strings and enum status are served") {
    RegisterImage image(test_profile("test_pv"));
    DeviceReadings r;
    r.set_text("manufacturer", "ACME Solar"); // 10 characters into 4 registers: truncated
    r.set("status", 4.0);
    image.update(r);
    REQUIRE(served(image, "manufacturer").text == "ACME Sol");
    REQUIRE(served(image, "operating_state").value == 4.0);
}

TEST_CASE("fixed values by point name override physics and defaults") {
    RegisterImage image(test_profile("test_pv"), {}, {{"frequency_hz", 49.5}, {"w_sf", -1.0}});
    DeviceReadings r;
    r.set("frequency", 50.02);
    r.set("ac_power", 1500.0);
    image.update(r);
    REQUIRE(served(image, "frequency_hz").value == Approx(49.5));
    REQUIRE(served_sf(image, "w_sf") == -1); // a static scale factor
    REQUIRE(served(image, "ac_power_w").value == Approx(1500.0));
}

TEST_CASE("integer counters without a scale factor wrap like the real register") {
    auto profile = std::make_shared<const profiles::DeviceProfile>(profiles::parse_profile(
        R"(
[profile]
name = "wrap"
device_role = "wind_turbine"
[[point]]
name = "energy_wh"
address = 0
type = "u16"
unit = "Wh"
kind = "counter"
role = "ac_energy"
)",
        "wrap.toml"));
    RegisterImage image(profile);
    DeviceReadings r;
    r.set("ac_energy", 65536.0 + 10.0);
    image.update(r);
    REQUIRE(image.point_registers(point(image, "energy_wh"))[0] == 10);
}

TEST_CASE("value and scale factor come from the same update") {
    RegisterImage image(test_profile("test_pv"));
    DeviceReadings r;
    for (double w : {0.5, 50.0, 5000.0, 25000.0, 59000.0, 12.0}) {
        r.set("ac_power", w);
        image.update(r);
        // One read covering value and SF decodes to the value, whatever the SF is now.
        auto regs = image.read(RegisterKind::holding, 40008, 2);
        REQUIRE(regs.exception == ModbusException::none);
        const auto& p = point(image, "ac_power_w");
        const auto decoded =
            modbus::decode_point(p, regs.registers.subspan(0, 1), regs.registers[1]);
        REQUIRE(decoded.value == Approx(w));
    }
}
