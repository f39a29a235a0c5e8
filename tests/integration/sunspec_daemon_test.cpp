// greenrackd with profile = "sunspec" devices: real mosquitto, greenrack-sim serving the SunSpec
// test site (every layout and quirk of tests/fixtures/sunspec, time frozen) and greenrackd. The
// daemon must find each device's model chain itself, publish the values of the device's role
// equal to what the simulator serves, cache each chain in its state directory, and poll a device
// it cannot discover at start-up with the cached chain.

#include "tests/integration/site_harness.hpp"
#include "tests/support/free_port.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <sstream>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string prefix = "greenrack/v1/ss/";

struct SunSpecDevice {
    const char* id; // also the simulator's device id
    const char* bus;
    int unit;
    const char* role;
};

// Every device of the SunSpec site, with the role the site gives it.
constexpr SunSpecDevice devices[] = {
    {"inverter-3ph", "generation", 1, "pv_inverter"},    // 1 + 103 + 160 at 40000
    {"inverter-1ph", "generation", 2, "pv_inverter"},    // 1 (L = 65) + 101 at 0
    {"inverter-float", "generation", 3, "wind_turbine"}, // 1 + 113 at 50000, end without L
    {"meter-3ph", "meters", 4, "grid_meter"},            // 1 + vendor model + 203
    {"meter-1ph", "meters", 5, "facility_meter"},        // 1 + 201 with an unmapped gap
    {"battery", "meters", 6, "battery"},                 // 1 + 124 + 802
    {"hybrid", "meters", 7, "battery"},                  // 1 + 701 + 713 + 802
};

std::filesystem::path write_config(const SunSpecSite& site, const MosquittoBroker& broker,
                                   const std::string& extra_devices = "") {
    std::ostringstream config;
    config << "[site]\nid = \"ss\"\n\n"
           << "[daemon]\nstate_directory = \"" << (site.dir() / "state").string() << "\"\n"
           << "profile_dirs = [\"" << GREENRACK_SOURCE_DIR << "/config/profiles\"]\n\n"
           << "[mqtt]\nuri = \"" << broker.uri() << "\"\nreconnect_max = \"2s\"\n\n"
           << "[prometheus]\nlisten = \"127.0.0.1:" << free_port() << "\"\n\n"
           << "[accounting]\nenabled = false\n\n";
    for (const char* bus : {"generation", "meters"}) {
        config << "[[bus]]\nid = \"" << bus << "\"\nhost = \"127.0.0.1\"\nport = " << site.port(bus)
               << "\nresponse_timeout = \"1s\"\n\n";
    }
    for (const auto& d : devices) {
        config << "[[device]]\nid = \"" << d.id << "\"\nbus = \"" << d.bus
               << "\"\nunit_id = " << d.unit << "\nprofile = \"sunspec\"\nrole = \"" << d.role
               << "\"\npoll_interval = \"500ms\"\n\n";
    }
    config << extra_devices;
    const auto path = site.dir() / "greenrack.toml";
    write_file(path, config.str());
    return path;
}

std::unique_ptr<Process> start_daemon(const SunSpecSite& site,
                                      const std::filesystem::path& config) {
    return std::make_unique<Process>(GREENRACKD_BIN, std::vector<std::string>{"--config", config},
                                     site.dir(), "greenrackd");
}

// The state of `device` once every point `wanted` has quality ok.
json wait_for_state(MqttRecorder& mqtt, const std::string& device,
                    const std::vector<std::string>& wanted) {
    auto payload = mqtt.wait_for(
        prefix + "device/" + device + "/state",
        [&](const std::string& text) {
            const auto state = json::parse(text);
            for (const auto& name : wanted) {
                if (!state["points"].contains(name) || state["points"][name]["quality"] != "ok") {
                    return false;
                }
            }
            return true;
        },
        30s);
    if (!payload) {
        FAIL("no state of " << device << " with " << wanted.size() << " points ok");
    }
    return json::parse(*payload);
}

double value(const json& state, const std::string& point) {
    return state["points"][point]["value"].get<double>();
}

} // namespace

TEST_CASE("greenrackd discovers every SunSpec layout of the test site and publishes the values "
          "of each device's role as the simulator serves them",
          "[sunspec][e2e]") {
    SunSpecSite site;
    MosquittoBroker broker(site.dir());
    MqttRecorder mqtt(broker.uri(), prefix + "#");
    const auto config = write_config(site, broker);
    auto daemon = start_daemon(site, config);
    const auto served = site.snapshot()["devices"];

    SECTION("values") {
        const auto inverter = wait_for_state(mqtt, "inverter-3ph", {"ac_power_w", "ac_energy_wh"});
        const auto& s103 = served["inverter-3ph"]["points"];
        INFO(inverter.dump());
        CHECK(value(inverter, "ac_power_w") == Approx(s103["m103_w"].get<double>()));
        CHECK(value(inverter, "ac_power_w") > 1000.0);
        CHECK(value(inverter, "ac_energy_wh") == Approx(s103["m103_wh"].get<double>()));
        CHECK(value(inverter, "frequency_hz") == Approx(s103["m103_hz"].get<double>()));
        CHECK(inverter["points"]["serial_number"]["value"] == "GT3P0001");
        CHECK(inverter["points"]["manufacturer"]["value"] == "Greenrack Test");
        // No nameplate model (120) on this device: missing, never a number.
        CHECK(inverter["points"]["rated_power_w"]["quality"] == "missing");

        // Base 0 and an older common model of length 65.
        const auto small = wait_for_state(mqtt, "inverter-1ph", {"ac_power_w", "serial_number"});
        CHECK(value(small, "ac_power_w") ==
              Approx(served["inverter-1ph"]["points"]["m101_w"].get<double>()));
        CHECK(small["points"]["serial_number"]["value"] == "GT1P0002");

        // Float model 113 at 50000, as a wind turbine.
        const auto wind = wait_for_state(mqtt, "inverter-float", {"ac_power_w"});
        CHECK(value(wind, "ac_power_w") ==
              Approx(served["inverter-float"]["points"]["m113_w"].get<double>()));

        // A 203 behind a vendor model, as the grid meter.
        const auto grid = wait_for_state(mqtt, "meter-3ph", {"net_power_w", "import_energy_wh"});
        const auto& s203 = served["meter-3ph"]["points"];
        CHECK(value(grid, "net_power_w") == Approx(s203["m203_w"].get<double>()));
        CHECK(value(grid, "import_energy_wh") == Approx(s203["m203_totwhimp"].get<double>()));
        CHECK(value(grid, "export_energy_wh") == Approx(s203["m203_totwhexp"].get<double>()));

        // A 201 with an unmapped gap, as the facility meter.
        const auto facility = wait_for_state(mqtt, "meter-1ph", {"load_power_w"});
        CHECK(value(facility, "load_power_w") ==
              Approx(served["meter-1ph"]["points"]["m201_w"].get<double>()));

        // 124 + 802: power, state of charge and capacity from 802.
        const auto battery = wait_for_state(mqtt, "battery", {"battery_power_w", "soc_pct"});
        const auto& s802 = served["battery"]["points"];
        CHECK(value(battery, "battery_power_w") == Approx(s802["m802_w"].get<double>()));
        CHECK(value(battery, "soc_pct") == Approx(s802["m802_soc"].get<double>()));
        CHECK(value(battery, "capacity_wh") == Approx(s802["m802_whrtg"].get<double>()));

        // 701 + 713 + 802: power (negative while charging) and energy counters from 701,
        // available energy from 713.
        const auto hybrid = wait_for_state(mqtt, "hybrid", {"battery_power_w", "charge_energy_wh"});
        const auto& sh = served["hybrid"]["points"];
        CHECK(value(hybrid, "battery_power_w") == Approx(sh["m701_w"].get<double>()));
        CHECK(value(hybrid, "battery_power_w") < 0.0);
        CHECK(value(hybrid, "charge_energy_wh") == Approx(sh["m701_totwhabs"].get<double>()));
        CHECK(value(hybrid, "discharge_energy_wh") == Approx(sh["m701_totwhinj"].get<double>()));
        CHECK(value(hybrid, "available_energy_wh") == Approx(sh["m713_whavail"].get<double>()));
        CHECK(value(hybrid, "soc_pct") == Approx(sh["m802_soc"].get<double>()));

        // Each chain is cached in the state directory.
        for (const auto& d : devices) {
            INFO(d.id);
            const auto file = site.dir() / "state" / "sunspec" / (std::string(d.id) + ".json");
            REQUIRE(wait_until([&] { return std::filesystem::exists(file); }, 5s));
            const auto cached = json::parse(read_file(file));
            CHECK(cached["device"] == d.id);
            CHECK(cached["unit_id"] == d.unit);
            CHECK_FALSE(cached["models"].empty());
        }
        daemon->stop(SIGTERM, 10s);
        // The log names each device's chain once.
        INFO(daemon->err());
        CHECK(
            daemon->err().find("device meter-3ph: SunSpec Greenrack Meters GM-203 serial GM3P0004 "
                               "version 5.2 at base 40000, models 1 (40002, 66), 64110 "
                               "(40070, 4), 203 (40076, 105)") != std::string::npos);
    }

    SECTION("a device configured with a role its chain lacks is reported, the others go on") {
        daemon->stop(SIGTERM, 10s);
        const auto bad = write_config(site, broker, R"([[device]]
id = "not-a-meter"
bus = "generation"
unit_id = 1
profile = "sunspec"
role = "grid_meter"
poll_interval = "500ms"
)");
        // unit 1 is already used on bus generation by inverter-3ph: give the bad device its own
        // bus to the same listener.
        std::string text = read_file(bad);
        const std::string extra_bus = "[[bus]]\nid = \"again\"\nhost = \"127.0.0.1\"\nport = " +
                                      std::to_string(site.port("generation")) + "\n\n";
        text.replace(text.find("id = \"not-a-meter\"\nbus = \"generation\""),
                     std::string("id = \"not-a-meter\"\nbus = \"generation\"").size(),
                     "id = \"not-a-meter\"\nbus = \"again\"");
        write_file(bad, text + extra_bus);
        daemon = start_daemon(site, bad);
        wait_for_state(mqtt, "meter-3ph", {"net_power_w"});
        REQUIRE(wait_until(
            [&] {
                return daemon->err().find("role grid_meter needs a meter model (201, 202, 203 or "
                                          "204); the chain has 1, 103, 160") != std::string::npos;
            },
            15s));
        const auto state = json::parse(*mqtt.wait_for(prefix + "device/not-a-meter/state", 10s));
        CHECK(state["points"]["net_power_w"]["quality"] == "error");
        daemon->stop(SIGTERM, 10s);
    }
}
