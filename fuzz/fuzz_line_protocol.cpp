// Fuzz target: InfluxDB line protocol (daemon/sinks/line_protocol.hpp). A sequence of LineBuilder
// calls with arbitrary measurement names, tag keys and values, field keys and values (any bytes,
// NaN, infinities, extreme integers) is written and then read back with a port of InfluxDB 1.x's
// own parser (influx_line_parser.cpp).
//
// Invariants: every line LineBuilder reports as written is accepted by the server's parser and
// reads back as exactly what was meant, after the transformations line_protocol.hpp documents
// (line breaks become spaces; an unstorable backslash becomes '/'; tags sorted, a tag set twice
// keeps its last value, empty tags, `time` and non-finite floats left out); nothing else is in
// the buffer; count_lines agrees; split_into_payloads keeps whole lines within the size limit.

#include "daemon/sinks/line_protocol.hpp"
#include "fuzz/fuzz_check.hpp"
#include "fuzz/influx_line_parser.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <fuzzer/FuzzedDataProvider.h>
#include <map>
#include <string>
#include <variant>
#include <vector>

using namespace greenrack;
using fuzz::InfluxField;
using sinks::LineBuilder;

namespace {

// What the server should store for a name: line breaks as spaces (and, with `blank_start`, a
// leading tab or NUL), and a backslash that would be read as an escape (at the end, or before
// one of `hazards`) as '/'.
std::string stored_name(std::string_view text, std::string_view hazards, bool blank_start) {
    std::string out;
    const auto plain = [](char c) { return c == '\n' || c == '\r' ? ' ' : c; };
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = plain(text[i]);
        if (i == 0 && blank_start && (c == '\t' || c == '\0')) {
            c = ' ';
        }
        if (c == '\\' &&
            (i + 1 == text.size() || hazards.find(plain(text[i + 1])) != std::string_view::npos)) {
            out += '/';
        } else {
            out += c;
        }
    }
    return out;
}

std::string stored_measurement(std::string_view text) {
    return stored_name(text, ",= \"", true);
}
// In tags a backslash before a space is a hazard too (see line_protocol.cpp).
std::string stored_tag(std::string_view text) {
    return stored_name(text, " ", false);
}
std::string stored_field_key(std::string_view text) {
    return stored_name(text, ",= \"", true);
}
std::string stored_string_value(std::string_view text) {
    std::string out(text);
    std::replace(out.begin(), out.end(), '\n', ' ');
    std::replace(out.begin(), out.end(), '\r', ' ');
    return out;
}

struct ExpectedField {
    std::string key;
    InfluxField::Type type = InfluxField::Type::empty;
    double number = 0.0;
    bool float32 = false;
    std::int64_t integer = 0;
    bool boolean = false;
    std::string text;
};

struct ExpectedLine {
    std::string measurement;
    // Stored tag key -> raw value: keys that are stored alike are one tag, the last value wins.
    std::map<std::string, std::string> tags;
    std::vector<ExpectedField> fields;
    std::int64_t timestamp = 0;
};

std::string describe(const ExpectedLine& line) {
    std::string out = "measurement \"" + fuzz::printable(line.measurement) + "\"";
    for (const auto& [key, value] : line.tags) {
        out += ", tag \"" + fuzz::printable(key) + "\"=\"" + fuzz::printable(value) + "\"";
    }
    for (const auto& field : line.fields) {
        out += ", field \"" + fuzz::printable(field.key) + "\"";
    }
    return out;
}

std::string some_name(FuzzedDataProvider& in) {
    // Mostly short, often with the characters line protocol treats specially.
    static constexpr std::string_view specials = ",= \"\\\n\r\t#";
    std::string text = in.ConsumeRandomLengthString(16);
    if (!text.empty() && in.ConsumeIntegralInRange<int>(0, 3) == 0) {
        const auto pos = in.ConsumeIntegralInRange<std::size_t>(0, text.size() - 1);
        text[pos] = specials[in.ConsumeIntegralInRange<std::size_t>(0, specials.size() - 1)];
    }
    return text;
}

double some_double(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
        return std::bit_cast<double>(in.ConsumeIntegral<std::uint64_t>());
    case 1:
        return std::numeric_limits<double>::quiet_NaN();
    case 2:
        return std::numeric_limits<double>::infinity();
    default:
        return in.ConsumeFloatingPoint<double>();
    }
}

bool same_field(const InfluxField& got, const ExpectedField& expected) {
    if (got.key != expected.key || got.type != expected.type) {
        return false;
    }
    switch (expected.type) {
    case InfluxField::Type::float_:
        return expected.float32
                   ? static_cast<float>(got.number) == static_cast<float>(expected.number)
                   : got.number == expected.number;
    case InfluxField::Type::integer:
        return got.integer == expected.integer;
    case InfluxField::Type::boolean:
        return got.boolean == expected.boolean;
    case InfluxField::Type::string:
        return got.text == expected.text;
    case InfluxField::Type::empty:
        return true;
    }
    return false;
}

void check_block(const std::string& block, const std::vector<ExpectedLine>& expected,
                 sinks::Precision precision) {
    FUZZ_CHECK(sinks::count_lines(block) == expected.size(),
               "count_lines = " + std::to_string(sinks::count_lines(block)) + ", expected " +
                   std::to_string(expected.size()) + ": " + fuzz::printable(block));
    const auto parsed = fuzz::parse_influx_lines(block, sinks::v1_precision(precision));
    FUZZ_CHECK(parsed.errors.empty(),
               "InfluxDB rejects a line: " +
                   fuzz::printable(parsed.errors.empty() ? std::string() : parsed.errors.front()));
    FUZZ_CHECK(parsed.points.size() == expected.size(),
               "InfluxDB reads " + std::to_string(parsed.points.size()) + " points, " +
                   std::to_string(expected.size()) + " were written: " + fuzz::printable(block));
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& want = expected[i];
        const auto& got = parsed.points[i];
        const std::string context = describe(want) + "\nline: " + fuzz::printable(block);
        const std::string name = stored_measurement(want.measurement);
        FUZZ_CHECK(got.name == name && got.parsed_name == name,
                   "measurement read back as \"" + fuzz::printable(got.name) + "\" / \"" +
                       fuzz::printable(got.parsed_name) + "\", expected \"" +
                       fuzz::printable(name) + "\": " + context);
        std::vector<std::pair<std::string, std::string>> want_tags;
        for (const auto& [key, value] : want.tags) {
            want_tags.emplace_back(key, stored_tag(value));
        }
        auto got_tags = got.tags;
        std::sort(want_tags.begin(), want_tags.end());
        std::sort(got_tags.begin(), got_tags.end());
        FUZZ_CHECK(got_tags == want_tags, "tags differ: " + context);
        FUZZ_CHECK(got.fields.size() == want.fields.size(),
                   "field count " + std::to_string(got.fields.size()) + ", expected " +
                       std::to_string(want.fields.size()) + ": " + context);
        for (std::size_t f = 0; f < want.fields.size(); ++f) {
            FUZZ_CHECK(same_field(got.fields[f], want.fields[f]),
                       "field " + std::to_string(f) + " read back as \"" +
                           fuzz::printable(got.fields[f].key) +
                           "\"=" + fuzz::printable(got.fields[f].raw) + ", expected key \"" +
                           fuzz::printable(want.fields[f].key) + "\": " + context);
        }
        FUZZ_CHECK(got.timestamp && *got.timestamp == want.timestamp, "timestamp: " + context);
    }
}

void check_payloads(const std::string& block, std::size_t max_bytes) {
    const auto result = sinks::split_into_payloads(block, max_bytes);
    std::string joined;
    for (const auto& payload : result.payloads) {
        FUZZ_CHECK(!payload.empty() && payload.size() <= max_bytes && payload.back() == '\n',
                   "payload of " + std::to_string(payload.size()) + " bytes, limit " +
                       std::to_string(max_bytes));
        joined += payload;
    }
    // Whole lines, in order; only lines longer than the limit are left out.
    std::string kept;
    std::size_t oversized = 0;
    std::size_t start = 0;
    while (start < block.size()) {
        std::size_t end = block.find('\n', start);
        end = end == std::string::npos ? block.size() : end;
        const std::size_t length = end - start;
        if (length > 0) {
            if (length + 1 > max_bytes) {
                ++oversized;
            } else {
                kept.append(block, start, length);
                kept += '\n';
            }
        }
        start = end + 1;
    }
    FUZZ_CHECK(joined == kept && result.oversized_lines == oversized,
               "split_into_payloads(" + std::to_string(max_bytes) + ") lost or changed lines");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const auto precision = static_cast<sinks::Precision>(in.ConsumeIntegralInRange<int>(0, 3));
    LineBuilder builder(precision);
    std::vector<ExpectedLine> expected;
    std::optional<ExpectedLine> open;

    while (in.remaining_bytes() > 0) {
        switch (in.ConsumeIntegralInRange<int>(0, 10)) {
        case 0: {
            const std::string measurement = some_name(in);
            builder.begin(measurement);
            open.reset();
            if (!measurement.empty() && measurement.front() != '#') {
                open = ExpectedLine{};
                open->measurement = measurement;
            }
            break;
        }
        case 1: {
            const std::string key = some_name(in);
            const std::string value = some_name(in);
            builder.tag(key, value);
            if (open && !key.empty() && !value.empty() && key != "time") {
                open->tags[stored_tag(key)] = value;
            }
            break;
        }
        case 2:
        case 3: {
            const std::string key = some_name(in);
            const double value = some_double(in);
            builder.field_float(key, value);
            if (open && !key.empty() && key != "time" && std::isfinite(value)) {
                open->fields.push_back(
                    {stored_field_key(key), InfluxField::Type::float_, value, false, 0, false, ""});
            }
            break;
        }
        case 4: {
            const std::string key = some_name(in);
            const auto value = std::bit_cast<float>(in.ConsumeIntegral<std::uint32_t>());
            builder.field_float32(key, value);
            if (open && !key.empty() && key != "time" && std::isfinite(value)) {
                open->fields.push_back({stored_field_key(key), InfluxField::Type::float_,
                                        static_cast<double>(value), true, 0, false, ""});
            }
            break;
        }
        case 5: {
            const std::string key = some_name(in);
            const auto value = in.ConsumeIntegral<std::int64_t>();
            builder.field_int(key, value);
            if (open && !key.empty() && key != "time") {
                open->fields.push_back({stored_field_key(key), InfluxField::Type::integer, 0.0,
                                        false, value, false, ""});
            }
            break;
        }
        case 6: {
            const std::string key = some_name(in);
            const auto value = in.ConsumeIntegral<std::uint64_t>();
            builder.field_count(key, value);
            if (open && !key.empty() && key != "time") {
                const auto clamped = static_cast<std::int64_t>(
                    std::min<std::uint64_t>(value, std::numeric_limits<std::int64_t>::max()));
                open->fields.push_back({stored_field_key(key), InfluxField::Type::integer, 0.0,
                                        false, clamped, false, ""});
            }
            break;
        }
        case 7: {
            const std::string key = some_name(in);
            const bool value = in.ConsumeBool();
            builder.field_bool(key, value);
            if (open && !key.empty() && key != "time") {
                open->fields.push_back(
                    {stored_field_key(key), InfluxField::Type::boolean, 0.0, false, 0, value, ""});
            }
            break;
        }
        case 8: {
            const std::string key = some_name(in);
            const std::string value = in.ConsumeRandomLengthString(32);
            builder.field_string(key, value);
            if (open && !key.empty() && key != "time") {
                open->fields.push_back({stored_field_key(key), InfluxField::Type::string, 0.0,
                                        false, 0, false, stored_string_value(value)});
            }
            break;
        }
        case 9: {
            // Timestamps InfluxDB accepts: within about +-146 years of 1970 in nanoseconds.
            const auto ns = in.ConsumeIntegralInRange<std::int64_t>(-(std::int64_t{1} << 62),
                                                                    std::int64_t{1} << 62);
            const std::chrono::system_clock::time_point ts{std::chrono::nanoseconds(ns)};
            const bool written = builder.end(ts);
            const bool expect = open && !open->fields.empty();
            FUZZ_CHECK(written == expect, "end() returned " + std::to_string(written));
            if (expect) {
                open->timestamp = sinks::timestamp_in(ts, precision);
                expected.push_back(std::move(*open));
            }
            open.reset();
            break;
        }
        default: {
            FUZZ_CHECK(builder.lines() == expected.size(), "lines() before take()");
            const std::string block = builder.take();
            check_block(block, expected, precision);
            check_payloads(block, in.ConsumeIntegralInRange<std::size_t>(1, 256));
            expected.clear();
            open.reset();
            FUZZ_CHECK(builder.str().empty() && builder.lines() == 0, "take() resets");
            break;
        }
        }
    }
    FUZZ_CHECK(builder.lines() == expected.size(), "lines()");
    check_block(builder.str(), expected, precision);
    return 0;
}
