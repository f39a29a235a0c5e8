// greenrack-scan against the simulated site: finds every device, identifies it (SunSpec identity,
// shipped profile), and prints a config block greenrackd accepts; --inspect decodes a SunSpec
// device model by model with the values the simulator serves.

#include "tests/integration/site_harness.hpp"
#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <regex>
#include <string>

using namespace greenrack::test;

namespace {

RunResult scan(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"--profile-dir",
                                    std::string(GREENRACK_SOURCE_DIR) + "/config/profiles"};
    all.insert(all.end(), args.begin(), args.end());
    return run_program(GREENRACK_SCAN_BIN, all);
}

} // namespace

TEST_CASE("greenrack-scan finds every device of the simulated site, names its profile and "
          "prints a config block greenrackd accepts",
          "[scan]") {
    SiteHarness site;
    const auto plant = scan({"--tcp", "127.0.0.1:" + std::to_string(site.listener_port("plant")),
                             "--units", "1-40", "--bus-id", "plant"});
    INFO(plant.err);
    INFO(plant.out);
    REQUIRE(plant.status == 0);
    // Progress and the count on stderr, the block on stdout.
    CHECK(plant.err.find("scanning unit 40 (40/40)") != std::string::npos);
    CHECK(plant.err.find("5 devices answered on tcp://127.0.0.1:") != std::string::npos);
    const std::pair<const char*, const char*> expected[] = {
        {"pv-inverter-u1", "sunspec"}, // SunSpec: discovered by greenrackd
        {"wind-turbine-u10", "wind_midnite_classic"},
        {"battery-u20", "battery_generic"},
        {"grid-meter-u30", "meter_grid_4q"},
        {"facility-meter-u31", "meter_facility_umg604"},
    };
    for (const auto& [id, profile] : expected) {
        INFO(id);
        const auto at = plant.out.find(std::string("id = \"") + id + "\"");
        REQUIRE(at != std::string::npos);
        CHECK(plant.out.find(std::string("profile = \"") + profile + "\"", at) ==
              plant.out.find("profile = ", at));
    }
    // The SunSpec inverter is identified from its common model; its role comes from the shipped
    // profile that also matches.
    CHECK(std::regex_search(plant.out,
                            std::regex("# SunSpec at 40000, models 1, 103: [^\n]+ serial [^\n]+")));
    CHECK(plant.out.find("# also matches the shipped profile pv_sunspec_103") != std::string::npos);
    CHECK(plant.out.find("profile = \"sunspec\"\nrole = \"pv_inverter\"") != std::string::npos);

    const auto pdus = scan({"--tcp", "127.0.0.1:" + std::to_string(site.listener_port("pdus")),
                            "--units", "1-5", "--bus-id", "pdus", "--quiet"});
    REQUIRE(pdus.status == 0);
    CHECK(pdus.err.empty());
    CHECK(pdus.out.find("id = \"rack-pdu-u3\"\nbus = \"pdus\"\nunit_id = 3\nprofile = "
                        "\"rack_pdu_px3_24\"") != std::string::npos);

    // Both blocks under a [site] table: greenrackd --check-config accepts them as they are.
    const auto config = site.dir() / "scanned.toml";
    write_file(config, "[site]\nid = \"scanned\"\n[daemon]\nstate_directory = \"state\"\n"
                       "profile_dirs = [\"" +
                           std::string(GREENRACK_SOURCE_DIR) + "/config/profiles\"]\n" + plant.out +
                           pdus.out);
    const auto check = run_program(GREENRACKD_BIN, {"--check-config", "--config", config.string()});
    INFO(check.err);
    CHECK(check.status == 0);
    CHECK(check.out.find("ok: site scanned, 6 devices on 2 buses") != std::string::npos);
}

TEST_CASE("greenrack-scan --inspect decodes every SunSpec model of a device with the values the "
          "simulator serves, and an empty unit range finds nothing",
          "[scan]") {
    SiteHarness site;
    const std::string endpoint = "127.0.0.1:" + std::to_string(site.listener_port("plant"));
    const auto inspect = scan({"--tcp", endpoint, "--inspect", "1"});
    INFO(inspect.out);
    INFO(inspect.err);
    REQUIRE(inspect.status == 0);
    CHECK(inspect.out.find("model 1 at 40002 (length 66) common") != std::string::npos);
    CHECK(inspect.out.find("model 103 at 40070 (length 50) inverter_three_phase") !=
          std::string::npos);
    CHECK(inspect.out.find("profile pv_sunspec_103 (") != std::string::npos);

    // SunSpec W (model 103, scale factor applied) equals the simulator's ac_power_w.
    const double served = site.snapshot()["devices"]["pv-1"]["points"]["ac_power_w"].get<double>();
    std::smatch match;
    REQUIRE(std::regex_search(inspect.out, match, std::regex("\n    W +(-?[0-9.e+]+) W\n")));
    CHECK(std::fabs(std::stod(match[1]) - served) <= 1e-6 * std::max(1.0, std::fabs(served)));
    // A point the simulator leaves unimplemented (sentinel) is shown as missing.
    CHECK(std::regex_search(inspect.out, std::regex("\n    VAr +- var\n")));

    const auto nothing = scan({"--tcp", endpoint, "--units", "50-52", "--quiet"});
    CHECK(nothing.status == 1);
    CHECK(nothing.out.find("[[device]]") == std::string::npos);
}
