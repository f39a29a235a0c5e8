#pragma once

#include "drivers/modbus/point.hpp"

#include <span>

namespace greenrack::sim {

// SunSpec scale factors range over -10..+10 (schema.json).
inline constexpr int min_scale_factor = -10;
inline constexpr int max_scale_factor = 10;

// One value scaled by a scale factor.
struct ScaledValue {
    const modbus::PointSpec* point = nullptr;
    double value = 0.0; // SI value
};

// True when the raw value (rounded) fits the register type without hitting its
// "not implemented" sentinel. Unsigned types only check the upper bound (negative values
// saturate to 0). Floats always fit.
bool raw_fits(modbus::DataType type, double raw);

// The smallest exponent in -10..10 at which every value fits its point's type, as a real
// inverter re-chooses W_SF between dawn and noon. max_scale_factor when nothing fits.
int choose_scale_factor(std::span<const ScaledValue> values);

} // namespace greenrack::sim
