// The fleet's central promise: the parts the shards compute, merged, are exactly the inputs one
// daemon polling the whole site computes; a silent shard's racks and sources are missing.
#include "daemon/config/fleet_view.hpp"
#include "daemon/core/site_model.hpp"
#include "daemon/fleet/tick_assembler.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace greenrack;
using accounting::SourceQuality;
namespace fs = std::filesystem;

namespace {

// A site split over two shards: "hall-a" has the PDU of racks r1/r2 and the PV inverter,
// "hall-b" the second PDU (rack r3 and half of r2), the grid meter, the battery and the
// facility meter.
config::Config load_site(const std::string& fleet = "") {
    std::string pattern = (fs::temp_directory_path() / "greenrack-fleet-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    const fs::path path = fs::path(pattern) / "greenrack.toml";
    std::ofstream(path) << std::string(R"([site]
id = "t"
[daemon]
profile_dirs = [")") + GREENRACK_SOURCE_DIR +
                               R"(/config/profiles"]
[[bus]]
id = "a"
host = "127.0.0.1"
[[bus]]
id = "b"
host = "127.0.0.1"
port = 1502
[[device]]
id = "pdu-a"
bus = "a"
unit_id = 1
profile = "rack_pdu_px3_24"
shard = "hall-a"
[[device]]
id = "pv"
bus = "a"
unit_id = 2
profile = "pv_sunspec_103"
shard = "hall-a"
[[device]]
id = "pdu-b"
bus = "b"
unit_id = 1
profile = "rack_pdu_px3_24"
shard = "hall-b"
[[device]]
id = "grid"
bus = "b"
unit_id = 3
profile = "meter_grid_4q"
shard = "hall-b"
[[device]]
id = "bat"
bus = "b"
unit_id = 4
profile = "battery_generic"
shard = "hall-b"
[[device]]
id = "fac"
bus = "b"
unit_id = 5
profile = "meter_facility_umg604"
shard = "hall-b"
[[rack]]
id = "r1"
outlets = [{ device = "pdu-a", outlets = [1, 2] }]
[[rack]]
id = "r2"
outlets = [{ device = "pdu-a", outlets = [3] }, { device = "pdu-b", outlets = [1] }]
[[rack]]
id = "r3"
outlets = [{ device = "pdu-b", outlets = [2, 3] }]
[accounting]
tick = "5s"
)" + fleet;
    auto config = config::load_config(path);
    fs::remove_all(pattern);
    return config;
}

constexpr std::int64_t t0 = 1'800'000'000'000; // a multiple of 5 s

// A reading of `device` (by id) in `config` at ts with every point of a power/energy role ok
// (random values), or with nothing answered when `fail`.
core::DeviceReading reading(const config::Config& config, const std::string& device,
                            std::int64_t ts, std::mt19937& rng, bool fail = false) {
    const config::DeviceConfig* d = config.find_device(device);
    REQUIRE(d != nullptr);
    const auto& profile = *d->profile;
    core::DeviceReading r;
    r.device = static_cast<std::size_t>(d - config.devices.data());
    r.ts = std::chrono::system_clock::time_point(std::chrono::milliseconds(ts));
    r.requests_ok = fail ? 0 : 1;
    r.values.resize(profile.points.size());
    std::uniform_real_distribution<double> power(-500.0, 5000.0);
    for (std::size_t i = 0; i < profile.points.size(); ++i) {
        const auto& role = profile.points[i].role;
        const bool counter = role.find("energy") != std::string::npos;
        if (fail || counter) {
            r.values[i].quality = modbus::Quality::missing; // power-integrated only
            continue;
        }
        double value = power(rng);
        if (role == "soc") {
            value = 50.0;
        } else if (role == "capacity") {
            value = 100'000.0;
        }
        r.values[i] = modbus::PointValue{value, modbus::Quality::ok, {}, 1.0};
    }
    return r;
}

bool same(const accounting::Energy& a, const accounting::Energy& b) {
    return a.quality == b.quality && a.wh == Approx(b.wh).epsilon(1e-12);
}

void check_same_inputs(const accounting::TickInputs& a, const accounting::TickInputs& b) {
    CHECK(a.start_ms == b.start_ms);
    CHECK(same(a.pv, b.pv));
    CHECK(same(a.wind, b.wind));
    CHECK(same(a.discharge, b.discharge));
    CHECK(same(a.charge, b.charge));
    CHECK(same(a.grid_import, b.grid_import));
    CHECK(same(a.grid_export, b.grid_export));
    CHECK(same(a.load, b.load));
    CHECK(a.facility_metered == b.facility_metered);
    REQUIRE(a.rack_it.size() == b.rack_it.size());
    for (std::size_t r = 0; r < a.rack_it.size(); ++r) {
        CHECK(same(a.rack_it[r], b.rack_it[r]));
    }
    CHECK(a.battery_stored_wh.has_value() == b.battery_stored_wh.has_value());
    if (a.battery_stored_wh && b.battery_stored_wh) {
        CHECK(*a.battery_stored_wh == Approx(*b.battery_stored_wh));
    }
    CHECK(a.battery_max_discharge_w.has_value() == b.battery_max_discharge_w.has_value());
    CHECK(a.flags == b.flags);
}

} // namespace

TEST_CASE("the shards' parts merged equal what one daemon polling the whole site computes",
          "[fleet]") {
    const auto site = load_site();
    REQUIRE(site.fleet.shards == std::vector<std::string>{"hall-a", "hall-b"});
    const auto view_a = config::shard_view(site, "hall-a");
    const auto view_b = config::shard_view(site, "hall-b");
    REQUIRE(view_a.devices.size() == 2);
    REQUIRE(view_b.devices.size() == 4);
    REQUIRE(view_a.racks.size() == 3); // every rack, with only the shard's members
    CHECK(view_a.racks[2].members.empty());
    CHECK(view_b.buses.size() == 1);

    core::SiteModel whole(site);
    core::SiteModel shard_a(view_a);
    core::SiteModel shard_b(view_b);
    std::mt19937 rng(7);
    // Whatever the readings (some devices failing now and then), the same readings go to the
    // whole-site model and to the shard that polls the device.
    for (std::int64_t ts = t0 - 3000; ts < t0 + 30'000; ts += 1000) {
        for (const auto& device : site.devices) {
            const bool fail = (ts / 1000 + static_cast<std::int64_t>(device.id.size())) % 11 == 0;
            std::mt19937 copy = rng;
            whole.add(reading(site, device.id, ts, rng, fail));
            const auto& view = device.shard == "hall-a" ? view_a : view_b;
            (device.shard == "hall-a" ? shard_a : shard_b)
                .add(reading(view, device.id, ts, copy, fail));
        }
    }
    for (std::int64_t tick = t0; tick < t0 + 25'000; tick += 5000) {
        const auto a = shard_a.partial_inputs(tick);
        const auto b = shard_b.partial_inputs(tick);
        // Each part has only what its devices feed.
        CHECK(a.pv.has_value());
        CHECK_FALSE(a.grid_import.has_value());
        CHECK_FALSE(a.load.has_value());
        CHECK_FALSE(a.has_battery);
        CHECK(b.has_battery);
        CHECK_FALSE(b.pv.has_value());
        CHECK(a.rack_it[0].has_value());
        CHECK_FALSE(b.rack_it[0].has_value());
        CHECK(a.rack_it[1].has_value());
        CHECK(b.rack_it[1].has_value());
        check_same_inputs(accounting::merge_parts(whole.layout(), tick, {&a, &b}),
                          whole.tick_inputs(tick));
        // The order the parts come in does not matter.
        check_same_inputs(accounting::merge_parts(whole.layout(), tick, {&b, &a}),
                          whole.tick_inputs(tick));
    }
}

TEST_CASE("a silent shard makes its racks and sources missing, never zero or green", "[fleet]") {
    const auto site = load_site();
    const auto view_a = config::shard_view(site, "hall-a");
    const auto view_b = config::shard_view(site, "hall-b");
    core::SiteModel whole(site);
    core::SiteModel shard_a(view_a);
    std::mt19937 rng(3);
    for (std::int64_t ts = t0 - 3000; ts < t0 + 8000; ts += 1000) {
        for (const auto& device : view_a.devices) {
            shard_a.add(reading(view_a, device.id, ts, rng));
        }
    }
    fleet::TickAssembler assembler(
        fleet::TickAssembler::Settings{5000, 2000, 3000, 60'000}, whole.layout(), site.fleet.shards,
        {core::SiteModel(view_a).partial_inputs(0), core::SiteModel(view_b).partial_inputs(0)});
    assembler.start_at(t0);
    REQUIRE(assembler.offer("hall-a", shard_a.partial_inputs(t0), t0 + 7000, nullptr) ==
            fleet::Offer::accepted);
    CHECK(assembler.take_ready(t0 + 9999).empty()); // hall-b still has time
    auto ready = assembler.take_ready(t0 + 10'000);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].missing == std::vector<std::string>{"hall-b"});
    const auto& in = ready[0].inputs;
    CHECK(in.rack_it[0].quality == SourceQuality::ok);      // all of r1 is in hall-a
    CHECK(in.rack_it[1].quality == SourceQuality::missing); // r2 is half in hall-b
    CHECK(in.rack_it[2].quality == SourceQuality::missing);
    CHECK(in.rack_it[1].wh == 0.0);
    CHECK(in.grid_import.quality == SourceQuality::missing);
    CHECK(in.load.quality == SourceQuality::missing);
    CHECK(in.facility_metered); // the site has a facility meter, silent or not
    CHECK(in.discharge.quality == SourceQuality::missing);
    CHECK_FALSE(in.battery_stored_wh.has_value());
    CHECK(in.pv.quality == SourceQuality::ok);
}
