#include "drivers/sim/scale_factors.hpp"

#include "drivers/modbus/codec.hpp"

#include <cmath>

namespace greenrack::sim {

namespace {

struct Range {
    double low;
    double high;
};

Range range_of(modbus::DataType type) {
    using modbus::DataType;
    switch (type) {
    case DataType::u16:
    case DataType::enum16:
    case DataType::bitfield16:
        return {0.0, 65534.0};
    case DataType::acc16:
        return {0.0, 65535.0};
    case DataType::i16:
        return {-32767.0, 32767.0};
    case DataType::sunssf:
        return {-10.0, 10.0};
    case DataType::u32:
    case DataType::enum32:
    case DataType::bitfield32:
        return {0.0, 4294967294.0};
    case DataType::acc32:
        return {0.0, 4294967295.0};
    case DataType::i32:
        return {-2147483647.0, 2147483647.0};
    case DataType::u64:
    case DataType::acc64:
        return {0.0, 1.8446744073709550e19}; // largest double below 2^64
    case DataType::i64:
        return {-9.2233720368547748e18, 9.2233720368547748e18};
    case DataType::f32:
    case DataType::f64:
    case DataType::string:
        break;
    }
    return {-HUGE_VAL, HUGE_VAL};
}

bool is_unsigned(modbus::DataType type) {
    return range_of(type).low == 0.0;
}

} // namespace

bool raw_fits(modbus::DataType type, double raw) {
    if (!std::isfinite(raw)) {
        return false;
    }
    if (modbus::is_float(type) || type == modbus::DataType::string) {
        return true;
    }
    const double rounded = std::nearbyint(raw);
    const Range range = range_of(type);
    if (is_unsigned(type)) {
        return rounded <= range.high;
    }
    return rounded >= range.low && rounded <= range.high;
}

int choose_scale_factor(std::span<const ScaledValue> values) {
    for (int sf = min_scale_factor; sf <= max_scale_factor; ++sf) {
        bool all_fit = true;
        for (const ScaledValue& v : values) {
            if (!raw_fits(v.point->type, modbus::to_raw(*v.point, v.value, sf))) {
                all_fit = false;
                break;
            }
        }
        if (all_fit) {
            return sf;
        }
    }
    return max_scale_factor;
}

} // namespace greenrack::sim
