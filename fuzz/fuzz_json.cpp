// Fuzz target: the JSON encoders of daemon/sinks (json_writer, device_json, alert_json) with
// arbitrary bytes in every string and arbitrary numbers.
//
// Invariants: every output is valid JSON (strict UTF-8) that nlohmann::json parses, and reads back
// as what was written: strings with each byte that is not part of a valid UTF-8 sequence
// replaced by U+FFFD (and nothing else changed), doubles exactly, f32 values exactly at float
// precision, non-finite numbers as null, integers exactly; the payloads have the documented
// fields. The first input byte selects the encoder.

#include "daemon/core/device_reading.hpp"
#include "daemon/sinks/alert_json.hpp"
#include "daemon/sinks/device_json.hpp"
#include "daemon/sinks/json_writer.hpp"
#include "daemon/sinks/line_protocol.hpp"
#include "fuzz/fuzz_check.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <fuzzer/FuzzedDataProvider.h>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <vector>

using namespace greenrack;
using nlohmann::json;

namespace {

// Length of the valid UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), 0 when there is none. Written independently of sinks/utf8.cpp.
std::size_t valid_sequence(std::string_view text, std::size_t i) {
    const auto at = [&](std::size_t k) -> unsigned {
        return k < text.size() ? static_cast<unsigned char>(text[k]) : 0x100U;
    };
    const unsigned b0 = at(i);
    const auto tail = [](unsigned b) { return b >= 0x80 && b <= 0xBF; };
    if (b0 <= 0x7F) {
        return 1;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        return tail(at(i + 1)) ? 2 : 0;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
        const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
        const unsigned b1 = at(i + 1);
        return b1 >= lo && b1 <= hi && tail(at(i + 2)) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
        const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
        const unsigned b1 = at(i + 1);
        return b1 >= lo && b1 <= hi && tail(at(i + 2)) && tail(at(i + 3)) ? 4 : 0;
    }
    return 0;
}

// What a string must read back as.
std::string sanitized(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t length = valid_sequence(text, i);
        if (length == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    return out;
}

json parse(const std::string& text, const std::string& context) {
    try {
        return json::parse(text);
    } catch (const json::exception& err) {
        FUZZ_CHECK(false,
                   context + ": not valid JSON (" + err.what() + "): " + fuzz::printable(text));
    }
    return {};
}

// Expected numbers: f32 values are kept as their 4 bytes (binary) and compared at float
// precision; doubles exactly; NaN and infinities as null.
json expect_double(double value) {
    return std::isfinite(value) ? json(value) : json(nullptr);
}

json expect_float32(float value) {
    if (!std::isfinite(value)) {
        return nullptr;
    }
    const auto bits = std::bit_cast<std::uint32_t>(value);
    return json::binary({static_cast<std::uint8_t>(bits >> 24),
                         static_cast<std::uint8_t>(bits >> 16),
                         static_cast<std::uint8_t>(bits >> 8), static_cast<std::uint8_t>(bits)});
}

bool same(const json& got, const json& expected) {
    if (expected.is_binary()) {
        const auto& b = expected.get_binary();
        const std::uint32_t bits = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                                   (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
        return got.is_number() &&
               static_cast<float>(got.get<double>()) == std::bit_cast<float>(bits);
    }
    if (expected.is_object()) {
        if (!got.is_object() || got.size() != expected.size()) {
            return false;
        }
        for (const auto& [key, value] : expected.items()) {
            if (!got.contains(key) || !same(got.at(key), value)) {
                return false;
            }
        }
        return true;
    }
    if (expected.is_array()) {
        if (!got.is_array() || got.size() != expected.size()) {
            return false;
        }
        for (std::size_t i = 0; i < expected.size(); ++i) {
            if (!same(got[i], expected[i])) {
                return false;
            }
        }
        return true;
    }
    if (expected.is_number_float()) {
        return got.is_number() && got.get<double>() == expected.get<double>();
    }
    return got == expected;
}

void check_same(const std::string& text, const json& expected, const std::string& context) {
    const json got = parse(text, context);
    FUZZ_CHECK(same(got, expected), context + ": read back as " + got.dump() + ", expected " +
                                        expected.dump() + "\noutput: " + fuzz::printable(text));
}

std::string some_string(FuzzedDataProvider& in, std::size_t max = 24) {
    return in.ConsumeRandomLengthString(max);
}

double some_double(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
        return std::numeric_limits<double>::quiet_NaN();
    case 1:
        return std::numeric_limits<double>::infinity();
    case 2:
        return -std::numeric_limits<double>::infinity();
    case 3:
        return std::bit_cast<double>(in.ConsumeIntegral<std::uint64_t>());
    default:
        return in.ConsumeFloatingPoint<double>();
    }
}

float some_float(FuzzedDataProvider& in) {
    return in.ConsumeBool() ? std::bit_cast<float>(in.ConsumeIntegral<std::uint32_t>())
                            : in.ConsumeFloatingPoint<float>();
}

// --- 0: append_json_string ---------------------------------------------------------------

void fuzz_string(FuzzedDataProvider& in) {
    const std::string text = in.ConsumeRemainingBytesAsString();
    std::string out;
    sinks::append_json_string(out, text);
    const json got = parse(out, "append_json_string");
    FUZZ_CHECK(got.is_string() && got.get<std::string>() == sanitized(text),
               "append_json_string(\"" + fuzz::printable(text) + "\") read back as " + got.dump());
}

// --- 1: JsonWriter, random documents -------------------------------------------------------

void write_value(FuzzedDataProvider& in, sinks::JsonWriter& writer, json& expected, int depth);

void write_object(FuzzedDataProvider& in, sinks::JsonWriter& writer, json& expected, int depth) {
    writer.begin_object();
    expected = json::object();
    const auto members = in.ConsumeIntegralInRange<int>(0, 4);
    for (int i = 0; i < members && in.remaining_bytes() > 0; ++i) {
        const std::string key = some_string(in);
        writer.key(key);
        json value;
        write_value(in, writer, value, depth + 1);
        expected[sanitized(key)] = std::move(value); // a repeated key: the last one wins
    }
    writer.end_object();
}

void write_value(FuzzedDataProvider& in, sinks::JsonWriter& writer, json& expected, int depth) {
    const int kind = in.ConsumeIntegralInRange<int>(0, depth > 6 ? 6 : 8);
    switch (kind) {
    case 0: {
        const double v = some_double(in);
        writer.value(v);
        expected = expect_double(v);
        break;
    }
    case 1: {
        const float v = some_float(in);
        writer.value_float32(v);
        expected = expect_float32(v);
        break;
    }
    case 2: {
        const auto v = in.ConsumeIntegral<std::int64_t>();
        writer.value(v);
        expected = v;
        break;
    }
    case 3: {
        const auto v = in.ConsumeIntegral<std::uint64_t>();
        writer.value(v);
        expected = v;
        break;
    }
    case 4: {
        const bool v = in.ConsumeBool();
        writer.value(v);
        expected = v;
        break;
    }
    case 5: {
        const std::string v = some_string(in, 64);
        writer.value(std::string_view(v));
        expected = sanitized(v);
        break;
    }
    case 6:
        writer.null();
        expected = nullptr;
        break;
    case 7:
        write_object(in, writer, expected, depth);
        break;
    default: {
        writer.begin_array();
        expected = json::array();
        const auto items = in.ConsumeIntegralInRange<int>(0, 4);
        for (int i = 0; i < items && in.remaining_bytes() > 0; ++i) {
            json value;
            write_value(in, writer, value, depth + 1);
            expected.push_back(std::move(value));
        }
        writer.end_array();
        break;
    }
    }
}

void fuzz_writer(FuzzedDataProvider& in) {
    sinks::JsonWriter writer;
    // Two documents through one writer: clear() must forget everything about the first.
    for (int round = 0; round < 2; ++round) {
        json expected;
        write_value(in, writer, expected, 0);
        check_same(writer.str(), expected, "JsonWriter document");
        writer.clear();
    }
}

// --- 2: device state and meta payloads -----------------------------------------------------

constexpr std::array<modbus::DataType, 5> point_types{
    modbus::DataType::u16, modbus::DataType::f32, modbus::DataType::f64, modbus::DataType::string,
    modbus::DataType::i32};
constexpr std::array<modbus::Quality, 4> qualities{modbus::Quality::ok, modbus::Quality::missing,
                                                   modbus::Quality::implausible,
                                                   modbus::Quality::error};

void fuzz_device(FuzzedDataProvider& in) {
    profiles::DeviceProfile profile;
    profile.name = some_string(in);
    profile.description = some_string(in, 64);
    core::DeviceReading reading;
    reading.ts = std::chrono::system_clock::time_point(std::chrono::milliseconds(
        in.ConsumeIntegralInRange<std::int64_t>(-(1LL << 42), 1LL << 42)));
    reading.seq = in.ConsumeIntegral<std::uint64_t>();
    reading.duration =
        std::chrono::microseconds(in.ConsumeIntegralInRange<std::int64_t>(0, 1LL << 40));
    reading.requests_ok = in.ConsumeIntegral<std::uint32_t>();
    reading.requests_failed = in.ConsumeIntegralInRange<std::uint32_t>(0, 3);
    if (in.ConsumeBool()) {
        reading.error =
            std::error_code(in.ConsumeIntegralInRange<int>(1, 200), std::generic_category());
    }
    const auto points = in.ConsumeIntegralInRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < points; ++i) {
        modbus::PointSpec point;
        point.name = some_string(in);
        point.type = point_types[in.ConsumeIntegralInRange<std::size_t>(0, point_types.size() - 1)];
        point.scale = in.ConsumeBool() ? 1.0 : 0.1;
        point.unit = some_string(in, 8);
        point.role = some_string(in, 8);
        point.index = in.ConsumeIntegralInRange<int>(0, 3);
        modbus::PointValue value;
        value.quality = qualities[in.ConsumeIntegralInRange<std::size_t>(0, qualities.size() - 1)];
        if (point.type == modbus::DataType::string) {
            value.text = some_string(in, 40);
        } else if (point.type == modbus::DataType::f32) {
            value.value = static_cast<double>(some_float(in));
        } else {
            value.value = some_double(in);
        }
        profile.points.push_back(std::move(point));
        reading.values.push_back(std::move(value));
    }
    // Fewer values than points (a reading from before a reload): only the common prefix.
    if (!reading.values.empty() && in.ConsumeIntegralInRange<int>(0, 7) == 0) {
        reading.values.pop_back();
    }
    const std::string device_id = some_string(in);

    json expected = json::object();
    expected["ts"] = sinks::to_unix_ms(reading.ts);
    expected["seq"] = reading.seq;
    expected["device"] = sanitized(device_id);
    expected["quality"] = std::string(core::to_string(core::reading_quality(reading)));
    expected["poll_ms"] = static_cast<double>(reading.duration.count()) / 1000.0;
    if (reading.error) {
        expected["error"] = sanitized(reading.error.message());
    }
    json points_json = json::object();
    for (std::size_t i = 0; i < reading.values.size(); ++i) {
        const auto& point = profile.points[i];
        const auto& value = reading.values[i];
        json entry = json::object();
        if (value.quality != modbus::Quality::ok) {
            entry["value"] = nullptr;
        } else if (point.type == modbus::DataType::string) {
            entry["value"] = sanitized(value.text);
        } else if (point.type == modbus::DataType::f32 && point.scale == 1.0) {
            entry["value"] = expect_float32(static_cast<float>(value.value));
        } else {
            entry["value"] = expect_double(value.value);
        }
        entry["quality"] = std::string(modbus::to_string(value.quality));
        points_json[sanitized(point.name)] = std::move(entry);
    }
    expected["points"] = std::move(points_json);
    check_same(sinks::encode_device_state(device_id, profile, reading), expected,
               "encode_device_state");

    sinks::DeviceMeta meta;
    const std::string bus = some_string(in);
    const std::string endpoint = some_string(in);
    meta.device_id = device_id;
    meta.bus_id = bus;
    meta.endpoint = endpoint;
    meta.unit_id = in.ConsumeIntegral<int>();
    meta.poll_interval = std::chrono::milliseconds(in.ConsumeIntegral<std::int32_t>());
    json meta_expected = {{"device", sanitized(device_id)},
                          {"profile", sanitized(profile.name)},
                          {"device_role", std::string(profiles::to_string(profile.device_role))},
                          {"description", sanitized(profile.description)},
                          {"bus", sanitized(bus)},
                          {"endpoint", sanitized(endpoint)},
                          {"unit_id", meta.unit_id},
                          {"poll_interval_ms", meta.poll_interval.count()}};
    json meta_points = json::object();
    for (const auto& point : profile.points) {
        json entry = {{"unit", sanitized(point.unit)},
                      {"kind", std::string(modbus::to_string(point.kind))}};
        if (!point.role.empty()) {
            entry["role"] = sanitized(point.role);
        }
        if (point.index != 0) {
            entry["index"] = point.index;
        }
        meta_points[sanitized(point.name)] = std::move(entry);
    }
    meta_expected["points"] = std::move(meta_points);
    check_same(sinks::encode_device_meta(meta, profile), meta_expected, "encode_device_meta");
}

// --- 3: alert state and event payloads -----------------------------------------------------

json expect_time(std::int64_t ms) {
    return ms > 0 ? json(ms) : json(nullptr);
}

json expect_optional(const std::optional<double>& value) {
    return value ? expect_double(*value) : json(nullptr);
}

void fuzz_alert(FuzzedDataProvider& in) {
    alerts::AlertEvent event;
    event.from = static_cast<alerts::AlertState>(in.ConsumeIntegralInRange<int>(0, 3));
    event.to = static_cast<alerts::AlertState>(in.ConsumeIntegralInRange<int>(0, 3));
    event.ts_ms = in.ConsumeIntegralInRange<std::int64_t>(-(1LL << 42), 1LL << 42);
    alerts::AlertStatus& status = event.status;
    status.rule = some_string(in);
    status.subject = some_string(in);
    status.scope = static_cast<alerts::Scope>(in.ConsumeIntegralInRange<int>(0, 3));
    status.state = event.to;
    status.since_ms = in.ConsumeIntegral<std::int64_t>();
    status.active_at_ms = in.ConsumeIntegral<std::int64_t>();
    status.fired_at_ms = in.ConsumeIntegral<std::int64_t>();
    status.resolved_at_ms = in.ConsumeIntegral<std::int64_t>();
    if (in.ConsumeBool()) {
        status.value = some_double(in);
    }
    status.threshold = some_double(in);
    status.clear_threshold = some_double(in);
    status.severity = some_string(in, 10);
    status.summary = some_string(in, 80);
    const auto labels = in.ConsumeIntegralInRange<int>(0, 4);
    for (int i = 0; i < labels; ++i) {
        const std::string name = some_string(in, 12);
        status.labels[name] = some_string(in, 20);
    }
    if (in.ConsumeBool()) {
        alerts::Cause cause;
        cause.window =
            std::chrono::milliseconds(in.ConsumeIntegralInRange<std::int64_t>(0, 1LL << 40));
        const auto racks = in.ConsumeIntegralInRange<int>(0, 3);
        for (int i = 0; i < racks; ++i) {
            cause.racks.push_back({some_string(in, 12), some_double(in), some_double(in)});
        }
        if (in.ConsumeBool()) {
            cause.headroom_free_w = some_double(in);
        }
        if (in.ConsumeBool()) {
            cause.headroom_total_w = some_double(in);
        }
        status.cause = std::move(cause);
    }

    json fields = {{"rule", sanitized(status.rule)},
                   {"subject", sanitized(status.subject)},
                   {"scope", std::string(alerts::to_string(status.scope))},
                   {"state", std::string(alerts::to_string(status.state))},
                   {"severity", sanitized(status.severity)},
                   {"since", expect_time(status.since_ms)},
                   {"active_at", expect_time(status.active_at_ms)},
                   {"fired_at", expect_time(status.fired_at_ms)},
                   {"resolved_at", expect_time(status.resolved_at_ms)},
                   {"value", expect_optional(status.value)},
                   {"threshold", expect_double(status.threshold)},
                   {"clear_threshold", expect_double(status.clear_threshold)},
                   {"summary", sanitized(status.summary)}};
    json labels_json = json::object();
    for (const auto& [name, value] : status.labels) {
        labels_json[sanitized(name)] = sanitized(value);
    }
    fields["labels"] = std::move(labels_json);
    if (status.cause) {
        json racks = json::array();
        for (const auto& rack : status.cause->racks) {
            racks.push_back({{"rack", sanitized(rack.rack)},
                             {"nongreen_wh", expect_double(rack.nongreen_wh)},
                             {"share", expect_double(rack.share)}});
        }
        fields["cause"] = {
            {"window_s", status.cause->window.count() / 1000},
            {"racks", std::move(racks)},
            {"headroom_free_w", expect_optional(status.cause->headroom_free_w)},
            {"headroom_total_w", expect_optional(status.cause->headroom_total_w)},
            {"headroom_storage_w", expect_optional(status.cause->headroom_storage_w)}};
    } else {
        fields["cause"] = nullptr;
    }
    const auto ts_ms = in.ConsumeIntegral<std::int64_t>();
    json state = fields;
    state["ts"] = ts_ms;
    check_same(sinks::encode_alert_state(status, ts_ms), state, "encode_alert_state");

    json event_json = fields;
    event_json["ts"] = event.ts_ms;
    event_json["type"] = "alert";
    event_json["from"] = std::string(alerts::to_string(event.from));
    event_json["to"] = std::string(alerts::to_string(event.to));
    check_same(sinks::encode_alert_event(event), event_json, "encode_alert_event");

    // The same transition as one line of line protocol (fuzz_line_protocol checks the escaping).
    sinks::LineBuilder lines;
    sinks::append_alert_line(lines, some_string(in, 12), event);
    FUZZ_CHECK(lines.lines() == 1 && sinks::count_lines(lines.str()) == 1,
               "append_alert_line writes one line: " + fuzz::printable(lines.str()));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
        fuzz_string(in);
        break;
    case 1:
        fuzz_writer(in);
        break;
    case 2:
        fuzz_device(in);
        break;
    default:
        fuzz_alert(in);
        break;
    }
    return 0;
}
