#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace greenrack::sim {

// Simulated UTC time. Every piece of pure logic takes it as an input; only main reads a clock.
using SimTime = std::chrono::sys_time<std::chrono::milliseconds>;
using SimDuration = std::chrono::milliseconds;

// Parses an RFC 3339 UTC timestamp: "2026-06-21T02:00:00Z", optional fraction ".250", and
// "+00:00" accepted in place of "Z". Other offsets are rejected (the simulator runs on UTC).
std::optional<SimTime> parse_rfc3339_utc(std::string_view text);

// "2026-06-21T02:00:00Z", or "2026-06-21T02:00:00.250Z" when there are milliseconds.
std::string format_rfc3339_utc(SimTime time);

// Seconds as a double, for the physics.
inline double to_seconds(SimDuration duration) {
    return std::chrono::duration<double>(duration).count();
}

// 1-based day of the year and fractional hours since 00:00 UTC.
int day_of_year(SimTime time);
double utc_hours(SimTime time);

} // namespace greenrack::sim
