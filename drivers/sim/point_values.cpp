#include "drivers/sim/point_values.hpp"

#include <algorithm>

namespace greenrack::sim {

namespace {

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

bool is_enum(modbus::DataType type) {
    return type == modbus::DataType::enum16 || type == modbus::DataType::enum32 ||
           type == modbus::DataType::u16 || type == modbus::DataType::u32;
}

double default_by_unit(const modbus::PointSpec& point, const DeviceReadings& readings) {
    double value = 0.0;
    if (point.unit == "Hz") {
        value = readings.get("frequency").value_or(50.0);
    } else if (point.unit == "V") {
        value = readings.get("voltage").value_or(230.0);
    } else if (point.unit == "C" || point.unit == "degC" || point.unit == "\u00B0C") {
        value = readings.get("temperature").value_or(30.0);
    } else if (point.unit == "A" && point.index == 0) {
        value = readings.get("current").value_or(0.0);
    }
    if (point.min) {
        value = std::max(value, *point.min);
    }
    if (point.max) {
        value = std::min(value, *point.max);
    }
    return value;
}

} // namespace

bool is_extensive_role(std::string_view role) {
    if (contains(role, "power_factor")) {
        return false;
    }
    return contains(role, "power") || contains(role, "current") || contains(role, "energy");
}

double resolve_point_value(const modbus::PointSpec& point, const profiles::DeviceProfile& profile,
                           const DeviceReadings& readings) {
    if (point.role.empty()) {
        return default_by_unit(point, readings);
    }
    if (point.role == "status" && !is_enum(point.type)) {
        return 0.0;
    }
    if (auto value = readings.get(point.role, point.index)) {
        return *value;
    }
    if (point.index > 0) {
        if (auto total = readings.get(point.role, 0)) {
            if (is_extensive_role(point.role)) {
                return *total / std::max(1, profile.max_index(point.role));
            }
            return *total;
        }
    }
    return default_by_unit(point, readings);
}

} // namespace greenrack::sim
