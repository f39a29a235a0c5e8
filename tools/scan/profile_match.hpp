#pragma once

#include "drivers/modbus/point.hpp"
#include "drivers/modbus/read_planner.hpp"
#include "drivers/profiles/profile.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace greenrack::scan {

// Reads `out.size()` registers of one kind from the device under test (function 03 or 04).
using RegisterReader = std::function<std::error_code(modbus::RegisterKind kind, std::uint16_t start,
                                                     std::span<std::uint16_t> out)>;

// Every point of a profile as read from one device.
struct ProfileReading {
    std::vector<modbus::PointValue> values; // one per profile point
    std::size_t requests_ok = 0;
    std::size_t requests_failed = 0;
    std::size_t requests_skipped = 0; // not tried after give_up_after failures
    std::error_code first_error;
};

// Reads every request of `plan` through `read` and decodes the points. A failed request leaves
// its points in error; after `give_up_after` failures the rest are not tried (an absent unit
// costs one timeout, not one per request).
ProfileReading read_profile(const profiles::DeviceProfile& profile, const modbus::ReadPlan& plan,
                            const RegisterReader& read, std::size_t give_up_after = 1);

// Whether a device looks like the profile says, judged on values only (pure):
// * every request was answered;
// * no point is outside its plausibility range (`min`/`max` in the profile);
// * an AC device's profile (not a battery or wind controller, whose voltages are DC) with
//   voltage points (unit V) has at least one near a mains voltage (120, 208, 230, 240, 277,
//   400 or 480 V, within 15 %);
// * at least one point with a plausibility range decoded as a number.
// The score ranks matching profiles for one device: points judged plausible, plus a bonus per
// mains voltage.
struct ProfileMatch {
    bool matches = false;
    int score = 0;
    std::string reason; // why not, or what convinced
};
ProfileMatch judge(const profiles::DeviceProfile& profile, const ProfileReading& reading);

} // namespace greenrack::scan
