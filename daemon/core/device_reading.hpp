#pragma once

#include "drivers/modbus/point.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <vector>

namespace greenrack::core {

// One completed poll of one device, as the core sees it.
struct DeviceReading {
    std::size_t device = 0;                   // index into Config::devices
    std::chrono::system_clock::time_point ts; // UTC, when the poll completed
    std::uint64_t seq = 0;                    // per device, increasing by one per poll
    std::chrono::microseconds duration{0};    // time the poll took on the bus
    std::vector<modbus::PointValue> values;   // one per profile point
    std::uint32_t requests_ok = 0;
    std::uint32_t requests_failed = 0;
    std::uint32_t requests_quarantined = 0;
    std::error_code error; // first error of the poll
};

// Summary quality of a whole reading:
//   ok      every request answered and every point decoded ok
//   partial some points missing/implausible, or some requests failed or are quarantined
//   offline no request answered
enum class ReadingQuality : std::uint8_t { ok, partial, offline };

ReadingQuality reading_quality(const DeviceReading& reading);
std::string_view to_string(ReadingQuality quality);

} // namespace greenrack::core
