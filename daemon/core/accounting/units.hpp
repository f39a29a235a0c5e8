#pragma once

// Unit conversions shared by the accounting engine. Energies are Wh, powers W, time ms.

#include <cstdint>

namespace greenrack::accounting {

inline constexpr double ms_per_hour = 3'600'000.0;
inline constexpr std::int64_t ms_per_quarter_hour = 900'000;
inline constexpr std::int64_t ms_per_hour_i = 3'600'000;
inline constexpr std::int64_t ms_per_day = 86'400'000;

// Energy below this is treated as zero (Wh): well below any meter's resolution.
inline constexpr double negligible_wh = 1e-9;

// Average power (W) of an energy (Wh) spread over span_ms.
constexpr double watts(double wh, double span_ms) {
    return wh * ms_per_hour / span_ms;
}

// Energy (Wh) of a constant power (W) over span_ms.
constexpr double watt_hours(double w, double span_ms) {
    return w * span_ms / ms_per_hour;
}

// g/kWh -> g/Wh.
constexpr double grams_per_wh(double g_per_kwh) {
    return g_per_kwh / 1000.0;
}

// Start of the step-aligned span containing ms (floor division, also before the epoch).
constexpr std::int64_t floor_to(std::int64_t ms, std::int64_t step) {
    const std::int64_t q = ms / step;
    return (ms % step < 0 ? q - 1 : q) * step;
}

} // namespace greenrack::accounting
