#include "daemon/core/accounting/rollup_accumulator.hpp"

#include "daemon/core/accounting/state_json.hpp"
#include "daemon/core/accounting/totals.hpp"
#include "daemon/core/accounting/units.hpp"

#include <algorithm>
#include <string>

namespace greenrack::accounting {

std::int64_t window_length_ms(Window window) {
    switch (window) {
    case Window::quarter_hour:
        return ms_per_quarter_hour;
    case Window::hour:
        return ms_per_hour_i;
    case Window::day:
        return ms_per_day;
    }
    return ms_per_hour_i;
}

RollupAccumulator::RollupAccumulator(Window window, std::int64_t start_ms, std::size_t rack_count)
    : window_(window), start_ms_(start_ms), racks_(rack_count) {}

void RollupAccumulator::add(const TickResult& tick, const TickContribution& c) {
    ++ticks_;
    worst_ = worst(worst_, tick.quality);
    if (!tick.valid) {
        return;
    }
    ++ticks_valid_;
    if (tick.quality <= SourceQuality::held) {
        ++ticks_good_;
    }
    load_wh_ += tick.load.wh;
    green_wh_ += tick.green_wh;
    nongreen_wh_ += tick.nongreen_wh;
    renewable_wh_ += tick.renewable.wh;
    it_wh_ += tick.it_wh;
    import_wh_ += tick.grid_import.wh;
    export_wh_ += tick.grid_export.wh;
    carbon_location_g_ += tick.carbon_location_g;
    carbon_residual_g_ += tick.carbon_residual_g;
    onsite_green_wh_ += c.onsite_green_wh;
    supplier_green_wh_ += c.supplier_green_wh;
    if (c.ipue_eligible) {
        ipue_load_wh_ += tick.load.wh;
        ipue_it_wh_ += tick.it_wh;
    }
    const std::int64_t bucket_ms = std::min(window_length_ms(window_), ms_per_hour_i);
    const std::int64_t bucket_start = floor_to(tick.start_ms, bucket_ms);
    if (hours_.empty() || hours_.back().start_ms != bucket_start) {
        hours_.push_back(HourBucket{bucket_start, 0.0, 0.0, 0.0});
    }
    HourBucket& hour = hours_.back();
    hour.load_wh += tick.load.wh;
    hour.matching_renewable_wh += c.matching_renewable_wh;
    hour.matching_battery_nongreen_wh += c.matching_battery_nongreen_wh;
    for (std::size_t i = 0; i < tick.racks.size() && i < racks_.size(); ++i) {
        add_rack(racks_[i], tick.racks[i]);
    }
    if (tick.unattributed) {
        add_rack(unattributed_, *tick.unattributed);
    }
}

Rollup RollupAccumulator::summarize(const RollupParameters& p,
                                    std::int64_t covered_until_ms) const {
    Rollup r;
    r.window = window_;
    r.start_ms = start_ms_;
    r.end_ms = end_ms();
    r.load_wh = load_wh_;
    r.green_wh = green_wh_;
    r.nongreen_wh = nongreen_wh_;
    r.renewable_wh = renewable_wh_;
    r.it_wh = it_wh_;
    r.import_wh = import_wh_;
    r.export_wh = export_wh_;
    r.carbon_location_g = carbon_location_g_;
    r.carbon_residual_g = carbon_residual_g_;
    r.metering_category = p.metering_category;
    if (load_wh_ > 0.0) {
        r.cfe_interval = std::clamp(green_wh_ / load_wh_, 0.0, 1.0);
        const double claimed =
            (p.retain_onsite_attributes ? onsite_green_wh_ : 0.0) + supplier_green_wh_;
        r.ref = std::clamp(claimed / load_wh_, 0.0, 1.0);
    }
    double matched = 0.0;
    double hourly_load = 0.0;
    for (const HourBucket& h : hours_) {
        const double renewable = h.matching_renewable_wh;
        const double grid = std::max(0.0, h.load_wh - renewable - h.matching_battery_nongreen_wh);
        matched += std::min(h.load_wh, renewable) + p.grid_cfe_share * grid;
        hourly_load += h.load_wh;
    }
    if (hourly_load > 0.0) {
        r.cfe_hourly = std::clamp(matched / hourly_load, 0.0, 1.0);
    }
    if (ipue_it_wh_ > 0.0) {
        r.ipue = ipue_load_wh_ / ipue_it_wh_;
    }
    if (it_wh_ > 0.0) {
        r.cue_location_kg_per_kwh = carbon_location_g_ / it_wh_; // g/Wh == kg/kWh
    }
    const std::int64_t covered = std::clamp(covered_until_ms, start_ms_, end_ms());
    r.ticks_expected = static_cast<std::uint64_t>((covered - start_ms_) / p.tick_ms);
    r.ticks = ticks_;
    r.ticks_valid = ticks_valid_;
    r.data_coverage = r.ticks_expected > 0
                          ? static_cast<double>(ticks_good_) / static_cast<double>(r.ticks_expected)
                          : 0.0;
    r.quality = ticks_ == 0 || ticks_ < r.ticks_expected ? SourceQuality::missing : worst_;
    r.racks = racks_;
    r.unattributed = unattributed_;
    return r;
}

nlohmann::json RollupAccumulator::to_json() const {
    nlohmann::json hours = nlohmann::json::array();
    for (const HourBucket& h : hours_) {
        hours.push_back(
            {h.start_ms, h.load_wh, h.matching_renewable_wh, h.matching_battery_nongreen_wh});
    }
    nlohmann::json racks = nlohmann::json::array();
    for (const auto& r : racks_) {
        racks.push_back(rack_totals_to_json(r));
    }
    return {{"window", to_string(window_)},
            {"start_ms", start_ms_},
            {"ticks", ticks_},
            {"ticks_valid", ticks_valid_},
            {"ticks_good", ticks_good_},
            {"worst", to_string(worst_)},
            {"load_wh", load_wh_},
            {"green_wh", green_wh_},
            {"nongreen_wh", nongreen_wh_},
            {"renewable_wh", renewable_wh_},
            {"it_wh", it_wh_},
            {"import_wh", import_wh_},
            {"export_wh", export_wh_},
            {"carbon_location_g", carbon_location_g_},
            {"carbon_residual_g", carbon_residual_g_},
            {"onsite_green_wh", onsite_green_wh_},
            {"supplier_green_wh", supplier_green_wh_},
            {"ipue_load_wh", ipue_load_wh_},
            {"ipue_it_wh", ipue_it_wh_},
            {"hours", hours},
            {"racks", racks},
            {"unattributed", rack_totals_to_json(unattributed_)}};
}

RollupAccumulator RollupAccumulator::from_json(const nlohmann::json& j, std::size_t rack_count) {
    RollupAccumulator a(window_from_string(j.at("window").get<std::string>()),
                        j.at("start_ms").get<std::int64_t>(), rack_count);
    a.ticks_ = j.at("ticks").get<std::uint64_t>();
    a.ticks_valid_ = j.at("ticks_valid").get<std::uint64_t>();
    a.ticks_good_ = j.at("ticks_good").get<std::uint64_t>();
    a.worst_ = source_quality_from_string(j.at("worst").get<std::string>());
    a.load_wh_ = j.at("load_wh").get<double>();
    a.green_wh_ = j.at("green_wh").get<double>();
    a.nongreen_wh_ = j.at("nongreen_wh").get<double>();
    a.renewable_wh_ = j.at("renewable_wh").get<double>();
    a.it_wh_ = j.at("it_wh").get<double>();
    a.import_wh_ = j.at("import_wh").get<double>();
    a.export_wh_ = j.at("export_wh").get<double>();
    a.carbon_location_g_ = j.at("carbon_location_g").get<double>();
    a.carbon_residual_g_ = j.at("carbon_residual_g").get<double>();
    a.onsite_green_wh_ = j.at("onsite_green_wh").get<double>();
    a.supplier_green_wh_ = j.at("supplier_green_wh").get<double>();
    a.ipue_load_wh_ = j.at("ipue_load_wh").get<double>();
    a.ipue_it_wh_ = j.at("ipue_it_wh").get<double>();
    for (const auto& h : j.at("hours")) {
        a.hours_.push_back(HourBucket{h.at(0).get<std::int64_t>(), h.at(1).get<double>(),
                                      h.at(2).get<double>(), h.at(3).get<double>()});
    }
    a.racks_.clear();
    for (const auto& r : j.at("racks")) {
        a.racks_.push_back(rack_totals_from_json(r));
    }
    a.racks_.resize(rack_count);
    a.unattributed_ = rack_totals_from_json(j.at("unattributed"));
    return a;
}

} // namespace greenrack::accounting
