#include "drivers/sunspec/role_binding.hpp"

#include "drivers/sunspec/models.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>

namespace greenrack::sunspec {

namespace {

using modbus::DataType;
using modbus::PointKind;
using profiles::DeviceRole;

// One place a value can come from: point `point` of model `model`, times `scale`.
struct Source {
    int model = 0;
    std::string_view point;
    double scale = 1.0;
};

// A point the role offers, with its sources in order of preference.
struct LogicalPoint {
    std::string_view name;
    std::string_view role; // drivers/profiles/roles.hpp vocabulary; empty = informational
    std::string_view unit;
    PointKind kind = PointKind::gauge;
    bool text = false;        // a string (identity)
    bool power_sign = false;  // BindOptions::invert_power applies
    std::uint16_t length = 0; // registers of a string point
    std::vector<Source> sources;
};

constexpr std::array<int, 7> inverter_models{701, 103, 102, 101, 113, 112, 111};
constexpr std::array<int, 6> integer_and_float_inverters{103, 102, 101, 113, 112, 111};
constexpr std::array<int, 4> meter_models{203, 204, 202, 201};

std::vector<Source> from(std::span<const int> models, std::string_view point, double scale = 1.0) {
    std::vector<Source> out;
    for (int model : models) {
        out.push_back({model, point, scale});
    }
    return out;
}

std::vector<Source> concat(std::vector<Source> a, const std::vector<Source>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<LogicalPoint> identity_points() {
    return {
        {"manufacturer", "manufacturer", "", PointKind::gauge, true, false, 16, {{1, "Mn"}}},
        {"model", "model", "", PointKind::gauge, true, false, 16, {{1, "Md"}}},
        {"version", "version", "", PointKind::gauge, true, false, 8, {{1, "Vr"}}},
        {"serial_number", "serial", "", PointKind::gauge, true, false, 16, {{1, "SN"}}},
    };
}

std::vector<LogicalPoint> generator_points() {
    auto points = identity_points();
    const std::vector<LogicalPoint> more{
        {"ac_power_w", "ac_power", "W", PointKind::gauge, false, false, 0,
         from(inverter_models, "W")},
        {"ac_energy_wh", "ac_energy", "Wh", PointKind::counter, false, false, 0,
         concat({{701, "TotWhInj"}}, from(integer_and_float_inverters, "WH"))},
        {"ac_current_a", "current", "A", PointKind::gauge, false, false, 0,
         from(inverter_models, "A")},
        {"voltage_v", "voltage", "V", PointKind::gauge, false, false, 0,
         concat({{701, "LNV"}}, from(integer_and_float_inverters, "PhVphA"))},
        {"frequency_hz", "frequency", "Hz", PointKind::gauge, false, false, 0,
         from(inverter_models, "Hz")},
        {"apparent_power_va", "apparent_power", "VA", PointKind::gauge, false, false, 0,
         from(inverter_models, "VA")},
        // 701 gives PF as a ratio, the others in percent.
        {"power_factor", "power_factor", "", PointKind::gauge, false, false, 0,
         concat({{701, "PF"}}, from(integer_and_float_inverters, "PF", 0.01))},
        {"dc_power_w", "dc_power", "W", PointKind::gauge, false, false, 0,
         from(integer_and_float_inverters, "DCW")},
        {"cabinet_temperature_c", "temperature", "degC", PointKind::gauge, false, false, 0,
         from(inverter_models, "TmpCab")},
        {"operating_state", "status", "", PointKind::gauge, false, false, 0,
         concat(from(integer_and_float_inverters, "St"), {{701, "InvSt"}})},
        {"rated_power_w", "", "W", PointKind::gauge, false, false, 0, {{120, "WRtg"}}},
    };
    points.insert(points.end(), more.begin(), more.end());
    return points;
}

std::vector<LogicalPoint> battery_points() {
    auto points = identity_points();
    const std::vector<LogicalPoint> more{
        // 701 states + = generation (discharge); 802 states no sign, + = discharge de facto;
        // an inverter model's W is its AC output.
        {"battery_power_w", "battery_power", "W", PointKind::gauge, false, true, 0,
         concat({{701, "W"}, {802, "W"}}, from(integer_and_float_inverters, "W"))},
        {"soc_pct",
         "soc",
         "%",
         PointKind::gauge,
         false,
         false,
         0,
         {{802, "SoC"}, {713, "SoC"}, {124, "ChaState"}}},
        {"capacity_wh",
         "capacity",
         "Wh",
         PointKind::gauge,
         false,
         false,
         0,
         {{802, "WHRtg"}, {713, "WHRtg"}}},
        {"charge_energy_wh",
         "charge_energy",
         "Wh",
         PointKind::counter,
         false,
         false,
         0,
         {{701, "TotWhAbs"}}},
        {"discharge_energy_wh",
         "discharge_energy",
         "Wh",
         PointKind::counter,
         false,
         false,
         0,
         {{701, "TotWhInj"}}},
        {"max_charge_power_w",
         "max_charge_power",
         "W",
         PointKind::gauge,
         false,
         false,
         0,
         {{802, "WChaRteMax"}, {124, "WChaMax"}}},
        {"max_discharge_power_w",
         "max_discharge_power",
         "W",
         PointKind::gauge,
         false,
         false,
         0,
         {{802, "WDisChaRteMax"}}},
        {"available_energy_wh", "", "Wh", PointKind::gauge, false, false, 0, {{713, "WHAvail"}}},
        {"state_of_health_pct",
         "",
         "%",
         PointKind::gauge,
         false,
         false,
         0,
         {{802, "SoH"}, {713, "SoH"}}},
        {"dc_voltage_v", "voltage", "V", PointKind::gauge, false, false, 0, {{802, "V"}}},
        {"dc_current_a", "current", "A", PointKind::gauge, false, false, 0, {{802, "A"}}},
        {"battery_state",
         "status",
         "",
         PointKind::gauge,
         false,
         false,
         0,
         {{802, "State"}, {713, "Sta"}}},
    };
    points.insert(points.end(), more.begin(), more.end());
    return points;
}

std::vector<LogicalPoint> meter_points(bool facility) {
    auto points = identity_points();
    std::vector<LogicalPoint> more;
    if (facility) {
        more.push_back({"load_power_w", "load_power", "W", PointKind::gauge, false, true, 0,
                        from(meter_models, "W")});
        more.push_back({"load_energy_wh", "load_energy", "Wh", PointKind::counter, false, false, 0,
                        from(meter_models, "TotWhImp")});
    } else {
        more.push_back({"net_power_w", "net_power", "W", PointKind::gauge, false, true, 0,
                        from(meter_models, "W")});
        more.push_back({"import_energy_wh", "import_energy", "Wh", PointKind::counter, false, false,
                        0, from(meter_models, "TotWhImp")});
        more.push_back({"export_energy_wh", "export_energy", "Wh", PointKind::counter, false, false,
                        0, from(meter_models, "TotWhExp")});
    }
    const std::vector<LogicalPoint> common{
        {"current_a", "current", "A", PointKind::gauge, false, false, 0, from(meter_models, "A")},
        {"voltage_v", "voltage", "V", PointKind::gauge, false, false, 0, from(meter_models, "PhV")},
        {"frequency_hz", "frequency", "Hz", PointKind::gauge, false, false, 0,
         from(meter_models, "Hz")},
        {"apparent_power_va", "apparent_power", "VA", PointKind::gauge, false, false, 0,
         from(meter_models, "VA")},
        {"power_factor", "power_factor", "", PointKind::gauge, false, false, 0,
         from(meter_models, "PF", 0.01)},
    };
    more.insert(more.end(), common.begin(), common.end());
    points.insert(points.end(), more.begin(), more.end());
    return points;
}

std::vector<LogicalPoint> logical_points(DeviceRole role) {
    switch (role) {
    case DeviceRole::pv_inverter:
    case DeviceRole::wind_turbine:
        return generator_points();
    case DeviceRole::battery:
        return battery_points();
    case DeviceRole::grid_meter:
        return meter_points(false);
    case DeviceRole::facility_meter:
        return meter_points(true);
    case DeviceRole::rack_pdu:
        break;
    }
    return {};
}

// The point that must be found for a binding to make sense.
std::string_view main_point(DeviceRole role) {
    switch (role) {
    case DeviceRole::battery:
        return "battery_power_w";
    case DeviceRole::grid_meter:
        return "net_power_w";
    case DeviceRole::facility_meter:
        return "load_power_w";
    default:
        return "ac_power_w";
    }
}

std::string needed_models(DeviceRole role) {
    switch (role) {
    case DeviceRole::battery:
        return "a battery or inverter model (701, 802, 101-103 or 111-113)";
    case DeviceRole::grid_meter:
    case DeviceRole::facility_meter:
        return "a meter model (201, 202, 203 or 204)";
    default:
        return "an inverter model (101-103, 111-113 or 701)";
    }
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The point fits in the data registers the device gave the model instance.
bool fits(const PointDef& point, const ModelHeader& header) {
    return static_cast<std::uint32_t>(point.offset) + point.size <= header.length;
}

std::uint16_t wire_address(const ModelHeader& header, const PointDef& point) {
    return static_cast<std::uint16_t>(header.address + 2 + point.offset);
}

// A value bound to one model instance.
struct Chosen {
    std::size_t logical = 0;
    const PointDef* def = nullptr;
    double scale = 1.0;
};

} // namespace

bool supports_role(DeviceRole role) {
    return role != DeviceRole::rack_pdu;
}

profiles::DeviceProfile role_profile(DeviceRole role) {
    profiles::DeviceProfile profile;
    profile.name = std::string(profile_name);
    profile.description = "SunSpec " + std::string(profiles::to_string(role)) +
                          ": the register map is discovered on the device";
    profile.device_role = role;
    profile.discovered = true;
    profile.holes = profiles::HolePolicy::zero;
    for (const LogicalPoint& logical : logical_points(role)) {
        modbus::PointSpec point;
        point.name = std::string(logical.name);
        point.type = logical.text ? DataType::string : DataType::f64;
        point.registers = logical.text ? logical.length : 4;
        point.unit = std::string(logical.unit);
        point.kind = logical.kind;
        point.role = std::string(logical.role);
        profile.points.push_back(std::move(point));
    }
    return profile;
}

std::variant<Binding, BindError> bind_role(std::span<const ModelHeader> chain,
                                           const BindOptions& options) {
    const std::vector<LogicalPoint> logical = logical_points(options.role);
    // The first instance of each model id.
    std::map<int, const ModelHeader*> first;
    for (const ModelHeader& header : chain) {
        first.emplace(header.id, &header);
    }

    Binding binding;
    binding.read_profile.name = std::string(profile_name);
    binding.read_profile.description = "SunSpec chain " + describe_chain(chain);
    binding.read_profile.device_role = options.role;
    binding.read_profile.max_registers = std::clamp<std::uint16_t>(options.max_registers, 1, 125);
    binding.read_profile.max_gap =
        static_cast<std::uint16_t>(binding.read_profile.max_registers - 1);
    binding.read_profile.holes = profiles::HolePolicy::zero;

    // Model instance -> the values it delivers, in chain order.
    std::map<const ModelHeader*, std::vector<Chosen>> by_model;
    bool main_found = false;
    for (std::size_t i = 0; i < logical.size(); ++i) {
        const LogicalPoint& want = logical[i];
        bool found = false;
        for (const Source& source : want.sources) {
            auto it = first.find(source.model);
            const ModelDef* model = find_model(source.model);
            if (it == first.end() || model == nullptr) {
                continue;
            }
            const PointDef* def = model->find_point(source.point);
            if (def == nullptr || !fits(*def, *it->second)) {
                continue;
            }
            if (def->sf.kind == ScaleFactorRef::Kind::point) {
                const PointDef* sf = model->find_point(def->sf.point);
                if (sf == nullptr || !fits(*sf, *it->second)) {
                    continue;
                }
            }
            double scale = source.scale;
            if (def->sf.kind == ScaleFactorRef::Kind::fixed) {
                scale *= std::pow(10.0, def->sf.exponent);
            }
            if (want.power_sign && options.invert_power) {
                scale = -scale;
            }
            by_model[it->second].push_back({i, def, scale});
            binding.sources.push_back(std::string(want.name) + " <- " +
                                      std::to_string(source.model) + "." +
                                      std::string(source.point) + " at " +
                                      std::to_string(wire_address(*it->second, *def)));
            found = true;
            break;
        }
        if (!found) {
            binding.sources.push_back(std::string(want.name) + ": not in this device's models");
        } else if (want.name == main_point(options.role)) {
            main_found = true;
        }
    }
    if (!main_found) {
        std::string ids;
        for (const ModelHeader& header : chain) {
            ids += (ids.empty() ? "" : ", ") + std::to_string(header.id);
        }
        return BindError{"role " + std::string(profiles::to_string(options.role)) + " needs " +
                         needed_models(options.role) + "; the chain has " +
                         (ids.empty() ? std::string("no model") : ids)};
    }

    modbus::PlanOptions plan_options;
    plan_options.max_registers = binding.read_profile.max_registers;
    plan_options.max_gap = binding.read_profile.max_gap;
    for (const ModelHeader& header : chain) {
        auto it = by_model.find(&header);
        if (it == by_model.end()) {
            continue;
        }
        const ModelDef& model = *find_model(header.id);
        const std::size_t first_point = binding.read_profile.points.size();
        std::map<std::string_view, std::size_t> sf_index; // SF name -> read_profile index
        std::vector<std::pair<std::size_t, std::string_view>> needs_sf;
        for (const Chosen& chosen : it->second) {
            const LogicalPoint& want = logical[chosen.logical];
            modbus::PointSpec point;
            point.name = std::string(want.name);
            point.address = wire_address(header, *chosen.def);
            // Value points are never pad, sunssf or address types (none is bound).
            point.type = codec_type(chosen.def->type).value_or(DataType::u16);
            point.registers = chosen.def->size;
            point.scale = chosen.scale;
            point.unit = std::string(want.unit);
            point.kind = want.kind;
            point.role = std::string(want.role);
            if (chosen.def->sf.kind == ScaleFactorRef::Kind::point) {
                needs_sf.emplace_back(binding.read_profile.points.size(), chosen.def->sf.point);
            }
            binding.read_profile.points.push_back(std::move(point));
            binding.output.push_back(chosen.logical);
        }
        for (const auto& [index, sf_name] : needs_sf) {
            auto [entry, added] = sf_index.emplace(sf_name, binding.read_profile.points.size());
            if (added) {
                const PointDef& sf = *model.find_point(sf_name);
                modbus::PointSpec point;
                point.name = std::to_string(header.id) + "_" + lower(sf_name);
                point.address = wire_address(header, sf);
                point.type = DataType::sunssf;
                binding.read_profile.points.push_back(std::move(point));
                binding.output.push_back(no_output);
            }
            binding.read_profile.points[index].scale_factor = entry->second;
        }
        // Plan this model's points alone and append the requests.
        const std::span<const modbus::PointSpec> model_points(
            binding.read_profile.points.data() + first_point,
            binding.read_profile.points.size() - first_point);
        std::vector<modbus::PointSpec> local(model_points.begin(), model_points.end());
        for (modbus::PointSpec& point : local) {
            if (point.scale_factor) {
                *point.scale_factor -= first_point;
            }
        }
        auto planned = modbus::plan_reads(local, plan_options);
        if (const auto* error = std::get_if<modbus::PlanError>(&planned)) {
            return BindError{"model " + std::to_string(header.id) + " at " +
                             std::to_string(header.address) +
                             " cannot be read with these request limits: " + error->message};
        }
        for (modbus::ReadRequest& request : std::get<modbus::ReadPlan>(planned).requests) {
            for (std::size_t& index : request.points) {
                index += first_point;
            }
            binding.plan.requests.push_back(std::move(request));
        }
    }
    return binding;
}

std::string describe_chain(std::span<const ModelHeader> chain) {
    std::string out;
    for (const ModelHeader& header : chain) {
        if (!out.empty()) {
            out += ", ";
        }
        out += std::to_string(header.id) + " (" + std::to_string(header.address) + ", " +
               std::to_string(header.length) + ")";
    }
    return out.empty() ? std::string("(no models)") : out;
}

} // namespace greenrack::sunspec
