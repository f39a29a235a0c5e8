#pragma once

#include "drivers/modbus/point.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace greenrack::profiles {

// What a device is to the site. Accounting (issue 3) maps these to PV/wind/battery/grid/...
enum class DeviceRole : std::uint8_t {
    rack_pdu,
    pv_inverter,
    wind_turbine,
    battery,
    grid_meter,
    facility_meter,
};

std::optional<DeviceRole> parse_device_role(std::string_view text);
std::string_view to_string(DeviceRole role);

// How the device answers reads of registers that carry no point (device-register-maps.md §6.6).
enum class HolePolicy : std::uint8_t {
    exception, // any read touching an undefined register fails with exception 02
    zero,      // undefined registers between the lowest and highest defined one read as 0
};

// Fixed register content a device serves that is not a point the daemon decodes (SunSpec
// "SunS" marker, model headers, end model). Only the simulator uses these.
struct ConstantBlock {
    modbus::RegisterKind function = modbus::RegisterKind::holding;
    std::uint16_t address = 0;
    std::vector<std::uint16_t> values;

    bool operator==(const ConstantBlock&) const = default;
};

// A device type's register map, loaded from a TOML file in config/profiles/ (format documented
// in config/profiles/README.md). Pure data: no planning, no I/O.
struct DeviceProfile {
    std::string name; // = file stem
    std::string description;
    DeviceRole device_role = DeviceRole::rack_pdu;
    std::uint16_t max_registers = modbus::max_read_registers;
    std::uint16_t max_gap = 0;
    bool even_alignment = false;
    HolePolicy holes = HolePolicy::exception;
    std::vector<modbus::PointSpec> points;
    std::vector<ConstantBlock> constants;
    // The register map is found on the device at run time (SunSpec, drivers/sunspec/
    // role_binding.hpp): the points say what the device offers and carry no address.
    bool discovered = false;
    std::string source_file; // where it was loaded from (for messages)

    bool operator==(const DeviceProfile&) const = default;

    // Index of the point with this name, or nullopt.
    std::optional<std::size_t> find(std::string_view point_name) const;
    // Largest `index` of points with this role (e.g. number of outlets), 0 when none.
    int max_index(std::string_view role) const;
};

} // namespace greenrack::profiles
