#include "daemon/core/device_reading.hpp"

#include <catch2/catch.hpp>

using namespace greenrack;
using modbus::Quality;

TEST_CASE("a reading is ok only when every request answered and every point is ok", "[core]") {
    core::DeviceReading reading;
    reading.requests_ok = 3;
    reading.values = {{1.0, Quality::ok, {}}, {2.0, Quality::ok, {}}};
    CHECK(core::reading_quality(reading) == core::ReadingQuality::ok);

    reading.values[1].quality = Quality::missing;
    CHECK(core::reading_quality(reading) == core::ReadingQuality::partial);

    reading.values[1].quality = Quality::ok;
    reading.requests_quarantined = 1;
    CHECK(core::reading_quality(reading) == core::ReadingQuality::partial);

    reading.requests_quarantined = 0;
    reading.requests_failed = 1;
    CHECK(core::reading_quality(reading) == core::ReadingQuality::partial);
}

TEST_CASE("a reading with no answered request is offline", "[core]") {
    core::DeviceReading reading;
    reading.requests_failed = 2;
    reading.values.resize(4);
    CHECK(core::reading_quality(reading) == core::ReadingQuality::offline);
    CHECK(core::to_string(core::reading_quality(reading)) == "offline");
}
