#include "drivers/sim/device_readings.hpp"

namespace greenrack::sim {

void DeviceReadings::set(std::string_view role, double value, int index) {
    numbers_[{std::string(role), index}] = value;
}

std::optional<double> DeviceReadings::get(std::string_view role, int index) const {
    auto it = numbers_.find(std::pair<std::string, int>{std::string(role), index});
    if (it == numbers_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void DeviceReadings::set_text(std::string_view role, std::string text) {
    texts_[std::string(role)] = std::move(text);
}

std::optional<std::string> DeviceReadings::text(std::string_view role) const {
    auto it = texts_.find(role);
    if (it == texts_.end()) {
        return std::nullopt;
    }
    return it->second;
}

} // namespace greenrack::sim
