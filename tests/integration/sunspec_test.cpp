// SunSpec end to end: greenrack-sim serves the SunSpec devices of
// tests/fixtures/sunspec/sunspec-site.sim.toml (every layout greenrack decodes, with the quirks of
// real devices, and a hybrid storage inverter with the DER models 701 and 713) on free loopback
// ports; discovery walks each model chain over a real ModbusLink, and every supported model
// decodes to exactly the values the simulator says it serves.

#include "drivers/modbus/transport.hpp"
#include "drivers/profiles/profile_loader.hpp"
#include "drivers/sunspec/decode.hpp"
#include "drivers/sunspec/discovery.hpp"
#include "drivers/sunspec/link_reader.hpp"
#include "drivers/sunspec/models.hpp"
#include "tests/integration/site_harness.hpp"
#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace greenrack;
using namespace greenrack::test;

namespace {

const std::filesystem::path fixtures =
    std::filesystem::path(GREENRACK_SOURCE_DIR) / "tests/fixtures/sunspec";
constexpr std::chrono::milliseconds response_timeout{1000};

// What discovery must find on one device of the site.
struct ExpectedDevice {
    std::string id; // device id in the scenario (and the snapshot)
    std::string listener;
    int unit = 0;
    std::string profile; // fixture profile: which register is which served point
    std::uint16_t base = 0;
    std::vector<sunspec::ModelHeader> models;
    std::uint16_t end = 0;
    sunspec::DeviceIdentity identity;
    std::vector<std::string> warnings; // each warning must contain its entry, in order
    // Registers the device leaves out of its map (answered with exception 02), by model id.
    std::map<int, std::pair<std::uint16_t, std::uint16_t>> unmapped; // [first, last] address
};

sunspec::DeviceIdentity identity(const char* manufacturer, const char* model, const char* version,
                                 const char* serial, std::uint16_t da) {
    return {manufacturer, model, "", version, serial, da};
}

const std::vector<ExpectedDevice>& site_devices() {
    static const std::vector<ExpectedDevice> devices = {
        {"inverter-3ph",
         "generation",
         1,
         "sunspec_inverter_103_mppt",
         40000,
         {{1, 40002, 66}, {103, 40070, 50}, {160, 40122, 48}},
         40172,
         identity("Greenrack Test", "GT-40K-3P", "2.1.0", "GT3P0001", 1),
         {},
         {}},
        {"inverter-1ph",
         "generation",
         2,
         "sunspec_inverter_101_base0",
         0,
         {{1, 2, 65}, {101, 69, 50}},
         121,
         identity("Greenrack Test", "GT-5K-1P", "1.4", "GT1P0002", 2),
         {"common model at 2 has length 65 (66 expected): an older device without the Pad"},
         {}},
        {"inverter-float",
         "generation",
         3,
         "sunspec_inverter_113_base50000",
         50000,
         {{1, 50002, 66}, {113, 50070, 60}},
         50132,
         identity("Greenrack Test", "GT-25K-F", "3.0.2", "GTF00003", 3),
         {"end model at 50132 has no length register"},
         {}},
        {"meter-3ph",
         "meters",
         4,
         "sunspec_meter_203_vendor",
         40000,
         {{1, 40002, 66}, {64110, 40070, 4}, {203, 40076, 105}},
         40183,
         identity("Greenrack Meters", "GM-203", "5.2", "GM3P0004", 4),
         {},
         {}},
        {"meter-1ph",
         "meters",
         5,
         "sunspec_meter_201_gap",
         40000,
         {{1, 40002, 66}, {201, 40070, 105}},
         40177,
         identity("Greenrack Meters", "GM-201", "5.0", "GM1P0005", 5),
         {},
         {{201, {40070 + 2 + 53, 40070 + 2 + 102}}}},
        {"battery",
         "meters",
         6,
         "sunspec_storage_124_802",
         40000,
         {{1, 40002, 66}, {124, 40070, 24}, {802, 40096, 62}},
         40160,
         identity("Greenrack Storage", "GS-200", "0.9.1", "GS000006", 6),
         {},
         {}},
        {"hybrid",
         "meters",
         7,
         "sunspec_hybrid_701_713_802",
         40000,
         {{1, 40002, 66}, {701, 40070, 153}, {713, 40225, 7}, {802, 40234, 62}},
         40298,
         identity("Greenrack Storage", "GH-80-3P", "4.3.0", "GH000007", 7),
         {},
         {}},
    };
    return devices;
}

// One SunSpec point of a decoded model, found by its register offset (after ID and L).
const sunspec::DecodedPoint* point_at(const sunspec::DecodedModel& model, std::size_t offset) {
    for (const auto& point : model.points) {
        if (point.def->offset == offset) {
            return &point;
        }
    }
    std::size_t group_start = model.def->length;
    for (const auto& group : model.groups) {
        for (const auto& instance : group.instances) {
            for (const auto& point : instance) {
                if (group_start + point.def->offset == offset) {
                    return &point;
                }
            }
            group_start += group.def->length;
        }
    }
    return nullptr;
}

struct ModelRead {
    std::vector<std::uint16_t> data;                    // L registers; unreadable ones are 0
    std::set<std::uint16_t> unreadable;                 // addresses that answered exception 02
    std::optional<sunspec::ReadError> whole_read_error; // the first read of the whole model
};

// Reads a model's data registers in requests of at most 125; where a request fails with an
// exception, reads its registers one by one to find which ones the device leaves out.
ModelRead read_model(const sunspec::ReadFunction& read, const sunspec::ModelHeader& header) {
    ModelRead out;
    const std::uint32_t first = header.address + 2U;
    const std::uint32_t last = first + header.length;
    for (std::uint32_t at = first; at < last;) {
        const auto count = static_cast<std::uint16_t>(std::min<std::uint32_t>(125, last - at));
        auto result = read(static_cast<std::uint16_t>(at), count);
        if (const auto* regs = std::get_if<std::vector<std::uint16_t>>(&result)) {
            REQUIRE(regs->size() == count);
            out.data.insert(out.data.end(), regs->begin(), regs->end());
        } else {
            const auto& error = std::get<sunspec::ReadError>(result);
            if (!out.whole_read_error) {
                out.whole_read_error = error;
            }
            REQUIRE(error.kind == sunspec::ReadError::Kind::exception);
            for (std::uint32_t a = at; a < at + count; ++a) {
                auto one = read(static_cast<std::uint16_t>(a), 1);
                if (const auto* reg = std::get_if<std::vector<std::uint16_t>>(&one)) {
                    out.data.push_back(reg->at(0));
                } else {
                    REQUIRE(std::get<sunspec::ReadError>(one).exception_code == 2);
                    out.unreadable.insert(static_cast<std::uint16_t>(a));
                    out.data.push_back(0);
                }
            }
        }
        at += count;
    }
    return out;
}

bool same_number(double want, double got) {
    return std::fabs(want - got) <= 1e-9 * std::max(1.0, std::fabs(want));
}

// Discovers one device over a real ModbusLink and checks its chain, identity and warnings.
sunspec::Discovery discover_device(modbus::ModbusLink& link, const ExpectedDevice& device) {
    const auto found =
        sunspec::discover(sunspec::make_link_reader(link, device.unit, response_timeout));
    if (const auto* error = std::get_if<sunspec::DiscoveryError>(&found)) {
        FAIL("discovery failed: " << error->message);
    }
    const auto& map = std::get<sunspec::Discovery>(found);
    CHECK(map.base == device.base);
    CHECK(map.models == device.models);
    CHECK(map.end == device.end);
    REQUIRE(map.identity.has_value());
    CHECK(*map.identity == device.identity);
    REQUIRE(map.warnings.size() == device.warnings.size());
    for (std::size_t i = 0; i < map.warnings.size(); ++i) {
        INFO("warning " << map.warnings[i]);
        CHECK(map.warnings[i].find(device.warnings[i]) != std::string::npos);
    }
    return map;
}

modbus::ModbusLink& open_link(std::map<std::string, std::unique_ptr<modbus::ModbusLink>>& links,
                              const SunSpecSite& site, const std::string& listener) {
    auto& link = links[listener];
    if (!link) {
        link = std::make_unique<modbus::ModbusLink>(
            modbus::TcpEndpoint{"127.0.0.1", site.port(listener)});
        REQUIRE_FALSE(link->open(std::chrono::milliseconds(2000)));
    }
    return *link;
}

} // namespace

TEST_CASE("SunSpec discovery over a real Modbus link finds each simulated device's base, exact "
          "model chain, identity and quirk warnings",
          "[sunspec]") {
    SunSpecSite site;
    std::map<std::string, std::unique_ptr<modbus::ModbusLink>> links;
    for (const auto& device : site_devices()) {
        INFO("device " << device.id);
        discover_device(open_link(links, site, device.listener), device);
    }
}

TEST_CASE("Every supported SunSpec model of each simulated device decodes to the values the "
          "simulator serves, scale factors applied, unimplemented points missing",
          "[sunspec]") {
    SunSpecSite site;
    const auto snapshot = site.snapshot();
    std::map<std::string, std::unique_ptr<modbus::ModbusLink>> links;
    for (const auto& device : site_devices()) {
        INFO("device " << device.id);
        auto& link = open_link(links, site, device.listener);
        const auto map = discover_device(link, device);
        const auto profile =
            profiles::load_profile_file(fixtures / "profiles" / (device.profile + ".toml"));
        const auto& served = snapshot["devices"][device.id]["points"];
        REQUIRE(served.size() == profile.points.size());
        const auto read = sunspec::make_link_reader(link, device.unit, response_timeout);
        std::size_t compared = 0;
        std::size_t missing = 0;
        for (const auto& header : map.models) {
            INFO("model " << header.id << " at " << header.address);
            const sunspec::ModelDef* def = sunspec::find_model(header.id);
            if (def == nullptr) {
                CHECK(header.is_vendor());
                continue;
            }
            const ModelRead registers = read_model(read, header);
            const auto gap = device.unmapped.find(header.id);
            if (gap == device.unmapped.end()) {
                CHECK_FALSE(registers.whole_read_error.has_value());
                CHECK(registers.unreadable.empty());
            } else {
                // The whole model cannot be read at once: the device answers exception 02 for
                // the registers it leaves out, and exactly those.
                REQUIRE(registers.whole_read_error.has_value());
                CHECK(registers.whole_read_error->exception_code == 2);
                REQUIRE_FALSE(registers.unreadable.empty());
                CHECK(*registers.unreadable.begin() == gap->second.first);
                CHECK(*registers.unreadable.rbegin() == gap->second.second);
                CHECK(registers.unreadable.size() ==
                      static_cast<std::size_t>(gap->second.second - gap->second.first + 1));
            }
            const auto decoded = sunspec::decode(*def, registers.data);
            // Only the older common model (L = 65, no Pad) is shorter than its table.
            CHECK(decoded.truncated == (header.id == 1 && header.length == 65));
            CHECK(decoded.trailing_registers == 0);
            const std::uint32_t data_start = header.address + 2U;
            // Every register of the model belongs to a point the simulator serves (a profile
            // point), a Pad, or the device's gap: nothing is left to chance.
            std::set<std::uint32_t> covered;
            for (const auto& spec : profile.points) {
                if (spec.address < data_start || spec.address >= data_start + header.length) {
                    continue;
                }
                INFO("point " << spec.name << " at " << spec.address);
                const auto* point = point_at(decoded, spec.address - data_start);
                REQUIRE(point != nullptr);
                CHECK(point->def->size == spec.registers);
                for (std::uint32_t a = spec.address; a < spec.end(); ++a) {
                    covered.insert(a);
                }
                REQUIRE(served.contains(spec.name));
                const auto& want = served[spec.name];
                INFO("served " << want.dump() << ", decoded " << point->value << " \""
                               << point->text << "\" missing " << point->missing);
                ++compared;
                if (want.is_null()) {
                    ++missing;
                    CHECK(point->missing);
                } else if (want.is_string()) {
                    CHECK_FALSE(point->missing);
                    CHECK(point->text == want.get<std::string>());
                } else {
                    CHECK_FALSE(point->missing);
                    // The profile scales some points further (SunSpec PF in percent -> ratio).
                    CHECK(same_number(want.get<double>(), point->value * spec.scale + spec.offset));
                }
            }
            for (std::uint32_t a = data_start; a < data_start + header.length; ++a) {
                if (covered.count(a) != 0 || registers.unreadable.count(a) != 0) {
                    continue;
                }
                const auto* pad = point_at(decoded, a - data_start);
                INFO("register " << a << " belongs to no served point");
                REQUIRE(pad != nullptr);
                CHECK(pad->def->type == sunspec::PointType::pad);
                CHECK(pad->missing);
            }
        }
        // Every point the simulator serves was compared, and the device leaves some out.
        CHECK(compared == profile.points.size());
        CHECK(missing > 0);
    }
}

TEST_CASE("The simulated SunSpec devices serve plausible physics: power, scale factors, energy "
          "counters, voltages near 230 V and the battery's state of charge",
          "[sunspec]") {
    SunSpecSite site;
    const auto points = site.snapshot()["devices"];
    // Inverters produce at the site's solar noon; an integer W with its scale factor.
    CHECK(points["inverter-3ph"]["points"]["m103_w"].get<double>() > 10000.0);
    CHECK(points["inverter-3ph"]["points"]["m103_w_sf"].get<double>() >= 0.0);
    CHECK(points["inverter-3ph"]["points"]["m160_module_1_dcw"].get<double>() > 0.0);
    CHECK(points["inverter-1ph"]["points"]["m101_w"].get<double>() > 1000.0);
    CHECK(points["inverter-float"]["points"]["m113_w"].get<double>() > 5000.0);
    for (const auto& [id, point] :
         {std::pair{"inverter-3ph", "m103_wh"}, std::pair{"inverter-1ph", "m101_wh"},
          std::pair{"inverter-float", "m113_wh"}, std::pair{"meter-3ph", "m203_totwhimp"},
          std::pair{"meter-1ph", "m201_totwhimp"}}) {
        INFO(id << " " << point);
        CHECK(points[id]["points"][point].get<double>() >= 1.0e6); // initial_energy_wh
    }
    for (const auto& [id, point] :
         {std::pair{"inverter-3ph", "m103_phvpha"}, std::pair{"inverter-1ph", "m101_phvpha"},
          std::pair{"inverter-float", "m113_phvpha"}, std::pair{"meter-3ph", "m203_phvphc"},
          std::pair{"meter-1ph", "m201_phvpha"}}) {
        INFO(id << " " << point);
        const double volts = points[id]["points"][point].get<double>();
        CHECK(volts > 215.0);
        CHECK(volts < 245.0);
    }
    CHECK(points["battery"]["points"]["m802_soc"].get<double>() == Approx(62.5));
    CHECK(points["battery"]["points"]["m124_chastate"].get<double>() == Approx(62.5));
    // Charging at its limit: SunSpec's ChaSt 4 = CHARGING in both models (3 would say
    // DISCHARGING).
    CHECK(points["battery"]["points"]["m124_chast"].get<double>() == 4.0);
    CHECK(points["battery"]["points"]["m802_chast"].get<double>() == 4.0);
    CHECK(points["battery"]["points"]["m802_whrtg"].get<double>() == Approx(200000.0));
    CHECK(points["meter-1ph"]["points"]["m201_w"].get<double>() == Approx(6000.0));
}

TEST_CASE("The simulated hybrid storage inverter charges with a negative 701 W, and 713 and 802 "
          "agree on its capacity and state of charge",
          "[sunspec]") {
    SunSpecSite site;
    const auto snapshot = site.snapshot();
    const auto& hybrid = snapshot["devices"]["hybrid"]["points"];
    const auto& battery = snapshot["devices"]["battery"]["points"];
    const auto& balance = snapshot["site"];
    INFO(hybrid.dump());
    // PV surplus at noon: "battery" (dispatched first) takes its 50 kW, the hybrid the rest.
    REQUIRE(balance["discharge_w"].get<double>() == 0.0);
    const double hybrid_charge_w =
        balance["charge_w"].get<double>() + battery["m802_w"].get<double>();
    REQUIRE(hybrid_charge_w > 1000.0);
    // Model 701: + for generation, - for absorption (SunSpec's stated sign): charging is negative,
    // an integer W with its static W_SF = 0 (1 W steps).
    const double w701 = hybrid["m701_w"].get<double>();
    CHECK(w701 < 0.0);
    CHECK(std::fabs(w701 + hybrid_charge_w) <= 0.5);
    CHECK(hybrid["m701_w_sf"].get<double>() == 0.0);
    // Model 802 W (+ = discharge, the de-facto convention) says the same.
    CHECK(hybrid["m802_w"].get<double>() == w701);
    CHECK(hybrid["m802_a"].get<double>() < 0.0);
    CHECK(hybrid["m802_chast"].get<double>() == 4.0); // CHARGING
    // The energy counters (injected = discharged, absorbed = charged) with their static SF.
    CHECK(hybrid["m701_totwhinj"].get<double>() == 1.0e6);
    CHECK(hybrid["m701_totwhabs"].get<double>() == 1.0e6);
    CHECK(hybrid["m701_hz"].get<double>() == Approx(50.0).margin(0.1));
    // Model 713: static scale factors, capacity and SoC from the battery, WHAvail = WHRtg x SoC x
    // SoH.
    CHECK(hybrid["m713_wh_sf"].get<double>() == 1.0);
    CHECK(hybrid["m713_pct_sf"].get<double>() == -1.0);
    CHECK(hybrid["m713_whrtg"].get<double>() == 80000.0);
    CHECK(hybrid["m713_soc"].get<double>() == Approx(55.0));
    CHECK(hybrid["m713_soh"].get<double>() == Approx(97.0));
    CHECK(hybrid["m713_whavail"].get<double>() ==
          Approx(hybrid["m713_whrtg"].get<double>() * hybrid["m713_soc"].get<double>() *
                 hybrid["m713_soh"].get<double>() / 1.0e4));
    CHECK(hybrid["m713_sta"].get<double>() == 0.0); // OK
    CHECK(hybrid["m802_whrtg"].get<double>() == hybrid["m713_whrtg"].get<double>());
    CHECK(hybrid["m802_soc"].get<double>() == Approx(hybrid["m713_soc"].get<double>()));
    CHECK(hybrid["m802_soh"].get<double>() == Approx(hybrid["m713_soh"].get<double>()));
}

TEST_CASE("Model 701 is longer than one request: the simulated hybrid serves it in two reads, "
          "with 713 (static scale factors on the wire) and 802 right behind it",
          "[sunspec]") {
    SunSpecSite site;
    modbus::ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", site.port("meters")});
    REQUIRE_FALSE(link.open(std::chrono::milliseconds(2000)));
    const auto read = sunspec::make_link_reader(link, 7, response_timeout);
    // Header and body of model 701: 155 registers, more than the protocol's 125.
    auto header = read(40070, 2);
    const auto* regs = std::get_if<std::vector<std::uint16_t>>(&header);
    REQUIRE(regs != nullptr);
    CHECK((*regs)[0] == 701);
    CHECK((*regs)[1] == 153);
    // 125 registers are answered; the rest (30) in a second request.
    CHECK(std::holds_alternative<std::vector<std::uint16_t>>(read(40070, 125)));
    CHECK(std::holds_alternative<std::vector<std::uint16_t>>(read(40195, 30)));
    // 713 follows right after 701, 802 after 713.
    auto m713 = read(40225, 9);
    const auto* storage = std::get_if<std::vector<std::uint16_t>>(&m713);
    REQUIRE(storage != nullptr);
    CHECK((*storage)[0] == 713);
    CHECK((*storage)[1] == 7);
    CHECK((*storage)[7] == 1);      // WH_SF, static
    CHECK((*storage)[8] == 0xFFFF); // Pct_SF = -1, static
    auto m802 = read(40234, 2);
    const auto* battery = std::get_if<std::vector<std::uint16_t>>(&m802);
    REQUIRE(battery != nullptr);
    CHECK((*battery)[0] == 802);
    // Past the end model: exception 02.
    auto past = read(40300, 1);
    REQUIRE(std::holds_alternative<sunspec::ReadError>(past));
    CHECK(std::get<sunspec::ReadError>(past).exception_code == 2);
}

TEST_CASE("greenrack-scan --inspect lists a simulated meter's model chain, vendor model included, "
          "and decodes its SunSpec models",
          "[sunspec]") {
    SunSpecSite site;
    const auto inspect = run_program(
        GREENRACK_SCAN_BIN, {"--profile-dir", (fixtures / "profiles").string(), "--tcp",
                             "127.0.0.1:" + std::to_string(site.port("meters")), "--inspect", "4"});
    INFO(inspect.out);
    INFO(inspect.err);
    REQUIRE(inspect.status == 0);
    CHECK(inspect.out.find("SunSpec at 40000: Greenrack Meters GM-203, version 5.2, serial "
                           "GM3P0004") != std::string::npos);
    CHECK(inspect.out.find("  model 1 at 40002 (length 66) common\n") != std::string::npos);
    CHECK(inspect.out.find("  model 64110 at 40070 (length 4): not decoded (vendor or "
                           "unsupported model)\n") != std::string::npos);
    CHECK(inspect.out.find("  model 203 at 40076 (length 105) ac_meter_abcn\n") !=
          std::string::npos);
    // An unimplemented point is shown as missing.
    CHECK(inspect.out.find("\n    VAR                                                - var\n") !=
          std::string::npos);
}
