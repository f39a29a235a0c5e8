#pragma once

// A reader of InfluxDB line protocol that follows InfluxDB 1.x's own parser (models/points.go and
// pkg/escape: ParsePointsWithPrecision, scanKey, scanFields, scanTime, the field iterator, Name()
// and the tag walk) step by step, so that the fuzz target can check that what LineBuilder writes
// is read back by the server as what was meant. Only what the server does with text is modelled
// (no storage, no type conflicts between lines).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace greenrack::fuzz {

struct InfluxField {
    enum class Type : std::uint8_t { empty, float_, integer, boolean, string };
    std::string key; // unescaped, as the server stores it
    Type type = Type::empty;
    std::string raw; // the value as written
    double number = 0.0;
    std::int64_t integer = 0;
    bool boolean = false;
    std::string text; // string values, unescaped
};

struct InfluxPoint {
    std::string name;        // Point.Name(): escape.Unescape of the key's measurement
    std::string parsed_name; // models.ParseName(key): unescapeMeasurement (the index's view)
    std::vector<std::pair<std::string, std::string>> tags; // unescaped, in key order
    std::vector<InfluxField> fields;                       // in line order
    std::optional<std::int64_t> timestamp;                 // as written (precision units)
};

struct InfluxParse {
    std::vector<InfluxPoint> points;
    std::vector<std::string> errors; // one per rejected line: "<reason>: <line>"
};

// Parses a block of lines like InfluxDB 1.x's /write endpoint. `precision` is the v1 query value
// ("n", "u", "ms", "s") used for the timestamp range check.
InfluxParse parse_influx_lines(std::string_view block, std::string_view precision);

} // namespace greenrack::fuzz
