// Register dumps of real devices, decoded through the shipped profiles.
//
// Each dump is what a device serves: address -> 16-bit register, for the one function its
// measurements are read with, written by hand from the documented encodings
// (device-register-maps.md) so that the test does not depend on the codec's own encoder. The
// dump is read the way the daemon reads a device: the profile loader, the read planner with the
// profile's request limits, one answer per request, each point decoded by the codec from its
// request's registers. A request fails like on the device: when it uses the wrong function, or
// touches a register the device does not have (holes = "exception": any register outside the
// dump; holes = "zero": any register outside the dump's lowest..highest address).

#include "drivers/modbus/codec.hpp"
#include "drivers/modbus/read_planner.hpp"
#include "drivers/profiles/profile_loader.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using greenrack::modbus::decode_point;
using greenrack::modbus::plan_reads;
using greenrack::modbus::PlanError;
using greenrack::modbus::PlanOptions;
using greenrack::modbus::PointSpec;
using greenrack::modbus::PointValue;
using greenrack::modbus::Quality;
using greenrack::modbus::ReadPlan;
using greenrack::modbus::ReadRequest;
using greenrack::modbus::RegisterKind;
using greenrack::modbus::WordOrder;
using greenrack::profiles::DeviceProfile;
using greenrack::profiles::DeviceRole;
using greenrack::profiles::HolePolicy;
using greenrack::profiles::load_profile_file;

const std::filesystem::path profile_dir = GREENRACK_SOURCE_DIR "/config/profiles";

DeviceProfile shipped(const std::string& name) {
    return load_profile_file(profile_dir / (name + ".toml"));
}

// The registers one device serves in one register table.
struct Dump {
    RegisterKind function = RegisterKind::holding;
    std::map<std::uint16_t, std::uint16_t> registers;

    // Consecutive registers from `address`.
    Dump& put(std::uint16_t address, std::initializer_list<std::uint16_t> values) {
        for (const std::uint16_t value : values) {
            registers[address++] = value;
        }
        return *this;
    }

    // ASCII text, 2 characters per register, first character in the high byte, NUL padded.
    Dump& text(std::uint16_t address, std::uint16_t length, std::string_view chars) {
        for (std::size_t i = 0; i < length; ++i) {
            const auto at = [&](std::size_t k) -> std::uint16_t {
                return k < chars.size() ? static_cast<unsigned char>(chars[k]) : 0;
            };
            registers[static_cast<std::uint16_t>(address + i)] =
                static_cast<std::uint16_t>(at(2 * i) << 8 | at(2 * i + 1));
        }
        return *this;
    }
};

struct Poll {
    ReadPlan plan;
    std::vector<PointValue> values;  // per profile point; quality error when its request failed
    std::vector<std::size_t> failed; // requests the device rejected
};

// Whether the device has register `address` (see the file comment).
bool serves(const DeviceProfile& profile, const Dump& dump, std::uint32_t address) {
    if (dump.registers.contains(static_cast<std::uint16_t>(address))) {
        return true;
    }
    return profile.holes == HolePolicy::zero && !dump.registers.empty() &&
           address > dump.registers.begin()->first && address < dump.registers.rbegin()->first;
}

Poll read_device(const DeviceProfile& profile, const Dump& dump) {
    const PlanOptions options{profile.max_registers, profile.max_gap, profile.even_alignment};
    auto planned = plan_reads(profile.points, options);
    if (const auto* error = std::get_if<PlanError>(&planned)) {
        FAIL("plan_reads(" << profile.name << "): " << error->message);
    }
    Poll result;
    result.plan = std::get<ReadPlan>(std::move(planned));
    result.values.resize(profile.points.size());
    for (std::size_t r = 0; r < result.plan.requests.size(); ++r) {
        const ReadRequest& request = result.plan.requests[r];
        bool answered = request.function == dump.function;
        std::vector<std::uint16_t> registers(request.count, 0);
        for (std::uint32_t i = 0; answered && i < request.count; ++i) {
            const std::uint32_t address = request.start + i;
            answered = serves(profile, dump, address);
            if (const auto it = dump.registers.find(static_cast<std::uint16_t>(address));
                answered && it != dump.registers.end()) {
                registers[i] = it->second;
            }
        }
        if (!answered) {
            result.failed.push_back(r);
            continue;
        }
        // As BusWorker::decode_request does it.
        const std::span<const std::uint16_t> all(registers);
        for (const std::size_t index : request.points) {
            const PointSpec& point = profile.points[index];
            std::optional<std::uint16_t> sf;
            if (point.scale_factor) {
                sf = registers[profile.points[*point.scale_factor].address - request.start];
            }
            result.values[index] = decode_point(
                point, all.subspan(point.address - request.start, point.registers), sf);
        }
    }
    return result;
}

std::size_t index_of(const DeviceProfile& profile, std::string_view name) {
    const auto index = profile.find(name);
    INFO("point " << name << " in " << profile.name);
    REQUIRE(index.has_value());
    return *index;
}

const PointValue& value_of(const DeviceProfile& profile, const Poll& poll, std::string_view name) {
    return poll.values[index_of(profile, name)];
}

// The value the site model takes for a role: top-level points have index 0, outlets index n.
const PointValue& role_value(const DeviceProfile& profile, const Poll& poll, std::string_view role,
                             int index = 0) {
    for (std::size_t i = 0; i < profile.points.size(); ++i) {
        if (profile.points[i].role == role && profile.points[i].index == index) {
            return poll.values[i];
        }
    }
    FAIL("no point with role " << role << " and index " << index << " in " << profile.name);
    return poll.values.front(); // not reached
}

DeviceProfile with_point(DeviceProfile profile, std::string_view name,
                         const std::function<void(PointSpec&)>& change) {
    change(profile.points[index_of(profile, name)]);
    return profile;
}

// ok and (approximately, for floats) the expected physical value.
bool reads(const PointValue& value, double expected) {
    return value.quality == Quality::ok && value.value == Approx(expected);
}

} // namespace

// --- Raritan PX3 (FC03, blocks of 0x100 per inlet/outlet, float32 ABCD, u64 Wh) ---------------

namespace {

Dump px3_dump() {
    Dump dump{RegisterKind::holding, {}};
    dump.put(0x0000, {2, 1, 2, 24}); // register-set version, #inlets, #OCPs, #outlets
    // Inlet 1: block 0x3000.
    dump.put(0x3008, {0x4366, 0x199A})                  // RMS voltage 230.1 V
        .put(0x300A, {0x4148, 0x0000})                  // RMS current 12.5 A
        .put(0x300C, {0x418A, 0x0000})                  // peak current 17.25 A (not a point)
        .put(0x3010, {0x4060, 0x0000})                  // unbalanced current 3.5 % (not a point)
        .put(0x3012, {0x4525, 0xA000})                  // active power 2650 W
        .put(0x3014, {0x452C, 0x8666})                  // apparent power 2760.4 VA
        .put(0x3016, {0x3F75, 0xC28F})                  // power factor 0.96
        .put(0x3018, {0x0000, 0x001C, 0xBE99, 0x1A14}); // energy 123456789012 Wh (u64)
    // Outlet 1: block 0x8000.
    dump.put(0x8008, {0x4366, 0x199A})                  // 230.1 V
        .put(0x800A, {0x3FA0, 0x0000})                  // 1.25 A
        .put(0x8012, {0x4387, 0x4000})                  // 270.5 W
        .put(0x8014, {0x438F, 0xC000})                  // 287.5 VA
        .put(0x8016, {0x3F70, 0xA3D7})                  // 0.94
        .put(0x8018, {0x0000, 0x0000, 0x004C, 0x4B40}); // 5000000 Wh
    // Outlet 7: block 0x8000 + 0x100 * 6 = 0x8600.
    dump.put(0x8612, {0x444B, 0x1000})                  // 812.25 W
        .put(0x8618, {0x0000, 0x0000, 0x000F, 0x4240}); // 1000000 Wh
    // Outlet 24: block 0x9700, the highest register of the map.
    dump.put(0x9708, {0x4365, 0xCCCD})                  // 229.8 V
        .put(0x9712, {0x449A, 0x5000})                  // 1234.5 W
        .put(0x9718, {0x0000, 0x0000, 0x0000, 0x0400}); // 1024 Wh
    return dump;
}

} // namespace

TEST_CASE("PX3 dump: inlet and outlet blocks decode as float32 high word first and u64 Wh",
          "[profiles][dumps][pdu]") {
    const DeviceProfile pdu = shipped("rack_pdu_px3_24");
    const Poll result = read_device(pdu, px3_dump());
    REQUIRE(result.failed.empty());

    CHECK(reads(role_value(pdu, result, "inlet_power"), 2650.0));
    CHECK(role_value(pdu, result, "inlet_energy").value == 123456789012.0);
    CHECK(reads(role_value(pdu, result, "inlet_energy"), 123456789012.0));
    CHECK(reads(value_of(pdu, result, "inlet_voltage_v"), 230.1));
    CHECK(reads(value_of(pdu, result, "inlet_current_a"), 12.5));
    CHECK(reads(value_of(pdu, result, "inlet_apparent_power_va"), 2760.4));
    CHECK(reads(value_of(pdu, result, "inlet_power_factor"), 0.96));

    CHECK(reads(role_value(pdu, result, "outlet_power", 1), 270.5));
    CHECK(reads(role_value(pdu, result, "outlet_energy", 1), 5000000.0));
    CHECK(reads(role_value(pdu, result, "outlet_current", 1), 1.25));
    CHECK(reads(role_value(pdu, result, "outlet_power_factor", 1), 0.94));
    CHECK(reads(role_value(pdu, result, "outlet_power", 7), 812.25));
    CHECK(reads(role_value(pdu, result, "outlet_energy", 7), 1000000.0));
    CHECK(reads(role_value(pdu, result, "outlet_power", 24), 1234.5));
    CHECK(reads(role_value(pdu, result, "outlet_voltage", 24), 229.8));
    CHECK(reads(role_value(pdu, result, "outlet_energy", 24), 1024.0));
    // An idle outlet (nothing in the dump: zeros) reads 0 W, not "missing".
    CHECK(reads(role_value(pdu, result, "outlet_power", 2), 0.0));
    CHECK(reads(value_of(pdu, result, "outlet_count"), 24.0));
}

TEST_CASE("PX3 plan: one FC03 request of 20 registers per outlet block, 26 in all",
          "[profiles][dumps][pdu]") {
    const DeviceProfile pdu = shipped("rack_pdu_px3_24");
    const Poll result = read_device(pdu, px3_dump());
    REQUIRE(result.plan.requests.size() == 26);
    for (const ReadRequest& request : result.plan.requests) {
        CHECK(request.function == RegisterKind::holding);
    }
    CHECK(result.plan.requests[0].start == 0x0000);
    CHECK(result.plan.requests[0].count == 4);
    CHECK(result.plan.requests[1].start == 0x3008);
    CHECK(result.plan.requests[1].count == 20);
    for (std::size_t n = 1; n <= 24; ++n) {
        INFO("outlet " << n);
        const ReadRequest& request = result.plan.requests[1 + n];
        CHECK(request.start == 0x8008 + 0x100 * (n - 1));
        CHECK(request.count == 20);
    }
}

TEST_CASE("PX3 dump read low word first gives a different inlet power", "[profiles][dumps][pdu]") {
    const DeviceProfile swapped = with_point(shipped("rack_pdu_px3_24"), "inlet_power_w",
                                             [](PointSpec& p) { p.order = WordOrder::cdab; });
    const Poll result = read_device(swapped, px3_dump());
    CHECK_FALSE(reads(value_of(swapped, result, "inlet_power_w"), 2650.0));
}

// --- Eaton floor PDU panel via Power Xpert Gateway (FC04, exceptions for holes) ----------------

namespace {

Dump eaton_panel_dump() {
    Dump dump{RegisterKind::input, {}};
    dump.text(1001, 32, "Eaton")
        .text(1033, 32, "Power Distribution Unit")
        .text(1123, 32, "EA1234K567")
        .put(1208, {3})               // number of phases
        .put(1453, {225})             // breaker rating
        .put(4010, {0x42F1, 0x6666})  // voltage A-N 120.7 V
        .put(4100, {0x4581, 0xB000})  // placeholder: panel power 4150 W
        .put(4102, {0x4608, 0xF600}); // placeholder: panel energy 8765.5 kWh
    return dump;
}

} // namespace

TEST_CASE("Eaton panel dump: FC04 identity, voltage and panel totals decode",
          "[profiles][dumps][pdu][eaton]") {
    const DeviceProfile panel = shipped("pdu_eaton_floor_gateway");
    CHECK(panel.device_role == DeviceRole::rack_pdu);
    const Poll result = read_device(panel, eaton_panel_dump());
    REQUIRE(result.failed.empty());

    CHECK(role_value(panel, result, "manufacturer").text == "Eaton");
    CHECK(role_value(panel, result, "model").text == "Power Distribution Unit");
    CHECK(role_value(panel, result, "serial").text == "EA1234K567");
    CHECK(reads(value_of(panel, result, "phase_count"), 3.0));
    CHECK(reads(value_of(panel, result, "breaker_rating_a"), 225.0));
    CHECK(reads(role_value(panel, result, "inlet_voltage"), 120.7));
    CHECK(reads(role_value(panel, result, "inlet_power"), 4150.0));
    CHECK(reads(role_value(panel, result, "inlet_energy"), 8765500.0));
}

TEST_CASE("Eaton panel plan: FC04 only, no request covers a register that is not a point",
          "[profiles][dumps][pdu][eaton]") {
    const DeviceProfile panel = shipped("pdu_eaton_floor_gateway");
    const Dump dump = eaton_panel_dump();
    const Poll result = read_device(panel, dump);
    // vendor + model (1001..1064), serial, phases, breaker rating, voltage, power + energy.
    REQUIRE(result.plan.requests.size() == 6);
    for (const ReadRequest& request : result.plan.requests) {
        CHECK(request.function == RegisterKind::input);
        for (std::uint32_t a = request.start; a < request.start + request.count; ++a) {
            INFO("register " << a);
            CHECK(dump.registers.contains(static_cast<std::uint16_t>(a)));
        }
    }
}

TEST_CASE("Eaton delta panel: the missing phase-to-neutral voltage fails alone",
          "[profiles][dumps][pdu][eaton]") {
    const DeviceProfile panel = shipped("pdu_eaton_floor_gateway");
    Dump delta = eaton_panel_dump();
    delta.registers.erase(4010);
    delta.registers.erase(4011);
    const Poll result = read_device(panel, delta);
    CHECK(result.failed.size() == 1);
    CHECK(value_of(panel, result, "voltage_an_v").quality == Quality::error);
    CHECK(reads(role_value(panel, result, "inlet_power"), 4150.0));
    CHECK(role_value(panel, result, "serial").text == "EA1234K567");
}

TEST_CASE("Eaton panel read with FC03 gets nothing", "[profiles][dumps][pdu][eaton]") {
    DeviceProfile holding = shipped("pdu_eaton_floor_gateway");
    for (PointSpec& p : holding.points) {
        p.function = RegisterKind::holding;
    }
    const Poll result = read_device(holding, eaton_panel_dump());
    CHECK(result.failed.size() == result.plan.requests.size());
    CHECK_FALSE(reads(role_value(holding, result, "inlet_power"), 4150.0));
}

// --- Eastron SDM630 (FC04, <= 80 registers, even start and count) -------------------------------

namespace {

Dump sdm630_dump() {
    Dump dump{RegisterKind::input, {}};
    dump.put(0x0000, {0x4366, 0x199A, 0x4365, 0xCCCD, 0x4367, 0x3333}) // 230.1 / 229.8 / 231.2 V
        .put(0x0006, {0x40A3, 0xD70A, 0x409B, 0xD70A, 0x40C0, 0x51EC}) // 5.12 / 4.87 / 6.01 A
        .put(0x000C, {0x4493, 0x8CCD, 0x448C, 0x1CCD, 0xC4AD, 0x9000}) // 1180.4/1120.9/-1388.5 W
        .put(0x0012, {0x449A, 0x5000})                                 // L1 1234.5 VA
        .put(0x001E, {0x3F78, 0x51EC})                                 // L1 PF 0.97
        .put(0x0034, {0x4464, 0x3333})                                 // total 912.8 W
        .put(0x0038, {0x4581, 0xB000})                                 // total 4150 VA
        .put(0x003E, {0x3F78, 0x51EC})                                 // total PF 0.97
        .put(0x0046, {0x4247, 0xEB85})                                 // 49.98 Hz
        .put(0x0048, {0x4640, 0xE666})                                 // import 12345.6 kWh
        .put(0x004A, {0x4445, 0x5000})                                 // export 789.25 kWh
        .put(0x004C, {0x41FC, 0x0000})                                 // import 31.5 kvarh
        .put(0x004E, {0x4020, 0x0000})                                 // export 2.5 kvarh
        .put(0x0156, {0x464D, 0x3B66})                                 // total 13134.85 kWh
        .put(0x015A, {0x4581, 0xB000})                                 // L1 import 4150 kWh
        .put(0x016A, {0x4078, 0x0000});                                // L3 total 3.875 kWh
    return dump;
}

} // namespace

TEST_CASE("SDM630 dump: input registers decode to net power and kWh counters in Wh",
          "[profiles][dumps][meter][sdm630]") {
    const DeviceProfile meter = shipped("meter_sdm630");
    CHECK(meter.device_role == DeviceRole::grid_meter);
    const Poll result = read_device(meter, sdm630_dump());
    REQUIRE(result.failed.empty());

    CHECK(reads(role_value(meter, result, "net_power"), 912.8));
    CHECK(reads(role_value(meter, result, "import_energy"), 12345600.0));
    CHECK(reads(role_value(meter, result, "export_energy"), 789250.0));
    CHECK(reads(role_value(meter, result, "frequency"), 49.98));
    CHECK(reads(role_value(meter, result, "apparent_power"), 4150.0));
    CHECK(reads(role_value(meter, result, "power_factor"), 0.97));
    CHECK(reads(role_value(meter, result, "voltage", 2), 229.8));
    CHECK(reads(role_value(meter, result, "current", 3), 6.01));
    CHECK(reads(value_of(meter, result, "phase_3_power_w"), -1388.5));
    CHECK(reads(value_of(meter, result, "import_reactive_energy_varh"), 31500.0));
    CHECK(reads(value_of(meter, result, "total_energy_wh"), 13134850.0));
    CHECK(reads(value_of(meter, result, "phase_1_import_energy_wh"), 4150000.0));
    CHECK(reads(value_of(meter, result, "phase_3_total_energy_wh"), 3875.0));
    // Not in the dump, inside the map: reads 0 like a parameter that does not apply.
    CHECK(reads(value_of(meter, result, "phase_2_export_energy_wh"), 0.0));
}

TEST_CASE("SDM630 plan: FC04 requests of at most 80 registers with even start and count",
          "[profiles][dumps][meter][sdm630]") {
    const DeviceProfile meter = shipped("meter_sdm630");
    CHECK(meter.max_registers == 80);
    CHECK(meter.even_alignment);
    const Poll result = read_device(meter, sdm630_dump());
    REQUIRE(result.plan.requests.size() == 2);
    for (const ReadRequest& request : result.plan.requests) {
        CHECK(request.function == RegisterKind::input);
        CHECK(request.count <= 80);
        CHECK(request.start % 2 == 0);
        CHECK(request.count % 2 == 0);
    }
    // The measurement block 0x00..0x4F is exactly the 80-register limit.
    CHECK(result.plan.requests[0].start == 0x0000);
    CHECK(result.plan.requests[0].count == 80);
    CHECK(result.plan.requests[1].start == 0x0156);
    CHECK(result.plan.requests[1].count == 22);
}

TEST_CASE("SDM630 limits split a block that would exceed 80 registers",
          "[profiles][dumps][meter][sdm630]") {
    DeviceProfile meter = shipped("meter_sdm630");
    PointSpec extra = meter.points[index_of(meter, "frequency_hz")];
    extra.name = "extra_w";
    extra.role.clear();
    extra.min.reset();
    extra.max.reset();
    extra.address = 0x0050; // one value past the 80-register block
    meter.points.push_back(extra);
    const Poll result = read_device(meter, sdm630_dump());
    REQUIRE(result.failed.empty());
    CHECK(result.plan.requests.size() == 3);
    for (const ReadRequest& request : result.plan.requests) {
        CHECK(request.count <= 80);
        CHECK(request.start % 2 == 0);
        CHECK(request.count % 2 == 0);
    }
    CHECK(reads(role_value(meter, result, "net_power"), 912.8));
}

TEST_CASE("SDM630 dump read as holding registers (FC03) gets nothing",
          "[profiles][dumps][meter][sdm630]") {
    DeviceProfile holding = shipped("meter_sdm630");
    for (PointSpec& p : holding.points) {
        p.function = RegisterKind::holding;
    }
    const Poll result = read_device(holding, sdm630_dump());
    CHECK(result.failed.size() == result.plan.requests.size());
    CHECK_FALSE(reads(role_value(holding, result, "net_power"), 912.8));
}

TEST_CASE("SDM630 dump read low word first gives a different net power",
          "[profiles][dumps][meter][sdm630]") {
    const DeviceProfile swapped = with_point(shipped("meter_sdm630"), "net_power_w",
                                             [](PointSpec& p) { p.order = WordOrder::cdab; });
    const Poll result = read_device(swapped, sdm630_dump());
    CHECK_FALSE(reads(value_of(swapped, result, "net_power_w"), 912.8));
}

// --- Janitza UMG 604 (FC03, block 19000, float32 ABCD, Wh as float32) ---------------------------

namespace {

Dump umg604_dump() {
    Dump dump{RegisterKind::holding, {}};
    dump.put(19000, {0x4369, 0x6666, 0x436A, 0x8000, 0x436B, 0x199A}) // 233.4/234.5/235.1 V
        .put(19012, {0x4138, 0x0000, 0x4144, 0x0000, 0x412C, 0x0000}) // 11.5/12.25/10.75 A
        .put(19018, {0x420A, 0x0000})                                 // I sum 34.5 A
        .put(19020, {0x4519, 0x2C00, 0x4519, 0xD400, 0x4514, 0xC800}) // 2450.75/2461.25/2380.5 W
        .put(19026, {0x4721, 0x2280})                                 // P sum 41250.5 W
        .put(19034, {0x4724, 0x7400})                                 // S sum 42100 VA
        .put(19044, {0x3F78, 0x51EC, 0x3F7D, 0x70A4, 0x3F78, 0x51EC}) // cos phi .97/.99/.97
        .put(19050, {0x4248, 0x0A3D})                                 // 50.01 Hz
        .put(19068, {0x4CEB, 0x79A3})  // consumed: 123456789 Wh as float32 = 123456792
        .put(19076, {0x4580, 0x0000})  // delivered 4096 Wh
        .put(19120, {0x0000, 0x0000}); // last value of the block
    return dump;
}

} // namespace

TEST_CASE("UMG 604 dump: load power and float32 Wh counters decode from one FC03 request",
          "[profiles][dumps][meter][umg604]") {
    const DeviceProfile meter = shipped("meter_facility_umg604");
    CHECK(meter.device_role == DeviceRole::facility_meter);
    const Poll result = read_device(meter, umg604_dump());
    REQUIRE(result.failed.empty());
    REQUIRE(result.plan.requests.size() == 1);
    CHECK(result.plan.requests[0].function == RegisterKind::holding);
    CHECK(result.plan.requests[0].start == 19000);
    CHECK(result.plan.requests[0].count == 78);

    CHECK(reads(role_value(meter, result, "load_power"), 41250.5));
    // A float32 counter above 2^24 Wh moves in steps: 123456789 Wh is served as 123456792.
    const PointValue& load_energy = role_value(meter, result, "load_energy");
    CHECK(load_energy.quality == Quality::ok);
    CHECK(load_energy.value == 123456792.0);
    CHECK(load_energy.resolution == 8.0);
    CHECK(reads(role_value(meter, result, "export_energy"), 4096.0));
    CHECK(reads(role_value(meter, result, "apparent_power"), 42100.0));
    CHECK(reads(role_value(meter, result, "frequency"), 50.01));
    CHECK(reads(role_value(meter, result, "voltage", 3), 235.1));
    CHECK(reads(role_value(meter, result, "current", 2), 12.25));
    CHECK(reads(value_of(meter, result, "current_sum_a"), 34.5));
    CHECK(reads(value_of(meter, result, "phase_2_power_w"), 2461.25));
    CHECK(reads(value_of(meter, result, "phase_2_cos_phi"), 0.99));
}

TEST_CASE("UMG 604 dump read low word first gives a different load power",
          "[profiles][dumps][meter][umg604]") {
    const DeviceProfile swapped = with_point(shipped("meter_facility_umg604"), "power_w",
                                             [](PointSpec& p) { p.order = WordOrder::cdab; });
    const Poll result = read_device(swapped, umg604_dump());
    CHECK_FALSE(reads(value_of(swapped, result, "power_w"), 41250.5));
}

// --- Schneider iEM3xxx (FC03, wire = doc - 1, float32 kW, INT64 Wh) -----------------------------

namespace {

// Keys are WIRE addresses: documented register number - 1.
Dump iem_dump() {
    Dump dump{RegisterKind::holding, {}};
    dump.put(3000 - 1, {0x4138, 0x0000, 0x4144, 0x0000, 0x412C, 0x0000}) // I 11.5/12.25/10.75 A
        .put(3028 - 1, {0x4366, 0x199A, 0x4365, 0xCCCD, 0x4367, 0x3333}) // V 230.1/229.8/231.2
        .put(3054 - 1, {0x4088, 0x0000, 0x4078, 0x0000, 0x4087, 0x0A3D}) // P 4.25/3.875/4.22 kW
        .put(3060 - 1, {0x4145, 0x851F})                                 // P total 12.345 kW
        .put(3068 - 1, {0x3F00, 0x0000})                                 // Q total 0.5 kvar
        .put(3076 - 1, {0x4148, 0x0000})                                 // S total 12.5 kVA
        .put(3084 - 1, {0x3F83, 0xD70A})                  // PF 1.03 (4-quadrant: 0.97 leading)
        .put(3110 - 1, {0x4248, 0x0A3D})                  // 50.01 Hz
        .put(3204 - 1, {0x0000, 0x0002, 0x4CB0, 0x16EA})  // delivered 9876543210 Wh
        .put(3208 - 1, {0x0000, 0x0000, 0x0012, 0xD687}); // received 1234567 Wh
    return dump;
}

} // namespace

TEST_CASE("iEM3xxx dump: doc numbers - 1 on the wire, kW floats and INT64 Wh energies decode",
          "[profiles][dumps][meter][iem]") {
    const DeviceProfile meter = shipped("meter_iem3xxx");
    CHECK(meter.device_role == DeviceRole::grid_meter);
    CHECK(meter.points[index_of(meter, "net_power_w")].address == 3060 - 1);
    CHECK(meter.points[index_of(meter, "import_energy_wh")].address == 3204 - 1);
    CHECK(meter.points[index_of(meter, "phase_1_current_a")].address == 3000 - 1);

    const Poll result = read_device(meter, iem_dump());
    REQUIRE(result.failed.empty());
    CHECK(result.plan.requests.size() == 8);
    for (const ReadRequest& request : result.plan.requests) {
        CHECK(request.function == RegisterKind::holding);
    }

    CHECK(reads(role_value(meter, result, "net_power"), 12345.0));
    CHECK(role_value(meter, result, "import_energy").value == 9876543210.0);
    CHECK(reads(role_value(meter, result, "import_energy"), 9876543210.0));
    CHECK(role_value(meter, result, "export_energy").value == 1234567.0);
    CHECK(reads(role_value(meter, result, "export_energy"), 1234567.0));
    CHECK(role_value(meter, result, "import_energy").resolution == 1.0);
    CHECK(reads(role_value(meter, result, "apparent_power"), 12500.0));
    CHECK(reads(role_value(meter, result, "frequency"), 50.01));
    CHECK(reads(role_value(meter, result, "current", 1), 11.5));
    CHECK(reads(role_value(meter, result, "voltage", 3), 231.2));
    CHECK(reads(value_of(meter, result, "phase_2_power_w"), 3875.0));
    CHECK(reads(value_of(meter, result, "reactive_power_var"), 500.0));
    // Kept as encoded: 1.03 is a leading 0.97, not a plain power factor.
    CHECK(reads(value_of(meter, result, "power_factor_encoded"), 1.03));
}

TEST_CASE("iEM3xxx energy read at the documented number itself is garbage",
          "[profiles][dumps][meter][iem]") {
    const DeviceProfile shifted = with_point(shipped("meter_iem3xxx"), "import_energy_wh",
                                             [](PointSpec& p) { p.address = 3204; });
    const Poll result = read_device(shifted, iem_dump());
    REQUIRE(result.failed.empty());
    const PointValue& energy = value_of(shifted, result, "import_energy_wh");
    // Three words of the value and the high word of the next one: plausible, and wrong.
    CHECK(energy.quality == Quality::ok);
    CHECK(energy.value == 647269135810560.0); // 0x0002'4CB0'16EA'0000
    CHECK_FALSE(reads(energy, 9876543210.0));
}

// --- MidNite Classic (FC03, wire = doc - 1, u32 low word first, fixed decimals) ----------------

namespace {

// Keys are WIRE addresses: documented register number - 1.
Dump midnite_dump() {
    Dump dump{RegisterKind::holding, {}};
    dump.put(4115 - 1, {523,    // battery voltage 52.3 V
                        1402,   // input voltage 140.2 V
                        256,    // battery current 25.6 A
                        34,     // energy today 3.4 kWh
                        1339,   // output power 1339 W
                        0x0403, // charge stage 4 / state 3
                        95,     // input current 9.5 A
                        0, 0, 0, 0,
                        0xD687,  // doc 4126: total energy, LOW word
                        0x0012}) // doc 4127: high word -> 1234567 x 0.1 kWh
        .put(4132 - 1, {0xFFC9,  // battery temperature -5.5 degC
                        389,     // FET temperature 38.9 degC
                        350})    // PCB temperature 35.0 degC
        .put(4164 - 1, {9});     // MPPT mode
    return dump;
}

} // namespace

TEST_CASE("MidNite Classic dump: low-word-first lifetime energy and scaled integers decode",
          "[profiles][dumps][wind]") {
    const DeviceProfile wind = shipped("wind_midnite_classic");
    CHECK(wind.device_role == DeviceRole::wind_turbine);
    const Poll result = read_device(wind, midnite_dump());
    REQUIRE(result.failed.empty());
    REQUIRE(result.plan.requests.size() == 1);
    CHECK(result.plan.requests[0].function == RegisterKind::holding);
    CHECK(result.plan.requests[0].start == 4114);
    CHECK(result.plan.requests[0].count == 50);

    CHECK(reads(role_value(wind, result, "ac_power"), 1339.0));
    CHECK(role_value(wind, result, "ac_energy").value == 123456700.0);
    CHECK(reads(role_value(wind, result, "ac_energy"), 123456700.0));
    CHECK(reads(value_of(wind, result, "battery_voltage_v"), 52.3));
    CHECK(reads(value_of(wind, result, "input_voltage_v"), 140.2));
    CHECK(reads(value_of(wind, result, "battery_current_a"), 25.6));
    CHECK(reads(value_of(wind, result, "energy_today_wh"), 3400.0));
    CHECK(reads(value_of(wind, result, "input_current_a"), 9.5));
    CHECK(reads(value_of(wind, result, "charge_state"), 0x0403));
    CHECK(reads(value_of(wind, result, "battery_temperature_c"), -5.5));
    CHECK(reads(value_of(wind, result, "fet_temperature_c"), 38.9));
    CHECK(reads(value_of(wind, result, "pcb_temperature_c"), 35.0));
    CHECK(reads(value_of(wind, result, "mppt_mode"), 9.0));
}

TEST_CASE("MidNite Classic lifetime energy read high word first is wrong",
          "[profiles][dumps][wind]") {
    const DeviceProfile abcd = with_point(shipped("wind_midnite_classic"), "total_energy_wh",
                                          [](PointSpec& p) { p.order = WordOrder::abcd; });
    const Poll result = read_device(abcd, midnite_dump());
    const PointValue& energy = value_of(abcd, result, "total_energy_wh");
    CHECK(energy.value == 0xD6870012 * 100.0);
    CHECK_FALSE(reads(energy, 123456700.0));
}

TEST_CASE("MidNite Classic output power read at the documented number is wrong",
          "[profiles][dumps][wind]") {
    const DeviceProfile shifted = with_point(shipped("wind_midnite_classic"), "output_power_w",
                                             [](PointSpec& p) { p.address = 4119; });
    const Poll result = read_device(shifted, midnite_dump());
    CHECK_FALSE(reads(value_of(shifted, result, "output_power_w"), 1339.0));
}
