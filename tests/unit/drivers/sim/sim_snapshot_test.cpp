#include "drivers/sim/snapshot.hpp"

#include "drivers/modbus/codec.hpp"
#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace greenrack;
using namespace greenrack::sim;
using namespace std::chrono_literals;
using greenrack::sim::test::parse_site;
using greenrack::sim::test::site_scenario;

TEST_CASE("snapshot lists every device with its unit, listener, bound port and profile") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const std::vector<std::uint16_t> ports = {15020, 15021};
    const auto json = nlohmann::json::parse(snapshot_json(sim, ports));
    REQUIRE(json["sim_time"] == "2026-06-21T02:00:00Z");
    REQUIRE(json["devices"].size() == 8);
    const auto& pv = json["devices"]["pv-2"];
    REQUIRE(pv["unit_id"] == 2);
    REQUIRE(pv["listener"] == "plant");
    REQUIRE(pv["port"] == 15021);
    REQUIRE(pv["profile"] == "test_pv");
    REQUIRE(pv["online"] == true);
    REQUIRE(json["devices"]["pdu-a"]["port"] == 15020);
}

TEST_CASE("snapshot point values are what a client decodes from the served registers") {
    Scenario scenario = parse_site(site_scenario());
    scenario.devices[3].unimplemented = {"ac_power_w"}; // pv-2
    Simulator sim(std::move(scenario), SimTime{});
    sim.advance_to(sim.now() + 30s);
    const std::vector<std::uint16_t> ports = {1, 2};
    const auto json = nlohmann::json::parse(snapshot_json(sim, ports));
    REQUIRE(json["sim_time"] == "2026-06-21T02:00:30Z");

    for (std::size_t d = 0; d < sim.scenario().devices.size(); ++d) {
        const auto& image = sim.image(d);
        const auto& points = json["devices"][sim.scenario().devices[d].id]["points"];
        REQUIRE(points.size() == image.profile().points.size());
        for (const auto& p : image.profile().points) {
            INFO(sim.scenario().devices[d].id << " " << p.name);
            std::optional<std::uint16_t> sf;
            if (p.scale_factor) {
                sf = image.point_registers(image.profile().points[*p.scale_factor])[0];
            }
            const auto decoded = modbus::decode_point(p, image.point_registers(p), sf);
            if (decoded.quality == modbus::Quality::missing) {
                REQUIRE(points[p.name].is_null());
            } else if (p.type == modbus::DataType::string) {
                REQUIRE(points[p.name] == decoded.text);
            } else {
                REQUIRE(points[p.name].get<double>() == decoded.value);
            }
        }
    }
    REQUIRE(json["devices"]["pv-2"]["points"]["ac_power_w"].is_null());
    REQUIRE(json["devices"]["pv-1"]["points"]["manufacturer"] == "greenrac"); // 4 registers
    REQUIRE(json["devices"]["pv-1"]["points"]["ac_power_w"].get<double>() > 0.0);
}

TEST_CASE("snapshot carries the site's bus balance") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const std::vector<std::uint16_t> ports = {1, 2};
    const auto json = nlohmann::json::parse(snapshot_json(sim, ports));
    const auto& site = json["site"];
    const double lhs = site["renewable_w"].get<double>() + site["discharge_w"].get<double>() +
                       site["import_w"].get<double>();
    const double rhs = site["load_w"].get<double>() + site["charge_w"].get<double>() +
                       site["export_w"].get<double>();
    REQUIRE(lhs == Approx(rhs));
    REQUIRE(site["load_w"].get<double>() == Approx(sim.balance().load_w));
}
