#pragma once

// One UTC-aligned roll-up window being accumulated (green-accounting.md §6, §7.8).
//
// * Only valid ticks contribute energies and ratios; a tick without green figures (data_gap) and
//   a tick that never arrived add nothing, so a missing tick never counts as green.
// * data_coverage = ticks that were valid with quality ok or held / ticks expected. Expected
//   ticks cover the whole window for a closed window (ticks before the first processed tick and
//   gaps between ticks are expected-but-missing), and the window start up to the end of the
//   last processed tick for an open one. quality is the worst over the processed ticks, and
//   missing when any expected tick did not arrive.
// * Hourly-matched CFE: per clock hour h, CFE_h = min(L_h, Rnet_h) + g * max(0, L_h - Rnet_h -
//   B_h); score = sum CFE_h / sum L_h. A 15-minute window matches within itself (its single
//   bucket is the quarter hour): it cannot borrow from the rest of its hour.
// * REF is the REF formula over the window only (the true REF is a trailing-12-month value):
//   min(1, (on-site green delivered to load, only when retain_onsite_attributes, + supplier
//   green) / sum L). No certificates are retired by the engine.
// * iPUE = sum L / sum E_IT over ticks with a facility meter and a known E_IT; missing otherwise.
// * CUE = sum M_L (location) / sum E_IT in kg/kWh over valid ticks. When some IT energy was not
//   known (unknown racks, no site IT meter) the carbon still counts, so CUE errs high.

#include "daemon/core/accounting/accounting_types.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace greenrack::accounting {

// What a tick adds to roll-ups beyond its TickResult.
struct TickContribution {
    double onsite_green_wh = 0.0;              // on-site green delivered to load (part of G_L)
    double supplier_green_wh = 0.0;            // G_L - onsite_green_wh
    double matching_renewable_wh = 0.0;        // contribution to Rnet_h
    double matching_battery_nongreen_wh = 0.0; // contribution to B_h
    bool ipue_eligible = false;                // facility-metered L and known E_IT
};

struct RollupParameters {
    std::int64_t tick_ms = 5'000;
    double grid_cfe_share = 0.0;
    bool retain_onsite_attributes = false;
    int metering_category = 2;
    std::size_t rack_count = 0;
};

std::int64_t window_length_ms(Window window);

class RollupAccumulator {
public:
    RollupAccumulator(Window window, std::int64_t start_ms, std::size_t rack_count);

    Window window() const { return window_; }
    std::int64_t start_ms() const { return start_ms_; }
    std::int64_t end_ms() const { return start_ms_ + window_length_ms(window_); }

    void add(const TickResult& tick, const TickContribution& contribution);

    // The figures of the window, counting expected ticks from its start up to covered_until_ms.
    Rollup summarize(const RollupParameters& parameters, std::int64_t covered_until_ms) const;

    nlohmann::json to_json() const;
    static RollupAccumulator from_json(const nlohmann::json& json, std::size_t rack_count);

private:
    struct HourBucket {
        std::int64_t start_ms = 0;
        double load_wh = 0.0;
        double matching_renewable_wh = 0.0;
        double matching_battery_nongreen_wh = 0.0;
    };

    Window window_;
    std::int64_t start_ms_;
    std::uint64_t ticks_ = 0;
    std::uint64_t ticks_valid_ = 0;
    std::uint64_t ticks_good_ = 0; // valid with quality ok or held
    SourceQuality worst_ = SourceQuality::ok;
    double load_wh_ = 0.0;
    double green_wh_ = 0.0;
    double nongreen_wh_ = 0.0;
    double renewable_wh_ = 0.0;
    double it_wh_ = 0.0;
    double import_wh_ = 0.0;
    double export_wh_ = 0.0;
    double carbon_location_g_ = 0.0;
    double carbon_residual_g_ = 0.0;
    double onsite_green_wh_ = 0.0;
    double supplier_green_wh_ = 0.0;
    double ipue_load_wh_ = 0.0;
    double ipue_it_wh_ = 0.0;
    std::vector<HourBucket> hours_;
    std::vector<RackTotals> racks_;
    RackTotals unattributed_;
};

} // namespace greenrack::accounting
