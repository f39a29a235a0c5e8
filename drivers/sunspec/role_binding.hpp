#pragma once

// A SunSpec device as the site sees it. The configuration names a role (an inverter is PV or
// wind; a meter is grid or facility; 124/713/802 are battery) and the device's model chain,
// found by discovery at run time, says where each value lives. Two halves:
//
//   role_profile(role): the points every SunSpec device of that role offers to the rest of the
//     daemon (names, roles, units, kinds), the same whatever models the device has, so the site
//     model, MQTT, InfluxDB and /metrics are built before any device has answered;
//   bind_role(chain, options): the registers that carry those points on one device (plus the scale
//     factors they need), as an ordinary point list the read planner and codec handle.
//
// Pure: no I/O. The mapping of roles to SunSpec points is listed in config/profiles/README.md.

#include "drivers/modbus/read_planner.hpp"
#include "drivers/profiles/profile.hpp"
#include "drivers/sunspec/discovery.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace greenrack::sunspec {

// The profile name that selects SunSpec discovery in a [[device]] table.
inline constexpr std::string_view profile_name = "sunspec";

// True for the roles a SunSpec device can have (every DeviceRole but rack_pdu).
bool supports_role(profiles::DeviceRole role);

// The points a SunSpec device of `role` offers (see the file comment); name "sunspec",
// discovered = true, no point has an address. Precondition: supports_role(role).
profiles::DeviceProfile role_profile(profiles::DeviceRole role);

struct BindOptions {
    profiles::DeviceRole role = profiles::DeviceRole::pv_inverter;
    // Flip the sign of the power read (meter W, battery W). SunSpec states the sign only for
    // 701 (+ = generation, i.e. battery discharge); meters 201-204 and battery 802 leave it
    // open, and devices disagree. Energy counters are used by name (TotWhImp is import).
    bool invert_power = false;
    // The device's request limits: each model is planned on its own (a request never spans two
    // models: the registers between them may be unmapped), with max_gap = max_registers - 1
    // inside a model (every register of a model is defined, and a value and its scale factor
    // must come in one request).
    std::uint16_t max_registers = 125;
};

inline constexpr std::size_t no_output = std::numeric_limits<std::size_t>::max();

struct Binding {
    // What to read: the role's points this chain has, then the scale factors they need, with
    // wire addresses. name "sunspec", the role's device_role.
    profiles::DeviceProfile read_profile;
    modbus::ReadPlan plan;
    // Per read_profile point: the index of the role_profile() point it delivers, or no_output
    // (a scale factor).
    std::vector<std::size_t> output;
    // One "<point> <- <model>.<SunSpec point> at <address>" line per delivered point, and
    // "<point>: not in this device's models" for each point it lacks (those read as missing).
    std::vector<std::string> sources;
};

struct BindError {
    // e.g. "role grid_meter needs a meter model (201, 202, 203 or 204); the chain has 1, 103"
    std::string message;
};

// Binds the role's points to the first instance of the models in `chain` that carry them (the
// order of preference is in config/profiles/README.md). Points past the end of a model instance
// (an older, shorter version of the model) are not used. BindError when the chain has none of
// the models the role needs for its main value (power for generators, meters and batteries).
std::variant<Binding, BindError> bind_role(std::span<const ModelHeader> chain,
                                           const BindOptions& options);

// "1 (40002, 66), 103 (40070, 50), 160 (40122, 48)": a chain for log lines.
std::string describe_chain(std::span<const ModelHeader> chain);

} // namespace greenrack::sunspec
