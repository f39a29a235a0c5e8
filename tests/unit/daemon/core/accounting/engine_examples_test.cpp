// Worked examples A-E of green-accounting.md §9, reproduced through the engine. Expected numbers
// are the spec's, written by hand.

#include "engine_test_support.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::accounting;
using namespace greenrack::accounting::test;

namespace {

constexpr double tau_s = 900.0;

// Example A: L = 25 kWh per quarter; R = 10, 40, 25, 0 kWh; import 15, 0, 0, 25; export 0, 15,
// 0, 0.
std::vector<TickResult> run_example_a(Engine& engine) {
    const double r[] = {10'000, 40'000, 25'000, 0};
    const double i[] = {15'000, 0, 0, 25'000};
    const double x[] = {0, 15'000, 0, 0};
    std::vector<TickResult> out;
    for (int q = 0; q < 4; ++q) {
        out.push_back(
            engine.process(site_tick(t0_ms + q * quarter_ms, r[q], 0, 0, i[q], x[q], 25'000)));
    }
    return out;
}

const Rollup& hour_of(const std::vector<Rollup>& rollups) {
    for (const auto& r : rollups) {
        if (r.window == Window::hour) {
            return r;
        }
    }
    FAIL("no hour roll-up");
    return rollups.front();
}

} // namespace

TEST_CASE("example A: quarter-hour allocation gives r_L 10/25/25/0 and import 15/0/0/25",
          "[accounting][examples]") {
    Engine engine(quarter_hour_settings());
    const auto ticks = run_example_a(engine);
    const double r_l[] = {10'000, 25'000, 25'000, 0};
    const double i_l[] = {15'000, 0, 0, 25'000};
    const double r_x[] = {0, 15'000, 0, 0};
    for (int q = 0; q < 4; ++q) {
        CAPTURE(q);
        CHECK(ticks[q].valid);
        CHECK(ticks[q].renewable_to_load_wh == Approx(r_l[q]).margin(1e-9));
        CHECK(ticks[q].grid_to_load_wh == Approx(i_l[q]).margin(1e-9));
        CHECK(ticks[q].renewable_to_export_wh == Approx(r_x[q]).margin(1e-9));
        CHECK(ticks[q].green_wh == Approx(r_l[q]).margin(1e-9));
    }
}

TEST_CASE("example A: g = 0 gives interval CFE 0.60 and hourly CFE 0.75 for the hour",
          "[accounting][examples]") {
    Engine engine(quarter_hour_settings());
    run_example_a(engine);

    const Rollup live = hour_of(engine.open_rollups());
    CHECK(live.cfe_interval.value() == Approx(0.60).epsilon(1e-12));
    CHECK(live.cfe_hourly.value() == Approx(0.75).epsilon(1e-12));

    engine.process(site_tick(t0_ms + hour_ms, 0, 0, 0, 1'000, 0, 1'000));
    const Rollup closed = hour_of(engine.take_closed_rollups());
    CHECK(closed.start_ms == t0_ms);
    CHECK(closed.end_ms == t0_ms + hour_ms);
    CHECK(closed.load_wh == Approx(100'000).epsilon(1e-12));
    CHECK(closed.green_wh == Approx(60'000).epsilon(1e-12));
    CHECK(closed.cfe_interval.value() == Approx(0.60).epsilon(1e-12));
    CHECK(closed.cfe_hourly.value() == Approx(0.75).epsilon(1e-12));
    CHECK(closed.export_wh == Approx(15'000).epsilon(1e-12));
    CHECK(closed.data_coverage == Approx(1.0));
}

TEST_CASE("example A: g = 0.3 gives interval CFE 0.72 and hourly CFE 0.825",
          "[accounting][examples]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.grid_cfe_share = 0.3;
    Engine engine(settings);
    run_example_a(engine);
    const Rollup live = hour_of(engine.open_rollups());
    CHECK(live.cfe_interval.value() == Approx(0.72).epsilon(1e-12));
    CHECK(live.cfe_hourly.value() == Approx(0.825).epsilon(1e-12));
    // REF over the hour without retained on-site attributes: supplier green only, 0.3 x 40/100.
    CHECK(live.ref.value() == Approx(0.12).epsilon(1e-12));
}

TEST_CASE("example A with 5 s ticks gives the same interval and hourly CFE",
          "[accounting][examples]") {
    Engine engine{AccountingSettings{}};
    const double tick_wh = 25'000.0 / 180.0; // 180 ticks per quarter hour
    const double r[] = {10'000, 40'000, 25'000, 0};
    const double i[] = {15'000, 0, 0, 25'000};
    const double x[] = {0, 15'000, 0, 0};
    for (int q = 0; q < 4; ++q) {
        for (int n = 0; n < 180; ++n) {
            engine.process(site_tick(t0_ms + q * quarter_ms + n * 5'000, r[q] / 180.0, 0, 0,
                                     i[q] / 180.0, x[q] / 180.0, tick_wh));
        }
    }
    const Rollup live = hour_of(engine.open_rollups());
    CHECK(live.ticks == 720);
    CHECK(live.ticks_expected == 720);
    CHECK(live.cfe_interval.value() == Approx(0.60).epsilon(1e-12));
    CHECK(live.cfe_hourly.value() == Approx(0.75).epsilon(1e-12));
}

TEST_CASE("example B: well-mixed state of green charge through charge, grid charge, discharge",
          "[accounting][examples]") {
    Engine engine(quarter_hour_settings()); // eta_c = eta_d = 0.95, g = 0
    std::int64_t t = t0_ms;
    // Set up E_b = 50, E_g = 25 kWh: an empty battery (reading 0), 25 kWh DC from renewables,
    // 25 kWh DC from the grid.
    TickInputs empty = site_tick(t, 0, 0, 0, 0, 0, 0);
    empty.battery_stored_wh = 0.0;
    engine.process(empty);
    const double c25 = 25'000.0 / 0.95;
    engine.process(site_tick(t += quarter_ms, c25, 0, c25, 0, 0, 0));
    engine.process(site_tick(t += quarter_ms, 0, 0, c25, c25, 0, 0));
    CHECK(engine.battery().stored_wh == Approx(50'000).epsilon(1e-12));
    CHECK(engine.battery().green_wh == Approx(25'000).epsilon(1e-12));
    CHECK(engine.battery().green_fraction == Approx(0.5).epsilon(1e-12));
    CHECK_FALSE(engine.battery().cold_start);

    // 1. Charge 20 kWh AC from renewable surplus.
    engine.process(site_tick(t += quarter_ms, 20'000, 0, 20'000, 0, 0, 0));
    CHECK(engine.battery().stored_wh == Approx(69'000).epsilon(1e-12));
    CHECK(engine.battery().green_wh == Approx(44'000).epsilon(1e-12));
    CHECK(engine.battery().green_fraction == Approx(0.6377).margin(0.00005));

    // 2. Charge 10 kWh AC from the grid (g = 0).
    engine.process(site_tick(t += quarter_ms, 0, 0, 10'000, 10'000, 0, 0));
    CHECK(engine.battery().stored_wh == Approx(78'500).epsilon(1e-12));
    CHECK(engine.battery().green_wh == Approx(44'000).epsilon(1e-12));
    CHECK(engine.battery().green_fraction == Approx(0.5605).margin(0.00005));

    // 3. Discharge 19 kWh AC to load: 20 kWh leave storage.
    const TickResult d = engine.process(site_tick(t += quarter_ms, 0, 19'000, 0, 0, 0, 19'000));
    CHECK(d.battery_to_load_wh == Approx(19'000).epsilon(1e-12));
    CHECK(d.battery_green_fraction == Approx(0.5605).margin(0.00005));
    CHECK(d.green_wh == Approx(10'650).margin(0.5));   // 10.650 kWh
    CHECK(d.nongreen_wh == Approx(8'350).margin(0.5)); // 8.350 kWh
    CHECK(d.battery.stored_wh == Approx(58'500).epsilon(1e-12));
    CHECK(d.battery.green_wh == Approx(32'790).margin(0.5)); // 32.790 kWh
    CHECK(d.battery.green_fraction == Approx(44'000.0 / 78'500.0).epsilon(1e-12));
    CHECK(d.battery.deliverable_green_wh == Approx(32'790 * 0.95).margin(0.5));
    CHECK((d.flags & flag_battery_cold_start) == 0U);
}

TEST_CASE("example B with the fifo model: the discharge takes the oldest (green) slice first",
          "[accounting][examples]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.battery_model = BatteryModel::fifo;
    Engine engine(settings);
    std::int64_t t = t0_ms;
    TickInputs empty = site_tick(t, 0, 0, 0, 0, 0, 0);
    empty.battery_stored_wh = 0.0;
    engine.process(empty);
    const double c25 = 25'000.0 / 0.95;
    engine.process(site_tick(t += quarter_ms, c25, 0, c25, 0, 0, 0));       // 25 green
    engine.process(site_tick(t += quarter_ms, 0, 0, c25, c25, 0, 0));       // 25 grid
    engine.process(site_tick(t += quarter_ms, 20'000, 0, 20'000, 0, 0, 0)); // 19 green
    engine.process(site_tick(t += quarter_ms, 0, 0, 10'000, 10'000, 0, 0)); // 9.5 grid
    CHECK(engine.battery().stored_wh == Approx(78'500).epsilon(1e-12));
    CHECK(engine.battery().green_wh == Approx(44'000).epsilon(1e-12));

    // 20 kWh DC out of the 25 kWh green slice: all 19 kWh delivered are green.
    const TickResult d = engine.process(site_tick(t += quarter_ms, 0, 19'000, 0, 0, 0, 19'000));
    CHECK(d.green_wh == Approx(19'000).epsilon(1e-12));
    CHECK(d.nongreen_wh == Approx(0).margin(1e-6));
    CHECK(d.battery.stored_wh == Approx(58'500).epsilon(1e-12));
    CHECK(d.battery.green_wh == Approx(24'000).epsilon(1e-12));

    // The next 10 kWh DC: 5 green (the rest of the first slice), then 5 from the grid slice.
    const TickResult e = engine.process(site_tick(t += quarter_ms, 0, 9'500, 0, 0, 0, 9'500));
    CHECK(e.battery_green_fraction == Approx(0.5).epsilon(1e-12));
    CHECK(e.green_wh == Approx(4'750).epsilon(1e-12));
}

TEST_CASE("example C: rack split 30/50/20 kW with L 125 kW and c 0.6", "[accounting][examples]") {
    for (Allocation mode : {Allocation::priority, Allocation::pool}) {
        CAPTURE(to_string(mode));
        AccountingSettings settings = quarter_hour_settings();
        settings.allocation = mode;
        settings.racks = {{"A", 0}, {"B", 0}, {"C", 0}};
        Engine engine(settings);
        const TickResult t = engine.process(site_tick(
            t0_ms, wh_of_kw(75, tau_s), 0, 0, wh_of_kw(50, tau_s), 0, wh_of_kw(125, tau_s),
            {wh_of_kw(30, tau_s), wh_of_kw(50, tau_s), wh_of_kw(20, tau_s)}));
        REQUIRE(t.valid);
        CHECK(t.coverage.value() == Approx(0.6).epsilon(1e-12));
        CHECK(t.ipue.value() == Approx(1.25).epsilon(1e-12));
        const double green[] = {22.5, 37.5, 15};
        const double nongreen[] = {15, 25, 10};
        const double it_green[] = {18, 30, 12};
        const double burdened[] = {37.5, 62.5, 25};
        for (int i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(t.racks[i].valid);
            CHECK(kw(t.racks[i].burdened_wh, tau_s) == Approx(burdened[i]).epsilon(1e-12));
            CHECK(kw(t.racks[i].green_wh, tau_s) == Approx(green[i]).epsilon(1e-12));
            CHECK(kw(t.racks[i].nongreen_wh, tau_s) == Approx(nongreen[i]).epsilon(1e-12));
            CHECK(kw(t.racks[i].green_it_wh, tau_s) == Approx(it_green[i]).epsilon(1e-12));
        }
        CHECK_FALSE(t.unattributed.has_value());
        // Carbon follows the non-green share: grid 12.5 kWh x 554.3 g/kWh, A has 15/50 of it.
        CHECK(t.carbon_location_g == Approx(12.5 * 554.3).epsilon(1e-12));
        CHECK(t.racks[0].carbon_location_g == Approx(12.5 * 554.3 * 0.3).epsilon(1e-12));
    }
}

TEST_CASE("example C tiered: tier 0 rack A is filled first, B and C share the rest at 0.4286",
          "[accounting][examples]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}, {"B", 1}, {"C", 1}};
    Engine engine(settings);
    const TickResult t = engine.process(
        site_tick(t0_ms, wh_of_kw(75, tau_s), 0, 0, wh_of_kw(50, tau_s), 0, wh_of_kw(125, tau_s),
                  {wh_of_kw(30, tau_s), wh_of_kw(50, tau_s), wh_of_kw(20, tau_s)}));
    CHECK(kw(t.racks[0].green_wh, tau_s) == Approx(37.5).epsilon(1e-12));
    CHECK(kw(t.racks[1].green_wh, tau_s) == Approx(26.79).margin(0.005));
    CHECK(kw(t.racks[2].green_wh, tau_s) == Approx(10.71).margin(0.005));
    CHECK(t.racks[1].green_wh / t.racks[1].burdened_wh == Approx(0.4286).margin(0.00005));
    CHECK(kw(t.racks[0].nongreen_wh, tau_s) == Approx(0).margin(1e-9));
    CHECK(kw(t.racks[1].nongreen_wh + t.racks[2].nongreen_wh, tau_s) == Approx(50).epsilon(1e-12));
    // The IT-only view is not tiered.
    CHECK(kw(t.racks[0].green_it_wh, tau_s) == Approx(18).epsilon(1e-12));
}

TEST_CASE("example D: 40 kWh grid to load is 22,172 g location-based and 24,384 g residual",
          "[accounting][examples]") {
    Engine engine(quarter_hour_settings());
    const TickResult t = engine.process(site_tick(t0_ms, 0, 0, 0, 40'000, 0, 40'000));
    CHECK(t.grid_to_load_wh == Approx(40'000).epsilon(1e-12));
    CHECK(t.carbon_location_g == Approx(22'172).epsilon(1e-12));
    CHECK(t.carbon_residual_g == Approx(24'384).epsilon(1e-12));
    CHECK(t.carbon_intensity_location_g_per_kwh.value() == Approx(554.3).epsilon(1e-12));
}

TEST_CASE("example D with g = 0.25: location scope ignores g, residual scope applies it",
          "[accounting][examples]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.grid_cfe_share = 0.25;
    Engine engine(settings);
    const TickResult t = engine.process(site_tick(t0_ms, 0, 0, 0, 40'000, 0, 40'000));
    CHECK(t.carbon_location_g == Approx(22'172).epsilon(1e-12));
    CHECK(t.carbon_residual_g == Approx(0.75 * 24'384).epsilon(1e-12));
    CHECK(t.green_wh == Approx(10'000).epsilon(1e-12));
}

TEST_CASE("example E: headroom free 30 kW and total 70 kW with R_avail known",
          "[accounting][examples]") {
    Engine engine(quarter_hour_settings());
    TickInputs in = site_tick(t0_ms, wh_of_kw(160, tau_s), 0, wh_of_kw(40, tau_s), 0,
                              wh_of_kw(20, tau_s), wh_of_kw(100, tau_s));
    in.renewable_available = ok(wh_of_kw(170, tau_s));
    const TickResult t = engine.process(in);
    CHECK(t.curtailed_wh == Approx(wh_of_kw(10, tau_s)).epsilon(1e-12));
    CHECK(t.headroom_free_w == Approx(30'000).epsilon(1e-12));
    CHECK(t.headroom_total_w == Approx(70'000).epsilon(1e-12));
    CHECK_FALSE(t.headroom_total_lower_bound);
}

TEST_CASE("example E without R_avail: total headroom is the lower bound R - r_L",
          "[accounting][examples]") {
    Engine engine(quarter_hour_settings());
    const TickResult t =
        engine.process(site_tick(t0_ms, wh_of_kw(160, tau_s), 0, wh_of_kw(40, tau_s), 0,
                                 wh_of_kw(20, tau_s), wh_of_kw(100, tau_s)));
    CHECK(t.headroom_free_w == Approx(20'000).epsilon(1e-12));
    CHECK(t.headroom_total_w == Approx(60'000).epsilon(1e-12));
    CHECK(t.headroom_total_lower_bound);
}
