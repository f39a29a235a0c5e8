// Edge cases of green-accounting.md §7 and the engine's conservative choices, with expected
// numbers worked out by hand.

#include "engine_test_support.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <stdexcept>

using namespace greenrack::accounting;
using namespace greenrack::accounting::test;

namespace {

constexpr double tau_s = 900.0;

bool has(const TickResult& t, std::uint32_t flag) {
    return (t.flags & flag) != 0U;
}

// An empty battery whose history is known (a reading of 0), then `green_dc` Wh of renewable
// charge stored. Returns the next tick start.
std::int64_t battery_with_green(Engine& engine, double green_dc) {
    TickInputs empty = site_tick(t0_ms, 0, 0, 0, 0, 0, 0);
    empty.battery_stored_wh = 0.0;
    engine.process(empty);
    const double ac = green_dc / 0.95;
    engine.process(site_tick(t0_ms + quarter_ms, ac, 0, ac, 0, 0, 0));
    return t0_ms + 2 * quarter_ms;
}

} // namespace

TEST_CASE("L = 0: the tick is valid but coverage is missing, never 100 %", "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    const TickResult t = engine.process(site_tick(t0_ms, 5'000, 0, 0, 0, 5'000, 0));
    CHECK(t.valid);
    CHECK_FALSE(t.coverage.has_value());
    CHECK_FALSE(t.onsite_share.has_value());
    CHECK_FALSE(t.carbon_intensity_location_g_per_kwh.has_value());
    CHECK(t.green_wh == 0.0);
    const auto open = engine.open_rollups();
    REQUIRE(open.size() == 3);
    for (const auto& r : open) {
        CHECK_FALSE(r.cfe_interval.has_value());
        CHECK_FALSE(r.cfe_hourly.has_value());
        CHECK_FALSE(r.ref.has_value());
    }
}

TEST_CASE("missing R with fresh grid, battery and facility meters is inferred from the balance",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    TickInputs in = site_tick(t0_ms, 0, 0, 5'000, 30'000, 10'000, 20'000);
    in.pv = missing();
    const TickResult t = engine.process(in);
    REQUIRE(t.valid);
    CHECK(has(t, flag_inferred_renewable));
    CHECK(t.renewable.quality == SourceQuality::inferred);
    CHECK(t.quality == SourceQuality::inferred);
    CHECK(t.renewable.wh == Approx(5'000)); // 20 + 5 + 10 - 0 - 30 kWh
    CHECK(t.wind.wh == 0.0);                // the known part of the split
    CHECK(t.pv.wh == Approx(5'000));
    CHECK(t.pv.quality == SourceQuality::inferred);
    CHECK(t.green_wh == Approx(5'000));
    CHECK(t.balance_residual_wh == Approx(0).margin(1e-9));
}

TEST_CASE("missing R and a missing grid meter is a data gap: no green, zero import never assumed",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    TickInputs in = site_tick(t0_ms, 0, 0, 0, 0, 0, 20'000);
    in.pv = missing();
    in.grid_import = missing();
    const TickResult t = engine.process(in);
    CHECK_FALSE(t.valid);
    CHECK(has(t, flag_data_gap));
    CHECK_FALSE(t.coverage.has_value());
    CHECK(t.green_wh == 0.0);
    CHECK(t.quality == SourceQuality::missing);
    CHECK(engine.totals().green_wh == 0.0);
    CHECK(engine.totals().load_wh == 0.0);
    CHECK(engine.totals().ticks == 1);
    CHECK(engine.totals().ticks_valid == 0);
}

TEST_CASE("a measured R with a stale grid meter is still a data gap", "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    TickInputs in = site_tick(t0_ms, 20'000, 0, 0, 0, 0, 20'000);
    in.grid_export = stale();
    const TickResult t = engine.process(in);
    CHECK_FALSE(t.valid);
    CHECK(has(t, flag_data_gap));
}

TEST_CASE("R is never inferred from an estimated load", "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}};
    Engine engine(settings);
    TickInputs in = site_tick(t0_ms, 0, 0, 0, 0, 0, 0, {10'000});
    in.facility_metered = false;
    in.load = missing();
    in.pv = missing();
    const TickResult t = engine.process(in);
    CHECK_FALSE(t.valid);
    CHECK(has(t, flag_data_gap));
    CHECK(has(t, flag_estimated_load));
    CHECK_FALSE(has(t, flag_inferred_renewable));
}

TEST_CASE("a stale facility meter is a data gap, not replaced by the rack estimate",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}};
    Engine engine(settings);
    TickInputs in = site_tick(t0_ms, 10'000, 0, 0, 5'000, 0, 15'000, {10'000});
    in.load = stale();
    const TickResult t = engine.process(in);
    CHECK_FALSE(t.valid);
    CHECK(t.quality == SourceQuality::stale);
    CHECK_FALSE(t.racks[0].valid);
    CHECK(t.racks[0].green_wh == 0.0);
}

TEST_CASE("without a facility meter L = (1 + f) x sum(E_i), flagged, and iPUE is absent",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}, {"B", 0}};
    settings.infrastructure_fraction = 0.2;
    Engine engine(settings);
    TickInputs in = site_tick(t0_ms, 18'000, 0, 0, 18'000, 0, 0, {10'000, 20'000});
    in.facility_metered = false;
    in.load = missing();
    const TickResult t = engine.process(in);
    REQUIRE(t.valid);
    CHECK(has(t, flag_estimated_load));
    CHECK(t.load.wh == Approx(36'000));
    CHECK(t.coverage.value() == Approx(0.5));
    CHECK_FALSE(t.ipue.has_value());
    CHECK(t.racks[1].burdened_wh == Approx(24'000));
    CHECK_FALSE(engine.open_rollups().front().ipue.has_value());
}

TEST_CASE("import and export in the same tick: priority uses the gross registers unchanged",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.grid_cfe_share = 0.5;
    Engine base(settings);
    Engine passthrough(settings);
    const TickResult a = base.process(site_tick(t0_ms, 50'000, 0, 0, 50'000, 0, 100'000));
    const TickResult b =
        passthrough.process(site_tick(t0_ms, 50'000, 0, 0, 80'000, 30'000, 100'000));
    CHECK(a.green_wh == Approx(75'000)); // 50 + 0.5 x 50
    CHECK(b.green_wh == Approx(75'000));
    CHECK(b.grid_import.wh == 80'000);
    CHECK(b.grid_export.wh == 30'000);
}

TEST_CASE("pool mode: import passed through to export does not dilute a low-green battery "
          "towards g",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.allocation = Allocation::pool;
    settings.grid_cfe_share = 0.5;
    Engine engine(settings);
    // A battery of unknown history (phi = 0) feeds the whole load; 50 kWh are imported and
    // exported in the same tick. Gross pooling would give the load (0.5 x 50) / 150 = 1/6 green;
    // netting the pass-through keeps it at 0.
    TickInputs in = site_tick(t0_ms, 0, 100'000, 0, 50'000, 50'000, 100'000);
    in.battery_stored_wh = 500'000.0;
    engine.process(site_tick(t0_ms - quarter_ms, 0, 0, 0, 0, 0, 0));
    const TickResult t = engine.process(in);
    REQUIRE(t.valid);
    CHECK(t.battery_green_fraction == 0.0);
    CHECK(t.green_wh == Approx(0).margin(1e-9));
    CHECK(t.green_to_export_wh == Approx(0).margin(1e-9));
}

TEST_CASE("a counter-reset flag raised by the time base is carried on the tick",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    TickInputs in = site_tick(t0_ms, 10'000, 0, 0, 0, 0, 10'000);
    in.flags = flag_counter_reset;
    const TickResult t = engine.process(in);
    CHECK(has(t, flag_counter_reset));
    CHECK(t.valid);
    REQUIRE(flag_names(t.flags) == std::vector<std::string_view>{"counter_reset"});
}

TEST_CASE("a negative load is implausible: excluded, clamped flag, data gap",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    const TickResult t = engine.process(site_tick(t0_ms, 10'000, 0, 0, 0, 0, -5'000));
    CHECK(has(t, flag_clamped));
    CHECK_FALSE(t.valid);
    CHECK(t.load.quality == SourceQuality::missing);
}

TEST_CASE("renewable output above 1.1 x nameplate is excluded and inferred from the balance",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.renewable_nameplate_w = 100'000.0; // 27.5 kWh per quarter hour at most
    Engine engine(settings);
    const TickResult t = engine.process(site_tick(t0_ms, 40'000, 0, 0, 0, 0, 25'000));
    CHECK(has(t, flag_clamped));
    CHECK(has(t, flag_inferred_renewable));
    CHECK(t.renewable.wh == Approx(25'000));
    const TickResult ok_tick =
        engine.process(site_tick(t0_ms + quarter_ms, 27'000, 0, 0, 0, 2'000, 25'000));
    CHECK_FALSE(has(ok_tick, flag_clamped));
}

TEST_CASE("balance flag above max(50 W x tau, 2 % of L)", "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    // eps_abs = 12.5 Wh, eps_rel x L = 2,000 Wh.
    const TickResult within = engine.process(site_tick(t0_ms, 50'000, 0, 0, 51'500, 0, 100'000));
    CHECK(within.balance_residual_wh == Approx(1'500));
    CHECK(within.balance_residual_w == Approx(6'000));
    CHECK_FALSE(has(within, flag_balance));
    const TickResult beyond =
        engine.process(site_tick(t0_ms + quarter_ms, 50'000, 0, 0, 47'500, 0, 100'000));
    CHECK(beyond.balance_residual_wh == Approx(-2'500));
    CHECK(has(beyond, flag_balance));
    // Unexplained load is grid energy: never green with g = 0.
    CHECK(beyond.green_wh == Approx(50'000));
}

TEST_CASE("battery cold start: content of unknown history is non-green with grid carbon until "
          "it has left storage",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    TickInputs first = site_tick(t0_ms, 0, 0, 0, 0, 0, 0);
    first.battery_stored_wh = 40'000.0;
    const TickResult a = engine.process(first);
    CHECK(has(a, flag_battery_cold_start));
    CHECK_FALSE(has(a, flag_battery_resync));
    CHECK(a.battery.cold_start);
    CHECK(a.battery.green_fraction == 0.0);
    CHECK(a.battery.stored_wh == Approx(40'000));
    CHECK(a.battery.losses_wh == 0.0); // the content found is not a gain

    // 19 kWh AC = 20 kWh DC out: non-green, carbon as if grid-charged (EF / eta_c per DC Wh).
    const TickResult b = engine.process(site_tick(t0_ms + quarter_ms, 0, 19'000, 0, 0, 0, 19'000));
    CHECK(b.green_wh == 0.0);
    CHECK(b.carbon_location_g == Approx(20'000 * 0.5543 / 0.95));
    CHECK(b.carbon_residual_g == Approx(20'000 * 0.6096 / 0.95));
    CHECK(has(b, flag_battery_cold_start));
    CHECK(b.battery.cold_start);

    // The other 20 kWh DC leave: history is known from now on.
    const TickResult c =
        engine.process(site_tick(t0_ms + 2 * quarter_ms, 0, 19'000, 0, 0, 0, 19'000));
    CHECK(has(c, flag_battery_cold_start));
    CHECK_FALSE(c.battery.cold_start);
    const TickResult d =
        engine.process(site_tick(t0_ms + 3 * quarter_ms, 10'000, 0, 10'000, 0, 0, 0));
    CHECK_FALSE(has(d, flag_battery_cold_start));
    CHECK(d.battery.green_fraction == Approx(1.0));
}

TEST_CASE("battery without any reading stays in cold start, a discharge beyond the model is "
          "non-green",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    const TickResult t = engine.process(site_tick(t0_ms, 0, 9'500, 0, 0, 0, 9'500));
    CHECK(t.valid);
    CHECK(t.green_wh == 0.0);
    CHECK(t.battery_green_fraction == 0.0);
    CHECK(has(t, flag_battery_cold_start));
    CHECK(t.battery.known);
    CHECK(t.battery.stored_wh == 0.0);
    CHECK(t.carbon_location_g == Approx(10'000 * 0.5543 / 0.95));
}

TEST_CASE("no battery at all: no battery flags", "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    const TickResult t = engine.process(site_tick(t0_ms, 10'000, 0, 0, 0, 0, 10'000));
    CHECK_FALSE(t.battery.known);
    CHECK_FALSE(has(t, flag_battery_cold_start));
}

TEST_CASE("SoC jump with metered flows: resync scales E_g and M_b (phi kept), books the "
          "difference and flags it",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    std::int64_t t = battery_with_green(engine, 10'000); // E_b = E_g = 10 kWh
    const double losses_before = engine.battery().losses_wh;
    TickInputs up = site_tick(t, 0, 0, 0, 0, 0, 0);
    up.battery_stored_wh = 20'000.0;
    const TickResult a = engine.process(up);
    CHECK(has(a, flag_battery_resync));
    CHECK(a.battery.stored_wh == Approx(20'000));
    CHECK(a.battery.green_wh == Approx(20'000));
    CHECK(a.battery.losses_wh == Approx(losses_before - 10'000));

    TickInputs down = site_tick(t + quarter_ms, 0, 0, 0, 0, 0, 0);
    down.battery_stored_wh = 5'000.0;
    const TickResult b = engine.process(down);
    CHECK(has(b, flag_battery_resync));
    CHECK(b.battery.green_fraction == Approx(1.0));
    CHECK(b.battery.green_wh == Approx(5'000));
    CHECK(b.battery.losses_wh == Approx(losses_before + 5'000));

    // A reading within metering noise is applied but not flagged.
    TickInputs same = site_tick(t + 2 * quarter_ms, 0, 0, 0, 0, 0, 0);
    same.battery_stored_wh = 5'010.0;
    CHECK_FALSE(has(engine.process(same), flag_battery_resync));
}

TEST_CASE("a gain found after unmetered battery flows is of unknown origin: non-green",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    std::int64_t t = battery_with_green(engine, 10'000);
    TickInputs blind = site_tick(t, 0, 0, 0, 0, 0, 0);
    blind.charge = missing();
    const TickResult gap = engine.process(blind);
    CHECK_FALSE(gap.valid);
    TickInputs reading = site_tick(t + quarter_ms, 0, 0, 0, 0, 0, 0);
    reading.battery_stored_wh = 15'000.0;
    const TickResult r = engine.process(reading);
    CHECK(r.battery.stored_wh == Approx(15'000));
    CHECK(r.battery.green_wh == Approx(10'000));
    CHECK(r.battery.green_fraction == Approx(2.0 / 3.0));
}

TEST_CASE("a tick without green figures still moves the battery, its charge counts as non-green",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    std::int64_t t = battery_with_green(engine, 10'000);
    TickInputs in = site_tick(t, 10'000, 0, 10'000, 0, 0, 0);
    in.pv = missing();
    in.grid_import = missing();
    const TickResult gap = engine.process(in);
    CHECK_FALSE(gap.valid);
    CHECK(gap.battery.stored_wh == Approx(19'500));
    CHECK(gap.battery.green_wh == Approx(10'000));
    CHECK(gap.battery.carbon_g == Approx(10'000 * 0.5543));
}

TEST_CASE("charge and discharge in one tick: the order delivering less green is taken",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    std::int64_t t = battery_with_green(engine, 10'000); // phi = 1
    // Grid charge 10 kWh AC (9.5 DC, non-green) and discharge 9.5 kWh AC (10 DC) in one tick.
    // Discharge first would deliver phi = 1; charge first mixes to 10/19.5 first.
    const TickResult r = engine.process(site_tick(t, 0, 9'500, 10'000, 10'000, 0, 9'500));
    CHECK(r.battery_green_fraction == Approx(10'000.0 / 19'500.0));
    CHECK(r.green_wh == Approx(9'500 * 10'000.0 / 19'500.0));
}

TEST_CASE("storage headroom is min(P_dis_max - D, E_g x eta_d / horizon), 0 without P_dis_max",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.battery_max_discharge_w = 30'000.0;
    Engine engine(settings);
    std::int64_t t = battery_with_green(engine, 20'000);
    // Discharge 5 kWh AC in 15 min = 20 kW; E_g after = 20 - 5/0.95 kWh.
    const TickResult a = engine.process(site_tick(t, 0, 5'000, 0, 0, 0, 5'000));
    const double deliverable_w = (20'000 - 5'000 / 0.95) * 0.95; // over 1 h
    CHECK(a.headroom_storage_w == Approx(std::min(10'000.0, deliverable_w)));
    TickInputs in = site_tick(t + quarter_ms, 0, 0, 0, 0, 0, 0);
    in.battery_max_discharge_w = 5'000.0;
    CHECK(engine.process(in).headroom_storage_w == Approx(5'000));

    Engine unknown_limit(quarter_hour_settings());
    battery_with_green(unknown_limit, 20'000);
    CHECK(unknown_limit.process(site_tick(t, 0, 0, 0, 0, 0, 0)).headroom_storage_w == 0.0);
}

TEST_CASE("two unknown racks with a site IT meter: the remainder goes to 'unattributed' in the "
          "lowest tier of the unknown racks",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}, {"B", 1}, {"C", 2}};
    Engine engine(settings);
    TickInputs in = site_tick(t0_ms, 75'000, 0, 0, 50'000, 0, 125'000, {30'000, 0, 0});
    in.rack_it[1] = stale();
    in.rack_it[2] = missing();
    in.site_it = ok(100'000);
    const TickResult t = engine.process(in);
    REQUIRE(t.valid);
    CHECK(has(t, flag_unattributed));
    REQUIRE(t.unattributed.has_value());
    CHECK(t.unattributed->id == "unattributed");
    CHECK(t.unattributed->tier == 1);
    CHECK(t.unattributed->it.wh == Approx(70'000));
    CHECK(t.unattributed->burdened_wh == Approx(87'500)); // k = 1.25
    CHECK(t.racks[0].green_wh == Approx(37'500));         // tier 0 filled first
    CHECK(t.unattributed->green_wh == Approx(37'500));
    CHECK(t.unattributed->nongreen_wh == Approx(50'000));
    CHECK_FALSE(t.racks[1].valid);
    CHECK_FALSE(t.racks[2].valid);
    CHECK(t.racks[1].green_wh == 0.0);
    CHECK(t.ipue.value() == Approx(1.25));
    CHECK(engine.totals().unattributed.green_wh == Approx(37'500));
}

TEST_CASE("one unknown rack with a site IT meter gets E_IT minus the known racks",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}, {"B", 0}, {"C", 0}};
    Engine engine(settings);
    TickInputs in = site_tick(t0_ms, 75'000, 0, 0, 50'000, 0, 125'000, {30'000, 0, 20'000});
    in.rack_it[1] = stale();
    in.site_it = ok(100'000);
    const TickResult t = engine.process(in);
    CHECK_FALSE(t.unattributed.has_value());
    CHECK_FALSE(has(t, flag_unattributed));
    CHECK(t.racks[1].valid);
    CHECK(t.racks[1].it.wh == Approx(50'000));
    CHECK(t.racks[1].it.quality == SourceQuality::inferred);
    CHECK(t.racks[1].green_wh == Approx(37'500));
    CHECK(t.quality == SourceQuality::inferred);
}

TEST_CASE("an unknown rack without a site IT meter: known racks carry no overhead, the rest of "
          "L goes to 'unattributed'",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}, {"B", 0}, {"C", 0}};
    Engine engine(settings);
    TickInputs in = site_tick(t0_ms, 75'000, 0, 0, 50'000, 0, 125'000, {30'000, 0, 20'000});
    in.rack_it[1] = stale();
    const TickResult t = engine.process(in);
    REQUIRE(t.valid);
    REQUIRE(t.unattributed.has_value());
    CHECK(t.unattributed->it.quality == SourceQuality::missing);
    CHECK(t.racks[0].burdened_wh == Approx(30'000));
    CHECK(t.racks[0].green_wh == Approx(18'000));
    CHECK(t.racks[2].green_wh == Approx(12'000));
    CHECK(t.unattributed->burdened_wh == Approx(75'000));
    CHECK(t.unattributed->green_wh == Approx(45'000));
    CHECK_FALSE(t.racks[1].valid);
    CHECK_FALSE(t.ipue.has_value());
}

TEST_CASE("an unknown rack without a facility meter or site IT meter is a data gap",
          "[accounting][edge]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.racks = {{"A", 0}, {"B", 0}};
    Engine engine(settings);
    TickInputs in = site_tick(t0_ms, 10'000, 0, 0, 10'000, 0, 0, {10'000, 0});
    in.facility_metered = false;
    in.load = missing();
    in.rack_it[1] = missing();
    const TickResult t = engine.process(in);
    CHECK_FALSE(t.valid);
    CHECK(has(t, flag_data_gap));
}

TEST_CASE("a tick at or before the last processed tick is ignored", "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    engine.process(site_tick(t0_ms + quarter_ms, 10'000, 0, 0, 0, 0, 10'000));
    const Totals before = engine.totals();
    const TickResult again =
        engine.process(site_tick(t0_ms + quarter_ms, 10'000, 0, 0, 0, 0, 10'000));
    const TickResult older = engine.process(site_tick(t0_ms, 10'000, 0, 0, 0, 0, 10'000));
    CHECK(again.ignored);
    CHECK(older.ignored);
    CHECK_FALSE(again.valid);
    CHECK(engine.totals().load_wh == before.load_wh);
    CHECK(engine.totals().ticks == before.ticks);
    CHECK(engine.last_tick_ms() == t0_ms + quarter_ms);
}

TEST_CASE("misaligned ticks, wrong rack counts and bad settings are rejected",
          "[accounting][edge]") {
    Engine engine(quarter_hour_settings());
    CHECK_THROWS_AS(engine.process(site_tick(t0_ms + 1, 0, 0, 0, 0, 0, 0)), std::invalid_argument);
    CHECK_THROWS_AS(engine.process(site_tick(t0_ms, 0, 0, 0, 0, 0, 0, {1.0})),
                    std::invalid_argument);
    AccountingSettings bad = quarter_hour_settings();
    bad.tick = std::chrono::milliseconds(7'000);
    CHECK_THROWS_AS(Engine(bad), std::invalid_argument);
    bad = quarter_hour_settings();
    bad.racks = {{"A", 0}, {"A", 1}};
    CHECK_THROWS_AS(Engine(bad), std::invalid_argument);
    bad.racks = {{"unattributed", 0}};
    CHECK_THROWS_AS(Engine(bad), std::invalid_argument);
    bad = quarter_hour_settings();
    bad.grid_cfe_share = 1.5;
    CHECK_THROWS_AS(Engine(bad), std::invalid_argument);
}

TEST_CASE("names for qualities, modes, windows and flags", "[accounting][types]") {
    CHECK(to_string(SourceQuality::held) == "held");
    CHECK(worst(SourceQuality::ok, SourceQuality::stale) == SourceQuality::stale);
    CHECK(to_string(Allocation::pool) == "pool");
    CHECK(to_string(BatteryModel::well_mixed) == "well_mixed");
    CHECK(to_string(Window::quarter_hour) == "15m");
    CHECK(to_string(Window::day) == "1d");
    CHECK(flag_names(flag_data_gap | flag_unattributed) ==
          std::vector<std::string_view>{"data_gap", "unattributed"});
    CHECK(flag_names(0).empty());
}
