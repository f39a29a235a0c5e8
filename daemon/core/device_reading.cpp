#include "daemon/core/device_reading.hpp"

#include <algorithm>

namespace greenrack::core {

ReadingQuality reading_quality(const DeviceReading& reading) {
    if (reading.requests_ok == 0 && (reading.requests_failed > 0 || reading.values.empty() ||
                                     reading.requests_quarantined > 0)) {
        return ReadingQuality::offline;
    }
    if (reading.requests_failed > 0 || reading.requests_quarantined > 0) {
        return ReadingQuality::partial;
    }
    bool all_ok = std::all_of(reading.values.begin(), reading.values.end(),
                              [](const auto& v) { return v.quality == modbus::Quality::ok; });
    return all_ok ? ReadingQuality::ok : ReadingQuality::partial;
}

std::string_view to_string(ReadingQuality quality) {
    switch (quality) {
    case ReadingQuality::ok:
        return "ok";
    case ReadingQuality::partial:
        return "partial";
    case ReadingQuality::offline:
        return "offline";
    }
    return "offline";
}

} // namespace greenrack::core
