#include "drivers/profiles/profile_loader.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

// Cross-checks config/profiles/pv_sunspec_103.toml against the SunSpec model definitions
// (JSON files from sunspec/models, kept in the shared folder next to the repository). The
// mapping from our point names to SunSpec point names, the model base addresses and the
// unit/type correspondences are written by hand below; offsets, sizes, types, units and scale
// factor references come from the JSON.

namespace {

using greenrack::modbus::DataType;
using greenrack::modbus::PointSpec;
using greenrack::profiles::DeviceProfile;

const std::filesystem::path models_dir = GREENRACK_SUNSPEC_MODELS_DIR;
const std::filesystem::path profile_path =
    GREENRACK_SOURCE_DIR "/config/profiles/pv_sunspec_103.toml";

// Where the profile puts each model (address of its ID register).
const std::map<int, std::uint16_t> model_base{{1, 40002}, {103, 40070}};

struct Mapping {
    int model;
    std::string sunspec_name;
};

// Our point name -> SunSpec model and point.
const std::map<std::string, Mapping> mapping{
    {"manufacturer", {1, "Mn"}},
    {"model", {1, "Md"}},
    {"options", {1, "Opt"}},
    {"version", {1, "Vr"}},
    {"serial_number", {1, "SN"}},
    {"device_address", {1, "DA"}},
    {"ac_current_a", {103, "A"}},
    {"phase_1_current_a", {103, "AphA"}},
    {"phase_2_current_a", {103, "AphB"}},
    {"phase_3_current_a", {103, "AphC"}},
    {"a_sf", {103, "A_SF"}},
    {"phase_1_voltage_v", {103, "PhVphA"}},
    {"phase_2_voltage_v", {103, "PhVphB"}},
    {"phase_3_voltage_v", {103, "PhVphC"}},
    {"v_sf", {103, "V_SF"}},
    {"ac_power_w", {103, "W"}},
    {"w_sf", {103, "W_SF"}},
    {"frequency_hz", {103, "Hz"}},
    {"hz_sf", {103, "Hz_SF"}},
    {"apparent_power_va", {103, "VA"}},
    {"va_sf", {103, "VA_SF"}},
    {"reactive_power_var", {103, "VAr"}},
    {"var_sf", {103, "VAr_SF"}},
    {"power_factor", {103, "PF"}},
    {"pf_sf", {103, "PF_SF"}},
    {"ac_energy_wh", {103, "WH"}},
    {"wh_sf", {103, "WH_SF"}},
    {"dc_current_a", {103, "DCA"}},
    {"dca_sf", {103, "DCA_SF"}},
    {"dc_voltage_v", {103, "DCV"}},
    {"dcv_sf", {103, "DCV_SF"}},
    {"dc_power_w", {103, "DCW"}},
    {"dcw_sf", {103, "DCW_SF"}},
    {"cabinet_temperature_c", {103, "TmpCab"}},
    {"tmp_sf", {103, "Tmp_SF"}},
    {"operating_state", {103, "St"}},
    {"event_flags", {103, "Evt1"}},
    {"event_flags_2", {103, "Evt2"}},
};

// SunSpec type -> ours.
const std::map<std::string, DataType> type_map{
    {"uint16", DataType::u16},    {"int16", DataType::i16},
    {"uint32", DataType::u32},    {"acc32", DataType::acc32},
    {"sunssf", DataType::sunssf}, {"string", DataType::string},
    {"enum16", DataType::enum16}, {"bitfield32", DataType::bitfield32},
};

struct UnitConversion {
    std::string unit;
    double scale;
};

// SunSpec unit -> our unit and the scale that converts to it (percent -> ratio).
const std::map<std::string, UnitConversion> unit_map{
    {"", {"", 1.0}},      {"A", {"A", 1.0}},   {"V", {"V", 1.0}},     {"W", {"W", 1.0}},
    {"Hz", {"Hz", 1.0}},  {"VA", {"VA", 1.0}}, {"var", {"var", 1.0}}, {"Wh", {"Wh", 1.0}},
    {"C", {"degC", 1.0}}, {"Pct", {"", 0.01}},
};

struct ModelPoint {
    int offset = 0; // from the model's ID register
    int size = 0;
    std::string type;
    std::string units;
    std::string sf;
    bool mandatory = false;
};

struct Model {
    int id = 0;
    int length = 0; // L: registers after the two header registers
    std::map<std::string, ModelPoint> points;
};

std::optional<Model> load_model(int id) {
    const auto path = models_dir / ("model_" + std::to_string(id) + ".json");
    std::ifstream in(path);
    if (!in) {
        return std::nullopt;
    }
    const nlohmann::json json = nlohmann::json::parse(in);
    Model model;
    model.id = json.at("id").get<int>();
    int offset = 0;
    for (const auto& p : json.at("group").at("points")) {
        ModelPoint point;
        point.offset = offset;
        point.size = p.at("size").get<int>();
        point.type = p.at("type").get<std::string>();
        point.units = p.value("units", "");
        point.sf = p.value("sf", "");
        point.mandatory = p.value("mandatory", "") == "M";
        model.points.emplace(p.at("name").get<std::string>(), point);
        offset += point.size;
    }
    model.length = offset - 2;
    return model;
}

// Without the model files the test fails (CMake disables it when they are absent at configure
// time: ctest then lists it as not run).
bool models_available() {
    INFO("SunSpec model files expected in " << models_dir.string());
    REQUIRE(std::filesystem::is_directory(models_dir));
    return true;
}

std::map<int, Model> load_models() {
    std::map<int, Model> models;
    for (int id : {1, 103}) {
        auto model = load_model(id);
        INFO("model_" << id << ".json");
        REQUIRE(model.has_value());
        models.emplace(id, std::move(*model));
    }
    return models;
}

} // namespace

TEST_CASE("pv_sunspec_103 points match SunSpec offsets, sizes, types, units and SF links",
          "[profiles][sunspec]") {
    if (!models_available()) {
        return;
    }
    const auto models = load_models();
    const DeviceProfile profile = greenrack::profiles::load_profile_file(profile_path);

    for (const PointSpec& point : profile.points) {
        INFO("point " << point.name);
        const auto it = mapping.find(point.name);
        REQUIRE(it != mapping.end());
        const Model& model = models.at(it->second.model);
        const auto found = model.points.find(it->second.sunspec_name);
        REQUIRE(found != model.points.end());
        const ModelPoint& reference = found->second;
        INFO("SunSpec " << it->second.model << "." << it->second.sunspec_name);

        CHECK(point.address == model_base.at(it->second.model) + reference.offset);
        CHECK(point.registers == reference.size);
        REQUIRE(type_map.count(reference.type) == 1);
        CHECK(point.type == type_map.at(reference.type));
        REQUIRE(unit_map.count(reference.units) == 1);
        CHECK(point.unit == unit_map.at(reference.units).unit);
        CHECK(point.scale == Approx(unit_map.at(reference.units).scale));

        if (reference.sf.empty()) {
            CHECK_FALSE(point.scale_factor.has_value());
        } else {
            REQUIRE(point.scale_factor.has_value());
            const PointSpec& sf = profile.points[*point.scale_factor];
            const auto sf_mapping = mapping.find(sf.name);
            REQUIRE(sf_mapping != mapping.end());
            CHECK(sf_mapping->second.model == it->second.model);
            CHECK(sf_mapping->second.sunspec_name == reference.sf);
        }
    }
}

TEST_CASE("pv_sunspec_103 has every mandatory point of models 1 and 103", "[profiles][sunspec]") {
    if (!models_available()) {
        return;
    }
    const auto models = load_models();
    const DeviceProfile profile = greenrack::profiles::load_profile_file(profile_path);

    for (const auto& [id, model] : models) {
        for (const auto& [name, reference] : model.points) {
            if (!reference.mandatory || name == "ID" || name == "L") {
                continue; // the header words are constants
            }
            INFO("SunSpec " << id << "." << name);
            bool present = false;
            for (const auto& [ours, target] : mapping) {
                if (target.model == id && target.sunspec_name == name) {
                    present = profile.find(ours).has_value();
                }
            }
            CHECK(present);
        }
    }
}

TEST_CASE("pv_sunspec_103 constants carry each model's ID and L and chain to the end model",
          "[profiles][sunspec]") {
    if (!models_available()) {
        return;
    }
    const auto models = load_models();
    const DeviceProfile profile = greenrack::profiles::load_profile_file(profile_path);

    std::map<std::uint16_t, std::vector<std::uint16_t>> constants;
    for (const auto& block : profile.constants) {
        constants[block.address] = block.values;
    }
    std::uint16_t address = 40002;
    for (int id : {1, 103}) {
        INFO("model " << id);
        const Model& model = models.at(id);
        CHECK(model.id == id);
        CHECK(address == model_base.at(id));
        REQUIRE(constants.count(address) == 1);
        CHECK(constants.at(address) ==
              std::vector<std::uint16_t>{static_cast<std::uint16_t>(id),
                                         static_cast<std::uint16_t>(model.length)});
        address = static_cast<std::uint16_t>(address + 2 + model.length);
    }
    REQUIRE(constants.count(address) == 1);
    CHECK(constants.at(address) == std::vector<std::uint16_t>{0xFFFF, 0});
}
