#include "daemon/core/site_model.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace greenrack;
using accounting::SourceQuality;
namespace fs = std::filesystem;

namespace {

// A config with one device of each source kind (real profiles), loaded from a temp file.
config::Config load(const std::string& extra = "") {
    std::string pattern = (fs::temp_directory_path() / "greenrack-site-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    const fs::path path = fs::path(pattern) / "greenrack.toml";
    std::ofstream(path) << std::string(R"([site]
id = "t"
[daemon]
profile_dirs = [")") + GREENRACK_SOURCE_DIR +
                               R"(/config/profiles"]
[[bus]]
id = "b"
host = "127.0.0.1"
[[device]]
id = "pdu"
bus = "b"
unit_id = 1
profile = "rack_pdu_px3_24"
poll_interval = "1s"
[[device]]
id = "pv"
bus = "b"
unit_id = 2
profile = "pv_sunspec_103"
poll_interval = "1s"
[[device]]
id = "grid"
bus = "b"
unit_id = 3
profile = "meter_grid_4q"
poll_interval = "1s"
[[device]]
id = "bat"
bus = "b"
unit_id = 4
profile = "battery_generic"
poll_interval = "1s"
[[rack]]
id = "r1"
outlets = [{ device = "pdu", outlets = [1, 2] }]
[accounting]
tick = "5s"
)" + extra;
    auto config = config::load_config(path);
    fs::remove_all(pattern);
    return config;
}

// A reading of device `index` at ts_ms with the named points ok and everything else missing.
core::DeviceReading reading(const config::Config& config, std::size_t index, std::int64_t ts_ms,
                            std::map<std::string, double> values) {
    const auto& profile = *config.devices[index].profile;
    core::DeviceReading r;
    r.device = index;
    r.ts = std::chrono::system_clock::time_point(std::chrono::milliseconds(ts_ms));
    r.requests_ok = 1;
    r.values.resize(profile.points.size());
    for (auto& v : r.values) {
        v.quality = modbus::Quality::missing;
    }
    for (const auto& [name, value] : values) {
        auto i = profile.find(name);
        REQUIRE(i.has_value());
        r.values[*i] = modbus::PointValue{value, modbus::Quality::ok, {}, 1.0};
    }
    return r;
}

// Feeds one reading per second from t0 to t1 (exclusive) built by make(ts).
template <typename Make>
void feed(core::SiteModel& site, std::int64_t t0, std::int64_t t1, Make make) {
    for (std::int64_t ts = t0; ts < t1; ts += 1000) {
        site.add(make(ts));
    }
}

constexpr std::int64_t t0 = 1'800'000'000'000; // a multiple of 5 s

} // namespace

TEST_CASE("signed battery power splits into discharge and charge", "[site]") {
    auto config = load();
    core::SiteModel site(config);
    feed(site, t0 - 3000, t0 + 5000, [&](std::int64_t ts) {
        return reading(config, 3, ts, {{"ac_power_w", 3600.0}});
    });
    feed(site, t0 + 5000, t0 + 11000, [&](std::int64_t ts) {
        return reading(config, 3, ts, {{"ac_power_w", -7200.0}});
    });
    auto first = site.tick_inputs(t0);
    CHECK(first.discharge.quality == SourceQuality::ok);
    CHECK(first.discharge.wh == Approx(5.0)); // 3600 W for 5 s
    CHECK(first.charge.wh == Approx(0.0));
    auto second = site.tick_inputs(t0 + 5000);
    CHECK(second.discharge.wh == Approx(0.0));
    CHECK(second.charge.wh == Approx(10.0)); // 7200 W for 5 s
}

TEST_CASE("a rack is the sum of its outlets and nothing else of the PDU", "[site]") {
    auto config = load();
    core::SiteModel site(config);
    feed(site, t0 - 2000, t0 + 6000, [&](std::int64_t ts) {
        return reading(config, 0, ts,
                       {{"outlet_1_power_w", 720.0},
                        {"outlet_2_power_w", 1440.0},
                        {"outlet_3_power_w", 99999.0},
                        {"inlet_power_w", 5000.0}});
    });
    auto in = site.tick_inputs(t0);
    REQUIRE(in.rack_it.size() == 1);
    CHECK(in.rack_it[0].quality == SourceQuality::ok);
    CHECK(in.rack_it[0].wh == Approx(3.0)); // (720 + 1440) W x 5 s
}

TEST_CASE("grid import and export come from their own power points", "[site]") {
    auto config = load();
    core::SiteModel site(config);
    feed(site, t0 - 2000, t0 + 6000, [&](std::int64_t ts) {
        return reading(config, 2, ts, {{"import_power_w", 1800.0}, {"export_power_w", 360.0}});
    });
    auto in = site.tick_inputs(t0);
    CHECK(in.grid_import.wh == Approx(2.5));
    CHECK(in.grid_export.wh == Approx(0.5));
    CHECK_FALSE(in.facility_metered); // no facility meter in this site
    CHECK(in.wind.wh == 0.0);         // no wind turbine: zero, not missing
    CHECK(in.wind.quality == in.pv.quality);
}

TEST_CASE("inverter night draw is not negative generation", "[site]") {
    auto config = load();
    core::SiteModel site(config);
    feed(site, t0 - 2000, t0 + 6000, [&](std::int64_t ts) {
        return reading(config, 1, ts, {{"ac_power_w", -40.0}});
    });
    auto in = site.tick_inputs(t0);
    CHECK(in.pv.quality == SourceQuality::ok);
    CHECK(in.pv.wh == 0.0);
}

TEST_CASE("battery energy for resync is SoC x capacity from a reading inside the tick", "[site]") {
    auto config = load();
    core::SiteModel site(config);
    feed(site, t0, t0 + 7000, [&](std::int64_t ts) {
        const double soc = ts < t0 + 5000 ? 40.0 : 41.0;
        return reading(config, 3, ts,
                       {{"ac_power_w", 0.0},
                        {"soc_pct", soc},
                        {"capacity_wh", 200000.0},
                        {"max_discharge_power_w", 50000.0}});
    });
    auto in = site.tick_inputs(t0);
    REQUIRE(in.battery_stored_wh.has_value());
    CHECK(*in.battery_stored_wh == Approx(80000.0)); // the tick's own reading, not a later one
    REQUIRE(in.battery_max_discharge_w.has_value());
    CHECK(*in.battery_max_discharge_w == 50000.0);
}

TEST_CASE("a source with failed readings is not usable for the tick", "[site]") {
    auto config = load();
    core::SiteModel site(config);
    feed(site, t0 - 2000, t0 + 6000, [&](std::int64_t ts) {
        if (ts == t0 + 2000) {
            return reading(config, 2, ts, {}); // the meter did not answer
        }
        return reading(config, 2, ts, {{"import_power_w", 1000.0}, {"export_power_w", 0.0}});
    });
    auto in = site.tick_inputs(t0);
    CHECK_FALSE(in.grid_import.usable());
}
