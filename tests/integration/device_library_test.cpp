// The device library end to end: greenrack-sim serves one device of each shipped profile
// (tests/fixtures/devices/device-library.sim.toml) on free loopback ports, with the quirks of
// the real devices (Eastron SDM630: FC04, 80-register requests, even start and count; Schneider
// iEM3xxx: documented numbers - 1, int64 energies; Eaton PXG: unit id = panel + 1). Each device
// is read the way greenrackd reads it (the read planner with the profile's limits, ModbusLink,
// the request decoder, as drivers/modbus/bus_worker.cpp does) and must decode to the values the
// simulator serves; reads that break a device's rules must fail the way the device fails them;
// greenrack-scan must name each unit's profile.

#include "drivers/modbus/codec.hpp"
#include "drivers/modbus/read_planner.hpp"
#include "drivers/modbus/request_decoder.hpp"
#include "drivers/modbus/transport.hpp"
#include "drivers/profiles/profile_loader.hpp"
#include "tests/integration/site_harness.hpp"
#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace greenrack;
using namespace greenrack::test;

namespace {

const std::filesystem::path source_dir(GREENRACK_SOURCE_DIR);
const std::filesystem::path scenario_file =
    source_dir / "tests/fixtures/devices/device-library.sim.toml";
const std::filesystem::path profile_dir = source_dir / "config/profiles";
constexpr std::chrono::milliseconds response_timeout{1000};

// greenrack-sim on the device library, frozen (every value constant), on ports it picks itself.
class DeviceLibrarySite : public FrozenSim {
public:
    DeviceLibrarySite() : FrozenSim(scenario_file, profile_dir) {}
};

struct LibraryDevice {
    const char* id;
    const char* profile;
    const char* listener;
    int unit;
};

// One device of each shipped profile, as in the scenario.
constexpr LibraryDevice library[] = {
    {"pdu-px3", "rack_pdu_px3_24", "pdus", 1},
    {"eaton-panel-1", "pdu_eaton_floor_gateway", "pxg", 2},
    {"pv-1", "pv_sunspec_103", "plant", 1},
    {"wind-1", "wind_midnite_classic", "plant", 10},
    {"battery-1", "battery_generic", "plant", 20},
    {"grid-sdm630", "meter_sdm630", "meters", 1},
    {"grid-iem3xxx", "meter_iem3xxx", "meters", 2},
    {"grid-4q", "meter_grid_4q", "meters", 3},
    {"facility-umg604", "meter_facility_umg604", "meters", 4},
};

std::unique_ptr<modbus::ModbusLink> open_link(const DeviceLibrarySite& site,
                                              const std::string& listener) {
    auto link =
        std::make_unique<modbus::ModbusLink>(modbus::TcpEndpoint{"127.0.0.1", site.port(listener)});
    REQUIRE_FALSE(link->open(std::chrono::milliseconds(2000)));
    return link;
}

// What the device answers to one raw read: its registers, or the error.
struct RawRead {
    std::error_code error;
    std::vector<std::uint16_t> registers;
};

RawRead raw_read(modbus::ModbusLink& link, int unit, modbus::RegisterKind kind, std::uint16_t start,
                 std::uint16_t count) {
    RawRead out;
    out.registers.resize(count);
    out.error = link.read(unit, kind, start, out.registers, response_timeout);
    return out;
}

// A device read as greenrackd reads it: the profile's plan, each request over the link, each
// answer through the request decoder.
struct DeviceRead {
    std::shared_ptr<const profiles::DeviceProfile> profile;
    modbus::ReadPlan plan;
    std::vector<modbus::PointValue> values;
};

DeviceRead read_device(modbus::ModbusLink& link, const LibraryDevice& device) {
    DeviceRead out;
    out.profile = std::make_shared<const profiles::DeviceProfile>(
        profiles::load_profile_file(profile_dir / (std::string(device.profile) + ".toml")));
    const profiles::DeviceProfile& profile = *out.profile;
    const modbus::PlanOptions options{profile.max_registers, profile.max_gap,
                                      profile.even_alignment};
    auto planned = modbus::plan_reads(profile.points, options);
    if (const auto* error = std::get_if<modbus::PlanError>(&planned)) {
        FAIL("plan: " << error->message);
    }
    out.plan = std::get<modbus::ReadPlan>(std::move(planned));
    REQUIRE_FALSE(out.plan.requests.empty());
    out.values.resize(profile.points.size());
    for (const auto& request : out.plan.requests) {
        INFO(modbus::to_string(request.function) << " " << request.start << "+" << request.count);
        // The planner keeps the device's limits, so the device answers every request.
        CHECK(request.count <= profile.max_registers);
        if (profile.even_alignment) {
            CHECK(request.start % 2 == 0);
            CHECK(request.count % 2 == 0);
        }
        const RawRead answer =
            raw_read(link, device.unit, request.function, request.start, request.count);
        INFO("error " << answer.error.message());
        REQUIRE_FALSE(answer.error);
        modbus::decode_request(profile.points, request, answer.registers, out.values);
    }
    return out;
}

const modbus::PointValue& value_of(const DeviceRead& read, std::string_view name) {
    const auto index = read.profile->find(name);
    REQUIRE(index.has_value());
    return read.values[*index];
}

// A decoded number equals the served one within the reading's resolution (both come from the
// same registers; the tolerance only absorbs rounding in the last step).
bool within_resolution(double served, const modbus::PointValue& decoded) {
    const double tolerance = std::max(decoded.resolution, 1e-9 * std::max(1.0, std::fabs(served)));
    return std::fabs(served - decoded.value) <= tolerance;
}

bool is_exception(const std::error_code& ec, modbus::ModbusErrc code) {
    return ec == modbus::make_error_code(code);
}

} // namespace

TEST_CASE("Every shipped profile's device reads end to end through the read planner with the "
          "profile's limits, ModbusLink and the decoder, to the values the simulator serves",
          "[devices]") {
    DeviceLibrarySite site;
    const auto snapshot = site.snapshot();
    std::map<std::string, std::unique_ptr<modbus::ModbusLink>> links;
    std::map<std::string, DeviceRead> reads;
    for (const LibraryDevice& device : library) {
        INFO("device " << device.id << " (" << device.profile << ", unit " << device.unit << ")");
        auto& link = links[device.listener];
        if (!link) {
            link = open_link(site, device.listener);
        }
        const DeviceRead read = read_device(*link, device);
        const auto& served_device = snapshot["devices"][device.id];
        REQUIRE(served_device["profile"] == device.profile);
        REQUIRE(served_device["unit_id"] == device.unit);
        const auto& served = served_device["points"];
        REQUIRE(served.size() == read.profile->points.size());
        std::size_t numbers = 0;
        for (std::size_t i = 0; i < read.profile->points.size(); ++i) {
            const auto& spec = read.profile->points[i];
            const auto& got = read.values[i];
            REQUIRE(served.contains(spec.name));
            const auto& want = served[spec.name];
            INFO("point " << spec.name << " served " << want.dump() << ", decoded " << got.value
                          << " \"" << got.text << "\" quality " << modbus::to_string(got.quality));
            if (want.is_null()) {
                CHECK(got.quality == modbus::Quality::missing);
            } else if (want.is_string()) {
                CHECK(got.quality == modbus::Quality::ok);
                CHECK(got.text == want.get<std::string>());
            } else {
                ++numbers;
                CHECK(got.quality == modbus::Quality::ok);
                CHECK(within_resolution(want.get<double>(), got));
            }
        }
        CHECK(numbers > 0);
        reads.emplace(device.id, read);
    }

    // The physics behind the numbers, through each device's own encoding (float kW, int64 Wh,
    // SunSpec integers with scale factors, CDAB 32-bit tenths of kWh ...).
    const auto& site_balance = snapshot["site"];
    const double export_w = site_balance["export_w"].get<double>();
    const double charge_w = site_balance["charge_w"].get<double>();
    REQUIRE(export_w > 1000.0); // noon: the surplus is exported ...
    REQUIRE(site_balance["import_w"].get<double>() == 0.0);
    CHECK(charge_w == Approx(10000.0)); // ... once the battery charges at its limit

    const auto& pdu = reads.at("pdu-px3");
    CHECK(value_of(pdu, "inlet_power_w").value == Approx(10000.0).epsilon(1e-6));
    CHECK(value_of(pdu, "outlet_1_power_w").value > 0.0);
    CHECK(value_of(pdu, "outlet_24_power_w").value == 0.0); // outlets 23-24 feed nothing
    CHECK(value_of(pdu, "inlet_energy_wh").value == Approx(1.0e6).epsilon(1e-6));
    CHECK(value_of(pdu, "inlet_voltage_v").value == Approx(230.0).margin(10.0));

    const auto& panel = reads.at("eaton-panel-1");
    CHECK(value_of(panel, "panel_power_w").value == Approx(15000.0).epsilon(1e-6));
    CHECK(value_of(panel, "panel_energy_wh").value == Approx(1.0e6).epsilon(1e-6));
    CHECK(value_of(panel, "voltage_an_v").value == Approx(230.0).margin(10.0));
    CHECK(value_of(panel, "vendor_name").text == "EATON");
    CHECK(value_of(panel, "serial_number").text == "PXG1000-0001-P1");
    CHECK(value_of(panel, "phase_count").value == 3.0);
    CHECK(value_of(panel, "breaker_rating_a").value == 225.0);

    const auto& pv = reads.at("pv-1");
    CHECK(value_of(pv, "ac_power_w").value > 30000.0);
    CHECK(value_of(pv, "manufacturer").text == "Test Solar");
    CHECK(value_of(pv, "reactive_power_var").quality == modbus::Quality::missing);
    const auto& wind = reads.at("wind-1");
    CHECK(value_of(wind, "output_power_w").value >= 0.0);
    CHECK(value_of(wind, "total_energy_wh").value == Approx(1.0e6).margin(100.0)); // 0.1 kWh
    const auto& battery = reads.at("battery-1");
    // battery_generic: + = discharge, - = charge.
    CHECK(value_of(battery, "ac_power_w").value == Approx(-charge_w).margin(1.0));
    CHECK(value_of(battery, "soc_pct").value == Approx(40.0).margin(0.1));

    // Three grid meters, three encodings, one net power (+ = import): the export.
    CHECK(value_of(reads.at("grid-sdm630"), "net_power_w").value ==
          Approx(-export_w).epsilon(1e-6));
    CHECK(value_of(reads.at("grid-iem3xxx"), "net_power_w").value ==
          Approx(-export_w).epsilon(1e-6));
    CHECK(value_of(reads.at("grid-4q"), "export_power_w").value == Approx(export_w).epsilon(1e-6));
    CHECK(value_of(reads.at("grid-4q"), "import_power_w").value == 0.0);
    // Each with its own counters: float32 kWh, int64 Wh (exact), float32 kWh.
    CHECK(value_of(reads.at("grid-sdm630"), "export_energy_wh").value ==
          Approx(1.0e6).epsilon(1e-6));
    CHECK(value_of(reads.at("grid-iem3xxx"), "export_energy_wh").value == 2500000.0);
    CHECK(value_of(reads.at("grid-iem3xxx"), "import_energy_wh").value == 2500000.0);
    CHECK(value_of(reads.at("grid-4q"), "export_energy_wh").value == Approx(4.0e6).epsilon(1e-6));
    const auto& facility = reads.at("facility-umg604");
    CHECK(value_of(facility, "power_w").value ==
          Approx(site_balance["load_w"].get<double>()).epsilon(1e-6));
    // L = IT x 1.3: the PX3's 10 kW and the Eaton panel's 15 kW.
    CHECK(site_balance["load_w"].get<double>() == Approx(1.3 * 25000.0).epsilon(1e-6));

    // The SDM630's map takes two requests, the first exactly its 80-register limit.
    const auto& sdm = reads.at("grid-sdm630");
    REQUIRE(sdm.plan.requests.size() == 2);
    CHECK(sdm.plan.requests[0].function == modbus::RegisterKind::input);
    CHECK(sdm.plan.requests[0].start == 0);
    CHECK(sdm.plan.requests[0].count == 80);
    CHECK(sdm.plan.requests[1].start == 0x0156);
}

TEST_CASE("greenrackd --once polls every device of the library, and a panel configured on its "
          "panel number instead of panel + 1 does not answer",
          "[devices]") {
    DeviceLibrarySite site;
    const TempDir dir("greenrack-devices-once");
    auto config = [&](int eaton_unit) {
        std::ostringstream text;
        text << "[site]\nid = \"library\"\n[daemon]\nstate_directory = \""
             << (dir.path() / "state").string() << "\"\nprofile_dirs = [\"" << profile_dir.string()
             << "\"]\n";
        for (const char* bus : {"pdus", "pxg", "plant", "meters"}) {
            text << "[[bus]]\nid = \"" << bus
                 << "\"\nhost = \"127.0.0.1\"\nport = " << site.port(bus) << "\n";
        }
        for (const LibraryDevice& device : library) {
            const bool eaton = std::string_view(device.profile) == "pdu_eaton_floor_gateway";
            text << "[[device]]\nid = \"" << device.id << "\"\nbus = \"" << device.listener
                 << "\"\nunit_id = " << (eaton ? eaton_unit : device.unit) << "\nprofile = \""
                 << device.profile << "\"\nresponse_timeout = \"300ms\"\n";
        }
        const auto path = dir.path() / ("library-" + std::to_string(eaton_unit) + ".toml");
        write_file(path, text.str());
        return path;
    };

    const auto good = run_program(GREENRACKD_BIN, {"--config", config(2).string(), "--once"});
    INFO(good.out << good.err);
    CHECK(good.status == 0);
    CHECK(good.out.find("9/9 devices answered") != std::string::npos);
    for (const LibraryDevice& device : library) {
        INFO(device.id);
        const std::string head = std::string(device.id) + " (" + device.profile + ", unit " +
                                 std::to_string(device.unit) + " on " + device.listener + "): ";
        const auto at = good.out.find(head);
        REQUIRE(at != std::string::npos);
        // pv-1 is partial: it leaves its reactive power unimplemented.
        const std::string state = std::string(device.id) == "pv-1" ? "partial" : "ok";
        CHECK(good.out.compare(at + head.size(), state.size(), state) == 0);
    }

    const auto wrong = run_program(GREENRACKD_BIN, {"--config", config(1).string(), "--once"});
    INFO(wrong.out << wrong.err);
    CHECK(wrong.status == 1);
    CHECK(wrong.out.find("8/9 devices answered") != std::string::npos);
    CHECK(wrong.out.find("eaton-panel-1 (pdu_eaton_floor_gateway, unit 1 on pxg): offline") !=
          std::string::npos);
}

TEST_CASE("The Eastron SDM630 refuses what the real meter refuses: more than 80 registers, an odd "
          "start or count, holding-register reads of its measurements",
          "[devices]") {
    DeviceLibrarySite site;
    const auto served = site.snapshot()["devices"]["grid-sdm630"]["points"];
    auto link = open_link(site, "meters");
    constexpr int unit = 1;
    using modbus::ModbusErrc;
    using modbus::RegisterKind;

    // A plain 100-register read (what a planner without the profile's limit would send) fails.
    const RawRead plain = raw_read(*link, unit, RegisterKind::input, 0, 100);
    CHECK(is_exception(plain.error, ModbusErrc::illegal_data_value));
    CHECK(is_exception(raw_read(*link, unit, RegisterKind::input, 0, 82).error,
                       ModbusErrc::illegal_data_value));
    // 80 registers are fine, and carry total power at 0x34 (float32 ABCD).
    const RawRead block = raw_read(*link, unit, RegisterKind::input, 0, 80);
    REQUIRE_FALSE(block.error);
    modbus::PointSpec power;
    power.name = "net_power_w";
    power.type = modbus::DataType::f32;
    power.address = 0x34;
    power.registers = 2;
    const auto decoded = modbus::decode_point(
        power, std::span<const std::uint16_t>(block.registers).subspan(0x34, 2), std::nullopt);
    CHECK(decoded.value == served["net_power_w"].get<double>());

    // Registers are read in pairs: an odd start or an odd count is an exception.
    CHECK(is_exception(raw_read(*link, unit, RegisterKind::input, 0x35, 2).error,
                       ModbusErrc::illegal_data_address));
    CHECK(is_exception(raw_read(*link, unit, RegisterKind::input, 1, 4).error,
                       ModbusErrc::illegal_data_address));
    CHECK(is_exception(raw_read(*link, unit, RegisterKind::input, 0x34, 1).error,
                       ModbusErrc::illegal_data_value));
    CHECK(is_exception(raw_read(*link, unit, RegisterKind::input, 0x34, 3).error,
                       ModbusErrc::illegal_data_value));
    CHECK_FALSE(raw_read(*link, unit, RegisterKind::input, 0x34, 2).error);
    // Measurements are input registers: FC03 finds nothing there.
    CHECK(is_exception(raw_read(*link, unit, RegisterKind::holding, 0x34, 2).error,
                       ModbusErrc::illegal_data_address));

    // The generic four-quadrant meter has the same limits (its profile says so); devices
    // without them (Janitza UMG 604, Raritan PX3) answer odd starts and counts and, within their
    // map, more than 80 registers.
    CHECK(is_exception(raw_read(*link, 3, RegisterKind::input, 0, 100).error,
                       ModbusErrc::illegal_data_value));
    CHECK(is_exception(raw_read(*link, 3, RegisterKind::input, 0x35, 2).error,
                       ModbusErrc::illegal_data_address));
    CHECK_FALSE(raw_read(*link, 4, RegisterKind::holding, 19001, 3).error);
    auto pdus = open_link(site, "pdus");
    CHECK_FALSE(raw_read(*pdus, 1, RegisterKind::holding, 0x3001, 101).error);
}

TEST_CASE("The Schneider iEM3xxx is read at the documented number minus one: energies are int64 "
          "Wh there, one register later they are garbage",
          "[devices]") {
    DeviceLibrarySite site;
    const auto served = site.snapshot()["devices"]["grid-iem3xxx"]["points"];
    auto link = open_link(site, "meters");
    constexpr int unit = 2;
    using modbus::RegisterKind;

    auto int64_at = [](const std::vector<std::uint16_t>& regs, std::size_t at) {
        std::uint64_t raw = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            raw = (raw << 16U) | regs[at + i];
        }
        return static_cast<std::int64_t>(raw);
    };
    // Doc 3204..3211: active energy delivered and received, wire 3203..3210.
    const RawRead wire = raw_read(*link, unit, RegisterKind::holding, 3203, 8);
    REQUIRE_FALSE(wire.error);
    CHECK(int64_at(wire.registers, 0) == served["import_energy_wh"].get<double>());
    CHECK(int64_at(wire.registers, 4) == served["export_energy_wh"].get<double>());
    CHECK(int64_at(wire.registers, 0) == 2500000);
    // At the documented number itself: three words of one value and one of the next. The meter
    // answers (no exception), and the number is far from the energy.
    const RawRead doc = raw_read(*link, unit, RegisterKind::holding, 3204, 4);
    REQUIRE_FALSE(doc.error);
    CHECK(std::fabs(static_cast<double>(int64_at(doc.registers, 0)) - 2500000.0) > 1.0e9);
    // Total power at doc 3060 is wire 3059 (float32 kW): read at 3060, the request covers a
    // reserved register and fails.
    CHECK(is_exception(raw_read(*link, unit, RegisterKind::holding, 3060, 2).error,
                       modbus::ModbusErrc::illegal_data_address));
    CHECK_FALSE(raw_read(*link, unit, RegisterKind::holding, 3059, 2).error);
}

TEST_CASE("The Eaton floor-PDU panel answers on unit panel + 1 only, with input registers, and "
          "fails reads of registers it does not support",
          "[devices]") {
    DeviceLibrarySite site;
    const auto served = site.snapshot()["devices"]["eaton-panel-1"]["points"];
    auto link = open_link(site, "pxg");
    using modbus::ModbusErrc;
    using modbus::RegisterKind;

    // Panel 1: unit 2. Voltage A-N at 4010, 2 registers, FC04 (the gateway guide's example).
    const RawRead voltage = raw_read(*link, 2, RegisterKind::input, 4010, 2);
    REQUIRE_FALSE(voltage.error);
    modbus::PointSpec spec;
    spec.name = "voltage_an_v";
    spec.type = modbus::DataType::f32;
    spec.address = 4010;
    spec.registers = 2;
    CHECK(modbus::decode_point(spec, voltage.registers, std::nullopt).value ==
          served["voltage_an_v"].get<double>());
    // Unit 1 (the panel number itself) and unit 3 (panel 2, not installed) fail at once.
    for (int unit : {1, 3}) {
        INFO("unit " << unit);
        CHECK(is_exception(raw_read(*link, unit, RegisterKind::input, 4010, 2).error,
                           ModbusErrc::gateway_target_failed));
    }
    // Input registers only.
    CHECK(is_exception(raw_read(*link, 2, RegisterKind::holding, 4010, 2).error,
                       ModbusErrc::illegal_data_address));
    // A request that covers a register the panel does not support fails as a whole: 4012..4099
    // are not in its map.
    CHECK(is_exception(raw_read(*link, 2, RegisterKind::input, 4010, 4).error,
                       ModbusErrc::illegal_data_address));
    CHECK(is_exception(raw_read(*link, 2, RegisterKind::input, 4050, 2).error,
                       ModbusErrc::illegal_data_address));
    // The link is still good after the exceptions.
    CHECK_FALSE(raw_read(*link, 2, RegisterKind::input, 4100, 4).error);
}

TEST_CASE("greenrack-scan matches each unit of the device library to its profile, and finds the "
          "Eaton panel on unit 2 only",
          "[devices]") {
    DeviceLibrarySite site;
    auto scan = [&](const std::string& listener, const std::string& units) {
        auto result = run_program(GREENRACK_SCAN_BIN, {"--profile-dir", profile_dir.string(),
                                                       "--tcp", site.endpoint(listener), "--units",
                                                       units, "--bus-id", listener, "--quiet"});
        INFO(listener << " stdout:\n" << result.out << "\nstderr:\n" << result.err);
        REQUIRE(result.status == 0);
        return result.out;
    };
    // The printed block (comments and [[device]] table) of the device at `unit`, "" if none.
    auto block_of = [](const std::string& out, int unit) -> std::string {
        const auto at = out.find("\nunit_id = " + std::to_string(unit) + "\n");
        if (at == std::string::npos) {
            return "";
        }
        const auto begin = out.rfind("\n\n", at);
        const auto end = out.find("\n\n", at);
        return out.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    };
    auto profile_of = [&](const std::string& out, int unit) -> std::string {
        const std::string block = block_of(out, unit);
        const auto line = block.find("\nprofile = \"");
        if (line == std::string::npos) {
            return "(none)";
        }
        const auto begin = line + 12;
        return block.substr(begin, block.find('"', begin) - begin);
    };
    auto devices_in = [](const std::string& out) {
        std::size_t count = 0;
        for (auto at = out.find("\n[[device]]\n"); at != std::string::npos;
             at = out.find("\n[[device]]\n", at + 1)) {
            ++count;
        }
        return count;
    };

    const std::string pdus = scan("pdus", "1-3");
    CHECK(devices_in(pdus) == 1);
    CHECK(profile_of(pdus, 1) == "rack_pdu_px3_24");

    // One gateway endpoint, units 1-3: only unit 2 (panel 1) answers, with the Eaton profile.
    const std::string pxg = scan("pxg", "1-3");
    CHECK(devices_in(pxg) == 1);
    CHECK(profile_of(pxg, 2) == "pdu_eaton_floor_gateway");
    CHECK(block_of(pxg, 1).empty());
    CHECK(block_of(pxg, 3).empty());

    const std::string plant = scan("plant", "1-20");
    CHECK(devices_in(plant) == 3);
    // The SunSpec inverter is identified by discovery (model chain and common model) and matches
    // the shipped pv_sunspec_103; whether the block then names that profile or a discovered
    // SunSpec binding is the scan's choice, so only the match itself is asserted.
    const std::string pv = block_of(plant, 1);
    CHECK(pv.find("# SunSpec at 40000, models 1, 103: Test Solar TS-60K-3P version 2.0.1 serial "
                  "TS60K0001") != std::string::npos);
    CHECK(pv.find("pv_sunspec_103: ") != std::string::npos);
    CHECK(profile_of(plant, 10) == "wind_midnite_classic");
    CHECK(profile_of(plant, 20) == "battery_generic");

    // Four meters, four profiles. The SDM630 and the generic four-quadrant meter share addresses:
    // on the SDM630 the 4q profile's two extension registers read 0 (a hole), so both profiles
    // are plausible there and the SDM630 wins on its points (9 vs 8); on the 4q meter the
    // SDM630 profile's energy block (0x0156..) is outside the map, so only meter_grid_4q fits.
    const std::string meters = scan("meters", "1-4");
    CHECK(devices_in(meters) == 4);
    CHECK(profile_of(meters, 1) == "meter_sdm630");
    CHECK(profile_of(meters, 2) == "meter_iem3xxx");
    CHECK(profile_of(meters, 3) == "meter_grid_4q");
    CHECK(profile_of(meters, 4) == "meter_facility_umg604");

    // What the scan cannot tell by itself: offered only meter_grid_4q, it matches the SDM630 too
    // (values alone cannot show that 0x24/0x26 are a hole there rather than zero power), and
    // neither the iEM3xxx nor the UMG 604.
    const TempDir only_4q("greenrack-scan-4q");
    std::filesystem::copy_file(profile_dir / "meter_grid_4q.toml",
                               only_4q.path() / "meter_grid_4q.toml");
    const auto narrow =
        run_program(GREENRACK_SCAN_BIN, {"--profile-dir", only_4q.path().string(), "--tcp",
                                         site.endpoint("meters"), "--units", "1-4", "--quiet"});
    INFO(narrow.out);
    REQUIRE(narrow.status == 0);
    CHECK(devices_in(narrow.out) == 2);
    CHECK(profile_of(narrow.out, 1) == "meter_grid_4q");
    CHECK(profile_of(narrow.out, 3) == "meter_grid_4q");
    CHECK(block_of(narrow.out, 2).empty());
    CHECK(block_of(narrow.out, 4).empty());
}
