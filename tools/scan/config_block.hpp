#pragma once

#include "drivers/modbus/transport.hpp"
#include "tools/scan/found_device.hpp"

#include <string>
#include <vector>

namespace greenrack::scan {

// A ready-to-paste greenrackd config fragment for what a scan found on one bus: the [[bus]]
// table and one [[device]] per unit with a matching profile (ids from the role and unit id,
// e.g. "pv-inverter-u1"); SunSpec identity and models as comments; units that answered but
// match no shipped profile listed as comments. Pure.
std::string render_config(const modbus::Endpoint& endpoint, const std::string& bus_id,
                          const std::vector<FoundDevice>& devices);

// "pv-inverter-u1", "grid-meter-u30", "device-u7" (no role).
std::string device_id(const FoundDevice& device);

} // namespace greenrack::scan
