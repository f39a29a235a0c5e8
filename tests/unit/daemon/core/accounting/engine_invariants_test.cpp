// Invariants of green-accounting.md §8 (and §6, §7) checked over random scenarios: at least
// 1,000 per invariant, with stale and missing sources, implausible values, counter-reset flags,
// export and pass-through, grid-charged batteries, both allocation modes, both battery models,
// tiers, unattributed IT, L = 0 ticks and gaps (see random_scenario()). The seed is printed on
// failure.

#include "engine_test_support.hpp"

#include "daemon/core/accounting/battery.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::accounting;
using namespace greenrack::accounting::test;

namespace {

constexpr std::uint64_t scenarios = 1000;

// Checks cheaply; reports through Catch only on failure (with the tick index).
#define REQUIRE_AT(index, condition)                                                               \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            INFO("tick/window " << (index));                                                       \
            REQUIRE((condition));                                                                  \
        }                                                                                          \
    } while (false)

struct Run {
    std::vector<TickResult> ticks;
    std::vector<Totals> totals; // after each tick
    std::vector<BatteryStatus> battery_before;
    std::vector<Rollup> windows; // closed, then the ones still open
};

Run run(const Scenario& sc) {
    Run out;
    Engine engine(sc.settings);
    for (const auto& t : sc.ticks) {
        out.battery_before.push_back(engine.battery());
        out.ticks.push_back(engine.process(t));
        out.totals.push_back(engine.totals());
    }
    out.windows = engine.take_closed_rollups();
    for (auto& r : engine.open_rollups()) {
        out.windows.push_back(std::move(r));
    }
    return out;
}

double rack_sum(const TickResult& t, double RackTick::*field) {
    double sum = 0.0;
    for (const auto& r : t.racks) {
        if (r.valid) {
            sum += r.*field;
        }
    }
    if (t.unattributed) {
        sum += (*t.unattributed).*field;
    }
    return sum;
}

bool not_above(const std::optional<double>& value, const std::optional<double>& reference) {
    if (!value) {
        return true;
    }
    return reference && *value <= *reference + 1e-12;
}

bool monotonic(const RackTotals& a, const RackTotals& b) {
    return b.it_wh >= a.it_wh && b.green_wh >= a.green_wh && b.nongreen_wh >= a.nongreen_wh &&
           b.green_it_wh >= a.green_it_wh && b.nongreen_it_wh >= a.nongreen_it_wh &&
           b.carbon_location_g >= a.carbon_location_g && b.carbon_residual_g >= a.carbon_residual_g;
}

bool monotonic(const Totals& a, const Totals& b) {
    bool ok = b.load_wh >= a.load_wh && b.green_wh >= a.green_wh &&
              b.nongreen_wh >= a.nongreen_wh && b.renewable_wh >= a.renewable_wh &&
              b.pv_wh >= a.pv_wh && b.wind_wh >= a.wind_wh && b.discharge_wh >= a.discharge_wh &&
              b.charge_wh >= a.charge_wh && b.import_wh >= a.import_wh &&
              b.export_wh >= a.export_wh && b.it_wh >= a.it_wh &&
              b.carbon_location_g >= a.carbon_location_g &&
              b.carbon_residual_g >= a.carbon_residual_g && b.ticks == a.ticks + 1 &&
              b.ticks_valid >= a.ticks_valid && monotonic(a.unattributed, b.unattributed);
    for (std::size_t i = 0; i < a.racks.size(); ++i) {
        ok = ok && monotonic(a.racks[i], b.racks[i]);
    }
    return ok;
}

bool measured_renewable(const TickInputs& t) {
    return t.pv.usable() && t.wind.usable() && t.pv.wh >= 0.0 && t.wind.wh >= 0.0;
}

} // namespace

TEST_CASE("invariant: G_L + N_L = L on every valid tick", "[accounting][invariants]") {
    for (std::uint64_t seed = 1; seed <= scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed));
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const TickResult& t = r.ticks[n];
            if (!t.valid) {
                REQUIRE_AT(n, t.green_wh == 0.0 && t.nongreen_wh == 0.0);
                continue;
            }
            REQUIRE_AT(n, near(t.green_wh + t.nongreen_wh, t.load.wh));
            REQUIRE_AT(n, t.green_wh >= 0.0 && t.nongreen_wh >= 0.0);
            REQUIRE_AT(n, near(t.renewable_to_load_wh + t.battery_to_load_wh + t.grid_to_load_wh,
                               t.load.wh));
        }
    }
}

TEST_CASE("invariant: burdened rack green sums to G_L and non-green to N_L (tiers, unattributed)",
          "[accounting][invariants]") {
    std::size_t ticks_with_racks = 0;
    std::size_t ticks_unattributed = 0;
    for (std::uint64_t seed = 10'001; seed < 10'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Scenario sc = random_scenario(seed);
        const Run r = run(sc);
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const TickResult& t = r.ticks[n];
            if (!t.valid || sc.settings.racks.empty()) {
                continue;
            }
            ++ticks_with_racks;
            ticks_unattributed += t.unattributed ? 1 : 0;
            REQUIRE_AT(n, near(rack_sum(t, &RackTick::green_wh), t.green_wh, 1e-9));
            REQUIRE_AT(n, near(rack_sum(t, &RackTick::nongreen_wh), t.nongreen_wh, 1e-9));
            REQUIRE_AT(n, near(rack_sum(t, &RackTick::burdened_wh), t.load.wh, 1e-9));
            REQUIRE_AT(n,
                       near(rack_sum(t, &RackTick::carbon_location_g), t.carbon_location_g, 1e-9));
            REQUIRE_AT(n,
                       near(rack_sum(t, &RackTick::carbon_residual_g), t.carbon_residual_g, 1e-9));
            for (const auto& rack : t.racks) {
                REQUIRE_AT(n, rack.valid || (rack.green_wh == 0.0 && rack.green_it_wh == 0.0));
            }
        }
    }
    CHECK(ticks_with_racks > 10'000);
    CHECK(ticks_unattributed > 500);
}

TEST_CASE("invariant: 0 <= c <= 1 for the site and every rack view", "[accounting][invariants]") {
    for (std::uint64_t seed = 20'001; seed < 20'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed));
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const TickResult& t = r.ticks[n];
            if (t.coverage) {
                REQUIRE_AT(n, *t.coverage >= 0.0 && *t.coverage <= 1.0);
            }
            if (t.onsite_share) {
                REQUIRE_AT(n, *t.onsite_share >= 0.0 && *t.onsite_share <= *t.coverage + 1e-12);
            }
            REQUIRE_AT(n, t.battery_green_fraction >= 0.0 && t.battery_green_fraction <= 1.0);
            for (const auto& rack : t.racks) {
                REQUIRE_AT(n, rack.green_wh <= rack.burdened_wh * (1 + 1e-12) + 1e-9);
                REQUIRE_AT(n, rack.green_it_wh <= rack.it.wh * (1 + 1e-12) + 1e-9);
            }
        }
    }
}

TEST_CASE("invariant: hourly-matched CFE >= interval-matched CFE for every window",
          "[accounting][invariants]") {
    std::size_t windows = 0;
    for (std::uint64_t seed = 30'001; seed < 30'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed));
        for (std::size_t w = 0; w < r.windows.size(); ++w) {
            const Rollup& rollup = r.windows[w];
            REQUIRE_AT(w, rollup.cfe_interval.has_value() == rollup.cfe_hourly.has_value());
            if (rollup.cfe_interval) {
                ++windows;
                REQUIRE_AT(w, *rollup.cfe_hourly >= *rollup.cfe_interval - 1e-12);
                REQUIRE_AT(w, *rollup.cfe_hourly <= 1.0);
            }
        }
    }
    CHECK(windows > 5'000);
}

TEST_CASE("invariant: REF <= 1 and never above interval CFE", "[accounting][invariants]") {
    for (std::uint64_t seed = 40'001; seed < 40'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed));
        for (std::size_t w = 0; w < r.windows.size(); ++w) {
            const Rollup& rollup = r.windows[w];
            if (rollup.ref) {
                REQUIRE_AT(w, *rollup.ref >= 0.0 && *rollup.ref <= 1.0);
                REQUIRE_AT(w, *rollup.ref <= *rollup.cfe_interval + 1e-12);
            }
        }
    }
}

TEST_CASE("invariant: a well-mixed discharge leaves phi unchanged (engine)",
          "[accounting][invariants]") {
    std::size_t discharges = 0;
    ScenarioOptions options;
    options.battery_model = BatteryModel::well_mixed;
    for (std::uint64_t seed = 50'001; seed < 50'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Scenario sc = random_scenario(seed, options);
        const Run r = run(sc);
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const TickInputs& in = sc.ticks[n];
            const BatteryStatus& before = r.battery_before[n];
            const bool pure_discharge = in.discharge.usable() && in.discharge.wh > 0.0 &&
                                        in.charge.usable() && in.charge.wh == 0.0 &&
                                        !in.battery_stored_wh;
            if (!pure_discharge ||
                before.stored_wh < in.discharge.wh / sc.settings.discharge_efficiency + 1e-6) {
                continue;
            }
            ++discharges;
            REQUIRE_AT(n, near(r.ticks[n].battery.green_fraction, before.green_fraction, 1e-9));
            if (r.ticks[n].valid) {
                REQUIRE_AT(n, near(r.ticks[n].battery_green_fraction, before.green_fraction, 1e-9));
            }
        }
    }
    CHECK(discharges > 5'000);
}

TEST_CASE("invariant: a well-mixed discharge leaves phi unchanged (battery model)",
          "[accounting][invariants]") {
    for (std::uint64_t seed = 1; seed <= scenarios; ++seed) {
        CAPTURE(seed);
        std::mt19937_64 rng(seed);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        Battery battery(BatteryParameters{BatteryModel::well_mixed, 0.9, 0.93, 0.6, 0.7, 1024});
        for (int step = 0; step < 50; ++step) {
            if (u(rng) < 0.5) {
                const double ac = 10'000 * u(rng);
                battery.charge(ac, ac * u(rng), ac * u(rng), ac * u(rng));
                continue;
            }
            const double phi = battery.green_fraction();
            const double intensity = battery.carbon_location_g() / battery.stored_wh();
            const double ac = battery.stored_wh() * 0.93 * u(rng);
            const BatteryOutflow out = battery.discharge(ac);
            REQUIRE_AT(step, out.unknown_dc_wh == 0.0);
            REQUIRE_AT(step, near(out.green_fraction(), phi, 1e-12));
            REQUIRE_AT(step, near(battery.green_fraction(), phi, 1e-9));
            if (battery.stored_wh() > 1.0) {
                REQUIRE_AT(
                    step, near(battery.carbon_location_g() / battery.stored_wh(), intensity, 1e-9));
            }
        }
    }
}

TEST_CASE("invariant: energy and carbon counters are monotonic, site and per rack",
          "[accounting][invariants]") {
    for (std::uint64_t seed = 60'001; seed < 60'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed));
        for (std::size_t n = 1; n < r.totals.size(); ++n) {
            REQUIRE_AT(n, monotonic(r.totals[n - 1], r.totals[n]));
        }
        REQUIRE(
            near(r.totals.back().green_wh + r.totals.back().nongreen_wh, r.totals.back().load_wh));
    }
}

TEST_CASE("invariant: pool mode gives every outflow (load, charge, export) the same green "
          "fraction",
          "[accounting][invariants]") {
    std::size_t compared = 0;
    ScenarioOptions options;
    options.allocation = Allocation::pool;
    for (std::uint64_t seed = 70'001; seed < 70'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed, options));
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const TickResult& t = r.ticks[n];
            if (!t.valid || t.load.wh <= 1.0) {
                continue;
            }
            const double gamma = t.green_wh / t.load.wh;
            if (t.charge.wh > 1.0) {
                ++compared;
                REQUIRE_AT(n, near(t.green_to_battery_wh / t.charge.wh, gamma, 1e-9));
            }
            if (t.grid_export.wh > 1.0) {
                ++compared;
                REQUIRE_AT(n, near(t.green_to_export_wh / t.grid_export.wh, gamma, 1e-9));
            }
        }
    }
    CHECK(compared > 10'000);
}

TEST_CASE("invariant: with g = 0, G_L = r_L + phi x d_L", "[accounting][invariants]") {
    ScenarioOptions options;
    options.grid_cfe_share = 0.0;
    for (std::uint64_t seed = 80'001; seed < 80'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed, options));
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const TickResult& t = r.ticks[n];
            if (t.valid) {
                REQUIRE_AT(n, near(t.green_wh, t.renewable_to_load_wh + t.battery_green_fraction *
                                                                            t.battery_to_load_wh));
            }
        }
    }
}

TEST_CASE("invariant: export never raises coverage, CFE or REF (import passed through to "
          "export, and export alone)",
          "[accounting][invariants]") {
    for (std::uint64_t seed = 90'001; seed < 90'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Scenario base = random_scenario(seed);
        std::mt19937_64 rng(seed);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        Scenario passthrough = base;
        Scenario export_only = base;
        for (std::size_t n = 0; n < base.ticks.size(); ++n) {
            const double extra =
                u(rng) < 0.5 ? 0.0
                             : 20'000.0 * u(rng) * static_cast<double>(base.settings.tick.count()) /
                                   3'600'000.0;
            const TickInputs& t = base.ticks[n];
            if (!t.grid_import.usable() || !t.grid_export.usable() || t.grid_import.wh < 0.0 ||
                t.grid_export.wh < 0.0) {
                continue; // an implausible reading must stay implausible
            }
            passthrough.ticks[n].grid_import.wh += extra;
            passthrough.ticks[n].grid_export.wh += extra;
            if (measured_renewable(t)) {
                export_only.ticks[n].grid_export.wh += extra; // inferred R would grow with X
            }
        }
        const Run a = run(base);
        for (const Scenario* variant : {&passthrough, &export_only}) {
            const bool alone = variant == &export_only;
            CAPTURE(alone);
            const Run b = run(*variant);
            REQUIRE(a.ticks.size() == b.ticks.size());
            for (std::size_t n = 0; n < a.ticks.size(); ++n) {
                REQUIRE_AT(n, not_above(b.ticks[n].coverage, a.ticks[n].coverage));
                REQUIRE_AT(n, b.ticks[n].green_wh <= a.ticks[n].green_wh + 1e-9);
            }
            REQUIRE(a.windows.size() == b.windows.size());
            for (std::size_t w = 0; w < a.windows.size(); ++w) {
                REQUIRE_AT(w, not_above(b.windows[w].cfe_interval, a.windows[w].cfe_interval));
                // Pool mode normalises shares by the bus total: an export reading without any
                // matching inflow (unbalanced data, see site_allocation.hpp) may move its hourly
                // score either way. Balanced extra export (pass-through) never raises it.
                if (!alone || base.settings.allocation == Allocation::priority) {
                    REQUIRE_AT(w, not_above(b.windows[w].cfe_hourly, a.windows[w].cfe_hourly));
                }
                REQUIRE_AT(w, not_above(b.windows[w].ref, a.windows[w].ref));
            }
        }
    }
}

TEST_CASE("invariant: L = 0 never yields a coverage or a window CFE", "[accounting][invariants]") {
    std::size_t zero_load = 0;
    for (std::uint64_t seed = 100'001; seed < 100'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed));
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const TickResult& t = r.ticks[n];
            if (t.valid && t.load.wh == 0.0) {
                ++zero_load;
                REQUIRE_AT(n, !t.coverage.has_value());
                REQUIRE_AT(n, !t.onsite_share.has_value());
                REQUIRE_AT(n, t.green_wh == 0.0);
            }
            if (!t.valid) {
                REQUIRE_AT(n, !t.coverage.has_value());
            }
        }
        for (std::size_t w = 0; w < r.windows.size(); ++w) {
            if (r.windows[w].load_wh == 0.0) {
                REQUIRE_AT(w, !r.windows[w].cfe_interval && !r.windows[w].cfe_hourly &&
                                  !r.windows[w].ref);
            }
        }
    }
    CHECK(zero_load > 500);
}

TEST_CASE("invariant: a missing tick never counts as green in roll-ups",
          "[accounting][invariants]") {
    std::size_t gappy_windows = 0;
    for (std::uint64_t seed = 110'001; seed < 110'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Scenario sc = random_scenario(seed);
        const Run r = run(sc);
        const std::int64_t tick = sc.settings.tick.count();
        for (std::size_t w = 0; w < r.windows.size(); ++w) {
            const Rollup& rollup = r.windows[w];
            double green = 0.0;
            double load = 0.0;
            std::uint64_t processed = 0;
            std::uint64_t good = 0;
            for (const TickResult& t : r.ticks) {
                if (t.start_ms < rollup.start_ms || t.start_ms >= rollup.end_ms) {
                    continue;
                }
                ++processed;
                if (t.valid) {
                    green += t.green_wh;
                    load += t.load.wh;
                    good += t.quality <= SourceQuality::held ? 1 : 0;
                }
            }
            REQUIRE_AT(w, rollup.ticks == processed);
            REQUIRE_AT(w, near(rollup.green_wh, green));
            REQUIRE_AT(w, near(rollup.load_wh, load));
            REQUIRE_AT(w, rollup.ticks_expected <=
                              static_cast<std::uint64_t>((rollup.end_ms - rollup.start_ms) / tick));
            REQUIRE_AT(w,
                       near(rollup.data_coverage, static_cast<double>(good) /
                                                      static_cast<double>(rollup.ticks_expected)));
            if (processed < rollup.ticks_expected) {
                ++gappy_windows;
                REQUIRE_AT(w, rollup.quality == SourceQuality::missing);
                REQUIRE_AT(w, rollup.data_coverage < 1.0);
            }
        }
    }
    CHECK(gappy_windows > 1'000);
}

TEST_CASE("invariant: battery state stays physical (0 <= E_g <= E_b, carbon >= 0)",
          "[accounting][invariants]") {
    for (std::uint64_t seed = 120'001; seed < 120'001 + scenarios; ++seed) {
        CAPTURE(seed);
        const Run r = run(random_scenario(seed));
        for (std::size_t n = 0; n < r.ticks.size(); ++n) {
            const BatteryStatus& b = r.ticks[n].battery;
            REQUIRE_AT(n, b.stored_wh >= 0.0);
            REQUIRE_AT(n, b.green_wh >= 0.0 && b.green_wh <= b.stored_wh * (1 + 1e-12) + 1e-9);
            REQUIRE_AT(n, b.carbon_g >= -1e-9 && b.carbon_residual_g >= -1e-9);
            REQUIRE_AT(n, b.green_fraction >= 0.0 && b.green_fraction <= 1.0);
        }
    }
}
