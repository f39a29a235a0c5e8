#pragma once

// Small device profiles written for the simulator's tests (not the shipped ones), and a
// scenario of a whole site using them.

#include "drivers/profiles/profile_loader.hpp"
#include "drivers/sim/scenario_loader.hpp"

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace greenrack::sim::test {

// Rack PDU, 4 outlets in blocks of 0x10 registers from 0x100, inlet at 0x10; holes read 0.
inline constexpr const char* pdu_profile = R"(
[profile]
name = "test_pdu"
device_role = "rack_pdu"
holes = "zero"
[[point]]
name = "inlet_power_w"
address = 0x10
type = "f32"
unit = "W"
role = "inlet_power"
[[point]]
name = "inlet_energy_wh"
address = 0x12
type = "u64"
unit = "Wh"
kind = "counter"
role = "inlet_energy"
[[point]]
name = "inlet_current_a"
address = 0x16
type = "f32"
unit = "A"
role = "inlet_current"
[[group]]
prefix = "outlet"
count = 4
base = 0x100
stride = 0x10
  [[group.point]]
  name = "power_w"
  address = 0
  type = "f32"
  unit = "W"
  role = "outlet_power"
  [[group.point]]
  name = "energy_wh"
  address = 2
  type = "u64"
  unit = "Wh"
  kind = "counter"
  role = "outlet_energy"
  [[group.point]]
  name = "current_a"
  address = 6
  type = "f32"
  unit = "A"
  role = "outlet_current"
)";

// SunSpec-style PV inverter at 40000; any read touching an undefined register fails.
inline constexpr const char* pv_profile = R"(
[profile]
name = "test_pv"
device_role = "pv_inverter"
holes = "exception"
[[constant]]
address = 40000
text = "SunS"
length = 2
[[constant]]
address = 40002
values = [103, 12]
[[point]]
name = "manufacturer"
address = 40004
type = "string"
length = 4
role = "manufacturer"
[[point]]
name = "ac_power_w"
address = 40008
type = "i16"
scale_factor = "w_sf"
unit = "W"
role = "ac_power"
[[point]]
name = "w_sf"
address = 40009
type = "sunssf"
[[point]]
name = "ac_energy_wh"
address = 40010
type = "acc32"
scale_factor = "wh_sf"
unit = "Wh"
kind = "counter"
role = "ac_energy"
[[point]]
name = "wh_sf"
address = 40012
type = "sunssf"
[[point]]
name = "operating_state"
address = 40013
type = "enum16"
role = "status"
[[point]]
name = "frequency_hz"
address = 40014
type = "u16"
scale = 0.01
unit = "Hz"
role = "frequency"
[[constant]]
address = 40016
values = [0xFFFF, 0]
)";

inline constexpr const char* wind_profile = R"(
[profile]
name = "test_wind"
device_role = "wind_turbine"
[[point]]
name = "output_power_w"
address = 10
type = "u16"
unit = "W"
role = "ac_power"
[[point]]
name = "total_energy_wh"
address = 11
type = "u32"
order = "CDAB"
scale = 100
unit = "Wh"
kind = "counter"
role = "ac_energy"
[[point]]
name = "wind_speed_ms"
address = 13
type = "u16"
scale = 0.1
role = "wind_speed"
)";

inline constexpr const char* battery_profile = R"(
[profile]
name = "test_battery"
device_role = "battery"
default_function = "input"
[[point]]
name = "soc_pct"
address = 0
type = "u16"
scale = 0.1
unit = "%"
role = "soc"
[[point]]
name = "ac_power_w"
address = 1
type = "i32"
unit = "W"
role = "battery_power"
[[point]]
name = "charge_energy_wh"
address = 4
type = "acc64"
unit = "Wh"
kind = "counter"
role = "charge_energy"
[[point]]
name = "discharge_energy_wh"
address = 8
type = "acc64"
unit = "Wh"
kind = "counter"
role = "discharge_energy"
)";

inline constexpr const char* grid_profile = R"(
[profile]
name = "test_grid"
device_role = "grid_meter"
default_function = "input"
[[point]]
name = "import_power_w"
address = 0
type = "f32"
unit = "W"
role = "import_power"
[[point]]
name = "export_power_w"
address = 2
type = "f32"
unit = "W"
role = "export_power"
[[point]]
name = "import_energy_wh"
address = 4
type = "f32"
scale = 1000
unit = "Wh"
kind = "counter"
role = "import_energy"
[[point]]
name = "export_energy_wh"
address = 6
type = "f32"
scale = 1000
unit = "Wh"
kind = "counter"
role = "export_energy"
)";

inline constexpr const char* facility_profile = R"(
[profile]
name = "test_facility"
device_role = "facility_meter"
[[point]]
name = "load_power_w"
address = 0
type = "f32"
unit = "W"
role = "load_power"
[[point]]
name = "load_energy_wh"
address = 2
type = "f32"
unit = "Wh"
kind = "counter"
role = "load_energy"
)";

// Meter with an Eastron-style request limit: input registers 0..99 (holes read 0), at most 80
// registers per request, even start address and even count.
inline constexpr const char* pairs_profile = R"(
[profile]
name = "test_pairs"
device_role = "grid_meter"
max_registers = 80
max_gap = 16
even_alignment = true
holes = "zero"
default_function = "input"
[[point]]
name = "voltage_v"
address = 0
type = "f32"
unit = "V"
role = "voltage"
[[point]]
name = "net_power_w"
address = 0x34
type = "f32"
unit = "W"
role = "net_power"
[[point]]
name = "import_energy_wh"
address = 0x62
type = "f32"
scale = 1000
unit = "Wh"
kind = "counter"
role = "import_energy"
)";

// A floor-PDU panel metered at its inlet only: no outlet points.
inline constexpr const char* panel_profile = R"(
[profile]
name = "test_panel"
device_role = "rack_pdu"
default_function = "input"
[[point]]
name = "inlet_power_w"
address = 0
type = "f32"
unit = "W"
role = "inlet_power"
[[point]]
name = "inlet_energy_wh"
address = 2
type = "f32"
unit = "Wh"
kind = "counter"
role = "inlet_energy"
[[point]]
name = "inlet_current_a"
address = 4
type = "f32"
unit = "A"
role = "inlet_current"
)";

inline std::shared_ptr<const profiles::DeviceProfile> test_profile(std::string_view name) {
    const std::map<std::string, const char*, std::less<>> texts = {
        {"test_pdu", pdu_profile},     {"test_pv", pv_profile},
        {"test_wind", wind_profile},   {"test_battery", battery_profile},
        {"test_grid", grid_profile},   {"test_facility", facility_profile},
        {"test_pairs", pairs_profile}, {"test_panel", panel_profile},
    };
    auto it = texts.find(name);
    if (it == texts.end()) {
        return nullptr;
    }
    return std::make_shared<const profiles::DeviceProfile>(
        profiles::parse_profile(it->second, std::string(name) + ".toml"));
}

inline ProfileResolver test_resolver() {
    return [](std::string_view name, const common::SourceLocation&) { return test_profile(name); };
}

// A whole site: 2 PDUs (3 racks), 2 PV inverters, wind, battery, grid and facility meters.
// `extra` is appended (events, more keys in the last table...).
inline std::string site_scenario(const std::string& start = "2026-06-21T02:00:00Z",
                                 std::uint64_t seed = 7, const std::string& extra = "") {
    return R"(
[sim]
seed = )" + std::to_string(seed) +
           R"(
start = ")" +
           start +
           R"("
step = "1s"
[site]
latitude = 36.6
longitude = 101.8
[[listener]]
name = "pdus"
port = 0
[[listener]]
name = "plant"
port = 0
[[device]]
id = "pdu-a"
profile = "test_pdu"
listener = "pdus"
unit_id = 1
racks = [{ name = "ra", base_load_w = 6000, pattern = "random_walk", amplitude = 0.2, outlets = 2 },
         { name = "rb", base_load_w = 3000, pattern = "diurnal", amplitude = 0.2, outlets = 2 }]
[[device]]
id = "pdu-b"
profile = "test_pdu"
listener = "pdus"
unit_id = 2
racks = [{ name = "rc", base_load_w = 8000, outlets = 3 }]
[[device]]
id = "pv-1"
profile = "test_pv"
listener = "plant"
unit_id = 1
nameplate_w = 20000
cloudiness = 0.5
[[device]]
id = "pv-2"
profile = "test_pv"
listener = "plant"
unit_id = 2
nameplate_w = 10000
[[device]]
id = "wind-1"
profile = "test_wind"
listener = "plant"
unit_id = 3
rated_w = 10000
mean_wind_ms = 8
gustiness = 0.4
[[device]]
id = "battery-1"
profile = "test_battery"
listener = "plant"
unit_id = 4
capacity_wh = 5000
max_charge_w = 4000
max_discharge_w = 6000
initial_soc = 50
[[device]]
id = "grid"
profile = "test_grid"
listener = "plant"
unit_id = 5
[[device]]
id = "facility"
profile = "test_facility"
listener = "plant"
unit_id = 6
cooling_fraction = 0.3
cooling_fixed_w = 500
)" + extra;
}

inline Scenario parse_site(const std::string& text) {
    return parse_scenario(text, "site.sim.toml", test_resolver());
}

} // namespace greenrack::sim::test
