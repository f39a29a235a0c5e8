#pragma once

#include "drivers/common/config_error.hpp"
#include "drivers/profiles/profile.hpp"
#include "drivers/sim/sim_time.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace greenrack::sim {

// A whole simulated site, as read from a scenario TOML file (format: drivers/sim/README.md and
// config/examples/demo-site.sim.toml). Pure data.

struct SimSettings {
    std::uint64_t seed = 1;
    std::optional<SimTime> start; // nullopt = "now" (resolved by main)
    double speed = 1.0;           // sim seconds per wall second
    SimDuration step{1000};       // physics step, in sim time
};

struct SiteSettings {
    double latitude_deg = 36.6; // Qinghai
    double longitude_deg = 101.8;
};

struct ListenerSpec {
    std::string name;
    std::uint16_t port = 0; // TCP; 0 = any free port (reported in the ready file)
    common::SourceLocation where;
    // Modbus RTU on a serial device (e.g. one end of a socat pty pair) instead of TCP.
    std::string serial; // empty = TCP
    int baud = 19200;
    char parity = 'E'; // 'N', 'E' or 'O'
    int data_bits = 8;
    int stop_bits = 1;

    bool is_serial() const { return !serial.empty(); }
};

enum class LoadPattern : std::uint8_t { constant, diurnal, random_walk };

struct RackSpec {
    std::string name;
    double base_load_w = 0.0;
    LoadPattern pattern = LoadPattern::constant;
    double amplitude = 0.0; // fraction of base load
    int first_outlet = 1;   // 1-based
    int outlet_count = 1;
};

struct PduParams {
    std::vector<RackSpec> racks;
    double voltage_v = 230.0;
};

struct PvParams {
    double nameplate_w = 0.0;
    double cloudiness = 0.0; // 0 = clear sky, 1 = frequent deep clouds
};

struct WindParams {
    double rated_w = 0.0;
    double mean_wind_ms = 7.0;
    double gustiness = 0.2; // standard deviation of the wind speed / mean
    double cut_in_ms = 3.0;
    double rated_wind_ms = 12.0;
    double cut_out_ms = 25.0;
    double voltage_v = 48.0; // charge-controller output (battery bus)
};

struct BatteryParams {
    double capacity_wh = 0.0;
    double max_charge_w = 0.0;
    double max_discharge_w = 0.0;
    double initial_soc_pct = 50.0;
    double min_soc_pct = 5.0;
    double max_soc_pct = 95.0;
    double charge_efficiency = 0.95;
    double discharge_efficiency = 0.95;
    double voltage_v = 768.0; // DC bus at 50 % SoC
};

struct FacilityMeterParams {
    double cooling_fraction = 0.25; // cooling = fraction * IT + fixed
    double cooling_fixed_w = 0.0;
};

struct GridMeterParams {};

using PhysicsParams = std::variant<PduParams, PvParams, WindParams, BatteryParams,
                                   FacilityMeterParams, GridMeterParams>;

struct DeviceSpec {
    std::string id;
    std::shared_ptr<const profiles::DeviceProfile> profile;
    std::string listener;
    std::size_t listener_index = 0;
    std::uint8_t unit_id = 1;
    PhysicsParams params;
    // Identity strings by role ("manufacturer", "model", "serial", "version").
    std::map<std::string, std::string> identity;
    // Fixed values by point name (e.g. outlet_count = 24), overriding physics and defaults.
    std::map<std::string, double> fixed_values;
    std::vector<std::string> unimplemented; // point names served as their type's sentinel
    double initial_energy_wh = 1.0e6;       // start value of the device's energy counters
    common::SourceLocation where;
};

enum class EventKind : std::uint8_t { cloud, rack_load, device_offline, wind_calm, battery_limit };

// A scripted change in sim time. Every event is an interval [start, end); events without a
// duration last until the end of the run.
struct EventSpec {
    EventKind kind = EventKind::cloud;
    SimDuration at{0};                   // from the scenario start
    std::optional<SimDuration> duration; // nullopt = until the end
    std::string device;                  // cloud/wind_calm: empty = every PV/wind device
    std::string rack;                    // rack_load
    double factor = 1.0;                 // cloud: PV output multiplier
    double load_w = 0.0;                 // rack_load
    std::optional<double> max_charge_w;  // battery_limit
    std::optional<double> max_discharge_w;
};

struct Scenario {
    std::string source_file;
    SimSettings sim;
    SiteSettings site;
    std::vector<ListenerSpec> listeners;
    std::vector<DeviceSpec> devices;
    std::vector<EventSpec> events;
};

std::string_view to_string(LoadPattern pattern);
std::string_view to_string(EventKind kind);

} // namespace greenrack::sim
