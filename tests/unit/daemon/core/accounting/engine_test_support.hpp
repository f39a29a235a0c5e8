#pragma once

// Helpers shared by the engine_*_test.cpp files: tick builders and a random scenario generator
// for the property tests (green-accounting.md §8).

#include "daemon/core/accounting/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace greenrack::accounting::test {

// 2024-01-01T00:00:00Z: a UTC day boundary.
inline constexpr std::int64_t t0_ms = 1'704'067'200'000;
inline constexpr std::int64_t quarter_ms = 900'000;
inline constexpr std::int64_t hour_ms = 3'600'000;

inline Energy ok(double wh) {
    return Energy{wh, SourceQuality::ok};
}
inline Energy held(double wh) {
    return Energy{wh, SourceQuality::held};
}
inline Energy stale() {
    return Energy{0.0, SourceQuality::stale};
}
inline Energy missing() {
    return Energy{0.0, SourceQuality::missing};
}

// Power (kW) of an energy (Wh) over tau_s, and back.
inline double kw(double wh, double tau_s) {
    return wh * 3.6 / tau_s;
}
inline double wh_of_kw(double kw, double tau_s) {
    return kw * tau_s / 3.6;
}

inline AccountingSettings quarter_hour_settings() {
    AccountingSettings s;
    s.tick = std::chrono::milliseconds(quarter_ms);
    return s;
}

// A fully metered tick (PV only, no wind turbine), energies in Wh; IT energies per rack.
inline TickInputs site_tick(std::int64_t start_ms, double r, double d, double c, double i, double x,
                            double l, const std::vector<double>& racks = {}) {
    TickInputs t;
    t.start_ms = start_ms;
    t.pv = ok(r);
    t.wind = ok(0.0);
    t.discharge = ok(d);
    t.charge = ok(c);
    t.grid_import = ok(i);
    t.grid_export = ok(x);
    t.load = ok(l);
    for (double e : racks) {
        t.rack_it.push_back(ok(e));
    }
    return t;
}

inline bool near(double a, double b, double relative = 1e-9) {
    return std::abs(a - b) <= relative * std::max({1.0, std::abs(a), std::abs(b)});
}

struct Scenario {
    AccountingSettings settings;
    std::vector<TickInputs> ticks;
    bool has_battery = false;
};

struct ScenarioOptions {
    std::optional<Allocation> allocation;
    std::optional<BatteryModel> battery_model;
    std::optional<double> grid_cfe_share;
    double data_problems = 1.0; // scales the probability of stale/missing/implausible inputs
    bool gaps = true;           // ticks skipped now and then
};

// A random but physically plausible site over 20..160 ticks: PV and wind, a battery that
// charges from renewables or the grid and discharges, export, import and export in the same
// tick, curtailment, racks in tiers, a site IT meter, a facility meter or not, stale and missing
// sources, implausible values, counter-reset flags, battery readings, L = 0 ticks and gaps.
inline Scenario random_scenario(std::uint64_t seed, const ScenarioOptions& options = {}) {
    std::mt19937_64 rng(seed);
    const auto uniform = [&rng](double lo, double hi) {
        return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    const auto chance = [&rng](double p) { return std::bernoulli_distribution(p)(rng); };
    const auto pick = [&rng](int lo, int hi) {
        return std::uniform_int_distribution<int>(lo, hi)(rng);
    };

    Scenario sc;
    AccountingSettings& s = sc.settings;
    static constexpr std::int64_t ticks_ms[] = {5'000, 60'000, 300'000, 900'000};
    s.tick = std::chrono::milliseconds(ticks_ms[pick(0, 3)]);
    s.allocation =
        options.allocation.value_or(chance(0.5) ? Allocation::pool : Allocation::priority);
    s.battery_model =
        options.battery_model.value_or(chance(0.5) ? BatteryModel::fifo : BatteryModel::well_mixed);
    s.grid_cfe_share = options.grid_cfe_share.value_or(chance(0.4) ? 0.0 : uniform(0.0, 1.0));
    s.retain_onsite_attributes = chance(0.5);
    s.charge_efficiency = uniform(0.85, 1.0);
    s.discharge_efficiency = uniform(0.85, 1.0);
    s.infrastructure_fraction = uniform(0.0, 0.5);
    if (chance(0.5)) {
        s.battery_max_discharge_w = uniform(10'000.0, 200'000.0);
    }
    const int rack_count = pick(0, 5);
    for (int i = 0; i < rack_count; ++i) {
        s.racks.push_back(RackSettings{"rack-" + std::to_string(i), chance(0.5) ? pick(0, 2) : 0});
    }
    sc.has_battery = chance(0.75);
    const bool wind_turbine = chance(0.5);
    const bool site_meter = chance(0.4);
    const bool facility_meter = chance(0.8);
    const double capacity = uniform(50'000.0, 500'000.0);
    if (sc.has_battery && chance(0.5)) {
        s.battery_capacity_wh = capacity;
    }

    const double p = options.data_problems;
    const auto quality_of = [&](Energy e) {
        const double u = uniform(0.0, 1.0);
        if (u < 0.03 * p) {
            return Energy{0.0, SourceQuality::stale};
        }
        if (u < 0.06 * p) {
            return Energy{0.0, SourceQuality::missing};
        }
        if (u < 0.066 * p) {
            return Energy{-e.wh - 1.0, SourceQuality::ok}; // implausible: negative
        }
        if (u < 0.15) {
            e.quality = SourceQuality::held;
        }
        return e;
    };

    const std::int64_t tick = s.tick.count();
    const double tau_h = static_cast<double>(tick) / 3'600'000.0;
    std::int64_t start =
        t0_ms + static_cast<std::int64_t>(pick(0, 86'400'000 / static_cast<int>(tick) - 1)) * tick;
    const int count = pick(20, 160);
    double soc_estimate = uniform(0.0, capacity);
    for (int n = 0; n < count; ++n) {
        if (options.gaps && chance(0.08)) {
            start += tick * pick(1, 40);
        }
        TickInputs t;
        t.start_ms = start;
        start += tick;

        std::vector<double> it_kw;
        double it_sum = 0.0;
        for (int i = 0; i < rack_count; ++i) {
            it_kw.push_back(chance(0.05) ? 0.0 : uniform(0.0, 40.0));
            it_sum += it_kw.back();
        }
        double load_kw = rack_count > 0 ? it_sum * (1.0 + uniform(0.05, 0.5)) : uniform(0.0, 150.0);
        if (chance(0.03)) {
            load_kw = 0.0;
            std::fill(it_kw.begin(), it_kw.end(), 0.0);
            it_sum = 0.0;
        }
        double renewable_kw = chance(0.3) ? 0.0 : uniform(0.0, 1.6 * std::max(load_kw, 20.0));
        double discharge_kw = 0.0;
        double charge_kw = 0.0;
        if (sc.has_battery) {
            const double u = uniform(0.0, 1.0);
            if (u < 0.35) {
                charge_kw = uniform(0.0, 60.0);
            } else if (u < 0.7) {
                discharge_kw = uniform(0.0, 60.0);
            } else if (u < 0.8) {
                charge_kw = uniform(0.0, 30.0);
                discharge_kw = uniform(0.0, 30.0);
            }
        }
        const double passthrough_kw = chance(0.3) ? uniform(0.0, 30.0) : 0.0;
        const double net = renewable_kw + discharge_kw - load_kw - charge_kw;
        double import_kw = std::max(0.0, -net) + passthrough_kw;
        double export_kw = std::max(0.0, net) + passthrough_kw;
        if (chance(0.1)) {
            import_kw *= uniform(0.9, 1.1); // metering disagreement: balance residual
        }
        if (chance(0.1)) {
            renewable_kw *= uniform(0.9, 1.1);
        }
        const double pv_share = wind_turbine ? uniform(0.0, 1.0) : 1.0;

        t.pv = quality_of(ok(renewable_kw * pv_share * tau_h * 1000.0));
        t.wind = wind_turbine ? quality_of(ok(renewable_kw * (1.0 - pv_share) * tau_h * 1000.0))
                              : ok(0.0);
        if (chance(0.3)) {
            t.renewable_available = ok((renewable_kw + uniform(0.0, 30.0)) * tau_h * 1000.0);
        }
        t.discharge = sc.has_battery ? quality_of(ok(discharge_kw * tau_h * 1000.0)) : ok(0.0);
        t.charge = sc.has_battery ? quality_of(ok(charge_kw * tau_h * 1000.0)) : ok(0.0);
        t.grid_import = quality_of(ok(import_kw * tau_h * 1000.0));
        t.grid_export = quality_of(ok(export_kw * tau_h * 1000.0));
        t.facility_metered = facility_meter;
        t.load = facility_meter ? quality_of(ok(load_kw * tau_h * 1000.0)) : missing();
        for (double e : it_kw) {
            t.rack_it.push_back(quality_of(ok(e * tau_h * 1000.0)));
        }
        if (site_meter) {
            t.site_it = quality_of(ok(it_sum * tau_h * 1000.0));
        }
        soc_estimate =
            std::clamp(soc_estimate + (charge_kw * 0.95 - discharge_kw / 0.95) * tau_h * 1000.0,
                       0.0, capacity);
        if (sc.has_battery && chance(0.15)) {
            t.battery_stored_wh = chance(0.2) ? uniform(0.0, capacity) : soc_estimate;
        }
        if (chance(0.03 * p)) {
            t.flags |= flag_counter_reset;
        }
        sc.ticks.push_back(t);
    }
    return sc;
}

} // namespace greenrack::accounting::test
