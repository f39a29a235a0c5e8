#include "daemon/core/alerts/observations.hpp"

#include <catch2/catch.hpp>

using namespace greenrack;
using namespace greenrack::alerts;

namespace {

accounting::Energy ok(double wh) {
    return accounting::Energy{wh, accounting::SourceQuality::ok};
}

accounting::TickResult valid_tick() {
    accounting::TickResult tick;
    tick.tau_s = 5.0;
    tick.valid = true;
    tick.load = ok(100.0); // 72 kW over 5 s
    tick.pv = ok(40.0);
    tick.wind = ok(0.0);
    tick.renewable = ok(40.0);
    tick.discharge = ok(30.0);
    tick.charge = ok(0.0);
    tick.grid_import = ok(30.0);
    tick.grid_export = ok(0.0);
    tick.it_wh = 80.0;
    tick.green_wh = 55.0;
    tick.nongreen_wh = 45.0;
    tick.grid_to_load_wh = 30.0;
    tick.battery_to_load_wh = 30.0;
    tick.battery_green_fraction = 0.5;
    tick.coverage = 0.55;
    tick.balance_residual_wh = -2.0;
    tick.balance_residual_w = -1440.0;
    tick.headroom_total_w = 0.0;
    return tick;
}

} // namespace

TEST_CASE("site values convert the tick's energies to watts and ratios") {
    auto site = site_values("qh", valid_tick(), nullptr, 2);
    CHECK(site.id == "qh");
    CHECK(site.values.at("load_w") == Approx(72'000.0));
    CHECK(site.values.at("nongreen_w") == Approx(32'400.0));
    CHECK(site.values.at("grid_to_load_w") == Approx(21'600.0));
    CHECK(site.values.at("battery_nongreen_to_load_w") == Approx(10'800.0));
    CHECK(site.values.at("coverage") == Approx(0.55));
    CHECK(site.values.at("balance_residual_ratio") == Approx(0.02));
    CHECK(site.values.at("data_gap") == 0.0);
    CHECK(site.values.at("devices_stale") == 2.0);
    CHECK_FALSE(site.values.contains("hour_cfe"));
    for (const auto& [name, value] : site.values) {
        CAPTURE(name);
        CHECK(is_output_of(Scope::site, name));
    }
}

TEST_CASE("a data-gap tick has no green outputs but flags the gap") {
    auto tick = valid_tick();
    tick.valid = false;
    tick.grid_import = accounting::Energy{0.0, accounting::SourceQuality::stale};
    auto site = site_values("qh", tick, nullptr, 0);
    CHECK(site.values.at("data_gap") == 1.0);
    CHECK_FALSE(site.values.contains("nongreen_w"));
    CHECK_FALSE(site.values.contains("coverage"));
    CHECK_FALSE(site.values.contains("import_w"));
    CHECK(site.values.contains("load_w"));
}

TEST_CASE("rack values give the burdened non-green power and the rack coverage") {
    auto tick = valid_tick();
    accounting::RackTick rack;
    rack.id = "r1";
    rack.tier = 1;
    rack.it = ok(40.0);
    rack.valid = true;
    rack.burdened_wh = 50.0;
    rack.green_wh = 30.0;
    rack.nongreen_wh = 20.0;
    auto values = rack_values(tick, rack);
    CHECK(values.id == "r1");
    CHECK(values.values.at("nongreen_w") == Approx(14'400.0));
    CHECK(values.values.at("coverage") == Approx(0.6));
    CHECK(values.values.at("tier") == 1.0);
    for (const auto& [name, value] : values.values) {
        CAPTURE(name);
        CHECK(is_output_of(Scope::rack, name));
    }
    rack.valid = false;
    CHECK_FALSE(rack_values(tick, rack).values.contains("nongreen_w"));
}

TEST_CASE("device values are stale past the limit and before the first good reading") {
    DeviceHealth health{"pv1", true, 10'000, 3'000};
    auto fresh = device_values(health, 12'000);
    CHECK(fresh.values.at("stale") == 0.0);
    CHECK(fresh.values.at("age_s") == Approx(2.0));
    CHECK(device_values(health, 13'001).values.at("stale") == 1.0);
    DeviceHealth never{"pv2", false, std::nullopt, 3'000};
    auto values = device_values(never, 12'000);
    CHECK(values.values.at("stale") == 1.0);
    CHECK(values.values.at("up") == 0.0);
    CHECK_FALSE(values.values.contains("age_s"));
}

TEST_CASE("spool values: recent drops, fullest fill and the age of the oldest waiting record") {
    Values values;
    put_spool_values(values, SpoolHealth{4, 0.97, 40'000}, 100'000);
    CHECK(values.at("spool_dropped_recent") == 4.0);
    CHECK(values.at("spool_fill") == Approx(0.97));
    CHECK(values.at("spool_backlog_s") == Approx(60.0));
    for (const auto& [name, value] : values) {
        CAPTURE(name);
        CHECK(is_output_of(Scope::site, name));
    }
}

TEST_CASE("spool values: nothing waiting is a backlog of zero seconds") {
    Values values;
    put_spool_values(values, SpoolHealth{0, 0.0, std::nullopt}, 100'000);
    CHECK(values.at("spool_backlog_s") == 0.0);
    CHECK(values.at("spool_dropped_recent") == 0.0);
}
