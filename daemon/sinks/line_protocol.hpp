#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace greenrack::sinks {

// InfluxDB line protocol, written by hand so every sink (HTTP, MQTT) and test shares one
// encoder. Pure: no I/O, no clock (timestamps are inputs).
//
//   measurement[,tag=value...] field=value[,field=value...] timestamp\n
//
// Escaping (checked against influxd 1.6.7):
// * measurement: `,` and space get a backslash;
// * tag keys, tag values and field keys: `,`, `=` and space get a backslash;
// * string field values are quoted; `"` and `\` inside get a backslash.
// * A line break (`\n`, `\r`) in any name or value is replaced by a space: line protocol has
//   no way to carry one.
// * A tab or NUL at the start of a measurement or field key is replaced by a space (then
//   escaped): InfluxDB skips them before a line and before its first field.
// * Outside string values, a backslash is kept as is, except where InfluxDB would read it as
//   an escape and cannot store it: at the end of a name or tag value, right before a space, and
//   (measurement and field keys) right before `,`, `=` or `"`. There it is replaced by `/`.
// Tags are written sorted by escaped key (byte order); a tag set twice (or two keys written
// alike, e.g. differing only in `\n` versus `\r`) keeps its last value; a tag
// with an empty key or value is left out (an empty value is a 400 on the server), and so is a
// tag or field named `time` (InfluxDB refuses or ignores it). Floats use the shortest text
// that reads back to the same double; NaN and infinities are skipped (a 400 on the server).
// Integers get the `i` suffix (InfluxDB 1.x has no unsigned `u`), booleans are true/false.
// A line without any field, or with an empty measurement or one starting with `#` (a comment
// line), is not written.

// Timestamp precision of the written lines and the matching `precision=` query value.
enum class Precision : std::uint8_t { s, ms, us, ns };

// `precision=` of the v1 /write endpoint: s, ms, u, n (v1 silently reads `us` as ns).
std::string_view v1_precision(Precision precision);
// `precision=` of the v2 /api/v2/write endpoint: s, ms, us, ns.
std::string_view v2_precision(Precision precision);
// Time since the Unix epoch in units of `precision` (rounded down).
std::int64_t timestamp_in(std::chrono::system_clock::time_point ts, Precision precision);

// Builds lines one at a time into a growing buffer:
//   builder.begin("device").tag("site", "a").field_float("p_w", 1.5).end(ts);
class LineBuilder {
public:
    explicit LineBuilder(Precision precision = Precision::ms) : precision_(precision) {}

    // Starts a new line (a line begun but not ended is discarded).
    LineBuilder& begin(std::string_view measurement);
    LineBuilder& tag(std::string_view key, std::string_view value);
    LineBuilder& field_float(std::string_view key, double value);
    // A float written with the shortest text at float precision (for f32 register values).
    LineBuilder& field_float32(std::string_view key, float value);
    LineBuilder& field_int(std::string_view key, std::int64_t value);
    // An unsigned counter, written as an integer (`i`), saturating at 2^63 - 1.
    LineBuilder& field_count(std::string_view key, std::uint64_t value);
    LineBuilder& field_bool(std::string_view key, bool value);
    LineBuilder& field_string(std::string_view key, std::string_view value);
    // Finishes the line with its timestamp and appends it to the buffer. False (and nothing
    // appended) when the line has no field or no usable measurement.
    bool end(std::chrono::system_clock::time_point ts);

    Precision precision() const { return precision_; }
    std::size_t lines() const { return lines_; }
    const std::string& str() const { return out_; }
    // Hands over the buffer and starts afresh.
    std::string take();

private:
    bool field_key(std::string_view key);

    Precision precision_;
    std::string out_;
    std::size_t lines_ = 0;
    bool open_ = false;
    std::string measurement_;                               // escaped
    std::vector<std::pair<std::string, std::string>> tags_; // escaped key, escaped value
    std::string fields_;                                    // escaped, comma separated
};

// Appends text escaped as the element names (exposed for tests and for other encoders).
void append_measurement(std::string& out, std::string_view name);
void append_tag_text(std::string& out, std::string_view text); // tag key or tag value
void append_field_key(std::string& out, std::string_view key);
void append_string_value(std::string& out, std::string_view value); // with the quotes

// Number of lines in a block of line protocol (non-empty `\n`-separated pieces).
std::size_t count_lines(std::string_view text);

// Cuts a block of lines into payloads of at most `max_bytes` bytes, whole lines only, each
// line keeping its `\n` (for the MQTT line-protocol topic). A single line longer than
// `max_bytes` cannot be sent whole: it is left out and counted in `oversized_lines`.
struct Payloads {
    std::vector<std::string> payloads;
    std::size_t oversized_lines = 0;
};
Payloads split_into_payloads(std::string_view lines, std::size_t max_bytes);

} // namespace greenrack::sinks
