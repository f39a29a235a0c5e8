#include "drivers/profiles/profile.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace greenrack::profiles {

namespace {

constexpr std::array<std::pair<std::string_view, DeviceRole>, 6> device_role_names{{
    {"rack_pdu", DeviceRole::rack_pdu},
    {"pv_inverter", DeviceRole::pv_inverter},
    {"wind_turbine", DeviceRole::wind_turbine},
    {"battery", DeviceRole::battery},
    {"grid_meter", DeviceRole::grid_meter},
    {"facility_meter", DeviceRole::facility_meter},
}};

} // namespace

std::optional<DeviceRole> parse_device_role(std::string_view text) {
    for (const auto& [name, role] : device_role_names) {
        if (name == text) {
            return role;
        }
    }
    return std::nullopt;
}

std::string_view to_string(DeviceRole role) {
    for (const auto& [name, candidate] : device_role_names) {
        if (candidate == role) {
            return name;
        }
    }
    return "?";
}

std::optional<std::size_t> DeviceProfile::find(std::string_view point_name) const {
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (points[i].name == point_name) {
            return i;
        }
    }
    return std::nullopt;
}

int DeviceProfile::max_index(std::string_view role) const {
    int result = 0;
    for (const auto& point : points) {
        if (point.role == role) {
            result = std::max(result, point.index);
        }
    }
    return result;
}

} // namespace greenrack::profiles
