#pragma once

#include "daemon/core/device_reading.hpp"
#include "drivers/profiles/profile.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace greenrack::sinks {

// Milliseconds since the Unix epoch (UTC), the `ts` of every payload.
std::int64_t to_unix_ms(std::chrono::system_clock::time_point ts);

// Payload of greenrack/v1/<site>/device/<id>/state:
// {"ts":<ms>,"seq":<n>,"device":"<id>","quality":"ok|partial|offline","poll_ms":<ms>,
//  "error":"<first error>" (only when a request failed),
//  "points":{"<name>":{"value":<number|string|null>,"quality":"ok|missing|implausible|error"}}}
// value is null unless quality is ok. f32 points are written at float precision.
std::string encode_device_state(std::string_view device_id, const profiles::DeviceProfile& profile,
                                const core::DeviceReading& reading);

// Retained payload of greenrack/v1/<site>/device/<id>/meta, published once at start-up:
// what the device is and, per point, its unit, kind, role and index.
struct DeviceMeta {
    std::string_view device_id;
    std::string_view bus_id;
    std::string_view endpoint;
    int unit_id = 0;
    std::chrono::milliseconds poll_interval{0};
};
std::string encode_device_meta(const DeviceMeta& meta, const profiles::DeviceProfile& profile);

} // namespace greenrack::sinks
