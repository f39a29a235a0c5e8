#include "drivers/sim/sim_clock.hpp"
#include "drivers/sim/sim_time.hpp"
#include "drivers/sim/solar_position.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::sim;
using namespace std::chrono_literals;

TEST_CASE("RFC 3339 UTC timestamps parse and format back unchanged") {
    for (const char* text :
         {"2026-06-21T02:00:00Z", "2024-02-29T23:59:59Z", "2026-01-01T00:00:00.250Z"}) {
        auto t = parse_rfc3339_utc(text);
        REQUIRE(t.has_value());
        REQUIRE(format_rfc3339_utc(*t) == text);
    }
    auto t = parse_rfc3339_utc("2026-06-21T02:00:00+00:00");
    REQUIRE(t.has_value());
    REQUIRE(format_rfc3339_utc(*t) == "2026-06-21T02:00:00Z");
    // 1970-01-01T00:00:10Z is 10 s after the epoch.
    REQUIRE(parse_rfc3339_utc("1970-01-01T00:00:10Z")->time_since_epoch() == 10s);
}

TEST_CASE("timestamps with offsets, bad dates or junk are rejected") {
    for (const char* text :
         {"2026-06-21T02:00:00+08:00", "2026-02-30T00:00:00Z", "2026-06-21 02:00:00Z",
          "2026-06-21T02:00:00", "now", "", "2026-06-21T24:00:00Z", "2026-06-21T02:00:00.Z"}) {
        INFO(text);
        REQUIRE_FALSE(parse_rfc3339_utc(text).has_value());
    }
}

TEST_CASE("day of year and UTC hours come from the sim time") {
    REQUIRE(day_of_year(*parse_rfc3339_utc("2026-01-01T00:00:00Z")) == 1);
    REQUIRE(day_of_year(*parse_rfc3339_utc("2026-06-21T02:00:00Z")) == 172);
    REQUIRE(day_of_year(*parse_rfc3339_utc("2024-12-31T12:00:00Z")) == 366);
    REQUIRE(utc_hours(*parse_rfc3339_utc("2026-06-21T02:30:00Z")) == Approx(2.5));
}

TEST_CASE("sun elevation in Qinghai: high at solar noon at midsummer, below horizon at night") {
    // Solar noon at 101.8 E is about 05:13Z; at the June solstice the sun culminates at
    // 90 - 36.6 + 23.44 = 76.8 degrees.
    const double noon =
        solar_elevation_deg(36.6, 101.8, *parse_rfc3339_utc("2026-06-21T05:13:00Z"));
    REQUIRE(noon == Approx(76.8).margin(0.5));
    // December solstice: 90 - 36.6 - 23.44 = 30.0 degrees.
    const double winter =
        solar_elevation_deg(36.6, 101.8, *parse_rfc3339_utc("2026-12-21T04:58:00Z"));
    REQUIRE(winter == Approx(30.0).margin(0.5));
    REQUIRE(solar_elevation_deg(36.6, 101.8, *parse_rfc3339_utc("2026-06-21T17:00:00Z")) < 0.0);
    REQUIRE(clear_sky_irradiance(-5.0) == 0.0);
    REQUIRE(clear_sky_irradiance(76.8) > 800.0);
    REQUIRE(clear_sky_irradiance(76.8) < 1100.0);
    REQUIRE(clear_sky_irradiance(10.0) < clear_sky_irradiance(40.0));
}

TEST_CASE("sim clock runs at speed x wall time, or stands still when frozen") {
    const SimTime start = *parse_rfc3339_utc("2026-06-21T02:00:00Z");
    const SimClock fast(start, 60.0, false);
    REQUIRE(fast.at(2s) == start + 120s);
    REQUIRE(fast.wall_until(start + 120s, 1s) == 1s);
    REQUIRE(fast.wall_until(start + 30s, 1s) == 0s);
    const SimClock frozen(start, 60.0, true);
    REQUIRE(frozen.at(3600s) == start);
}
