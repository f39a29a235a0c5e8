#pragma once

#include "drivers/profiles/profile.hpp"
#include "drivers/sunspec/discovery.hpp"

#include <optional>
#include <string>
#include <vector>

namespace greenrack::scan {

// What the scan learnt about one unit id.
struct FoundDevice {
    int unit_id = 0;
    std::optional<sunspec::Discovery> sunspec; // when a SunSpec map was found
    // The best matching shipped profile, with its role and why it matched.
    std::string profile;
    std::optional<profiles::DeviceRole> role;
    std::string evidence;
};

} // namespace greenrack::scan
