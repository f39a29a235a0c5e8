#include "drivers/sunspec/role_binding.hpp"

#include "drivers/modbus/codec.hpp"
#include "drivers/modbus/request_decoder.hpp"
#include "drivers/sunspec/models.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

using greenrack::modbus::DataType;
using greenrack::modbus::PointKind;
using greenrack::modbus::PointSpec;
using greenrack::profiles::DeviceRole;
using namespace greenrack::sunspec;

namespace {

// A chain laid out as a device would: models one after the other from base + 2.
std::vector<ModelHeader> chain_of(std::vector<std::pair<std::uint16_t, std::uint16_t>> models,
                                  std::uint16_t base = 40000) {
    std::vector<ModelHeader> chain;
    std::uint16_t address = base + 2;
    for (const auto& [id, length] : models) {
        chain.push_back({id, address, length});
        address = static_cast<std::uint16_t>(address + 2 + length);
    }
    return chain;
}

Binding bind_ok(const std::vector<ModelHeader>& chain, BindOptions options) {
    auto result = bind_role(chain, options);
    if (const auto* error = std::get_if<BindError>(&result)) {
        FAIL("bind failed: " << error->message);
    }
    return std::get<Binding>(std::move(result));
}

// The read point delivering role point `name`, or nullptr.
const PointSpec* delivered(const Binding& binding, const std::string& name) {
    const auto profile = role_profile(binding.read_profile.device_role);
    for (std::size_t k = 0; k < binding.read_profile.points.size(); ++k) {
        const std::size_t out = binding.output[k];
        if (out != no_output && profile.points.at(out).name == name) {
            return &binding.read_profile.points[k];
        }
    }
    return nullptr;
}

std::uint16_t address_of(const ModelHeader& header, int model, std::string_view point) {
    return static_cast<std::uint16_t>(header.address + 2 +
                                      find_model(model)->find_point(point)->offset);
}

} // namespace

TEST_CASE("role_profile offers the same points for every SunSpec device of a role, with the "
          "roles the site model reads",
          "[sunspec][binding]") {
    const auto pv = role_profile(DeviceRole::pv_inverter);
    CHECK(pv.name == "sunspec");
    CHECK(pv.discovered);
    CHECK(pv.device_role == DeviceRole::pv_inverter);
    REQUIRE(pv.find("ac_power_w"));
    CHECK(pv.points[*pv.find("ac_power_w")].role == "ac_power");
    CHECK(pv.points[*pv.find("ac_energy_wh")].kind == PointKind::counter);
    CHECK(pv.points[*pv.find("manufacturer")].type == DataType::string);

    const auto grid = role_profile(DeviceRole::grid_meter);
    CHECK(grid.points[*grid.find("net_power_w")].role == "net_power");
    CHECK(grid.points[*grid.find("import_energy_wh")].role == "import_energy");
    CHECK(grid.points[*grid.find("export_energy_wh")].role == "export_energy");
    CHECK_FALSE(grid.find("load_power_w"));

    const auto facility = role_profile(DeviceRole::facility_meter);
    CHECK(facility.points[*facility.find("load_power_w")].role == "load_power");
    CHECK(facility.points[*facility.find("load_energy_wh")].role == "load_energy");

    const auto battery = role_profile(DeviceRole::battery);
    for (const char* role : {"battery_power", "soc", "capacity", "charge_energy",
                             "discharge_energy", "max_charge_power", "max_discharge_power"}) {
        INFO(role);
        CHECK(std::any_of(battery.points.begin(), battery.points.end(),
                          [&](const PointSpec& p) { return p.role == role; }));
    }
    CHECK_FALSE(supports_role(DeviceRole::rack_pdu));
    CHECK(supports_role(DeviceRole::wind_turbine));
}

TEST_CASE("A PV inverter with models 1 and 103 reads W and WH at the model's addresses with their "
          "scale factors in the same request",
          "[sunspec][binding]") {
    const auto chain = chain_of({{1, 66}, {103, 50}, {160, 48}});
    const Binding binding = bind_ok(chain, {DeviceRole::pv_inverter, false, 125});

    const PointSpec* power = delivered(binding, "ac_power_w");
    REQUIRE(power);
    CHECK(power->address == 40084); // 40070 + 2 + 12
    CHECK(power->address == address_of(chain[1], 103, "W"));
    CHECK(power->type == DataType::i16);
    CHECK(power->scale == 1.0);
    REQUIRE(power->scale_factor);
    const PointSpec& w_sf = binding.read_profile.points[*power->scale_factor];
    CHECK(w_sf.type == DataType::sunssf);
    CHECK(w_sf.address == address_of(chain[1], 103, "W_SF"));
    CHECK(binding.output[*power->scale_factor] == no_output);

    const PointSpec* energy = delivered(binding, "ac_energy_wh");
    REQUIRE(energy);
    CHECK(energy->type == DataType::acc32);
    CHECK(energy->registers == 2);
    CHECK(energy->kind == PointKind::counter);

    const PointSpec* pf = delivered(binding, "power_factor");
    REQUIRE(pf);
    CHECK(pf->scale == Approx(0.01)); // percent on the wire

    const PointSpec* serial = delivered(binding, "serial_number");
    REQUIRE(serial);
    CHECK(serial->address == address_of(chain[0], 1, "SN"));
    CHECK(serial->type == DataType::string);
    CHECK(serial->registers == 16);

    // No model 120 in this chain: the nameplate is listed as lacking, and nothing delivers it.
    CHECK(delivered(binding, "rated_power_w") == nullptr);
    CHECK(std::find(binding.sources.begin(), binding.sources.end(),
                    "rated_power_w: not in this device's models") != binding.sources.end());

    // Every value is read by the request that reads its scale factor; no request spans models.
    for (const auto& request : binding.plan.requests) {
        const std::uint32_t end = request.start + request.count;
        const auto model = std::find_if(chain.begin(), chain.end(), [&](const ModelHeader& h) {
            return request.start >= h.address && end <= h.address + 2u + h.length;
        });
        CHECK(model != chain.end());
        for (std::size_t index : request.points) {
            const PointSpec& point = binding.read_profile.points[index];
            if (point.scale_factor) {
                CHECK(std::find(request.points.begin(), request.points.end(),
                                *point.scale_factor) != request.points.end());
            }
        }
    }
    CHECK(binding.plan.requests.size() == 2); // model 1 and model 103 (160 carries nothing)
}

TEST_CASE("Decoding the registers a binding reads gives the role's values in SI units",
          "[sunspec][binding]") {
    const auto chain = chain_of({{1, 66}, {103, 50}});
    const Binding binding = bind_ok(chain, {DeviceRole::pv_inverter, false, 125});
    // Registers 40000..40123 as a device would serve them: W = 1234 with W_SF = 1 (12 340 W),
    // PF = 9850 with PF_SF = -2 (98.5 % -> 0.985).
    std::map<std::uint16_t, std::uint16_t> regs;
    regs[address_of(chain[1], 103, "W")] = 1234;
    regs[address_of(chain[1], 103, "W_SF")] = 1;
    regs[address_of(chain[1], 103, "PF")] = 9850;
    regs[address_of(chain[1], 103, "PF_SF")] = static_cast<std::uint16_t>(-2);
    std::vector<greenrack::modbus::PointValue> values(binding.read_profile.points.size());
    for (const auto& request : binding.plan.requests) {
        std::vector<std::uint16_t> data(request.count);
        for (std::uint16_t i = 0; i < request.count; ++i) {
            auto it = regs.find(static_cast<std::uint16_t>(request.start + i));
            data[i] = it == regs.end() ? 0 : it->second;
        }
        greenrack::modbus::decode_request(binding.read_profile.points, request, data, values);
    }
    const auto index_of = [&](const PointSpec* point) {
        return static_cast<std::size_t>(point - binding.read_profile.points.data());
    };
    CHECK(values[index_of(delivered(binding, "ac_power_w"))].value == Approx(12340.0));
    CHECK(values[index_of(delivered(binding, "power_factor"))].value == Approx(0.985));
}

TEST_CASE("A grid meter binds W, TotWhImp and TotWhExp of its meter model, and invert_power flips "
          "W only",
          "[sunspec][binding]") {
    // A vendor model between the common model and the meter, as some meters have.
    const auto chain = chain_of({{1, 66}, {64100, 10}, {203, 105}});
    const Binding plain = bind_ok(chain, {DeviceRole::grid_meter, false, 125});
    const PointSpec* net = delivered(plain, "net_power_w");
    REQUIRE(net);
    CHECK(net->address == address_of(chain[2], 203, "W"));
    CHECK(net->scale == 1.0);
    CHECK(delivered(plain, "import_energy_wh")->address == address_of(chain[2], 203, "TotWhImp"));
    CHECK(delivered(plain, "export_energy_wh")->address == address_of(chain[2], 203, "TotWhExp"));

    const Binding inverted = bind_ok(chain, {DeviceRole::grid_meter, true, 125});
    CHECK(delivered(inverted, "net_power_w")->scale == -1.0);
    CHECK(delivered(inverted, "import_energy_wh")->scale == 1.0);
    CHECK(delivered(inverted, "import_energy_wh")->address ==
          address_of(chain[2], 203, "TotWhImp"));

    const Binding facility = bind_ok(chain, {DeviceRole::facility_meter, false, 125});
    CHECK(delivered(facility, "load_power_w")->address == address_of(chain[2], 203, "W"));
    CHECK(delivered(facility, "load_energy_wh")->address == address_of(chain[2], 203, "TotWhImp"));
    // A request never covers the vendor model.
    for (const auto& request : plain.plan.requests) {
        CHECK((request.start + request.count <= chain[1].address ||
               request.start >= chain[2].address));
    }
}

TEST_CASE("A hybrid storage inverter (1, 701, 713, 802) takes power from 701, state of charge and "
          "capacity from 802, energy counters from 701",
          "[sunspec][binding]") {
    const auto chain = chain_of({{1, 66}, {701, 153}, {713, 7}, {802, 62}});
    const Binding binding = bind_ok(chain, {DeviceRole::battery, false, 125});
    CHECK(delivered(binding, "battery_power_w")->address == address_of(chain[1], 701, "W"));
    CHECK(delivered(binding, "soc_pct")->address == address_of(chain[3], 802, "SoC"));
    CHECK(delivered(binding, "capacity_wh")->address == address_of(chain[3], 802, "WHRtg"));
    CHECK(delivered(binding, "charge_energy_wh")->address == address_of(chain[1], 701, "TotWhAbs"));
    CHECK(delivered(binding, "discharge_energy_wh")->address ==
          address_of(chain[1], 701, "TotWhInj"));
    CHECK(delivered(binding, "discharge_energy_wh")->type == DataType::u64);
    CHECK(delivered(binding, "available_energy_wh")->address ==
          address_of(chain[2], 713, "WHAvail"));
    // 701 is longer than one request, and W at offset 8 sits 110 registers before its W_SF:
    // still read together.
    const PointSpec* power = delivered(binding, "battery_power_w");
    const auto power_index = static_cast<std::size_t>(power - binding.read_profile.points.data());
    const auto carrier = std::find_if(
        binding.plan.requests.begin(), binding.plan.requests.end(), [&](const auto& request) {
            return std::find(request.points.begin(), request.points.end(), power_index) !=
                   request.points.end();
        });
    REQUIRE(carrier != binding.plan.requests.end());
    CHECK(std::find(carrier->points.begin(), carrier->points.end(), *power->scale_factor) !=
          carrier->points.end());

    // Without 701 and 802: 713 gives SoC and capacity, 124 the charge limit, and there is no
    // power at all: binding fails with what it needs.
    const auto storage_only = chain_of({{1, 66}, {124, 24}, {713, 7}});
    auto failed = bind_role(storage_only, {DeviceRole::battery, false, 125});
    REQUIRE(std::holds_alternative<BindError>(failed));
    CHECK(std::get<BindError>(failed).message ==
          "role battery needs a battery or inverter model (701, 802, 101-103 or 111-113); the "
          "chain has 1, 124, 713");

    const auto with_inverter = chain_of({{1, 66}, {103, 50}, {124, 24}, {713, 7}});
    const Binding fallback = bind_ok(with_inverter, {DeviceRole::battery, true, 125});
    CHECK(delivered(fallback, "battery_power_w")->address ==
          address_of(with_inverter[1], 103, "W"));
    CHECK(delivered(fallback, "battery_power_w")->scale == -1.0);
    CHECK(delivered(fallback, "soc_pct")->address == address_of(with_inverter[3], 713, "SoC"));
    CHECK(delivered(fallback, "max_charge_power_w")->address ==
          address_of(with_inverter[2], 124, "WChaMax"));
}

TEST_CASE("A role the chain has no model for is refused with the models it needs",
          "[sunspec][binding]") {
    const auto inverter = chain_of({{1, 66}, {103, 50}});
    auto result = bind_role(inverter, {DeviceRole::grid_meter, false, 125});
    REQUIRE(std::holds_alternative<BindError>(result));
    CHECK(std::get<BindError>(result).message ==
          "role grid_meter needs a meter model (201, 202, 203 or 204); the chain has 1, 103");

    auto empty = bind_role(std::vector<ModelHeader>{}, {DeviceRole::pv_inverter, false, 125});
    REQUIRE(std::holds_alternative<BindError>(empty));
    CHECK(std::get<BindError>(empty).message ==
          "role pv_inverter needs an inverter model (101-103, 111-113 or 701); the chain has no "
          "model");
}

TEST_CASE("Points past the end of a shorter model instance are not read, and float models need no "
          "scale factor",
          "[sunspec][binding]") {
    // An older common model (L = 65) and a float inverter.
    const auto chain = chain_of({{1, 65}, {113, 60}});
    const Binding binding = bind_ok(chain, {DeviceRole::wind_turbine, false, 125});
    CHECK(delivered(binding, "serial_number") != nullptr); // SN ends at offset 64 < 65
    const PointSpec* power = delivered(binding, "ac_power_w");
    REQUIRE(power);
    CHECK(power->type == DataType::f32);
    CHECK_FALSE(power->scale_factor);
    CHECK(binding.read_profile.device_role == DeviceRole::wind_turbine);

    // A 103 cut short before W_SF: W cannot be scaled, so it is not bound from that model.
    const auto cut = chain_of({{1, 66}, {103, 13}});
    auto result = bind_role(cut, {DeviceRole::pv_inverter, false, 125});
    REQUIRE(std::holds_alternative<BindError>(result));
}

TEST_CASE("Small request limits split a model into several requests, each value still with its "
          "scale factor",
          "[sunspec][binding]") {
    const auto chain = chain_of({{1, 66}, {203, 105}});
    const Binding binding = bind_ok(chain, {DeviceRole::grid_meter, false, 20});
    CHECK(binding.read_profile.max_registers == 20);
    for (const auto& request : binding.plan.requests) {
        CHECK(request.count <= 20);
        for (std::size_t index : request.points) {
            const PointSpec& point = binding.read_profile.points[index];
            if (point.scale_factor) {
                CHECK(std::find(request.points.begin(), request.points.end(),
                                *point.scale_factor) != request.points.end());
            }
        }
    }
    CHECK(binding.plan.requests.size() > 2);
}

TEST_CASE("describe_chain lists id, address and length", "[sunspec][binding]") {
    CHECK(describe_chain(chain_of({{1, 66}, {103, 50}})) == "1 (40002, 66), 103 (40070, 50)");
    CHECK(describe_chain({}) == "(no models)");
}
