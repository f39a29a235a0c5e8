#include "daemon/core/accounting/time_base.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

using namespace greenrack::accounting;

namespace {

constexpr std::int64_t second = 1'000;
constexpr double u32_wrap = 4'294'967'296.0;

SeriesSettings make_settings(std::int64_t tick_ms = 5'000, std::int64_t hold_ms = 3'000,
                             std::int64_t span_ms = 300'000) {
    SeriesSettings settings;
    settings.tick_ms = tick_ms;
    settings.max_hold_ms = hold_ms;
    settings.max_span_ms = span_ms;
    settings.counter_resolution_fraction = 0.01;
    return settings;
}

// Wh of a constant power over a duration, computed the long way for the expectations.
double wh(double watts, double seconds) {
    return watts * seconds / 3600.0;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Power: zero-order hold

TEST_CASE("1 s samples of 1000 W give 1.3889 Wh per 5 s tick, quality ok", "[time_base]") {
    SourceSeries series(make_settings());
    for (std::int64_t t = 0; t <= 10 * second; t += second) {
        series.add(t, 1000.0, std::nullopt);
    }
    for (std::int64_t tick : {std::int64_t{0}, 5 * second}) {
        const Energy e = series.tick_energy(tick);
        CHECK(e.wh == Approx(1.3888888889).epsilon(1e-9));
        CHECK(e.quality == SourceQuality::ok);
        CHECK(e.usable());
    }
}

TEST_CASE("a tick with no sample inside but covered by a hold is held", "[time_base]") {
    SourceSeries series(make_settings(5'000, 15'000));
    series.add(4 * second, 2000.0, std::nullopt);
    series.add(11 * second, 500.0, std::nullopt);
    const Energy e = series.tick_energy(5 * second); // [5, 10) s: the 4 s sample holds to 11 s
    CHECK(e.quality == SourceQuality::held);
    CHECK(e.wh == Approx(wh(2000.0, 5.0)));
    // [10, 15) s contains the 11 s sample: ok, 1 s of 2000 W then 4 s of 500 W.
    const Energy next = series.tick_energy(10 * second);
    CHECK(next.quality == SourceQuality::ok);
    CHECK(next.wh == Approx(wh(2000.0, 1.0) + wh(500.0, 4.0)));
}

TEST_CASE("a hold ends exactly at H: one millisecond short makes the tick stale with no energy",
          "[time_base]") {
    SECTION("the last sample at 7 s holds [7, 10) s: the tick [5, 10) s is ok") {
        SourceSeries series(make_settings());
        for (std::int64_t t = 0; t <= 7 * second; t += second) {
            series.add(t, 1000.0, std::nullopt);
        }
        CHECK(series.tick_energy(5 * second).quality == SourceQuality::ok);
        CHECK(series.tick_energy(5 * second).wh == Approx(wh(1000.0, 5.0)));
        const Energy after = series.tick_energy(10 * second);
        CHECK(after.quality == SourceQuality::stale);
        CHECK(after.wh == 0.0);
    }
    SECTION("the last sample at 6.999 s holds to 9.999 s: the tick [5, 10) s is stale") {
        SourceSeries series(make_settings());
        for (std::int64_t t = 0; t <= 6 * second; t += second) {
            series.add(t, 1000.0, std::nullopt);
        }
        series.add(6'999, 1000.0, std::nullopt);
        const Energy e = series.tick_energy(5 * second);
        CHECK(e.quality == SourceQuality::stale);
        CHECK(e.wh == 0.0);
        CHECK_FALSE(e.usable());
        CHECK(series.tick_breakdown(5 * second).covered_ms == 4'999);
    }
}

TEST_CASE("a failed read ends the previous hold, so its tick is stale", "[time_base]") {
    SourceSeries series(make_settings());
    for (std::int64_t t = 0; t <= 16 * second; t += second) {
        series.add(t, t == 12 * second ? std::nullopt : std::optional<double>(1000.0),
                   std::nullopt);
    }
    CHECK(series.tick_energy(5 * second).quality == SourceQuality::ok);
    const TickBreakdown failed = series.tick_breakdown(10 * second);
    CHECK(failed.energy.quality == SourceQuality::stale);
    CHECK(failed.energy.wh == 0.0);
    CHECK(failed.covered_ms == 4'000); // [12, 13) s is unknown, not held from 11 s
}

TEST_CASE("a negative or non-finite power is a failed read", "[time_base]") {
    SourceSeries series(make_settings());
    for (std::int64_t t = 0; t <= 10 * second; t += second) {
        double p = 1000.0;
        if (t == 6 * second) {
            p = -20.0;
        } else if (t == 7 * second) {
            p = std::numeric_limits<double>::quiet_NaN();
        }
        series.add(t, p, std::nullopt);
    }
    CHECK(series.tick_energy(0).quality == SourceQuality::ok);
    CHECK(series.tick_energy(5 * second).quality == SourceQuality::stale);
    CHECK(series.tick_breakdown(5 * second).covered_ms == 3'000);
}

TEST_CASE("before any sample, and with only failed reads, the series is missing", "[time_base]") {
    SourceSeries series(make_settings());
    CHECK_FALSE(series.has_data());
    CHECK(series.tick_energy(0).quality == SourceQuality::missing);
    series.add(2 * second, std::nullopt, std::nullopt);
    series.add(3 * second, std::nullopt, std::nullopt);
    CHECK_FALSE(series.has_data());
    CHECK(series.tick_energy(0).quality == SourceQuality::missing);
    series.add(10 * second, 1000.0, std::nullopt);
    CHECK(series.has_data());
    CHECK(series.tick_energy(0).quality == SourceQuality::missing);
    CHECK(series.tick_energy(5 * second).quality == SourceQuality::missing); // ends at 10 s
    CHECK(series.tick_energy(-5 * second).quality == SourceQuality::missing);
    CHECK(series.tick_energy(0).wh == 0.0);
}

TEST_CASE("a tick that starts before the first sample is stale, not partial", "[time_base]") {
    SourceSeries series(make_settings());
    for (std::int64_t t = 2 * second; t <= 10 * second; t += second) {
        series.add(t, 1000.0, std::nullopt);
    }
    const Energy e = series.tick_energy(0);
    CHECK(e.quality == SourceQuality::stale);
    CHECK(e.wh == 0.0);
}

TEST_CASE("a sample not newer than the newest is ignored", "[time_base]") {
    SourceSeries series(make_settings());
    series.add(0, 1000.0, std::nullopt);
    series.add(2 * second, 1000.0, std::nullopt);
    series.add(1 * second, 9000.0, std::nullopt);       // late
    series.add(2 * second, std::nullopt, std::nullopt); // duplicate time: would end the hold
    series.add(4 * second, 1000.0, std::nullopt);
    const Energy e = series.tick_energy(0);
    CHECK(e.quality == SourceQuality::ok);
    CHECK(e.wh == Approx(wh(1000.0, 5.0)));
}

TEST_CASE("a hold longer than 60 s is capped at 60 s", "[time_base]") {
    SourceSeries series(make_settings(5'000, 120'000));
    series.add(0, 1000.0, std::nullopt);
    CHECK(series.tick_energy(55 * second).quality == SourceQuality::held);
    CHECK(series.tick_energy(60 * second).quality == SourceQuality::stale);
}

TEST_CASE("settings: the tick must divide 900 s, spans and holds must be sane", "[time_base]") {
    CHECK_THROWS_AS(SourceSeries(make_settings(7'000)), std::invalid_argument);
    CHECK_THROWS_AS(SourceSeries(make_settings(0)), std::invalid_argument);
    CHECK_THROWS_AS(SourceSeries(make_settings(5'000, -1)), std::invalid_argument);
    CHECK_THROWS_AS(SourceSeries(make_settings(5'000, 3'000, 0)), std::invalid_argument);
    SeriesSettings bad_fraction = make_settings();
    bad_fraction.counter_resolution_fraction = -0.5;
    CHECK_THROWS_AS(SourceSeries(bad_fraction), std::invalid_argument);
    CHECK_NOTHROW(SourceSeries(make_settings(900'000)));
    CHECK_NOTHROW(SourceSeries(make_settings(1'000)));
}

// ---------------------------------------------------------------------------------------------
// Counters

TEST_CASE("a counter delta is spread over ticks in proportion to the overlap", "[time_base]") {
    SECTION("readings at 2.5 s (100 Wh) and 7.5 s (110 Wh): 5 Wh to each 5 s tick") {
        SourceSeries series(make_settings());
        series.add(2'500, std::nullopt, 100.0);
        series.add(7'500, std::nullopt, 110.0);
        for (std::int64_t tick : {std::int64_t{0}, 5 * second}) {
            const TickBreakdown b = series.tick_breakdown(tick);
            CHECK(b.counter_wh == Approx(5.0));
            CHECK(b.covered_ms == 2'500);
            // Half of each tick is uncovered: stale, never a partial 5 Wh.
            CHECK(b.energy.quality == SourceQuality::stale);
            CHECK(b.energy.wh == 0.0);
        }
    }
    SECTION("readings every 5 s at the half-ticks: 10 Wh per tick, ok") {
        SourceSeries series(make_settings());
        series.add(-2'500, std::nullopt, 90.0);
        series.add(2'500, std::nullopt, 100.0);
        series.add(7'500, std::nullopt, 110.0);
        series.add(12'500, std::nullopt, 120.0);
        for (std::int64_t tick : {std::int64_t{0}, 5 * second}) {
            const Energy e = series.tick_energy(tick);
            CHECK(e.wh == Approx(10.0));
            CHECK(e.quality == SourceQuality::ok);
        }
    }
    SECTION("a 7 s span of 70 Wh from 2 s: 30 Wh to [0, 5) s and 40 Wh to [5, 10) s") {
        SourceSeries series(make_settings());
        series.add(2'000, std::nullopt, 0.0);
        series.add(9'000, std::nullopt, 70.0);
        CHECK(series.tick_breakdown(0).counter_wh == Approx(30.0));
        CHECK(series.tick_breakdown(5 * second).counter_wh == Approx(40.0));
    }
}

TEST_CASE("a u32 counter wrap adds the wrap width", "[time_base]") {
    SourceSeries series(make_settings());
    series.add(0, std::nullopt, u32_wrap - 6.0, 1.0, u32_wrap);
    series.add(5 * second, std::nullopt, 4.0, 1.0, u32_wrap);
    series.add(10 * second, std::nullopt, 14.0, 1.0, u32_wrap);
    std::uint32_t flags = 0;
    const Energy e = series.tick_energy(0, &flags);
    CHECK(e.wh == Approx(10.0));
    CHECK(e.quality == SourceQuality::ok);
    CHECK(flags == 0);
    CHECK(series.tick_energy(5 * second).wh == Approx(10.0));
}

TEST_CASE("a small wrap consistent with the power is a wrap, not a reset", "[time_base]") {
    SourceSeries series(make_settings());
    for (std::int64_t t = 0; t <= 10 * second; t += second) {
        std::optional<double> q;
        if (t == 0) {
            q = 998.0;
        } else if (t == 5 * second) {
            q = 3.0; // +5 Wh through the 1000 Wh wrap; the 3600 W power says 5 Wh too
        } else if (t == 10 * second) {
            q = 8.0;
        }
        series.add(t, 3600.0, q, 0.0, 1000.0);
    }
    std::uint32_t flags = 0;
    CHECK(series.tick_energy(0, &flags).wh == Approx(5.0));
    CHECK(flags == 0);
    CHECK(series.tick_breakdown(0).counter_wh == Approx(5.0));
}

TEST_CASE("a counter that goes backwards without a plausible wrap is a reset: flag and power",
          "[time_base]") {
    // 3600 W every second; the counter reads at 0, 5 and 10 s.
    auto feed = [](SourceSeries& series, std::optional<double> wrap) {
        for (std::int64_t t = 0; t <= 11 * second; t += second) {
            std::optional<double> q;
            if (t == 0) {
                q = 1000.0;
            } else if (t == 5 * second) {
                q = 5.0;
            } else if (t == 10 * second) {
                q = 15.0;
            }
            series.add(t, 3600.0, q, 0.0, wrap);
        }
    };
    SECTION("no wrap known") {
        SourceSeries series(make_settings());
        feed(series, std::nullopt);
        std::uint32_t flags = 0;
        const Energy reset_tick = series.tick_energy(0, &flags);
        CHECK((flags & flag_counter_reset) != 0);
        CHECK(reset_tick.wh == Approx(5.0)); // 3600 W x 5 s from the power
        CHECK(reset_tick.quality == SourceQuality::ok);
        CHECK(series.tick_breakdown(0).counter_wh == 0.0);
        flags = 0;
        const Energy next = series.tick_energy(5 * second, &flags);
        CHECK(flags == 0);
        CHECK(next.wh == Approx(10.0)); // the counter (exact, resolution 0) is preferred
    }
    SECTION("a u32 wrap would mean 4.29e9 Wh in 5 s: still a reset") {
        SourceSeries series(make_settings());
        feed(series, u32_wrap);
        std::uint32_t flags = 0;
        CHECK(series.tick_energy(0, &flags).wh == Approx(5.0));
        CHECK((flags & flag_counter_reset) != 0);
    }
    SECTION("a small wrap far above what the power says flowed: reset") {
        SourceSeries series(make_settings());
        for (std::int64_t t = 0; t <= 5 * second; t += second) {
            std::optional<double> q;
            if (t == 0) {
                q = 900.0;
            } else if (t == 5 * second) {
                q = 300.0; // wrapped: 400 Wh in 5 s while the power says 5 Wh
            }
            series.add(t, 3600.0, q, 0.0, 1000.0);
        }
        std::uint32_t flags = 0;
        series.tick_energy(0, &flags);
        CHECK((flags & flag_counter_reset) != 0);
    }
    SECTION("a reset without power leaves the span missing, flagged") {
        SourceSeries series(make_settings());
        series.add(0, std::nullopt, 1000.0);
        series.add(5 * second, std::nullopt, 5.0);
        std::uint32_t flags = 0;
        const Energy e = series.tick_energy(0, &flags);
        CHECK(e.quality == SourceQuality::stale);
        CHECK(e.wh == 0.0);
        CHECK((flags & flag_counter_reset) != 0);
    }
}

TEST_CASE("a counter span longer than max_span is a gap, never interpolated", "[time_base]") {
    SECTION("without power the ticks inside are stale") {
        SourceSeries series(make_settings());
        series.add(0, std::nullopt, 0.0);
        series.add(310 * second, std::nullopt, 100.0);
        for (std::int64_t tick = 0; tick < 310 * second; tick += 50 * second) {
            const TickBreakdown b = series.tick_breakdown(tick);
            CHECK(b.counter_wh == 0.0);
            CHECK(b.energy.quality == SourceQuality::stale);
        }
    }
    SECTION("with power the power is integrated") {
        SourceSeries series(make_settings());
        for (std::int64_t t = 0; t <= 310 * second; t += second) {
            std::optional<double> q;
            if (t == 0) {
                q = 0.0;
            } else if (t == 310 * second) {
                q = 100.0;
            }
            series.add(t, 3600.0, q);
        }
        const Energy e = series.tick_energy(100 * second);
        CHECK(e.wh == Approx(5.0));
        CHECK(e.quality == SourceQuality::ok);
        CHECK(series.tick_breakdown(100 * second).counter_wh == 0.0);
    }
    SECTION("a span of exactly max_span is used; ticks without a reading inside are held") {
        SourceSeries series(make_settings());
        series.add(0, std::nullopt, 0.0);
        series.add(300 * second, std::nullopt, 600.0);
        CHECK(series.tick_energy(0).quality == SourceQuality::ok);
        const Energy inner = series.tick_energy(100 * second);
        CHECK(inner.wh == Approx(10.0));
        CHECK(inner.quality == SourceQuality::held);
    }
}

TEST_CASE("resolution rule: a 1 Wh counter on 8 kW over 1 s spans yields to the power",
          "[time_base]") {
    // True energy 8000 W x t; the register shows it floored to whole Wh (+-45 % per 1 s span).
    SourceSeries series(make_settings());
    for (std::int64_t t = 0; t <= 11 * second; t += second) {
        const double q = std::floor(wh(8000.0, static_cast<double>(t) / 1000.0));
        series.add(t, 8000.0, q, 1.0);
    }
    for (std::int64_t tick : {std::int64_t{0}, 5 * second}) {
        const TickBreakdown b = series.tick_breakdown(tick);
        CHECK(b.energy.wh == Approx(wh(8000.0, 5.0))); // 11.111 Wh, the power integral
        CHECK(b.counter_wh == 0.0);
        CHECK(b.energy.quality == SourceQuality::ok);
    }
}

TEST_CASE("resolution rule: a 0.001 Wh counter is used even when the power disagrees slightly",
          "[time_base]") {
    // The power reads 8000 W but the register moves 2.3 Wh per second (8280 W).
    SourceSeries series(make_settings());
    for (std::int64_t t = 0; t <= 11 * second; t += second) {
        series.add(t, 8000.0, 2.3 * static_cast<double>(t / second), 0.001);
    }
    for (std::int64_t tick : {std::int64_t{0}, 5 * second}) {
        const TickBreakdown b = series.tick_breakdown(tick);
        CHECK(b.energy.wh == Approx(11.5));
        CHECK(b.counter_wh == Approx(11.5));
        CHECK(b.power_wh == 0.0);
    }
}

TEST_CASE("a counter span covers a failed power read and a failed counter read", "[time_base]") {
    SourceSeries series(make_settings());
    series.add(0, 1000.0, 0.0);
    series.add(2 * second, std::nullopt, std::nullopt); // both reads failed
    series.add(5 * second, std::nullopt, 7.0);
    const Energy e = series.tick_energy(0);
    CHECK(e.wh == Approx(7.0));
    CHECK(e.quality == SourceQuality::ok);
}

// ---------------------------------------------------------------------------------------------
// Helpers

TEST_CASE("sum_energies adds the parts and takes the worst quality", "[time_base]") {
    CHECK(sum_energies({}).quality == SourceQuality::missing);
    const Energy both =
        sum_energies({Energy{1.5, SourceQuality::ok}, Energy{2.0, SourceQuality::held}});
    CHECK(both.wh == Approx(3.5));
    CHECK(both.quality == SourceQuality::held);
    const Energy with_stale =
        sum_energies({Energy{1.5, SourceQuality::ok}, Energy{0.0, SourceQuality::stale}});
    CHECK(with_stale.quality == SourceQuality::stale);
    CHECK(with_stale.wh == 0.0);
    CHECK(sum_energies({Energy{1.0, SourceQuality::inferred}}).quality == SourceQuality::inferred);
    CHECK(sum_energies({Energy{1.0, SourceQuality::ok}, Energy{0.0, SourceQuality::missing}})
              .quality == SourceQuality::missing);
}

TEST_CASE("tick_floor aligns to epoch multiples and floors negative times", "[time_base]") {
    CHECK(tick_floor(0, 5'000) == 0);
    CHECK(tick_floor(4'999, 5'000) == 0);
    CHECK(tick_floor(5'000, 5'000) == 5'000);
    CHECK(tick_floor(7'499, 5'000) == 5'000);
    CHECK(tick_floor(-1, 5'000) == -5'000);
    CHECK(tick_floor(-5'000, 5'000) == -5'000);
    CHECK(tick_floor(-5'001, 5'000) == -10'000);
    CHECK(tick_floor(1'700'000'123'456, 900'000) == 1'700'000'100'000);
    CHECK_THROWS_AS(tick_floor(1, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// forget_before and memory

TEST_CASE("forget_before keeps ticks at or after the cut identical", "[time_base]") {
    SourceSeries full(make_settings(5'000, 15'000));
    SourceSeries cut(make_settings(5'000, 15'000));
    auto add = [&](std::int64_t t, std::optional<double> p, std::optional<double> q) {
        full.add(t, p, q);
        cut.add(t, p, q);
    };
    add(0, 1000.0, 0.0);
    add(4 * second, 2000.0, std::nullopt);
    add(9 * second, 3000.0, std::nullopt); // hold reaches into [10, 15) s
    add(12 * second, 3000.0, 20.0);        // counter span [0, 12) s
    add(21 * second, 500.0, std::nullopt);
    cut.forget_before(10 * second);
    for (std::int64_t tick = 10 * second; tick <= 40 * second; tick += 5 * second) {
        const TickBreakdown a = full.tick_breakdown(tick);
        const TickBreakdown b = cut.tick_breakdown(tick);
        CHECK(a.energy.wh == b.energy.wh);
        CHECK(a.energy.quality == b.energy.quality);
        CHECK(a.covered_ms == b.covered_ms);
    }
    CHECK(cut.tick_energy(10 * second).wh == Approx(20.0 * 2.0 / 12.0 + wh(3000.0, 3.0)));
}

TEST_CASE("memory stays bounded over three days of 1 s polls with forget_before every tick",
          "[time_base]") {
    auto run = [](bool power_ok, bool counter_ok) {
        SourceSeries series(make_settings());
        std::size_t most = 0;
        std::int64_t ticks_checked = 0;
        double q = 0.0;
        for (std::int64_t t = 0; t <= 3 * 86'400 * second; t += second) {
            series.add(t, power_ok ? std::optional(7200.0) : std::nullopt,
                       counter_ok ? std::optional(q) : std::nullopt);
            q += 2.0;
            if (t % (5 * second) == 0 && t >= 10 * second) {
                const std::int64_t tick = t - 10 * second;
                const Energy e = series.tick_energy(tick);
                REQUIRE(e.wh == Approx(10.0));
                REQUIRE(e.quality == SourceQuality::ok);
                ++ticks_checked;
                series.forget_before(tick + 5 * second);
            }
            most = std::max(most, series.retained());
        }
        CHECK(ticks_checked > 50'000);
        return most;
    };
    CHECK(run(true, true) <= 40);
    CHECK(run(true, false) <= 40);
    CHECK(run(false, true) <= 40);
}

// ---------------------------------------------------------------------------------------------
// Property tests over random sample streams, against a brute-force model: every 10 ms step of a
// tick is looked up on its own (last sample at or before it, the counter span around it).

namespace {

constexpr std::int64_t step_ms = 10; // every generated time is a multiple of this

struct Poll {
    std::int64_t ts = 0;
    std::optional<double> power;
    std::optional<double> counter;
    double resolution = 0.0;
    std::optional<double> wrap;
};

struct Stream {
    SeriesSettings settings;
    std::vector<Poll> polls; // as sent, late ones included
    int wraps = 0;           // times the register wrapped (for the raw-difference check)
    bool resets = false;
};

struct StreamShape {
    bool power = true;
    bool counter = true;
    double power_failure = 0.1;
    double counter_failure = 0.1;
    double reset_chance = 0.03;
    double late_chance = 0.03;
    double outage_chance = 0.04;
};

Stream random_stream(std::mt19937_64& rng, const StreamShape& shape) {
    auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
    auto pick = [&](auto options) {
        return options[std::uniform_int_distribution<std::size_t>(0, options.size() - 1)(rng)];
    };
    auto steps = [&](std::int64_t lo, std::int64_t hi) {
        return step_ms * std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };

    Stream stream;
    stream.settings.tick_ms = pick(std::vector<std::int64_t>{1'000, 5'000, 15'000});
    stream.settings.max_hold_ms = pick(std::vector<std::int64_t>{1'000, 3'000, 6'000, 20'000});
    stream.settings.max_span_ms = pick(std::vector<std::int64_t>{5'000, 20'000, 300'000});
    stream.settings.counter_resolution_fraction = 0.01;
    const double resolution = pick(std::vector<double>{0.0, 0.001, 0.1, 1.0});
    const std::optional<double> wrap =
        pick(std::vector<std::optional<double>>{std::nullopt, 50.0, 1000.0, u32_wrap});

    std::int64_t t = steps(-10'000, 10'000);
    double true_q = std::uniform_real_distribution<double>(0.0, wrap ? *wrap : 1e6)(rng);
    double p = std::uniform_real_distribution<double>(0.0, 10'000.0)(rng);
    const int n = std::uniform_int_distribution<int>(2, 60)(rng);
    for (int i = 0; i < n; ++i) {
        if (i > 0 && chance(shape.late_chance)) {
            stream.polls.push_back(Poll{t - steps(0, 100), 1e6, 1e6, resolution, wrap});
        }
        if (i > 0) {
            const std::int64_t dt =
                chance(shape.outage_chance) ? steps(1'000, 40'000) : steps(1, 800);
            true_q += wh(p, static_cast<double>(dt) / 1000.0); // p held since the last poll
            t += dt;
            if (chance(shape.reset_chance)) {
                true_q = std::uniform_real_distribution<double>(0.0, 10.0)(rng);
                stream.resets = true;
            }
            if (chance(0.3)) {
                p = chance(0.1) ? 0.0 : std::uniform_real_distribution<double>(0.0, 10'000.0)(rng);
            }
        }
        while (wrap && true_q >= *wrap) {
            true_q -= *wrap;
            ++stream.wraps;
        }
        Poll poll{t, std::nullopt, std::nullopt, resolution, wrap};
        if (shape.power && !chance(shape.power_failure)) {
            poll.power = chance(0.02) ? -25.0 : p; // a negative reading is a failed read
        }
        if (shape.counter && !chance(shape.counter_failure)) {
            poll.counter = resolution > 0.0 ? std::floor(true_q / resolution) * resolution : true_q;
        }
        stream.polls.push_back(poll);
    }
    return stream;
}

// The model: what §2 says, evaluated instant by instant (10 ms steps).
class Model {
public:
    struct Tick {
        double wh = 0.0;
        double counter_wh = 0.0;
        SourceQuality quality = SourceQuality::missing;
        std::uint32_t flags = 0;
        bool fully_covered = false;
    };

    explicit Model(const Stream& stream) : settings_(stream.settings) {
        for (const Poll& poll : stream.polls) {
            if (!polls_.empty() && poll.ts <= polls_.back().ts) {
                continue;
            }
            Poll clean = poll;
            if (clean.power && !(std::isfinite(*clean.power) && *clean.power >= 0.0)) {
                clean.power.reset();
            }
            polls_.push_back(clean);
        }
        std::optional<std::size_t> a;
        for (std::size_t b = 0; b < polls_.size(); ++b) {
            if (!polls_[b].counter) {
                continue;
            }
            if (a) {
                spans_.push_back(classify(polls_[*a], polls_[b]));
            }
            a = b;
        }
    }

    // The last poll at or before t decides, for at most H.
    std::optional<double> power_at(std::int64_t t) const {
        const auto after = std::upper_bound(polls_.begin(), polls_.end(), t,
                                            [](std::int64_t v, const Poll& p) { return v < p.ts; });
        if (after == polls_.begin()) {
            return std::nullopt;
        }
        const Poll& last = *std::prev(after);
        return t < last.ts + settings_.max_hold_ms ? last.power : std::nullopt;
    }

    Tick tick(std::int64_t start) const {
        const std::int64_t end = start + settings_.tick_ms;
        Tick out;
        double power_wh = 0.0;
        bool covered = true;
        for (std::int64_t t = start; t < end; t += step_ms) {
            const Span* span = span_at(t);
            if (span != nullptr && span->used) {
                out.counter_wh += span->delta * static_cast<double>(step_ms) /
                                  static_cast<double>(span->end - span->start);
            } else if (const auto p = power_at(t)) {
                power_wh += wh(*p, static_cast<double>(step_ms) / 1000.0);
            } else {
                covered = false;
            }
            if (span != nullptr && span->reset) {
                out.flags |= flag_counter_reset;
            }
        }
        out.fully_covered = covered;
        bool any_before_end = false;
        bool inside = false;
        for (const Poll& poll : polls_) {
            if ((poll.power || poll.counter) && poll.ts < end) {
                any_before_end = true;
                inside = inside || poll.ts >= start;
            }
        }
        if (!any_before_end) {
            out.quality = SourceQuality::missing;
        } else if (!covered) {
            out.quality = SourceQuality::stale;
        } else {
            out.quality = inside ? SourceQuality::ok : SourceQuality::held;
            out.wh = out.counter_wh + power_wh;
        }
        return out;
    }

    double used_delta_sum() const {
        double sum = 0.0;
        for (const Span& span : spans_) {
            sum += span.used ? span.delta : 0.0;
        }
        return sum;
    }

private:
    struct Span {
        std::int64_t start = 0;
        std::int64_t end = 0;
        double delta = 0.0;
        bool used = false;
        bool reset = false;
    };

    const Span* span_at(std::int64_t t) const {
        const auto it = std::upper_bound(spans_.begin(), spans_.end(), t,
                                         [](std::int64_t v, const Span& s) { return v < s.end; });
        return it != spans_.end() && it->start <= t ? &*it : nullptr;
    }

    Span classify(const Poll& a, const Poll& b) const {
        Span span{a.ts, b.ts, *b.counter - *a.counter, false, false};
        double power_wh = 0.0;
        bool power_known = true;
        for (std::int64_t t = a.ts; t < b.ts; t += step_ms) {
            if (const auto p = power_at(t)) {
                power_wh += wh(*p, static_cast<double>(step_ms) / 1000.0);
            } else {
                power_known = false;
            }
        }
        const double resolution = std::max(a.resolution, b.resolution);
        if (span.delta < 0.0) {
            const double wrapped = b.wrap ? span.delta + *b.wrap : -1.0;
            if (b.wrap && wrapped >= 0.0 && wrapped <= *b.wrap / 2.0 &&
                (!power_known || wrapped <= 2.0 * power_wh + 2.0 * resolution)) {
                span.delta = wrapped;
            } else {
                span.reset = true;
                return span;
            }
        }
        if (b.ts - a.ts > settings_.max_span_ms) {
            return span;
        }
        span.used = !power_known || resolution <= settings_.counter_resolution_fraction * power_wh;
        return span;
    }

    SeriesSettings settings_;
    std::vector<Poll> polls_;
    std::vector<Span> spans_;
};

void feed(SourceSeries& series, const Poll& poll) {
    series.add(poll.ts, poll.power, poll.counter, poll.resolution, poll.wrap);
}

} // namespace

TEST_CASE("property: tick energies, qualities and flags match the instant-by-instant model, "
          "counter shares sum to the used counter deltas, energies are never negative",
          "[time_base][property]") {
    for (std::uint64_t seed = 1; seed <= 1'000; ++seed) {
        INFO("seed " << seed);
        std::mt19937_64 rng(seed);
        StreamShape shape;
        shape.power = seed % 5 != 0;
        shape.counter = seed % 7 != 0;
        const Stream stream = random_stream(rng, shape);
        SourceSeries series(stream.settings);
        for (const Poll& poll : stream.polls) {
            feed(series, poll);
        }
        const Model model(stream);
        const std::int64_t tick_ms = stream.settings.tick_ms;
        const std::int64_t first = tick_floor(stream.polls.front().ts, tick_ms) - tick_ms;
        const std::int64_t last = tick_floor(stream.polls.back().ts, tick_ms) + 5 * tick_ms;
        double counter_sum = 0.0;
        for (std::int64_t tick = first; tick <= last; tick += tick_ms) {
            INFO("tick " << tick);
            const TickBreakdown got = series.tick_breakdown(tick);
            const Model::Tick want = model.tick(tick);
            REQUIRE(got.energy.wh >= 0.0);
            REQUIRE(got.counter_wh >= 0.0);
            REQUIRE(got.power_wh >= 0.0);
            if (!want.fully_covered) {
                REQUIRE_FALSE(got.energy.usable());
                REQUIRE(got.energy.wh == 0.0);
            }
            REQUIRE(got.energy.quality == want.quality);
            REQUIRE(got.flags == want.flags);
            REQUIRE(got.energy.wh == Approx(want.wh).margin(1e-9).epsilon(1e-9));
            REQUIRE(got.counter_wh == Approx(want.counter_wh).margin(1e-9).epsilon(1e-9));
            counter_sum += got.counter_wh;
        }
        REQUIRE(counter_sum == Approx(model.used_delta_sum()).margin(1e-6).epsilon(1e-9));
    }
}

TEST_CASE("property: a counter's tick shares summed over consecutive ticks give back the raw "
          "counter difference",
          "[time_base][property]") {
    for (std::uint64_t seed = 1; seed <= 1'000; ++seed) {
        INFO("seed " << seed);
        std::mt19937_64 rng(seed);
        StreamShape shape;
        shape.power = false; // the counter alone: always used
        shape.counter_failure = 0.0;
        shape.reset_chance = 0.0;
        shape.outage_chance = 0.0;
        Stream stream = random_stream(rng, shape);
        stream.settings.max_span_ms = 300'000; // every span (<= 8 s) is valid
        SourceSeries series(stream.settings);
        const Poll* first_poll = nullptr;
        const Poll* last_poll = nullptr;
        for (const Poll& poll : stream.polls) {
            if (last_poll == nullptr || poll.ts > last_poll->ts) {
                first_poll = first_poll == nullptr ? &poll : first_poll;
                last_poll = &poll;
            }
            feed(series, poll);
        }
        const std::int64_t tick_ms = stream.settings.tick_ms;
        double sum = 0.0;
        for (std::int64_t tick = tick_floor(first_poll->ts, tick_ms); tick <= last_poll->ts;
             tick += tick_ms) {
            sum += series.tick_breakdown(tick).counter_wh;
        }
        const double raw = *last_poll->counter - *first_poll->counter +
                           stream.wraps * stream.polls.front().wrap.value_or(0.0);
        REQUIRE(sum == Approx(raw).margin(1e-6).epsilon(1e-9));
    }
}

TEST_CASE("property: forget_before during a stream never changes ticks at or after the cut",
          "[time_base][property]") {
    for (std::uint64_t seed = 1; seed <= 1'000; ++seed) {
        INFO("seed " << seed);
        std::mt19937_64 rng(seed);
        const Stream stream = random_stream(rng, StreamShape{});
        const std::int64_t tick_ms = stream.settings.tick_ms;
        SourceSeries full(stream.settings);
        SourceSeries forgetful(stream.settings);
        std::int64_t cut = std::numeric_limits<std::int64_t>::min();
        for (const Poll& poll : stream.polls) {
            feed(full, poll);
            feed(forgetful, poll);
            const std::int64_t lag = tick_ms * std::uniform_int_distribution<int>(0, 3)(rng);
            cut = std::max(cut, tick_floor(poll.ts, tick_ms) - lag);
            forgetful.forget_before(cut);
            for (std::int64_t tick = cut; tick <= cut + 6 * tick_ms; tick += tick_ms) {
                INFO("tick " << tick << " cut " << cut);
                std::uint32_t flags_full = 0;
                std::uint32_t flags_forgetful = 0;
                const Energy a = full.tick_energy(tick, &flags_full);
                const Energy b = forgetful.tick_energy(tick, &flags_forgetful);
                REQUIRE(a.wh == b.wh);
                REQUIRE(a.quality == b.quality);
                REQUIRE(flags_full == flags_forgetful);
            }
        }
    }
}
