#include "drivers/profiles/profile_loader.hpp"

#include "drivers/profiles/roles.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using greenrack::common::ConfigError;
using greenrack::common::SourceLocation;
using greenrack::modbus::DataType;
using greenrack::modbus::PointKind;
using greenrack::modbus::PointSpec;
using greenrack::modbus::RegisterKind;
using greenrack::modbus::SentinelPolicy;
using greenrack::modbus::WordOrder;
using greenrack::profiles::DeviceProfile;
using greenrack::profiles::DeviceRole;
using greenrack::profiles::HolePolicy;
using greenrack::profiles::load_profile_file;
using greenrack::profiles::parse_profile;

const std::filesystem::path profile_dir = GREENRACK_SOURCE_DIR "/config/profiles";

DeviceProfile shipped(const std::string& name) {
    return load_profile_file(profile_dir / (name + ".toml"));
}

const PointSpec& point(const DeviceProfile& profile, std::string_view name) {
    auto index = profile.find(name);
    INFO("point " << name << " in " << profile.name);
    REQUIRE(index.has_value());
    return profile.points[*index];
}

// Every malformed profile below starts with these three lines (lines 1-3).
const std::string header = "[profile]\n"
                           "name = \"t\"\n"
                           "device_role = \"rack_pdu\"\n";

std::string load_error(const std::string& text, const std::string& source = "t.toml") {
    try {
        parse_profile(text, source);
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "(no error)";
}

} // namespace

// --- Shipped profiles --------------------------------------------------------------------------

TEST_CASE("every shipped profile loads and is named after its file", "[profiles][shipped]") {
    const std::set<std::string> expected{
        "rack_pdu_px3_24", "pv_sunspec_103", "wind_midnite_classic",
        "battery_generic", "meter_grid_4q",  "meter_facility_umg604",
        "meter_sdm630",    "meter_iem3xxx",  "pdu_eaton_floor_gateway",
    };
    std::set<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(profile_dir)) {
        if (entry.path().extension() != ".toml") {
            continue;
        }
        INFO(entry.path());
        const DeviceProfile profile = load_profile_file(entry.path());
        CHECK(profile.name == entry.path().stem().string());
        CHECK_FALSE(profile.points.empty());
        found.insert(profile.name);
    }
    CHECK(found == expected);
}

TEST_CASE("shipped profiles keep device roles as documented", "[profiles][shipped]") {
    CHECK(shipped("rack_pdu_px3_24").device_role == DeviceRole::rack_pdu);
    CHECK(shipped("pv_sunspec_103").device_role == DeviceRole::pv_inverter);
    CHECK(shipped("wind_midnite_classic").device_role == DeviceRole::wind_turbine);
    CHECK(shipped("battery_generic").device_role == DeviceRole::battery);
    CHECK(shipped("meter_grid_4q").device_role == DeviceRole::grid_meter);
    CHECK(shipped("meter_facility_umg604").device_role == DeviceRole::facility_meter);
}

TEST_CASE("PDU profile expands 24 outlet blocks of 6 points at 0x8000 + 0x100*(n-1)",
          "[profiles][shipped][pdu]") {
    const DeviceProfile pdu = shipped("rack_pdu_px3_24");
    // 4 identity words + 6 inlet points + 24 outlets x 6 points.
    CHECK(pdu.points.size() == 154);
    CHECK(pdu.max_index("outlet_power") == 24);
    CHECK(pdu.max_index("inlet_power") == 0);
    CHECK(pdu.holes == HolePolicy::zero);
    CHECK(pdu.max_gap == 16);

    const PointSpec& last_power = point(pdu, "outlet_24_power_w");
    CHECK(last_power.address == 0x9712);
    CHECK(last_power.type == DataType::f32);
    CHECK(last_power.order == WordOrder::abcd);
    CHECK(last_power.function == RegisterKind::holding);
    CHECK(last_power.registers == 2);
    CHECK(last_power.role == "outlet_power");
    CHECK(last_power.index == 24);
    CHECK(last_power.unit == "W");

    const PointSpec& first_voltage = point(pdu, "outlet_1_voltage_v");
    CHECK(first_voltage.address == 0x8008);
    CHECK(first_voltage.index == 1);
    CHECK(point(pdu, "outlet_1_current_a").address == 0x800A);
    CHECK(point(pdu, "outlet_2_apparent_power_va").address == 0x8114);
    CHECK(point(pdu, "outlet_3_power_factor").address == 0x8216);

    const PointSpec& energy = point(pdu, "outlet_12_energy_wh");
    CHECK(energy.address == 0x8B18);
    CHECK(energy.type == DataType::u64);
    CHECK(energy.registers == 4);
    CHECK(energy.kind == PointKind::counter);
    CHECK(energy.role == "outlet_energy");

    CHECK(point(pdu, "inlet_power_w").address == 0x3012);
    CHECK(point(pdu, "inlet_voltage_v").address == 0x3008);
    CHECK(point(pdu, "inlet_energy_wh").address == 0x3018);
    CHECK(point(pdu, "inlet_energy_wh").role == "inlet_energy");
    CHECK(point(pdu, "outlet_count").address == 3);
    CHECK(point(pdu, "outlet_count").type == DataType::u16);
    CHECK(point(pdu, "outlet_count").role.empty());

    const std::array<std::string_view, 6> outlet_roles{
        "outlet_voltage", "outlet_current",        "outlet_power",
        "outlet_energy",  "outlet_apparent_power", "outlet_power_factor"};
    for (std::string_view role : outlet_roles) {
        INFO(role);
        CHECK(pdu.max_index(role) == 24);
        CHECK(std::count_if(pdu.points.begin(), pdu.points.end(),
                            [&](const PointSpec& p) { return p.role == role; }) == 24);
    }
}

TEST_CASE("PV SunSpec profile places model 103 at 40070 with each value beside its SF",
          "[profiles][shipped][pv]") {
    const DeviceProfile pv = shipped("pv_sunspec_103");
    CHECK(pv.points.size() == 38);

    const PointSpec& power = point(pv, "ac_power_w");
    CHECK(power.address == 40084);
    CHECK(power.type == DataType::i16);
    CHECK(power.role == "ac_power");
    REQUIRE(power.scale_factor.has_value());
    CHECK(pv.points[*power.scale_factor].name == "w_sf");
    CHECK(pv.points[*power.scale_factor].address == 40085);
    CHECK(pv.points[*power.scale_factor].type == DataType::sunssf);

    const PointSpec& energy = point(pv, "ac_energy_wh");
    CHECK(energy.address == 40094);
    CHECK(energy.type == DataType::acc32);
    CHECK(energy.kind == PointKind::counter);
    CHECK(energy.role == "ac_energy");
    REQUIRE(energy.scale_factor.has_value());
    CHECK(pv.points[*energy.scale_factor].address == 40096);

    const PointSpec& phase_c_voltage = point(pv, "phase_3_voltage_v");
    CHECK(phase_c_voltage.address == 40082);
    CHECK(phase_c_voltage.index == 3);
    CHECK(phase_c_voltage.type == DataType::u16);
    REQUIRE(phase_c_voltage.scale_factor.has_value());
    CHECK(pv.points[*phase_c_voltage.scale_factor].address == 40083);
    CHECK(point(pv, "phase_1_current_a").address == 40073);

    const PointSpec& manufacturer = point(pv, "manufacturer");
    CHECK(manufacturer.address == 40004);
    CHECK(manufacturer.type == DataType::string);
    CHECK(manufacturer.registers == 16);
    CHECK(point(pv, "serial_number").address == 40052);
    CHECK(point(pv, "serial_number").role == "serial");
    CHECK(point(pv, "operating_state").address == 40108);
    CHECK(point(pv, "event_flags").type == DataType::bitfield32);

    REQUIRE(pv.constants.size() == 4);
    CHECK(pv.constants[0].address == 40000);
    CHECK(pv.constants[0].values == std::vector<std::uint16_t>{0x5375, 0x6E53});
    CHECK(pv.constants[1].address == 40002);
    CHECK(pv.constants[1].values == std::vector<std::uint16_t>{1, 66});
    CHECK(pv.constants[2].address == 40070);
    CHECK(pv.constants[2].values == std::vector<std::uint16_t>{103, 50});
    CHECK(pv.constants[3].address == 40122);
    CHECK(pv.constants[3].values == std::vector<std::uint16_t>{0xFFFF, 0});
}

TEST_CASE("wind profile uses wire = documented number - 1 and a CDAB lifetime counter",
          "[profiles][shipped][wind]") {
    const DeviceProfile wind = shipped("wind_midnite_classic");
    const PointSpec& total = point(wind, "total_energy_wh");
    CHECK(total.address == 4125);
    CHECK(total.type == DataType::u32);
    CHECK(total.order == WordOrder::cdab);
    CHECK(total.scale == 100.0);
    CHECK(total.kind == PointKind::counter);
    CHECK(total.role == "ac_energy");

    const PointSpec& battery_voltage = point(wind, "battery_voltage_v");
    CHECK(battery_voltage.address == 4114);
    CHECK(battery_voltage.type == DataType::i16);
    CHECK(battery_voltage.scale == Approx(0.1));
    CHECK(battery_voltage.sentinel.mode == SentinelPolicy::Mode::none);

    CHECK(point(wind, "output_power_w").address == 4118);
    CHECK(point(wind, "output_power_w").role == "ac_power");
    CHECK(point(wind, "energy_today_wh").address == 4117);
    CHECK(point(wind, "energy_today_wh").scale == 100.0);
    CHECK(point(wind, "input_voltage_v").type == DataType::u16);
    CHECK(point(wind, "fet_temperature_c").address == 4132);
}

TEST_CASE("battery profile splits ratings (FC03) from live values (FC04)",
          "[profiles][shipped][battery]") {
    const DeviceProfile battery = shipped("battery_generic");
    const PointSpec& soc = point(battery, "soc_pct");
    CHECK(soc.function == RegisterKind::input);
    CHECK(soc.address == 0);
    CHECK(soc.role == "soc");
    CHECK(soc.scale == Approx(0.1));

    const PointSpec& capacity = point(battery, "capacity_wh");
    CHECK(capacity.function == RegisterKind::holding);
    CHECK(capacity.address == 0);
    CHECK(capacity.type == DataType::u32);
    CHECK(capacity.role == "capacity");

    const PointSpec& power = point(battery, "ac_power_w");
    CHECK(power.type == DataType::i32);
    CHECK(power.function == RegisterKind::input);
    CHECK(power.role == "battery_power");

    CHECK(point(battery, "charge_energy_wh").type == DataType::acc64);
    CHECK(point(battery, "charge_energy_wh").registers == 4);
    CHECK(point(battery, "discharge_energy_wh").address == 12);
    CHECK(point(battery, "max_charge_power_w").function == RegisterKind::holding);
    CHECK(point(battery, "max_discharge_power_w").role == "max_discharge_power");
    CHECK(battery.holes == HolePolicy::exception);
}

TEST_CASE("grid meter profile follows SDM630 addressing with import/export extensions",
          "[profiles][shipped][meter]") {
    const DeviceProfile meter = shipped("meter_grid_4q");
    CHECK(meter.max_registers == 80);
    CHECK(meter.even_alignment);
    const PointSpec& net = point(meter, "net_power_w");
    CHECK(net.address == 0x34);
    CHECK(net.function == RegisterKind::input);
    CHECK(net.type == DataType::f32);
    CHECK(net.role == "net_power");

    const PointSpec& imported = point(meter, "import_energy_wh");
    CHECK(imported.address == 0x48);
    CHECK(imported.scale == 1000.0);
    CHECK(imported.kind == PointKind::counter);
    CHECK(point(meter, "export_energy_wh").address == 0x4A);
    CHECK(point(meter, "frequency_hz").address == 0x46);
    CHECK(point(meter, "phase_2_voltage_v").address == 0x02);
    CHECK(point(meter, "phase_3_current_a").address == 0x0A);
    CHECK(point(meter, "import_power_w").min == 0.0);
    CHECK(point(meter, "export_power_w").min == 0.0);
    CHECK(point(meter, "export_power_w").role == "export_power");
}

TEST_CASE("UMG 604 profile reads the 19000 block", "[profiles][shipped][meter]") {
    const DeviceProfile umg = shipped("meter_facility_umg604");
    const PointSpec& power = point(umg, "power_w");
    CHECK(power.address == 19026);
    CHECK(power.function == RegisterKind::holding);
    CHECK(power.type == DataType::f32);
    CHECK(power.order == WordOrder::abcd);
    CHECK(power.role == "load_power");
    CHECK(point(umg, "consumed_energy_wh").address == 19068);
    CHECK(point(umg, "consumed_energy_wh").role == "load_energy");
    CHECK(point(umg, "delivered_energy_wh").address == 19076);
    CHECK(point(umg, "frequency_hz").address == 19050);
    CHECK(point(umg, "phase_3_current_a").address == 19016);
    CHECK(point(umg, "phase_2_voltage_v").address == 19002);
    CHECK(umg.max_registers >= 122);
}

// Structural properties every shipped profile must have, whatever the device.
TEST_CASE("shipped profiles: scale factors are sunssf points of the same function",
          "[profiles][shipped]") {
    for (const auto& entry : std::filesystem::directory_iterator(profile_dir)) {
        if (entry.path().extension() != ".toml") {
            continue;
        }
        const DeviceProfile profile = load_profile_file(entry.path());
        for (const PointSpec& p : profile.points) {
            if (!p.scale_factor) {
                continue;
            }
            INFO(profile.name << ": " << p.name);
            REQUIRE(*p.scale_factor < profile.points.size());
            const PointSpec& sf = profile.points[*p.scale_factor];
            CHECK(sf.type == DataType::sunssf);
            CHECK(sf.function == p.function);
        }
    }
}

TEST_CASE("shipped profiles: energy roles are Wh counters, power roles are W",
          "[profiles][shipped]") {
    for (const auto& entry : std::filesystem::directory_iterator(profile_dir)) {
        if (entry.path().extension() != ".toml") {
            continue;
        }
        const DeviceProfile profile = load_profile_file(entry.path());
        for (const PointSpec& p : profile.points) {
            INFO(profile.name << ": " << p.name);
            if (p.role.ends_with("_energy")) {
                CHECK(p.kind == PointKind::counter);
                CHECK(p.unit == "Wh");
            }
            if (p.role.ends_with("_power") && !p.role.ends_with("apparent_power")) {
                CHECK(p.unit == "W");
            }
            if (!p.role.empty()) {
                CHECK(greenrack::profiles::is_known_point_role(p.role));
            }
        }
    }
}

// The read planner cannot split a value from its neighbours if the profile says the whole map
// fits one request; check that the meters' promise "one request" holds on paper.
TEST_CASE("meter profiles fit their points into one request", "[profiles][shipped][meter]") {
    for (const std::string name : {"meter_facility_umg604", "meter_grid_4q"}) {
        INFO(name);
        const DeviceProfile profile = shipped(name);
        std::vector<PointSpec> sorted = profile.points;
        std::sort(sorted.begin(), sorted.end(),
                  [](const PointSpec& a, const PointSpec& b) { return a.address < b.address; });
        std::uint32_t end = sorted.front().end();
        for (const PointSpec& p : sorted) {
            CHECK(p.function == sorted.front().function);
            if (p.address > end) {
                CHECK(p.address - end <= profile.max_gap);
            }
            end = std::max(end, p.end());
        }
        CHECK(end - sorted.front().address <= profile.max_registers);
    }
}

// --- Format features ---------------------------------------------------------------------------

TEST_CASE("profile defaults apply when optional keys are absent", "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "[[point]]\n"
                                                   "name = \"x\"\n"
                                                   "address = 0x10\n"
                                                   "type = \"u32\"\n",
                                          "dir/t.toml");
    CHECK(p.name == "t");
    CHECK(p.source_file == "dir/t.toml");
    CHECK(p.max_registers == 125);
    CHECK(p.max_gap == 0);
    CHECK_FALSE(p.even_alignment);
    CHECK(p.holes == HolePolicy::exception);
    REQUIRE(p.points.size() == 1);
    const PointSpec& x = p.points[0];
    CHECK(x.address == 16);
    CHECK(x.function == RegisterKind::holding);
    CHECK(x.order == WordOrder::abcd);
    CHECK(x.registers == 2);
    CHECK(x.scale == 1.0);
    CHECK(x.offset == 0.0);
    CHECK(x.kind == PointKind::gauge);
    CHECK(x.index == 0);
    CHECK_FALSE(x.min.has_value());
    CHECK_FALSE(x.scale_factor.has_value());
    CHECK(x.sentinel.mode == SentinelPolicy::Mode::type_default);
}

TEST_CASE("profile-wide default_function and default_order reach points and constants",
          "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "default_function = \"input\"\n"
                                                   "default_order = \"DCBA\"\n"
                                                   "[[point]]\n"
                                                   "name = \"a\"\n"
                                                   "address = 1\n"
                                                   "type = \"f32\"\n"
                                                   "[[point]]\n"
                                                   "name = \"b\"\n"
                                                   "address = 3\n"
                                                   "type = \"f32\"\n"
                                                   "function = \"holding\"\n"
                                                   "order = \"BADC\"\n"
                                                   "[[constant]]\n"
                                                   "address = 9\n"
                                                   "values = [7]\n",
                                          "t.toml");
    CHECK(p.points[0].function == RegisterKind::input);
    CHECK(p.points[0].order == WordOrder::dcba);
    CHECK(p.points[1].function == RegisterKind::holding);
    CHECK(p.points[1].order == WordOrder::badc);
    REQUIRE(p.constants.size() == 1);
    CHECK(p.constants[0].function == RegisterKind::input);
}

TEST_CASE("sentinel: false disables, an integer is a raw value of the point's width",
          "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "[[point]]\n"
                                                   "name = \"none\"\n"
                                                   "address = 0\n"
                                                   "type = \"u16\"\n"
                                                   "sentinel = false\n"
                                                   "[[point]]\n"
                                                   "name = \"minus\"\n"
                                                   "address = 1\n"
                                                   "type = \"i16\"\n"
                                                   "sentinel = -9999\n"
                                                   "[[point]]\n"
                                                   "name = \"wide\"\n"
                                                   "address = 2\n"
                                                   "type = \"u64\"\n"
                                                   "sentinel = -1\n"
                                                   "[[point]]\n"
                                                   "name = \"nan\"\n"
                                                   "address = 6\n"
                                                   "type = \"f32\"\n"
                                                   "sentinel = 0x7FC00000\n",
                                          "t.toml");
    CHECK(p.points[0].sentinel.mode == SentinelPolicy::Mode::none);
    CHECK(p.points[1].sentinel.mode == SentinelPolicy::Mode::custom);
    CHECK(p.points[1].sentinel.raw == 0xD8F1); // -9999 as int16
    CHECK(p.points[2].sentinel.raw == 0xFFFFFFFFFFFFFFFFULL);
    CHECK(p.points[3].sentinel.raw == 0x7FC00000);
}

TEST_CASE("group points get <prefix>_<n>_<name>, index n and address base + stride*(n-first)",
          "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "[[group]]\n"
                                                   "prefix = \"mppt\"\n"
                                                   "count = 2\n"
                                                   "first = 0\n"
                                                   "base = 100\n"
                                                   "stride = 20\n"
                                                   "  [[group.point]]\n"
                                                   "  name = \"power_w\"\n"
                                                   "  address = 3\n"
                                                   "  type = \"i16\"\n"
                                                   "  role = \"dc_power\"\n",
                                          "t.toml");
    REQUIRE(p.points.size() == 2);
    CHECK(p.points[0].name == "mppt_0_power_w");
    CHECK(p.points[0].address == 103);
    CHECK(p.points[0].index == 0);
    CHECK(p.points[1].name == "mppt_1_power_w");
    CHECK(p.points[1].address == 123);
    CHECK(p.points[1].index == 1);
    CHECK(p.points[1].role == "dc_power");
}

TEST_CASE("a group point's scale_factor prefers the SF of its own block", "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "[[point]]\n"
                                                   "name = \"sf\"\n"
                                                   "address = 0\n"
                                                   "type = \"sunssf\"\n"
                                                   "[[point]]\n"
                                                   "name = \"total\"\n"
                                                   "address = 1\n"
                                                   "type = \"u16\"\n"
                                                   "scale_factor = \"sf\"\n"
                                                   "[[group]]\n"
                                                   "prefix = \"m\"\n"
                                                   "count = 2\n"
                                                   "base = 10\n"
                                                   "stride = 10\n"
                                                   "  [[group.point]]\n"
                                                   "  name = \"v\"\n"
                                                   "  address = 0\n"
                                                   "  type = \"u16\"\n"
                                                   "  scale_factor = \"sf\"\n"
                                                   "  [[group.point]]\n"
                                                   "  name = \"sf\"\n"
                                                   "  address = 1\n"
                                                   "  type = \"sunssf\"\n"
                                                   "  [[group.point]]\n"
                                                   "  name = \"i\"\n"
                                                   "  address = 2\n"
                                                   "  type = \"u16\"\n"
                                                   "  scale_factor = \"i_sf\"\n"
                                                   "[[point]]\n"
                                                   "name = \"i_sf\"\n"
                                                   "address = 3\n"
                                                   "type = \"sunssf\"\n",
                                          "t.toml");
    auto sf_name = [&](std::string_view name) {
        const auto& q = p.points[*p.find(name)];
        REQUIRE(q.scale_factor.has_value());
        return p.points[*q.scale_factor].name;
    };
    CHECK(sf_name("total") == "sf");
    CHECK(sf_name("m_1_v") == "m_1_sf");
    CHECK(sf_name("m_2_v") == "m_2_sf");
    // No "m_1_i_sf" in the block: falls back to the profile-wide point.
    CHECK(sf_name("m_1_i") == "i_sf");
    CHECK(sf_name("m_2_i") == "i_sf");
}

TEST_CASE("constant text is packed 2 chars per register, first char high, NUL padded",
          "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "[[point]]\n"
                                                   "name = \"x\"\n"
                                                   "address = 0\n"
                                                   "type = \"u16\"\n"
                                                   "[[constant]]\n"
                                                   "address = 40000\n"
                                                   "text = \"SunS\"\n"
                                                   "length = 2\n"
                                                   "[[constant]]\n"
                                                   "function = \"input\"\n"
                                                   "address = 5\n"
                                                   "text = \"abc\"\n"
                                                   "length = 3\n",
                                          "t.toml");
    REQUIRE(p.constants.size() == 2);
    CHECK(p.constants[0].values == std::vector<std::uint16_t>{0x5375, 0x6E53});
    CHECK(p.constants[1].function == RegisterKind::input);
    CHECK(p.constants[1].values == std::vector<std::uint16_t>{0x6162, 0x6300, 0x0000});
}

TEST_CASE("overlapping points (aliases) are allowed", "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "[[point]]\n"
                                                   "name = \"as_u32\"\n"
                                                   "address = 0\n"
                                                   "type = \"u32\"\n"
                                                   "[[point]]\n"
                                                   "name = \"high_word\"\n"
                                                   "address = 0\n"
                                                   "type = \"u16\"\n",
                                          "t.toml");
    CHECK(p.points.size() == 2);
}

TEST_CASE("a point may end exactly at the last register", "[profiles][format]") {
    const DeviceProfile p = parse_profile(header + "[[point]]\n"
                                                   "name = \"x\"\n"
                                                   "address = 65534\n"
                                                   "type = \"f32\"\n",
                                          "t.toml");
    CHECK(p.points[0].end() == 65536);
}

// --- Malformed profiles: exact file:line:column: message ---------------------------------------

TEST_CASE("malformed: unknown key in a point", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "adress = 1\n"
                              "type = \"u16\"\n") ==
          "t.toml:4:1: point[0].address: required key is missing");
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 1\n"
                              "type = \"u16\"\n"
                              "scael = 2\n") ==
          "t.toml:8:9: point[0].scael: unknown key (misspelt, or not valid here)");
}

TEST_CASE("malformed: unknown key at top level and in [profile]", "[profiles][errors]") {
    CHECK(load_error(header + "[[points]]\n"
                              "name = \"x\"\n") ==
          "t.toml:4:1: points: unknown key (misspelt, or not valid here)");
    CHECK(load_error(header + "maxgap = 3\n") ==
          "t.toml:4:10: profile.maxgap: unknown key (misspelt, or not valid here)");
}

TEST_CASE("malformed: wrong value type", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = \"0x10\"\n"
                              "type = \"u16\"\n") ==
          "t.toml:6:11: point[0].address: expected an integer, got string");
    CHECK(load_error(header + "even_alignment = \"yes\"\n") ==
          "t.toml:4:18: profile.even_alignment: expected true or false, got string");
}

TEST_CASE("malformed: bad enum strings list the allowed values", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 1\n"
                              "type = \"float\"\n") ==
          "t.toml:7:8: point[0].type: unknown value \"float\" (expected one of \"u16\", \"i16\", "
          "\"u32\", \"i32\", \"u64\", \"i64\", \"f32\", \"f64\", \"string\", \"acc16\", "
          "\"acc32\", \"acc64\", \"enum16\", \"enum32\", \"bitfield16\", \"bitfield32\", "
          "\"sunssf\")");
    CHECK(load_error(header + "default_order = \"abcd\"\n") ==
          "t.toml:4:17: profile.default_order: unknown value \"abcd\" (expected one of \"ABCD\", "
          "\"CDAB\", \"BADC\", \"DCBA\")");
    CHECK(load_error(header + "holes = \"nan\"\n") ==
          "t.toml:4:9: profile.holes: unknown value \"nan\" (expected one of \"exception\", "
          "\"zero\")");
    CHECK(load_error("[profile]\nname = \"t\"\ndevice_role = \"ups\"\n") ==
          "t.toml:3:15: profile.device_role: unknown value \"ups\" (expected one of "
          "\"rack_pdu\", \"pv_inverter\", \"wind_turbine\", \"battery\", \"grid_meter\", "
          "\"facility_meter\")");
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 1\n"
                              "type = \"u16\"\n"
                              "function = \"coil\"\n") ==
          "t.toml:8:12: point[0].function: unknown value \"coil\" (expected one of \"holding\", "
          "\"input\")");
}

TEST_CASE("malformed: duplicate point names, also after group expansion", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 1\n"
                              "type = \"u16\"\n"
                              "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 2\n"
                              "type = \"u16\"\n") ==
          "t.toml:9:8: point[1].name: duplicate point name \"x\" (first defined at line 5)");
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"outlet_2_power_w\"\n"
                              "address = 1\n"
                              "type = \"u16\"\n"
                              "[[group]]\n"
                              "prefix = \"outlet\"\n"
                              "count = 3\n"
                              "base = 100\n"
                              "stride = 10\n"
                              "[[group.point]]\n"
                              "name = \"power_w\"\n"
                              "address = 0\n"
                              "type = \"u16\"\n") ==
          "t.toml:14:8: group[0].point[0].name: duplicate point name \"outlet_2_power_w\" (first "
          "defined at line 5)");
}

TEST_CASE("malformed: profile name differs from the file stem", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\nname = \"x\"\naddress = 1\ntype = \"u16\"\n",
                     "profiles/other.toml") ==
          "profiles/other.toml:2:8: profile.name: \"t\" must equal the file stem \"other\"");
}

TEST_CASE("malformed: unknown role", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 1\n"
                              "type = \"u16\"\n"
                              "role = \"solar_power\"\n") ==
          "t.toml:8:8: point[0].role: unknown role \"solar_power\" (the vocabulary is listed in "
          "config/profiles/README.md)");
}

TEST_CASE("malformed: string without length, length on a non-string", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"sn\"\n"
                              "address = 1\n"
                              "type = \"string\"\n") ==
          "t.toml:4:1: point[0].length: required for type \"string\" (number of registers)");
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 1\n"
                              "type = \"u32\"\n"
                              "length = 2\n") ==
          "t.toml:8:10: point[0].length: only valid for type \"string\" (a \"u32\" occupies 2 "
          "registers)");
}

TEST_CASE("malformed: scale_factor naming a missing, non-sunssf or other-function point",
          "[profiles][errors]") {
    const std::string value = "[[point]]\n"
                              "name = \"w\"\n"
                              "address = 1\n"
                              "type = \"i16\"\n"
                              "scale_factor = \"w_sf\"\n"; // lines 4-8
    CHECK(load_error(header + value) ==
          "t.toml:8:16: point[0].scale_factor: no point named \"w_sf\" in this profile");
    CHECK(
        load_error(header + value + "[[point]]\nname = \"w_sf\"\naddress = 2\ntype = \"i16\"\n") ==
        "t.toml:8:16: point[0].scale_factor: point \"w_sf\" has type \"i16\"; a scale factor "
        "must have type \"sunssf\"");
    CHECK(load_error(header + value +
                     "[[point]]\nname = \"w_sf\"\naddress = 2\ntype = \"sunssf\"\n"
                     "function = \"input\"\n") ==
          "t.toml:8:16: point[0].scale_factor: scale factor \"w_sf\" is read from input registers "
          "but \"w\" from holding registers; both must use the same function");
    CHECK(load_error(header + "[[group]]\nprefix = \"m\"\ncount = 1\nbase = 0\nstride = 1\n"
                              "[[group.point]]\nname = \"v\"\naddress = 0\ntype = \"u16\"\n"
                              "scale_factor = \"sf\"\n") ==
          "t.toml:13:16: group[0].point[0].scale_factor: no point named \"m_1_sf\" or \"sf\" in "
          "this profile");
}

TEST_CASE("malformed: sentinel = true, or a sentinel that does not fit", "[profiles][errors]") {
    const std::string point = "[[point]]\nname = \"x\"\naddress = 1\ntype = \"u16\"\n";
    CHECK(load_error(header + point + "sentinel = true\n") ==
          "t.toml:8:12: point[0].sentinel: true is meaningless: use false (no sentinel), an "
          "integer (the raw \"not available\" value) or leave it out (the type's default)");
    CHECK(load_error(header + point + "sentinel = 70000\n") ==
          "t.toml:8:12: point[0].sentinel: 70000 does not fit in 16 bits (allowed "
          "-32768..65535)");
    CHECK(load_error(header + point + "sentinel = \"none\"\n") ==
          "t.toml:8:12: point[0].sentinel: expected false or an integer, got string");
}

TEST_CASE("malformed: address out of range or point past register 65535", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\nname = \"x\"\naddress = 65536\ntype = \"u16\"\n") ==
          "t.toml:6:11: point[0].address: must be between 0 and 65535, got 65536");
    CHECK(load_error(header + "[[point]]\nname = \"x\"\naddress = 65535\ntype = \"f32\"\n") ==
          "t.toml:6:11: point[0].address: \"x\" needs registers 65535..65536, past the last "
          "register address (65535)");
    CHECK(load_error(header + "[[group]]\nprefix = \"o\"\ncount = 3\nbase = 0xFE00\n"
                              "stride = 0x100\n"
                              "[[group.point]]\nname = \"e\"\naddress = 0xFE\ntype = \"u64\"\n") ==
          "t.toml:11:11: group[0].point[0].address: \"o_2_e\" needs registers 65534..65537, "
          "past the last register address (65535)");
}

TEST_CASE("malformed: min greater than max", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\n"
                              "name = \"x\"\n"
                              "address = 1\n"
                              "type = \"u16\"\n"
                              "min = 20\n"
                              "max = 10.5\n") ==
          "t.toml:9:7: point[0].max: 10.5 is less than min (20)");
}

TEST_CASE("malformed: max_registers outside 1..125", "[profiles][errors]") {
    CHECK(load_error(header + "max_registers = 0\n") ==
          "t.toml:4:17: profile.max_registers: must be between 1 and 125, got 0");
    CHECK(load_error(header + "max_registers = 126\n") ==
          "t.toml:4:17: profile.max_registers: must be between 1 and 125, got 126");
}

TEST_CASE("malformed: profile without points", "[profiles][errors]") {
    CHECK(load_error(header + "[[constant]]\naddress = 0\nvalues = [1]\n") ==
          "t.toml:1:1: profile: defines no points (add [[point]] or [[group]] tables)");
    CHECK(load_error("[[point]]\nname = \"x\"\naddress = 1\ntype = \"u16\"\n") ==
          "t.toml:1:1: profile: required table is missing");
}

TEST_CASE("malformed: invalid names, zero scale, missing type", "[profiles][errors]") {
    CHECK(load_error(header + "[[point]]\nname = \"Power\"\naddress = 1\ntype = \"u16\"\n") ==
          "t.toml:5:8: point[0].name: \"Power\" is not a valid point name (lower-case letters, "
          "digits and '_' only)");
    CHECK(
        load_error(header + "[[point]]\nname = \"x\"\naddress = 1\ntype = \"u16\"\nscale = 0\n") ==
        "t.toml:8:9: point[0].scale: must not be 0 (use -1 to flip a sign convention)");
    CHECK(load_error(header + "[[point]]\nname = \"x\"\naddress = 1\n") ==
          "t.toml:4:1: point[0].type: required key is missing");
}

TEST_CASE("malformed: constants", "[profiles][errors]") {
    const std::string point = "[[point]]\nname = \"x\"\naddress = 1\ntype = \"u16\"\n"; // 4-7
    CHECK(load_error(header + point + "[[constant]]\naddress = 0\nvalues = [1, 0x10000]\n") ==
          "t.toml:10:14: constant[0].values[1]: must be between 0 and 65535, got 65536");
    CHECK(load_error(header + point +
                     "[[constant]]\naddress = 0\ntext = \"SunSpec\"\n"
                     "length = 2\n") ==
          "t.toml:10:8: constant[0].text: \"SunSpec\" has 7 bytes, more than length 2 "
          "registers hold (4)");
    CHECK(load_error(header + point + "[[constant]]\naddress = 0\n") ==
          "t.toml:8:1: constant[0]: needs values = [...] or text = \"...\" with length");
}

TEST_CASE("malformed: TOML syntax errors keep the parser's location", "[profiles][errors]") {
    const std::string message = load_error(header + "[[point]]\nname = \"x\n");
    CHECK(message.rfind("t.toml:5:", 0) == 0);
    CHECK(message.find("TOML syntax error") != std::string::npos);
}

// --- find_profile --------------------------------------------------------------------------------

TEST_CASE("find_profile takes the first directory that has <name>.toml", "[profiles][find]") {
    const std::vector<std::filesystem::path> dirs{GREENRACK_FIXTURES_DIR "/profiles/none",
                                                  profile_dir};
    const SourceLocation where{"greenrack.toml", 12, 11};
    auto profile = greenrack::profiles::find_profile("meter_grid_4q", dirs, where);
    REQUIRE(profile != nullptr);
    CHECK(profile->name == "meter_grid_4q");
    CHECK(profile->source_file == (profile_dir / "meter_grid_4q.toml").string());
}

TEST_CASE("find_profile reports the directories searched at the caller's location",
          "[profiles][find]") {
    const std::vector<std::filesystem::path> dirs{"/nonexistent/a", "rel/b"};
    const SourceLocation where{"greenrack.toml", 12, 11};
    try {
        greenrack::profiles::find_profile("nope", dirs, where);
        FAIL("expected ConfigError");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) ==
              "greenrack.toml:12:11: device profile \"nope\" not found (searched: "
              "/nonexistent/a, rel/b)");
    }
    try {
        greenrack::profiles::find_profile("../etc/passwd", dirs, where);
        FAIL("expected ConfigError");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) ==
              "greenrack.toml:12:11: invalid profile name \"../etc/passwd\" (lower-case "
              "letters, digits and '_' only)");
    }
}
