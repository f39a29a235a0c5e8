#include "daemon/core/site_summary.hpp"

#include <catch2/catch.hpp>

using namespace greenrack;
using modbus::Quality;
using std::chrono::milliseconds;
using std::chrono::system_clock;

namespace {

std::shared_ptr<profiles::DeviceProfile> profile_with(profiles::DeviceRole role,
                                                      std::vector<std::string> point_roles) {
    auto profile = std::make_shared<profiles::DeviceProfile>();
    profile->name = "p";
    profile->device_role = role;
    for (auto& r : point_roles) {
        modbus::PointSpec point;
        point.name = r + "_" + std::to_string(profile->points.size());
        point.role = r;
        profile->points.push_back(point);
    }
    return profile;
}

config::DeviceConfig device(std::string id, std::shared_ptr<profiles::DeviceProfile> profile) {
    config::DeviceConfig d;
    d.id = std::move(id);
    d.profile = std::move(profile);
    return d;
}

core::DeviceReading reading(std::size_t index, system_clock::time_point ts,
                            std::vector<double> values) {
    core::DeviceReading r;
    r.device = index;
    r.ts = ts;
    r.requests_ok = 1;
    for (double v : values) {
        r.values.push_back({v, Quality::ok, {}});
    }
    return r;
}

const system_clock::time_point now = system_clock::time_point(std::chrono::hours(500'000));

} // namespace

TEST_CASE("summary sums each quantity over the devices of its role", "[core]") {
    config::Config config;
    auto pdu = profile_with(profiles::DeviceRole::rack_pdu,
                            {"inlet_power", "outlet_power", "outlet_power"});
    auto pv = profile_with(profiles::DeviceRole::pv_inverter, {"ac_power"});
    auto battery = profile_with(profiles::DeviceRole::battery, {"battery_power", "soc"});
    auto grid = profile_with(profiles::DeviceRole::grid_meter, {"import_power", "export_power"});
    config.devices = {device("pdu-1", pdu), device("pdu-2", pdu), device("pv-1", pv),
                      device("bat", battery), device("grid", grid)};
    core::SampleStore store(config.devices.size());
    store.update(reading(0, now, {5000, 2000, 3000}));
    store.update(reading(1, now, {7000, 3000, 4000}));
    store.update(reading(2, now, {40000}));
    store.update(reading(3, now, {-2500, 61.5}));
    store.update(reading(4, now, {1000, 0}));

    auto s = core::summarize(config, store, now, milliseconds(3000));
    CHECK(s.devices == 5);
    CHECK(s.devices_ok == 5);
    CHECK(s.it_w.value == 12000.0); // inlets only, outlets are not added on top
    CHECK(s.it_w.complete());
    CHECK(s.pv_w.value == 40000.0);
    CHECK(s.battery_w.value == -2500.0);
    CHECK(s.soc_pct.value == 61.5);
    CHECK(s.grid_import_w.value == 1000.0);
    CHECK(s.wind_w.expected == 0);
    std::string line = core::format_summary(s, now);
    CHECK(line.find("devices 5/5 ok") != std::string::npos);
    CHECK(line.find("IT 12.0 kW") != std::string::npos);
    CHECK(line.find("PV 40.0 kW") != std::string::npos);
    CHECK(line.find("SoC 61.5 %") != std::string::npos);
}

TEST_CASE("summary leaves out stale, offline and not-ok values and says so", "[core]") {
    config::Config config;
    auto pdu = profile_with(profiles::DeviceRole::rack_pdu, {"inlet_power"});
    config.devices = {device("pdu-1", pdu), device("pdu-2", pdu), device("pdu-3", pdu),
                      device("pdu-4", pdu)};
    core::SampleStore store(config.devices.size());
    store.update(reading(0, now, {5000}));
    store.update(reading(1, now - milliseconds(3001), {7000})); // stale
    auto missing = reading(2, now, {9000});
    missing.values[0].quality = Quality::missing;
    store.update(missing);
    // pdu-4 never answered

    auto s = core::summarize(config, store, now, milliseconds(3000));
    CHECK(s.it_w.value == 5000.0);
    CHECK(s.it_w.have == 1);
    CHECK(s.it_w.expected == 4);
    CHECK(s.devices_ok == 1);
    CHECK(s.devices_partial == 1);
    CHECK(s.devices_offline == 2);
    CHECK(core::format_summary(s, now).find("IT 5.0 kW (partial)") != std::string::npos);
}

TEST_CASE("summary splits a grid meter's net power (+ = import) into import and export when the "
          "meter has no separate import and export power",
          "[core]") {
    config::Config config;
    auto net = profile_with(profiles::DeviceRole::grid_meter, {"net_power"});
    config.devices = {device("sdm-1", net), device("sdm-2", net)};
    core::SampleStore store(config.devices.size());
    store.update(reading(0, now, {1500})); // importing
    store.update(reading(1, now, {-400})); // exporting
    const auto s = core::summarize(config, store, now, milliseconds(3000));
    CHECK(s.grid_import_w.value == 1500.0);
    CHECK(s.grid_export_w.value == 400.0);
    CHECK(s.grid_import_w.complete());
    CHECK(s.grid_export_w.complete());
}
