#pragma once

#include "drivers/modbus/transport.hpp"
#include "tools/scan/found_device.hpp"

#include <optional>
#include <string>
#include <vector>

namespace greenrack::scan {

// A ready-to-paste greenrackd config fragment for what a scan found on one bus: the [[bus]]
// table and one [[device]] per device found (ids from the role and unit id, e.g.
// "pv-inverter-u1"). A SunSpec device gets profile = "sunspec" and the role its models suggest
// (sunspec_role), with its identity, its models and any shipped profile that also matches as
// comments; other devices get their matching shipped profile; units that answered but match
// nothing are listed as comments. Pure.
std::string render_config(const modbus::Endpoint& endpoint, const std::string& bus_id,
                          const std::vector<FoundDevice>& devices);

// The role a SunSpec device's chain suggests: `hint` (e.g. from a matching shipped profile) when
// the chain binds it; else grid_meter for a meter model (201-204), battery for a storage model
// (124, 713, 802) with power (701, 802 or an inverter model), pv_inverter for an inverter
// model; nullopt when the chain binds none of them.
std::optional<profiles::DeviceRole> sunspec_role(const sunspec::Discovery& found,
                                                 std::optional<profiles::DeviceRole> hint);

// "pv-inverter-u1", "grid-meter-u30", "device-u7" (no role).
std::string device_id(const FoundDevice& device);

} // namespace greenrack::scan
