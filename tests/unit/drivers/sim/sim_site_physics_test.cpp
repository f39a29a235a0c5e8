#include "drivers/sim/site_physics.hpp"

#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

using namespace greenrack::sim;
using namespace std::chrono_literals;
using greenrack::sim::test::parse_site;
using greenrack::sim::test::site_scenario;

namespace {

// Device indices in site_scenario().
constexpr std::size_t pdu_a = 0;
constexpr std::size_t pdu_b = 1;
constexpr std::size_t pv_1 = 2;
constexpr std::size_t pv_2 = 3;
constexpr std::size_t wind = 4;
constexpr std::size_t battery = 5;
constexpr std::size_t grid = 6;
constexpr std::size_t facility = 7;

double reading(const SitePhysics& physics, std::size_t device, const char* role, int index = 0) {
    auto value = physics.readings(device).get(role, index);
    REQUIRE(value.has_value());
    return *value;
}

} // namespace

TEST_CASE("bus balance R + D + I = L + C + X closes at every step over a whole day") {
    const Scenario scenario = parse_site(site_scenario("2026-06-21T00:00:00Z"));
    SitePhysics physics(scenario, SimTime{});
    for (int i = 0; i < 24 * 360; ++i) {
        physics.step(10s);
        const BusBalance& b = physics.balance();
        REQUIRE(std::abs(b.residual_w()) < 1e-6);
        REQUIRE(b.import_w >= 0.0);
        REQUIRE(b.export_w >= 0.0);
        REQUIRE((b.import_w == 0.0 || b.export_w == 0.0));
        REQUIRE((b.charge_w == 0.0 || b.discharge_w == 0.0));
        REQUIRE(b.load_w == Approx(b.it_w + b.cooling_w));
        REQUIRE(b.cooling_w == Approx(0.3 * b.it_w + 500.0));
    }
}

TEST_CASE("device readings add up to the bus balance terms") {
    const Scenario scenario = parse_site(site_scenario("2026-06-21T03:00:00Z"));
    SitePhysics physics(scenario, SimTime{});
    for (int i = 0; i < 600; ++i) {
        physics.step(1s);
        const BusBalance& b = physics.balance();
        const double renewable = reading(physics, pv_1, "ac_power") +
                                 reading(physics, pv_2, "ac_power") +
                                 reading(physics, wind, "ac_power");
        REQUIRE(renewable == Approx(b.renewable_w));
        REQUIRE(reading(physics, battery, "battery_power") ==
                Approx(b.discharge_w - b.charge_w).margin(1e-9));
        REQUIRE(reading(physics, grid, "import_power") == Approx(b.import_w).margin(1e-9));
        REQUIRE(reading(physics, grid, "export_power") == Approx(b.export_w).margin(1e-9));
        REQUIRE(reading(physics, facility, "load_power") == Approx(b.load_w));
        const double it =
            reading(physics, pdu_a, "inlet_power") + reading(physics, pdu_b, "inlet_power");
        REQUIRE(it == Approx(b.it_w));
    }
}

TEST_CASE("several grid meters all measure the point of common coupling, each with its own "
          "counters") {
    const Scenario scenario = parse_site(site_scenario("2026-06-21T03:00:00Z", 7, R"(
[[device]]
id = "grid-check"
profile = "test_grid"
listener = "plant"
unit_id = 7
initial_energy_wh = 5000
)"));
    REQUIRE(scenario.devices.size() == 9);
    constexpr std::size_t check = 8;
    SitePhysics physics(scenario, SimTime{});
    double import_seen = 0.0;
    double export_seen = 0.0;
    for (int i = 0; i < 600; ++i) {
        physics.step(1s);
        const BusBalance& b = physics.balance();
        REQUIRE(std::abs(b.residual_w()) < 1e-6);
        for (std::size_t meter : {grid, check}) {
            REQUIRE(reading(physics, meter, "import_power") == Approx(b.import_w).margin(1e-9));
            REQUIRE(reading(physics, meter, "export_power") == Approx(b.export_w).margin(1e-9));
        }
        import_seen += b.import_w;
        export_seen += b.export_w;
        // Same energy flow, different start values.
        REQUIRE(reading(physics, check, "import_energy") - 5000.0 ==
                Approx(reading(physics, grid, "import_energy") - 1.0e6));
    }
    REQUIRE(import_seen + export_seen > 0.0);
}

TEST_CASE("PDU inlet power is the sum of its outlets and unused outlets draw nothing") {
    const Scenario scenario = parse_site(site_scenario());
    SitePhysics physics(scenario, SimTime{});
    for (int i = 0; i < 100; ++i) {
        physics.step(1s);
        double outlets = 0.0;
        for (int k = 1; k <= 4; ++k) {
            outlets += reading(physics, pdu_a, "outlet_power", k);
        }
        REQUIRE(reading(physics, pdu_a, "inlet_power") == Approx(outlets));
        // pdu-b feeds rack rc (constant 8000 W) from outlets 1-3; outlet 4 is unused.
        REQUIRE(reading(physics, pdu_b, "inlet_power") == Approx(8000.0));
        REQUIRE(reading(physics, pdu_b, "outlet_power", 4) == 0.0);
        REQUIRE(reading(physics, pdu_b, "outlet_current", 4) == 0.0);
        const double v = reading(physics, pdu_a, "outlet_voltage", 1);
        const double p = reading(physics, pdu_a, "outlet_power", 1);
        const double pf = reading(physics, pdu_a, "outlet_power_factor", 1);
        REQUIRE(pf >= 0.95);
        REQUIRE(pf <= 0.99);
        REQUIRE(reading(physics, pdu_a, "outlet_current", 1) == Approx(p / v / pf));
        REQUIRE(reading(physics, pdu_a, "outlet_apparent_power", 1) == Approx(p / pf));
    }
}

TEST_CASE("a PDU without metered outlets feeds its racks at the inlet, which counts for IT") {
    const Scenario scenario = parse_site(site_scenario("2026-06-21T03:00:00Z", 7, R"(
[[device]]
id = "panel"
profile = "test_panel"
listener = "pdus"
unit_id = 3
initial_energy_wh = 2000
racks = [{ name = "rp1", base_load_w = 4000 }, { name = "rp2", base_load_w = 1500 }]
)"));
    constexpr std::size_t panel = 8;
    SitePhysics physics(scenario, SimTime{});
    REQUIRE(reading(physics, panel, "inlet_energy") == Approx(2000.0));
    double energy = reading(physics, panel, "inlet_energy");
    for (int i = 0; i < 60; ++i) {
        physics.step(1s);
        // Constant racks: 4000 + 1500 W at the inlet, and nothing reported per outlet.
        REQUIRE(reading(physics, panel, "inlet_power") == Approx(5500.0));
        REQUIRE_FALSE(physics.readings(panel).get("outlet_power", 1).has_value());
        const double v = reading(physics, panel, "inlet_voltage");
        const double amps = reading(physics, panel, "inlet_current");
        // The feeders' power factors are 0.95..0.99: current between P/V and P/V/0.95.
        REQUIRE(amps > 5500.0 / v);
        REQUIRE(amps < 5500.0 / v / 0.95);
        const double now = reading(physics, panel, "inlet_energy");
        REQUIRE(now - energy == Approx(5500.0 / 3600.0));
        energy = now;
        const double it = reading(physics, pdu_a, "inlet_power") +
                          reading(physics, pdu_b, "inlet_power") + 5500.0;
        REQUIRE(physics.balance().it_w == Approx(it));
    }
}

TEST_CASE("energy counters never go backwards and integrate power over each step") {
    const Scenario scenario = parse_site(site_scenario("2026-06-21T00:00:00Z"));
    SitePhysics physics(scenario, SimTime{});
    const std::vector<std::pair<std::size_t, const char*>> counters = {
        {pdu_a, "inlet_energy"},       {pdu_b, "inlet_energy"}, {pv_1, "ac_energy"},
        {pv_2, "ac_energy"},           {wind, "ac_energy"},     {battery, "charge_energy"},
        {battery, "discharge_energy"}, {grid, "import_energy"}, {grid, "export_energy"},
        {facility, "load_energy"},
    };
    std::vector<double> previous;
    for (const auto& [device, role] : counters) {
        previous.push_back(reading(physics, device, role));
    }
    for (int i = 0; i < 24 * 120; ++i) {
        physics.step(30s);
        for (std::size_t c = 0; c < counters.size(); ++c) {
            const double now = reading(physics, counters[c].first, counters[c].second);
            REQUIRE(now >= previous[c]);
            previous[c] = now;
        }
    }
    // Integration: one more step, energy delta = power x dt.
    const double before = reading(physics, grid, "import_energy");
    const double pdu_before = reading(physics, pdu_a, "inlet_energy");
    physics.step(30s);
    REQUIRE(reading(physics, grid, "import_energy") - before ==
            Approx(reading(physics, grid, "import_power") * 30.0 / 3600.0));
    REQUIRE(reading(physics, pdu_a, "inlet_energy") - pdu_before ==
            Approx(reading(physics, pdu_a, "inlet_power") * 30.0 / 3600.0));
}

TEST_CASE("PV produces nothing at night and something at noon") {
    // 16:00Z-21:00Z is 00:00-05:00 Beijing time: night in Qinghai in June.
    const Scenario scenario = parse_site(site_scenario("2026-06-21T16:00:00Z"));
    SitePhysics physics(scenario, SimTime{});
    for (int i = 0; i < 5 * 60; ++i) {
        physics.step(60s);
        REQUIRE(reading(physics, pv_1, "ac_power") == 0.0);
        REQUIRE(reading(physics, pv_2, "ac_power") == 0.0);
    }
    // Local solar noon at 101.8 E is about 05:13Z.
    const Scenario noon = parse_site(site_scenario("2026-06-21T05:13:00Z"));
    SitePhysics at_noon(noon, SimTime{});
    REQUIRE(reading(at_noon, pv_2, "ac_power") > 0.8 * 10000.0);
    REQUIRE(reading(at_noon, pv_2, "ac_power") <= 10000.0);
}

TEST_CASE("same seed gives the same outputs, another seed other outputs") {
    const Scenario a = parse_site(site_scenario("2026-06-21T02:00:00Z", 11));
    const Scenario b = parse_site(site_scenario("2026-06-21T02:00:00Z", 11));
    const Scenario c = parse_site(site_scenario("2026-06-21T02:00:00Z", 12));
    SitePhysics pa(a, SimTime{});
    SitePhysics pb(b, SimTime{});
    SitePhysics pc(c, SimTime{});
    bool any_difference = false;
    for (int i = 0; i < 900; ++i) {
        pa.step(1s);
        pb.step(1s);
        pc.step(1s);
        for (std::size_t d = 0; d < pa.device_count(); ++d) {
            for (const char* role : {"inlet_power", "ac_power", "battery_power", "import_power",
                                     "load_power", "wind_speed", "voltage", "frequency"}) {
                const auto va = pa.readings(d).get(role);
                REQUIRE(va == pb.readings(d).get(role));
                if (va != pc.readings(d).get(role)) {
                    any_difference = true;
                }
            }
        }
    }
    REQUIRE(any_difference);
}

TEST_CASE("a scripted cloud scales PV output by its factor only while it lasts") {
    const std::string cloud = R"(
[[event]]
at = "10m"
kind = "cloud"
factor = 0.3
duration = "5m"
device = "pv-2"
)";
    const Scenario plain = parse_site(site_scenario());
    const Scenario cloudy = parse_site(site_scenario("2026-06-21T02:00:00Z", 7, cloud));
    SitePhysics base(plain, SimTime{});
    SitePhysics with_cloud(cloudy, SimTime{});
    for (int second = 1; second <= 20 * 60; ++second) {
        base.step(1s);
        with_cloud.step(1s);
        const double expected = reading(base, pv_2, "ac_power");
        const double actual = reading(with_cloud, pv_2, "ac_power");
        REQUIRE(expected > 0.0);
        if (second >= 10 * 60 && second < 15 * 60) {
            REQUIRE(actual == Approx(0.3 * expected));
        } else {
            REQUIRE(actual == Approx(expected));
        }
        // The other array is not under the scripted cloud.
        REQUIRE(reading(with_cloud, pv_1, "ac_power") == reading(base, pv_1, "ac_power"));
    }
}

TEST_CASE("battery stays within its power limits and state-of-charge window") {
    const Scenario scenario = parse_site(site_scenario("2026-06-21T00:00:00Z"));
    SitePhysics physics(scenario, SimTime{});
    bool charged = false;
    bool discharged = false;
    for (int i = 0; i < 24 * 60; ++i) {
        physics.step(60s);
        const double p = reading(physics, battery, "battery_power");
        const double soc = reading(physics, battery, "soc");
        const BusBalance& b = physics.balance();
        REQUIRE(p <= 6000.0 + 1e-9);
        REQUIRE(p >= -4000.0 - 1e-9);
        REQUIRE(soc >= 5.0 - 1e-9);
        REQUIRE(soc <= 95.0 + 1e-9);
        if (p > 0.0) {
            discharged = true;
            REQUIRE(b.renewable_w < b.load_w); // discharges only on a deficit
        }
        if (p < 0.0) {
            charged = true;
            REQUIRE(b.renewable_w > b.load_w); // charges only from a surplus
        }
    }
    REQUIRE(charged);
    REQUIRE(discharged);
}

TEST_CASE("battery_limit, rack_load and wind_calm events take effect at their time") {
    const std::string events = R"(
[[event]]
at = "5m"
kind = "rack_load"
rack = "rc"
load_w = 2000
[[event]]
at = "0s"
kind = "battery_limit"
device = "battery-1"
max_discharge_w = 1000
max_charge_w = 500
[[event]]
at = "1m"
kind = "wind_calm"
duration = "20m"
)";
    // 18:00Z: night, so the battery covers the whole deficit up to its limit.
    const Scenario scenario = parse_site(site_scenario("2026-06-21T18:00:00Z", 7, events));
    SitePhysics physics(scenario, SimTime{});
    for (int second = 1; second <= 10 * 60; ++second) {
        physics.step(1s);
        const double rc = reading(physics, pdu_b, "inlet_power");
        REQUIRE(rc == Approx(second < 5 * 60 ? 8000.0 : 2000.0));
        REQUIRE(reading(physics, battery, "battery_power") <= 1000.0);
        REQUIRE(reading(physics, battery, "max_discharge_power") == 1000.0);
    }
    // After minutes of calm the wind has dropped below cut-in.
    REQUIRE(reading(physics, wind, "wind_speed") < 3.0);
    REQUIRE(reading(physics, wind, "ac_power") == 0.0);
}

TEST_CASE("wind power curve: zero below cut-in and past cut-out, rated above rated speed") {
    WindParams p;
    p.rated_w = 30000.0;
    REQUIRE(WindModel::power_curve(p, 2.9) == 0.0);
    REQUIRE(WindModel::power_curve(p, 3.0) == 0.0);
    REQUIRE(WindModel::power_curve(p, 12.0) == 30000.0);
    REQUIRE(WindModel::power_curve(p, 20.0) == 30000.0);
    REQUIRE(WindModel::power_curve(p, 25.0) == 0.0);
    double previous = 0.0;
    for (double v = 3.0; v < 12.0; v += 0.5) {
        const double power = WindModel::power_curve(p, v);
        REQUIRE(power >= previous);
        previous = power;
    }
    // Cubic between cut-in and rated speed.
    REQUIRE(WindModel::power_curve(p, 7.0) == Approx(30000.0 * (343.0 - 27.0) / (1728.0 - 27.0)));
}
