#include "daemon/core/accounting/state_json.hpp"

#include <stdexcept>
#include <string>

namespace greenrack::accounting {

namespace {

using nlohmann::json;

json optional_to_json(const std::optional<double>& value) {
    return value ? json(*value) : json(nullptr);
}

std::optional<double> optional_from_json(const json& value) {
    if (value.is_null()) {
        return std::nullopt;
    }
    return value.get<double>();
}

} // namespace

SourceQuality source_quality_from_string(std::string_view name) {
    for (auto q : {SourceQuality::ok, SourceQuality::held, SourceQuality::inferred,
                   SourceQuality::stale, SourceQuality::missing}) {
        if (to_string(q) == name) {
            return q;
        }
    }
    throw std::invalid_argument("unknown source quality '" + std::string(name) + "'");
}

Window window_from_string(std::string_view name) {
    for (auto w : {Window::quarter_hour, Window::hour, Window::day}) {
        if (to_string(w) == name) {
            return w;
        }
    }
    throw std::invalid_argument("unknown roll-up window '" + std::string(name) + "'");
}

json rack_totals_to_json(const RackTotals& t) {
    return {{"it_wh", t.it_wh},
            {"green_wh", t.green_wh},
            {"nongreen_wh", t.nongreen_wh},
            {"green_it_wh", t.green_it_wh},
            {"nongreen_it_wh", t.nongreen_it_wh},
            {"carbon_location_g", t.carbon_location_g},
            {"carbon_residual_g", t.carbon_residual_g}};
}

RackTotals rack_totals_from_json(const json& j) {
    RackTotals t;
    t.it_wh = j.at("it_wh").get<double>();
    t.green_wh = j.at("green_wh").get<double>();
    t.nongreen_wh = j.at("nongreen_wh").get<double>();
    t.green_it_wh = j.at("green_it_wh").get<double>();
    t.nongreen_it_wh = j.at("nongreen_it_wh").get<double>();
    t.carbon_location_g = j.at("carbon_location_g").get<double>();
    t.carbon_residual_g = j.at("carbon_residual_g").get<double>();
    return t;
}

json totals_to_json(const Totals& t) {
    json racks = json::array();
    for (const auto& r : t.racks) {
        racks.push_back(rack_totals_to_json(r));
    }
    return {{"load_wh", t.load_wh},
            {"green_wh", t.green_wh},
            {"nongreen_wh", t.nongreen_wh},
            {"renewable_wh", t.renewable_wh},
            {"pv_wh", t.pv_wh},
            {"wind_wh", t.wind_wh},
            {"discharge_wh", t.discharge_wh},
            {"charge_wh", t.charge_wh},
            {"import_wh", t.import_wh},
            {"export_wh", t.export_wh},
            {"it_wh", t.it_wh},
            {"carbon_location_g", t.carbon_location_g},
            {"carbon_residual_g", t.carbon_residual_g},
            {"ticks", t.ticks},
            {"ticks_valid", t.ticks_valid},
            {"racks", racks},
            {"unattributed", rack_totals_to_json(t.unattributed)}};
}

Totals totals_from_json(const json& j) {
    Totals t;
    t.load_wh = j.at("load_wh").get<double>();
    t.green_wh = j.at("green_wh").get<double>();
    t.nongreen_wh = j.at("nongreen_wh").get<double>();
    t.renewable_wh = j.at("renewable_wh").get<double>();
    t.pv_wh = j.at("pv_wh").get<double>();
    t.wind_wh = j.at("wind_wh").get<double>();
    t.discharge_wh = j.at("discharge_wh").get<double>();
    t.charge_wh = j.at("charge_wh").get<double>();
    t.import_wh = j.at("import_wh").get<double>();
    t.export_wh = j.at("export_wh").get<double>();
    t.it_wh = j.at("it_wh").get<double>();
    t.carbon_location_g = j.at("carbon_location_g").get<double>();
    t.carbon_residual_g = j.at("carbon_residual_g").get<double>();
    t.ticks = j.at("ticks").get<std::uint64_t>();
    t.ticks_valid = j.at("ticks_valid").get<std::uint64_t>();
    for (const auto& r : j.at("racks")) {
        t.racks.push_back(rack_totals_from_json(r));
    }
    t.unattributed = rack_totals_from_json(j.at("unattributed"));
    return t;
}

json rollup_to_json(const Rollup& r) {
    json racks = json::array();
    for (const auto& rack : r.racks) {
        racks.push_back(rack_totals_to_json(rack));
    }
    return {{"window", to_string(r.window)},
            {"start_ms", r.start_ms},
            {"end_ms", r.end_ms},
            {"seq", r.seq},
            {"load_wh", r.load_wh},
            {"green_wh", r.green_wh},
            {"nongreen_wh", r.nongreen_wh},
            {"renewable_wh", r.renewable_wh},
            {"it_wh", r.it_wh},
            {"import_wh", r.import_wh},
            {"export_wh", r.export_wh},
            {"cfe_interval", optional_to_json(r.cfe_interval)},
            {"cfe_hourly", optional_to_json(r.cfe_hourly)},
            {"ref", optional_to_json(r.ref)},
            {"ipue", optional_to_json(r.ipue)},
            {"metering_category", r.metering_category},
            {"carbon_location_g", r.carbon_location_g},
            {"carbon_residual_g", r.carbon_residual_g},
            {"cue_location_kg_per_kwh", optional_to_json(r.cue_location_kg_per_kwh)},
            {"data_coverage", r.data_coverage},
            {"quality", to_string(r.quality)},
            {"ticks", r.ticks},
            {"ticks_valid", r.ticks_valid},
            {"ticks_expected", r.ticks_expected},
            {"racks", racks},
            {"unattributed", rack_totals_to_json(r.unattributed)}};
}

Rollup rollup_from_json(const json& j) {
    Rollup r;
    r.window = window_from_string(j.at("window").get<std::string>());
    r.start_ms = j.at("start_ms").get<std::int64_t>();
    r.end_ms = j.at("end_ms").get<std::int64_t>();
    r.seq = j.at("seq").get<std::uint64_t>();
    r.load_wh = j.at("load_wh").get<double>();
    r.green_wh = j.at("green_wh").get<double>();
    r.nongreen_wh = j.at("nongreen_wh").get<double>();
    r.renewable_wh = j.at("renewable_wh").get<double>();
    r.it_wh = j.at("it_wh").get<double>();
    r.import_wh = j.at("import_wh").get<double>();
    r.export_wh = j.at("export_wh").get<double>();
    r.cfe_interval = optional_from_json(j.at("cfe_interval"));
    r.cfe_hourly = optional_from_json(j.at("cfe_hourly"));
    r.ref = optional_from_json(j.at("ref"));
    r.ipue = optional_from_json(j.at("ipue"));
    r.metering_category = j.at("metering_category").get<int>();
    r.carbon_location_g = j.at("carbon_location_g").get<double>();
    r.carbon_residual_g = j.at("carbon_residual_g").get<double>();
    r.cue_location_kg_per_kwh = optional_from_json(j.at("cue_location_kg_per_kwh"));
    r.data_coverage = j.at("data_coverage").get<double>();
    r.quality = source_quality_from_string(j.at("quality").get<std::string>());
    r.ticks = j.at("ticks").get<std::uint64_t>();
    r.ticks_valid = j.at("ticks_valid").get<std::uint64_t>();
    r.ticks_expected = j.at("ticks_expected").get<std::uint64_t>();
    for (const auto& rack : j.at("racks")) {
        r.racks.push_back(rack_totals_from_json(rack));
    }
    r.unattributed = rack_totals_from_json(j.at("unattributed"));
    return r;
}

} // namespace greenrack::accounting
