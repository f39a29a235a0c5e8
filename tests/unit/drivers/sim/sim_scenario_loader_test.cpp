#include "drivers/sim/scenario_loader.hpp"

#include "drivers/common/config_error.hpp"
#include "drivers/profiles/profile_loader.hpp"
#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace greenrack;
using namespace greenrack::sim;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using greenrack::sim::test::parse_site;
using greenrack::sim::test::site_scenario;

namespace {

// The ConfigError message of parsing `text`, or "" when it parses.
std::string error_of(const std::string& text) {
    try {
        parse_site(text);
    } catch (const common::ConfigError& err) {
        return err.what();
    }
    return "";
}

const char* minimal_head = R"(
[[listener]]
name = "plant"
port = 1502
)";

} // namespace

TEST_CASE("the test site scenario parses into listeners, devices and physics parameters") {
    const Scenario s = parse_site(site_scenario());
    REQUIRE(s.sim.seed == 7);
    REQUIRE(format_rfc3339_utc(*s.sim.start) == "2026-06-21T02:00:00Z");
    REQUIRE(s.sim.step == std::chrono::seconds(1));
    REQUIRE(s.listeners.size() == 2);
    REQUIRE(s.devices.size() == 8);
    const DeviceSpec& pdu = s.devices[0];
    REQUIRE(pdu.id == "pdu-a");
    REQUIRE(pdu.listener_index == 0);
    const auto& racks = std::get<PduParams>(pdu.params).racks;
    REQUIRE(racks.size() == 2);
    REQUIRE(racks[0].first_outlet == 1);
    REQUIRE(racks[1].first_outlet == 3); // follows the previous rack
    REQUIRE(racks[1].pattern == LoadPattern::diurnal);
    const DeviceSpec& battery = s.devices[5];
    REQUIRE(battery.listener_index == 1);
    REQUIRE(battery.unit_id == 4);
    REQUIRE(std::get<BatteryParams>(battery.params).max_discharge_w == 6000.0);
    REQUIRE(s.devices[2].identity.at("serial") == "SIM-pv-1");
}

TEST_CASE("defaults: seed 1, start now, speed 1, step 1 s") {
    const Scenario s = parse_site(minimal_head);
    REQUIRE(s.sim.seed == 1);
    REQUIRE_FALSE(s.sim.start.has_value());
    REQUIRE(s.sim.speed == 1.0);
    REQUIRE(s.sim.step == std::chrono::seconds(1));
    REQUIRE(s.devices.empty());
}

TEST_CASE("scenario errors point at file:line:column of the offending value") {
    // Line numbers count from the first line of the text (the leading newline is line 1).
    REQUIRE_THAT(error_of(std::string(minimal_head) + "[sim]\nspeeed = 2\n"),
                 StartsWith("site.sim.toml:6:10: sim.speeed: unknown key"));
    REQUIRE_THAT(error_of("[sim]\nstart = \"tomorrow\"\n"),
                 StartsWith("site.sim.toml:2:9: sim.start: expected an RFC 3339 UTC time"));
}

TEST_CASE("a device naming an unknown listener, profile or used unit id is rejected") {
    const std::string pv = R"(
[[device]]
id = "pv"
profile = "test_pv"
listener = "plant"
unit_id = 1
nameplate_w = 1000
)";
    REQUIRE_THAT(error_of(std::string(minimal_head) +
                          "[[device]]\nid = \"x\"\nprofile = \"test_pv\"\nlistener = \"nope\"\n"
                          "unit_id = 1\nnameplate_w = 1\n"),
                 Contains("device[0].listener: no [[listener]] is named \"nope\""));
    REQUIRE_THAT(error_of(std::string(minimal_head) +
                          "[[device]]\nid = \"x\"\nprofile = \"nope\"\nlistener = \"plant\"\n"
                          "unit_id = 1\n"),
                 Contains("device[0].profile: unknown profile \"nope\""));
    std::string twice = std::string(minimal_head) + pv + pv;
    twice.replace(twice.rfind("id = \"pv\""), 9, "id = \"pv2\"");
    REQUIRE_THAT(error_of(twice),
                 Contains("device[1].unit_id: unit id 1 is already used on listener \"plant\""));
    REQUIRE_THAT(error_of(std::string(minimal_head) + pv + "gustiness = 0.3\n"),
                 Contains("device[0].gustiness: unknown key"));
}

TEST_CASE("rack outlets must exist on the PDU and feed one rack each") {
    const std::string head = std::string(minimal_head) + R"(
[[device]]
id = "pdu"
profile = "test_pdu"
listener = "plant"
unit_id = 1
)";
    REQUIRE_THAT(error_of(head + "racks = [{ name = \"r1\", base_load_w = 10, outlets = 5 }]\n"),
                 Contains("outlets 1..5 do not exist: profile \"test_pdu\" has 4 outlets"));
    REQUIRE_THAT(error_of(head + "racks = [{ name = \"r1\", base_load_w = 10, outlets = 2 },"
                                 " { name = \"r2\", base_load_w = 10, outlets = 2,"
                                 " first_outlet = 2 }]\n"),
                 Contains("outlet 2 already feeds another rack"));
    REQUIRE_THAT(error_of(head), Contains("a rack PDU needs at least one rack"));
}

TEST_CASE("a PDU without metered outlets takes racks without outlets") {
    const std::string head = std::string(minimal_head) + R"(
[[device]]
id = "panel"
profile = "test_panel"
listener = "plant"
unit_id = 2
)";
    const Scenario scenario =
        parse_site(head + "racks = [{ name = \"r1\", base_load_w = 4000 },"
                          " { name = \"r2\", base_load_w = 1000, pattern = \"diurnal\" }]\n");
    REQUIRE(scenario.devices.size() == 1);
    const auto& pdu = std::get<PduParams>(scenario.devices[0].params);
    REQUIRE(pdu.racks.size() == 2);
    REQUIRE(pdu.racks[0].outlet_count == 0);
    REQUIRE(pdu.racks[1].base_load_w == 1000.0);
    REQUIRE_THAT(error_of(head + "racks = [{ name = \"r1\", base_load_w = 10, outlets = 2 }]\n"),
                 Contains("racks[0].outlets: profile \"test_panel\" has no metered outlets"));
    REQUIRE_THAT(
        error_of(head + "racks = [{ name = \"r1\", base_load_w = 10, first_outlet = 1 }]\n"),
        Contains("racks[0].first_outlet: profile \"test_panel\" has no metered outlets"));
    REQUIRE_THAT(error_of(head), Contains("a rack PDU needs at least one rack"));
}

TEST_CASE("unimplemented and fixed values must name points of the profile") {
    const std::string head = std::string(minimal_head) + R"(
[[device]]
id = "pv"
profile = "test_pv"
listener = "plant"
unit_id = 1
nameplate_w = 1000
)";
    REQUIRE_THAT(error_of(head + "unimplemented = [\"ac_power_w\", \"bogus\"]\n"),
                 Contains("profile \"test_pv\" has no point \"bogus\""));
    REQUIRE_THAT(error_of(head + "values = { nope = 1 }\n"),
                 Contains("profile \"test_pv\" has no point \"nope\""));
    const Scenario ok = parse_site(head + "unimplemented = [\"ac_power_w\"]\n"
                                          "values = { frequency_hz = 49.9 }\n");
    REQUIRE(ok.devices[0].unimplemented == std::vector<std::string>{"ac_power_w"});
    REQUIRE(ok.devices[0].fixed_values.at("frequency_hz") == 49.9);
}

TEST_CASE("events are checked against the devices and racks they name") {
    const std::string site = site_scenario();
    REQUIRE_THAT(error_of(site + "[[event]]\nat = \"1m\"\nkind = \"cloud\"\nfactor = 0.5\n"
                                 "device = \"wind-1\"\n"),
                 Contains("device \"wind-1\" is a wind_turbine, expected a pv_inverter"));
    REQUIRE_THAT(error_of(site + "[[event]]\nat = \"1m\"\nkind = \"rack_load\"\nrack = \"zz\"\n"
                                 "load_w = 1\n"),
                 Contains("no device feeds a rack named \"zz\""));
    REQUIRE_THAT(error_of(site + "[[event]]\nat = \"1m\"\nkind = \"device_offline\"\n"
                                 "device = \"ghost\"\n"),
                 Contains("no [[device]] has id \"ghost\""));
    REQUIRE_THAT(error_of(site + "[[event]]\nat = \"1m\"\nkind = \"battery_limit\"\n"
                                 "device = \"battery-1\"\n"),
                 Contains("battery_limit needs max_charge_w and/or max_discharge_w"));
    REQUIRE_THAT(error_of(site + "[[event]]\nat = \"soon\"\nkind = \"wind_calm\"\n"),
                 Contains("event[0].at: expected a duration"));
    REQUIRE_THAT(error_of(site + "[[event]]\nat = \"1m\"\nkind = \"eclipse\"\n"),
                 Contains("event[0].kind: unknown value \"eclipse\""));

    const Scenario s = parse_site(site + "[[event]]\nat = \"10m\"\nkind = \"cloud\"\n"
                                         "factor = 0.3\nduration = \"5m\"\n");
    REQUIRE(s.events.size() == 1);
    REQUIRE(s.events[0].kind == EventKind::cloud);
    REQUIRE(s.events[0].at == std::chrono::minutes(10));
    REQUIRE(*s.events[0].duration == std::chrono::minutes(5));
    REQUIRE(s.events[0].device.empty()); // every PV device
}

TEST_CASE("the demo scenario uses the ids, ports and unit ids the daemon's demo expects") {
    const std::filesystem::path root = GREENRACK_SOURCE_DIR;
    const std::filesystem::path file = root / "config/examples/demo-site.sim.toml";
    std::ifstream in(file);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    const std::vector<std::filesystem::path> dirs = {root / "config/profiles"};
    const Scenario s = parse_scenario(
        text.str(), file.string(), [&](std::string_view name, const common::SourceLocation& where) {
            return profiles::find_profile(name, dirs, where);
        });
    REQUIRE(format_rfc3339_utc(*s.sim.start) == "2026-06-21T02:00:00Z");
    REQUIRE(s.sim.speed == 1.0);
    REQUIRE(s.listeners.size() == 3);
    REQUIRE(s.listeners[0].name == "pdus");
    REQUIRE(s.listeners[0].port == 15020);
    REQUIRE(s.listeners[1].name == "generation");
    REQUIRE(s.listeners[1].port == 15021);
    REQUIRE(s.listeners[2].name == "storage");
    REQUIRE(s.listeners[2].port == 15022);

    struct Expected {
        const char* id;
        const char* profile;
        const char* listener;
        int unit;
    };
    const std::vector<Expected> expected = {
        {"pdu-r01", "rack_pdu_px3_24", "pdus", 1},
        {"pdu-r02", "rack_pdu_px3_24", "pdus", 2},
        {"pdu-r03", "rack_pdu_px3_24", "pdus", 3},
        {"pdu-r04", "rack_pdu_px3_24", "pdus", 4},
        {"pdu-r05", "rack_pdu_px3_24", "pdus", 5},
        {"pdu-r06", "rack_pdu_px3_24", "pdus", 6},
        {"pdu-r07", "rack_pdu_px3_24", "pdus", 7},
        {"pdu-r08", "rack_pdu_px3_24", "pdus", 8},
        {"pv-1", "pv_sunspec_103", "generation", 1},
        {"pv-2", "pv_sunspec_103", "generation", 2},
        {"wind-1", "wind_midnite_classic", "generation", 3},
        {"battery-1", "battery_generic", "storage", 1},
        {"grid-meter", "meter_grid_4q", "storage", 2},
        {"facility-meter", "meter_facility_umg604", "storage", 3},
    };
    REQUIRE(s.devices.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO(expected[i].id);
        REQUIRE(s.devices[i].id == expected[i].id);
        REQUIRE(s.devices[i].profile->name == expected[i].profile);
        REQUIRE(s.devices[i].listener == expected[i].listener);
        REQUIRE(s.devices[i].unit_id == expected[i].unit);
    }
    // pdu-r08 feeds r08 from outlets 1-12 and r09 from 13-24.
    const auto& racks = std::get<PduParams>(s.devices[7].params).racks;
    REQUIRE(racks.size() == 2);
    REQUIRE(racks[0].name == "r08");
    REQUIRE(racks[0].first_outlet == 1);
    REQUIRE(racks[0].outlet_count == 12);
    REQUIRE(racks[1].name == "r09");
    REQUIRE(racks[1].first_outlet == 13);
    REQUIRE(racks[1].outlet_count == 12);
    // One scripted cloud over the PV at 10 min for 5 min.
    REQUIRE(s.events.size() == 1);
    REQUIRE(s.events[0].kind == EventKind::cloud);
    REQUIRE(s.events[0].at == std::chrono::minutes(10));
    REQUIRE(*s.events[0].duration == std::chrono::minutes(5));
}
