#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace greenrack::sim {

// What the physics says about one device, by point role (drivers/profiles/roles.hpp) and index
// (outlet/phase number, 0 = the device as a whole). The register image turns these into
// registers through the device's profile.
class DeviceReadings {
public:
    void set(std::string_view role, double value, int index = 0);
    std::optional<double> get(std::string_view role, int index = 0) const;

    void set_text(std::string_view role, std::string text);
    std::optional<std::string> text(std::string_view role) const;

    bool empty() const { return numbers_.empty() && texts_.empty(); }

private:
    std::map<std::pair<std::string, int>, double, std::less<>> numbers_;
    std::map<std::string, std::string, std::less<>> texts_;
};

} // namespace greenrack::sim
