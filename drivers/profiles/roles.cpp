#include "drivers/profiles/roles.hpp"

#include <algorithm>
#include <array>

namespace greenrack::profiles {

namespace {

// Keep in the order of the comment in roles.hpp and the table in config/profiles/README.md.
constexpr std::array<std::string_view, 42> point_roles{
    // rack PDU
    "inlet_power",
    "inlet_energy",
    "inlet_voltage",
    "inlet_current",
    "inlet_apparent_power",
    "inlet_power_factor",
    "outlet_power",
    "outlet_energy",
    "outlet_voltage",
    "outlet_current",
    "outlet_apparent_power",
    "outlet_power_factor",
    // generators
    "ac_power",
    "ac_energy",
    "ac_power_available",
    "dc_power",
    "wind_speed",
    // battery
    "battery_power",
    "soc",
    "capacity",
    "charge_energy",
    "discharge_energy",
    "max_charge_power",
    "max_discharge_power",
    // meters
    "import_power",
    "export_power",
    "import_energy",
    "export_energy",
    "net_power",
    "load_power",
    "load_energy",
    // any device
    "voltage",
    "current",
    "frequency",
    "apparent_power",
    "power_factor",
    "temperature",
    "status",
    "manufacturer",
    "model",
    "serial",
    "version",
};

} // namespace

std::span<const std::string_view> known_point_roles() {
    return point_roles;
}

bool is_known_point_role(std::string_view role) {
    return std::find(point_roles.begin(), point_roles.end(), role) != point_roles.end();
}

} // namespace greenrack::profiles
