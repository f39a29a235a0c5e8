#pragma once

#include "drivers/modbus/point.hpp"
#include "drivers/profiles/profile.hpp"
#include "drivers/sim/device_readings.hpp"

#include <optional>

namespace greenrack::sim {

// The SI value a point should show, from the device's readings:
//  1. the reading for (role, index);
//  2. for an indexed point whose role has only a device-wide reading, that reading: divided by
//     the number of indices for extensive quantities (power, current, energy: per-phase
//     shares of a total), as is for intensive ones (voltage, frequency, power factor, ...);
//  3. otherwise (no role, or no reading for it) a plausible value by unit: Hz the frequency,
//     V the voltage, degC the temperature, A (device-wide points) the current, anything else
//     0; clamped into the point's plausibility range.
// `status` readings are only used for enum points (bitfields of alarms read 0 = no alarm).
double resolve_point_value(const modbus::PointSpec& point, const profiles::DeviceProfile& profile,
                           const DeviceReadings& readings);

// Power, current and energy roles add up over phases/outlets; the others do not.
bool is_extensive_role(std::string_view role);

} // namespace greenrack::sim
