#include "daemon/sinks/influx_lines.hpp"

#include <catch2/catch.hpp>

using namespace greenrack;
using accounting::Energy;
using accounting::SourceQuality;
using modbus::DataType;
using modbus::PointValue;
using modbus::Quality;
using sinks::LineBuilder;

namespace {

// Tick [1764340000000, 1764340005000): tau = 5 s, so W = Wh * 720.
constexpr std::int64_t tick_start_ms = 1'764'340'000'000;

Energy ok(double wh) {
    return Energy{wh, SourceQuality::ok};
}

profiles::DeviceProfile sample_profile() {
    profiles::DeviceProfile profile;
    profile.name = "sample";
    profile.device_role = profiles::DeviceRole::pv_inverter;
    auto add = [&](std::string name, DataType type) {
        modbus::PointSpec point;
        point.name = std::move(name);
        point.type = type;
        profile.points.push_back(point);
    };
    add("ac_power_w", DataType::i16);
    add("voltage_v", DataType::f32);
    add("energy_wh", DataType::acc32);
    add("serial", DataType::string);
    add("var_var", DataType::i16);
    return profile;
}

core::DeviceReading sample_reading() {
    core::DeviceReading reading;
    reading.ts =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'340'000'123));
    reading.duration = std::chrono::microseconds(3250);
    reading.requests_ok = 2;
    reading.requests_failed = 1;
    reading.values = {
        PointValue{51230.0, Quality::ok, {}},
        PointValue{static_cast<double>(229.8F), Quality::ok, {}},
        PointValue{0.0, Quality::missing, {}},
        PointValue{0.0, Quality::ok, "PV-7"},
        PointValue{99999.0, Quality::implausible, {}},
    };
    return reading;
}

accounting::TickResult valid_tick() {
    accounting::TickResult tick;
    tick.start_ms = tick_start_ms;
    tick.tau_s = 5.0;
    tick.valid = true;
    tick.quality = SourceQuality::ok;
    tick.load = ok(10);
    tick.it_wh = 8;
    tick.renewable = ok(6);
    tick.pv = ok(5);
    tick.wind = ok(1);
    tick.discharge = ok(2);
    tick.charge = ok(0);
    tick.grid_import = ok(2);
    tick.grid_export = ok(0);
    tick.renewable_to_load_wh = 6;
    tick.battery_to_load_wh = 2;
    tick.grid_to_load_wh = 2;
    tick.green_wh = 7;
    tick.nongreen_wh = 3;
    tick.battery_green_fraction = 0.5;
    tick.coverage = 0.7;
    tick.onsite_share = 0.6;
    tick.balance_residual_wh = 0.5;
    tick.carbon_location_g = 1.25;
    tick.carbon_residual_g = 1.5;
    tick.headroom_free_w = 100;
    tick.headroom_total_w = 250.5;
    tick.headroom_storage_w = 50;
    tick.ipue = 1.25;
    return tick;
}

accounting::Totals sample_totals() {
    accounting::Totals totals;
    totals.load_wh = 1000;
    totals.green_wh = 700;
    totals.nongreen_wh = 300;
    totals.carbon_location_g = 125.5;
    totals.carbon_residual_g = 150.25;
    return totals;
}

accounting::RackTick sample_rack() {
    accounting::RackTick rack;
    rack.id = "r1";
    rack.tier = 1;
    rack.it = ok(4);
    rack.burdened_wh = 5;
    rack.green_it_wh = 3;
    rack.nongreen_it_wh = 1;
    rack.green_wh = 3.5;
    rack.nongreen_wh = 1.5;
    rack.carbon_location_g = 0.5;
    rack.carbon_residual_g = 0.75;
    rack.valid = true;
    return rack;
}

accounting::RackTotals sample_rack_totals() {
    accounting::RackTotals totals;
    totals.green_wh = 35;
    totals.nongreen_wh = 15;
    totals.green_it_wh = 30;
    totals.nongreen_it_wh = 10;
    return totals;
}

} // namespace

TEST_CASE("device line: tags, one float per ok numeric point, poll time and failures",
          "[influx_lines]") {
    LineBuilder lines;
    sinks::append_device_line(lines, "demo", "pv-1", sample_profile(), sample_reading());
    CHECK(lines.str() == "device,device=pv-1,profile=sample,quality=partial,role=pv_inverter,"
                         "site=demo ac_power_w=51230,voltage_v=229.8,poll_ms=3.25,seq=0i,"
                         "requests_failed=1i 1764340000123\n");
}

TEST_CASE("device line of an offline device keeps poll time and failures", "[influx_lines]") {
    auto reading = sample_reading();
    reading.requests_ok = 0;
    reading.requests_failed = 3;
    for (auto& value : reading.values) {
        value.quality = Quality::error;
    }
    LineBuilder lines;
    sinks::append_device_line(lines, "demo", "pv-1", sample_profile(), reading);
    CHECK(lines.str() == "device,device=pv-1,profile=sample,quality=offline,role=pv_inverter,"
                         "site=demo poll_ms=3.25,seq=0i,requests_failed=3i 1764340000123\n");
}

TEST_CASE("site line of a valid tick has every power, green figure and total", "[influx_lines]") {
    accounting::Rollup hour;
    hour.cfe_interval = 0.75;
    hour.cfe_hourly = 0.5;
    LineBuilder lines;
    sinks::append_site_line(lines, "demo", valid_tick(), sample_totals(), &hour);
    CHECK(lines.str() ==
          "site,quality=ok,site=demo valid=true,load_w=7200,it_w=5760,renewable_w=4320,"
          "pv_w=3600,wind_w=720,battery_discharge_w=1440,battery_charge_w=0,grid_import_w=1440,"
          "grid_export_w=0,green_w=5040,nongreen_w=2160,coverage_ratio=0.7,"
          "onsite_share_ratio=0.6,battery_green_fraction_ratio=0.5,renewable_to_load_w=4320,"
          "battery_to_load_w=1440,grid_to_load_w=1440,renewable_to_battery_w=0,"
          "grid_to_battery_w=0,renewable_to_export_w=0,curtailed_w=0,balance_residual_w=360,"
          "carbon_location_g=1.25,carbon_residual_g=1.5,intensity_location_g_per_kwh=125,"
          "headroom_free_w=100,headroom_total_w=250.5,headroom_storage_w=50,ipue_ratio=1.25,"
          "hour_cfe_interval_ratio=0.75,hour_cfe_hourly_ratio=0.5,load_energy_wh_total=1000,"
          "green_energy_wh_total=700,nongreen_energy_wh_total=300,carbon_location_g_total=125.5,"
          "carbon_residual_g_total=150.25 1764340005000\n");
}

TEST_CASE("site line of an invalid tick has no green fields and no unusable powers",
          "[influx_lines]") {
    auto tick = valid_tick();
    tick.valid = false;
    tick.quality = SourceQuality::missing;
    tick.load = Energy{0, SourceQuality::missing};
    tick.grid_import = Energy{2, SourceQuality::stale};
    tick.coverage.reset();
    tick.onsite_share.reset();
    tick.ipue.reset();
    accounting::Rollup hour;
    hour.cfe_interval = 0.75;
    LineBuilder lines;
    sinks::append_site_line(lines, "demo", tick, sample_totals(), &hour);
    CHECK(lines.str() == "site,quality=missing,site=demo valid=false,it_w=5760,renewable_w=4320,"
                         "pv_w=3600,wind_w=720,battery_discharge_w=1440,battery_charge_w=0,"
                         "grid_export_w=0,load_energy_wh_total=1000,green_energy_wh_total=700,"
                         "nongreen_energy_wh_total=300,carbon_location_g_total=125.5,"
                         "carbon_residual_g_total=150.25 1764340005000\n");
}

TEST_CASE("site line leaves out optional ratios that are unknown", "[influx_lines]") {
    auto tick = valid_tick();
    tick.coverage.reset();
    tick.onsite_share.reset();
    tick.ipue.reset();
    tick.load = ok(0);
    LineBuilder lines;
    sinks::append_site_line(lines, "demo", tick, sample_totals(), nullptr);
    const std::string line = lines.str();
    CHECK(line.find("coverage_ratio") == std::string::npos);
    CHECK(line.find("onsite_share_ratio") == std::string::npos);
    CHECK(line.find("ipue_ratio") == std::string::npos);
    CHECK(line.find("intensity_location_g_per_kwh") == std::string::npos);
    CHECK(line.find("hour_cfe") == std::string::npos);
    CHECK(line.find(",load_w=0,") != std::string::npos);
}

TEST_CASE("rack lines: the IT view and the burdened view of one rack", "[influx_lines]") {
    auto tick = valid_tick();
    tick.racks = {sample_rack()};
    auto totals = sample_totals();
    totals.racks = {sample_rack_totals()};
    LineBuilder lines;
    sinks::append_rack_lines(lines, "demo", tick, totals);
    CHECK(lines.str() ==
          "rack,quality=ok,rack=r1,site=demo,tier=1,view=it it_w=2880,green_w=2160,"
          "nongreen_w=720,coverage_ratio=0.75,green_energy_wh_total=30,"
          "nongreen_energy_wh_total=10 1764340005000\n"
          "rack,quality=ok,rack=r1,site=demo,tier=1,view=burdened it_w=2880,green_w=2520,"
          "nongreen_w=1080,coverage_ratio=0.7,carbon_location_g=0.5,carbon_residual_g=0.75,"
          "green_energy_wh_total=35,nongreen_energy_wh_total=15 1764340005000\n");
}

TEST_CASE("rack lines of an invalid rack keep only its IT power and totals, and the "
          "unattributed pseudo-rack follows the racks",
          "[influx_lines]") {
    auto tick = valid_tick();
    auto rack = sample_rack();
    rack.valid = false;
    rack.it = Energy{4, SourceQuality::held};
    tick.racks = {rack};
    accounting::RackTick unattributed;
    unattributed.id = "unattributed";
    unattributed.it = Energy{0.5, SourceQuality::inferred};
    unattributed.valid = false;
    tick.unattributed = unattributed;
    auto totals = sample_totals();
    totals.racks = {sample_rack_totals()};
    totals.unattributed.green_it_wh = 2;
    LineBuilder lines;
    sinks::append_rack_lines(lines, "demo", tick, totals);
    CHECK(lines.str() ==
          "rack,quality=held,rack=r1,site=demo,tier=1,view=it it_w=2880,"
          "green_energy_wh_total=30,nongreen_energy_wh_total=10 1764340005000\n"
          "rack,quality=held,rack=r1,site=demo,tier=1,view=burdened it_w=2880,"
          "green_energy_wh_total=35,nongreen_energy_wh_total=15 1764340005000\n"
          "rack,quality=inferred,rack=unattributed,site=demo,tier=0,view=it it_w=360,"
          "green_energy_wh_total=2,nongreen_energy_wh_total=0 1764340005000\n"
          "rack,quality=inferred,rack=unattributed,site=demo,tier=0,view=burdened it_w=360,"
          "green_energy_wh_total=0,nongreen_energy_wh_total=0 1764340005000\n");
}

TEST_CASE("battery line: powers, state of green charge and cold start", "[influx_lines]") {
    auto tick = valid_tick();
    tick.charge = Energy{0, SourceQuality::held};
    tick.battery.known = true;
    tick.battery.stored_wh = 50000;
    tick.battery.green_wh = 25000;
    tick.battery.green_fraction = 0.5;
    tick.battery.deliverable_green_wh = 23750;
    tick.battery.carbon_g = 1234.5;
    tick.battery.losses_wh = 12.25;
    tick.battery.cold_start = false;
    LineBuilder lines;
    sinks::append_battery_line(lines, "demo", tick);
    CHECK(lines.str() == "battery,quality=held,site=demo discharge_w=1440,charge_w=0,"
                         "stored_wh=50000,green_wh=25000,green_fraction_ratio=0.5,"
                         "deliverable_green_wh=23750,carbon_g=1234.5,losses_wh=12.25,"
                         "cold_start=false 1764340005000\n");
}

TEST_CASE("no battery line when the site has no battery", "[influx_lines]") {
    LineBuilder lines;
    sinks::append_battery_line(lines, "demo", valid_tick());
    CHECK(lines.str().empty());
}

TEST_CASE("a tick gives site, rack and battery lines, an ignored tick gives none",
          "[influx_lines]") {
    auto tick = valid_tick();
    tick.racks = {sample_rack()};
    tick.battery.known = true;
    auto totals = sample_totals();
    totals.racks = {sample_rack_totals()};
    LineBuilder lines;
    sinks::append_tick_lines(lines, "demo", tick, totals, nullptr);
    CHECK(lines.lines() == 4);
    CHECK(lines.str().starts_with("site,"));
    CHECK(lines.str().find("\nbattery,") != std::string::npos);

    tick.ignored = true;
    LineBuilder none;
    sinks::append_tick_lines(none, "demo", tick, totals, nullptr);
    CHECK(none.str().empty());
}

TEST_CASE("rollup line of a closed window, missing optional values left out", "[influx_lines]") {
    accounting::Rollup rollup;
    rollup.window = accounting::Window::hour;
    rollup.start_ms = 1'764'338'400'000;
    rollup.end_ms = 1'764'342'000'000;
    rollup.quality = SourceQuality::held;
    rollup.load_wh = 36000;
    rollup.green_wh = 27000;
    rollup.nongreen_wh = 9000;
    rollup.renewable_wh = 30000;
    rollup.it_wh = 30000;
    rollup.import_wh = 9000;
    rollup.export_wh = 3000;
    rollup.cfe_interval = 0.75;
    rollup.ref = 0.5;
    rollup.ipue = 1.2;
    rollup.carbon_location_g = 4987.5;
    rollup.carbon_residual_g = 5486.4;
    rollup.data_coverage = 1.0;
    LineBuilder lines;
    sinks::append_rollup_line(lines, "demo", rollup);
    CHECK(lines.str() == "rollup,quality=held,site=demo,window=1h load_wh=36000,green_wh=27000,"
                         "nongreen_wh=9000,renewable_wh=30000,it_wh=30000,grid_import_wh=9000,"
                         "grid_export_wh=3000,cfe_interval_ratio=0.75,ref_ratio=0.5,"
                         "ipue_ratio=1.2,carbon_location_g=4987.5,carbon_residual_g=5486.4,"
                         "data_coverage_ratio=1 1764342000000\n");
}

TEST_CASE("self lines: one per bus and one for the site, all integers", "[influx_lines]") {
    const sinks::SelfBusCounters buses[] = {
        {"bus a", 100, 3, 2, 1, 0},
        {"rtu-1", 5, 0, 0, 0, 1},
    };
    sinks::SelfSiteCounters site{1, 200, 2, 10, 0};
    LineBuilder lines;
    sinks::append_self_lines(lines, "demo", buses, site, sinks::from_unix_ms(1'764'340'010'000));
    CHECK(lines.str() ==
          "greenrack_self,bus=bus\\ a,site=demo modbus_requests_total=100i,"
          "modbus_errors_total=3i,modbus_timeouts_total=2i,modbus_exceptions_total=1i,"
          "poll_overruns_total=0i 1764340010000\n"
          "greenrack_self,bus=rtu-1,site=demo modbus_requests_total=5i,modbus_errors_total=0i,"
          "modbus_timeouts_total=0i,modbus_exceptions_total=0i,poll_overruns_total=1i "
          "1764340010000\n"
          "greenrack_self,site=demo devices_stale=1i,mqtt_published_total=200i,"
          "mqtt_dropped_total=2i,influx_queue_lines=10i,influx_dropped_lines_total=0i "
          "1764340010000\n");
}
