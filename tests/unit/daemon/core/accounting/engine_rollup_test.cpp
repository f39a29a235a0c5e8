// Roll-up windows (green-accounting.md §6, §7.8): UTC alignment, closing, sequence numbers,
// data coverage over gaps, and the window figures.

#include "engine_test_support.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::accounting;
using namespace greenrack::accounting::test;

namespace {

std::vector<Rollup> of_window(const std::vector<Rollup>& rollups, Window window) {
    std::vector<Rollup> out;
    for (const auto& r : rollups) {
        if (r.window == window) {
            out.push_back(r);
        }
    }
    return out;
}

// 5 s ticks of 1 kWh load half covered by PV.
TickInputs plain(std::int64_t start_ms) {
    return site_tick(start_ms, 500, 0, 0, 500, 0, 1'000);
}

} // namespace

TEST_CASE("windows close at UTC boundaries, oldest first, with increasing sequence numbers",
          "[accounting][rollup]") {
    Engine engine{AccountingSettings{}};
    for (std::int64_t t = t0_ms + 14 * 60'000 + 50'000; t <= t0_ms + hour_ms + 5'000; t += 5'000) {
        engine.process(plain(t));
    }
    const auto closed = engine.take_closed_rollups();
    const auto quarters = of_window(closed, Window::quarter_hour);
    REQUIRE(quarters.size() == 4);
    for (std::size_t i = 0; i < quarters.size(); ++i) {
        CAPTURE(i);
        CHECK(quarters[i].start_ms == t0_ms + static_cast<std::int64_t>(i) * quarter_ms);
        CHECK(quarters[i].end_ms == quarters[i].start_ms + quarter_ms);
        CHECK(quarters[i].seq == i + 1);
        CHECK(quarters[i].ticks_expected == 180);
    }
    const auto hours = of_window(closed, Window::hour);
    REQUIRE(hours.size() == 1);
    CHECK(hours[0].start_ms == t0_ms);
    CHECK(hours[0].seq == 1);
    CHECK(of_window(closed, Window::day).empty());
    for (std::size_t i = 1; i < closed.size(); ++i) {
        CHECK(closed[i - 1].end_ms <= closed[i].end_ms);
    }
    // Each closed window is returned once.
    CHECK(engine.take_closed_rollups().empty());

    // The next quarter hour closes with the next number of its kind.
    for (std::int64_t t = t0_ms + hour_ms + 10'000; t <= t0_ms + hour_ms + quarter_ms; t += 5'000) {
        engine.process(plain(t));
    }
    const auto next = engine.take_closed_rollups();
    REQUIRE(next.size() == 1);
    CHECK(next[0].window == Window::quarter_hour);
    CHECK(next[0].seq == 5);
    CHECK(next[0].start_ms == t0_ms + hour_ms);
}

TEST_CASE("data_coverage counts ticks before the first and gaps as expected-but-missing",
          "[accounting][rollup]") {
    Engine engine{AccountingSettings{}};
    // First quarter hour: only its last two ticks.
    engine.process(plain(t0_ms + quarter_ms - 10'000));
    engine.process(plain(t0_ms + quarter_ms - 5'000));
    // Second quarter hour: all but 10 ticks (a 50 s gap in the middle).
    for (int n = 0; n < 180; ++n) {
        if (n >= 100 && n < 110) {
            continue;
        }
        engine.process(plain(t0_ms + quarter_ms + n * 5'000));
    }
    engine.process(plain(t0_ms + 2 * quarter_ms));
    const auto quarters = of_window(engine.take_closed_rollups(), Window::quarter_hour);
    REQUIRE(quarters.size() == 2);
    CHECK(quarters[0].ticks == 2);
    CHECK(quarters[0].ticks_expected == 180);
    CHECK(quarters[0].data_coverage == Approx(2.0 / 180.0));
    CHECK(quarters[0].quality == SourceQuality::missing);
    CHECK(quarters[1].ticks == 170);
    CHECK(quarters[1].data_coverage == Approx(170.0 / 180.0));
    CHECK(quarters[1].quality == SourceQuality::missing);
    // The gap adds nothing: only the ticks that arrived count, and none of them as missing.
    CHECK(quarters[1].load_wh == Approx(170 * 1'000.0));
    CHECK(quarters[1].green_wh == Approx(170 * 500.0));
    CHECK(quarters[1].cfe_interval.value() == Approx(0.5));
}

TEST_CASE("data_coverage counts ok and held ticks only, a data-gap tick adds no green",
          "[accounting][rollup]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.tick = std::chrono::milliseconds(300'000); // 3 ticks per quarter hour
    Engine engine(settings);
    TickInputs held_tick = plain(t0_ms);
    held_tick.grid_import = held(500);
    engine.process(held_tick);
    TickInputs inferred_tick = plain(t0_ms + 300'000);
    inferred_tick.pv = missing();
    engine.process(inferred_tick);
    TickInputs gap_tick = plain(t0_ms + 600'000);
    gap_tick.pv = missing();
    gap_tick.grid_import = missing();
    engine.process(gap_tick);
    const auto open = engine.open_rollups();
    REQUIRE(open.size() == 3);
    const Rollup& q = open[0];
    CHECK(q.window == Window::quarter_hour);
    CHECK(q.ticks == 3);
    CHECK(q.ticks_valid == 2);
    CHECK(q.ticks_expected == 3);
    CHECK(q.data_coverage == Approx(1.0 / 3.0));
    CHECK(q.quality == SourceQuality::missing);
    CHECK(q.green_wh == Approx(1'000)); // 500 + 500 (inferred R), nothing from the gap tick
    CHECK(q.load_wh == Approx(2'000));
}

TEST_CASE("open windows count expected ticks up to the last processed tick",
          "[accounting][rollup]") {
    Engine engine{AccountingSettings{}};
    CHECK(engine.open_rollups().empty());
    engine.process(plain(t0_ms + 2 * hour_ms + 60'000));
    const auto open = engine.open_rollups();
    REQUIRE(open.size() == 3);
    CHECK(open[0].window == Window::quarter_hour);
    CHECK(open[0].start_ms == t0_ms + 2 * hour_ms);
    CHECK(open[0].ticks_expected == 13); // 65 s since the window start
    CHECK(open[1].window == Window::hour);
    CHECK(open[2].window == Window::day);
    CHECK(open[2].start_ms == t0_ms);
    CHECK(open[2].ticks_expected == (2 * 3'600 + 65) / 5);
    CHECK(open[0].seq == 0); // not numbered until closed
}

TEST_CASE("a day window closes at UTC midnight, windows without ticks are not emitted",
          "[accounting][rollup]") {
    AccountingSettings settings = quarter_hour_settings();
    Engine engine(settings);
    engine.process(plain(t0_ms + 23 * hour_ms + 3 * quarter_ms)); // 23:45
    engine.process(plain(t0_ms + 24 * hour_ms + 3 * hour_ms));    // next day 03:00
    const auto closed = engine.take_closed_rollups();
    REQUIRE(closed.size() == 3);
    CHECK(closed[0].window == Window::quarter_hour);
    CHECK(closed[1].window == Window::hour);
    CHECK(closed[2].window == Window::day);
    CHECK(closed[2].start_ms == t0_ms);
    CHECK(closed[2].end_ms == t0_ms + 24 * hour_ms);
    CHECK(closed[2].ticks_expected == 96);
    CHECK(closed[2].data_coverage == Approx(1.0 / 96.0));
}

TEST_CASE("a 15-minute window matches within itself, the hour matches across its quarters",
          "[accounting][rollup]") {
    Engine engine(quarter_hour_settings());
    const double r[] = {10'000, 40'000, 25'000, 0};
    const double i[] = {15'000, 0, 0, 25'000};
    const double x[] = {0, 15'000, 0, 0};
    for (int q = 0; q < 5; ++q) {
        engine.process(
            site_tick(t0_ms + q * quarter_ms, r[q % 4], 0, 0, i[q % 4], x[q % 4], 25'000));
    }
    const auto closed = engine.take_closed_rollups();
    const auto quarters = of_window(closed, Window::quarter_hour);
    REQUIRE(quarters.size() == 4);
    const double expected[] = {0.4, 1.0, 1.0, 0.0};
    for (int q = 0; q < 4; ++q) {
        CAPTURE(q);
        CHECK(quarters[q].cfe_hourly.value() == Approx(expected[q]).margin(1e-12));
        CHECK(quarters[q].cfe_interval.value() == Approx(expected[q]).margin(1e-12));
    }
    CHECK(of_window(closed, Window::hour).at(0).cfe_hourly.value() == Approx(0.75));
}

TEST_CASE("day window hourly CFE sums the hours' matched energy over the day's load",
          "[accounting][rollup]") {
    Engine engine(quarter_hour_settings());
    // Hour 0: 100 kWh load, 120 kWh renewable (20 exported in the first quarter, then none).
    // Hour 1: 100 kWh load from the grid only.
    engine.process(site_tick(t0_ms, 45'000, 0, 0, 0, 20'000, 25'000));
    for (int q = 1; q < 4; ++q) {
        engine.process(site_tick(t0_ms + q * quarter_ms, 25'000, 0, 0, 0, 0, 25'000));
    }
    for (int q = 0; q < 4; ++q) {
        engine.process(site_tick(t0_ms + hour_ms + q * quarter_ms, 0, 0, 0, 25'000, 0, 25'000));
    }
    const Rollup day = engine.open_rollups().at(2);
    CHECK(day.window == Window::day);
    CHECK(day.cfe_interval.value() == Approx(0.5));
    CHECK(day.cfe_hourly.value() == Approx(0.5)); // hour 0 capped at its load
}

TEST_CASE("REF counts on-site green only when retained, plus supplier green, capped at 1",
          "[accounting][rollup]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.grid_cfe_share = 0.5;
    Engine sold(settings);
    settings.retain_onsite_attributes = true;
    Engine retained(settings);
    for (Engine* engine : {&sold, &retained}) {
        engine->process(site_tick(t0_ms, 60'000, 0, 0, 40'000, 0, 100'000));
    }
    CHECK(sold.open_rollups().at(1).ref.value() == Approx(0.2));     // 0.5 x 40 / 100
    CHECK(retained.open_rollups().at(1).ref.value() == Approx(0.8)); // (60 + 20) / 100
    CHECK(retained.open_rollups().at(1).cfe_interval.value() == Approx(0.8));
}

TEST_CASE("window iPUE, CUE, carbon and per-rack sums", "[accounting][rollup]") {
    AccountingSettings settings = quarter_hour_settings();
    settings.metering_category = 3;
    settings.racks = {{"A", 0}, {"B", 0}};
    Engine engine(settings);
    engine.process(site_tick(t0_ms, 30'000, 0, 0, 20'000, 0, 50'000, {10'000, 30'000}));
    engine.process(site_tick(t0_ms + quarter_ms, 0, 0, 0, 60'000, 0, 60'000, {20'000, 20'000}));
    const Rollup h = engine.open_rollups().at(1);
    CHECK(h.ipue.value() == Approx(110.0 / 80.0));
    CHECK(h.metering_category == 3);
    CHECK(h.carbon_location_g == Approx(80 * 554.3));
    CHECK(h.cue_location_kg_per_kwh.value() == Approx(80 * 554.3 / 80'000));
    REQUIRE(h.racks.size() == 2);
    // Tick 1: c = 0.6, k = 1.25: A 12.5 kWh burdened (7.5 green); tick 2: c = 0, k = 1.5.
    CHECK(h.racks[0].it_wh == Approx(30'000));
    CHECK(h.racks[0].green_wh == Approx(7'500));
    CHECK(h.racks[0].nongreen_wh == Approx(5'000 + 30'000));
    CHECK(h.racks[0].green_it_wh == Approx(6'000));
    CHECK(h.racks[1].green_wh == Approx(22'500));
    CHECK(h.racks[0].carbon_location_g + h.racks[1].carbon_location_g ==
          Approx(h.carbon_location_g));
}
