#include "daemon/sinks/line_protocol.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace greenrack::sinks {

namespace {

constexpr std::string_view measurement_specials = ", ";
constexpr std::string_view key_specials = ",= ";

// Where a backslash cannot be kept because InfluxDB would read it as an escape (besides the
// end of the element, which is never safe).
constexpr std::string_view measurement_backslash_hazards = ",= \"";
constexpr std::string_view field_key_backslash_hazards = ",= \"";
// In tags a backslash before `,` or `=` is kept (`\\,` reads back as `\,`), but before a space
// InfluxDB's line splitter would take the space for the end of the tag set: with a `"` later in
// the line it then misses the line's end and rejects this line and the next one.
constexpr std::string_view tag_backslash_hazards = " ";

char without_line_break(char c) {
    return c == '\n' || c == '\r' ? ' ' : c;
}

bool contains(std::string_view set, char c) {
    return set.find(c) != std::string_view::npos;
}

// InfluxDB skips tabs and NULs where a line and its fields start: a name that starts with
// one gets a space instead (escaped like any space).
char without_skipped_start(char c) {
    return c == '\t' || c == '\0' ? ' ' : c;
}

void append_escaped(std::string& out, std::string_view text, std::string_view specials,
                    std::string_view backslash_hazards, bool blank_start = false) {
    // Most names need nothing escaped: one append.
    const bool plain =
        std::none_of(
            text.begin(), text.end(),
            [&](char c) { return c == '\\' || c == '\n' || c == '\r' || contains(specials, c); }) &&
        !(blank_start && !text.empty() && without_skipped_start(text[0]) != text[0]);
    if (plain) {
        out.append(text);
        return;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = without_line_break(text[i]);
        if (i == 0 && blank_start) {
            c = without_skipped_start(c);
        }
        if (contains(specials, c)) {
            out += '\\';
            out += c;
        } else if (c == '\\') {
            const bool last = i + 1 == text.size();
            const bool hazard =
                !last && contains(backslash_hazards, without_line_break(text[i + 1]));
            out += last || hazard ? '/' : '\\';
        } else {
            out += c;
        }
    }
}

template <typename Number> void append_number(std::string& out, Number value) {
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

} // namespace

std::string_view v1_precision(Precision precision) {
    switch (precision) {
    case Precision::s:
        return "s";
    case Precision::ms:
        return "ms";
    case Precision::us:
        return "u";
    case Precision::ns:
        return "n";
    }
    return "ms";
}

std::string_view v2_precision(Precision precision) {
    switch (precision) {
    case Precision::s:
        return "s";
    case Precision::ms:
        return "ms";
    case Precision::us:
        return "us";
    case Precision::ns:
        return "ns";
    }
    return "ms";
}

std::int64_t timestamp_in(std::chrono::system_clock::time_point ts, Precision precision) {
    using namespace std::chrono;
    const auto since_epoch = ts.time_since_epoch();
    switch (precision) {
    case Precision::s:
        return floor<seconds>(since_epoch).count();
    case Precision::ms:
        return floor<milliseconds>(since_epoch).count();
    case Precision::us:
        return floor<microseconds>(since_epoch).count();
    case Precision::ns:
        return floor<nanoseconds>(since_epoch).count();
    }
    return floor<milliseconds>(since_epoch).count();
}

void append_measurement(std::string& out, std::string_view name) {
    append_escaped(out, name, measurement_specials, measurement_backslash_hazards, true);
}

void append_tag_text(std::string& out, std::string_view text) {
    append_escaped(out, text, key_specials, tag_backslash_hazards);
}

void append_field_key(std::string& out, std::string_view key) {
    append_escaped(out, key, key_specials, field_key_backslash_hazards, true);
}

void append_string_value(std::string& out, std::string_view value) {
    out += '"';
    for (char c : value) {
        c = without_line_break(c);
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

LineBuilder& LineBuilder::begin(std::string_view measurement) {
    open_ = !measurement.empty() && measurement.front() != '#';
    measurement_.clear();
    tags_.clear();
    fields_.clear();
    if (open_) {
        append_measurement(measurement_, measurement);
    }
    return *this;
}

LineBuilder& LineBuilder::tag(std::string_view key, std::string_view value) {
    if (!open_ || key.empty() || value.empty() || key == "time") {
        return *this;
    }
    std::string escaped_key;
    append_tag_text(escaped_key, key);
    std::string escaped;
    append_tag_text(escaped, value);
    // Keys are compared as written: two keys written alike would be "duplicate tags" (a 400).
    auto existing = std::find_if(tags_.begin(), tags_.end(),
                                 [&](const auto& tag) { return tag.first == escaped_key; });
    if (existing != tags_.end()) {
        existing->second = std::move(escaped);
    } else {
        tags_.emplace_back(std::move(escaped_key), std::move(escaped));
    }
    return *this;
}

bool LineBuilder::field_key(std::string_view key) {
    if (!open_ || key.empty() || key == "time") {
        return false;
    }
    if (!fields_.empty()) {
        fields_ += ',';
    }
    append_field_key(fields_, key);
    fields_ += '=';
    return true;
}

LineBuilder& LineBuilder::field_float(std::string_view key, double value) {
    if (std::isfinite(value) && field_key(key)) {
        append_number(fields_, value);
    }
    return *this;
}

LineBuilder& LineBuilder::field_float32(std::string_view key, float value) {
    if (std::isfinite(value) && field_key(key)) {
        append_number(fields_, value);
    }
    return *this;
}

LineBuilder& LineBuilder::field_int(std::string_view key, std::int64_t value) {
    if (field_key(key)) {
        append_number(fields_, value);
        fields_ += 'i';
    }
    return *this;
}

LineBuilder& LineBuilder::field_count(std::string_view key, std::uint64_t value) {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return field_int(key, static_cast<std::int64_t>(std::min(value, max)));
}

LineBuilder& LineBuilder::field_bool(std::string_view key, bool value) {
    if (field_key(key)) {
        fields_ += value ? "true" : "false";
    }
    return *this;
}

LineBuilder& LineBuilder::field_string(std::string_view key, std::string_view value) {
    if (field_key(key)) {
        append_string_value(fields_, value);
    }
    return *this;
}

bool LineBuilder::end(std::chrono::system_clock::time_point ts) {
    const bool write = open_ && !fields_.empty();
    open_ = false;
    if (!write) {
        return false;
    }
    std::sort(tags_.begin(), tags_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out_ += measurement_;
    for (const auto& [key, value] : tags_) {
        out_ += ',';
        out_ += key;
        out_ += '=';
        out_ += value;
    }
    out_ += ' ';
    out_ += fields_;
    out_ += ' ';
    append_number(out_, timestamp_in(ts, precision_));
    out_ += '\n';
    ++lines_;
    return true;
}

std::string LineBuilder::take() {
    std::string result = std::move(out_);
    out_.clear();
    lines_ = 0;
    open_ = false;
    return result;
}

std::size_t count_lines(std::string_view text) {
    std::size_t count = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        if (end > start) {
            ++count;
        }
        start = end + 1;
    }
    return count;
}

Payloads split_into_payloads(std::string_view lines, std::size_t max_bytes) {
    Payloads result;
    std::string current;
    std::size_t start = 0;
    while (start < lines.size()) {
        std::size_t end = lines.find('\n', start);
        if (end == std::string_view::npos) {
            end = lines.size();
        }
        const std::string_view line = lines.substr(start, end - start);
        start = end + 1;
        if (line.empty()) {
            continue;
        }
        const std::size_t size = line.size() + 1; // with its '\n'
        if (size > max_bytes) {
            ++result.oversized_lines;
            continue;
        }
        if (current.size() + size > max_bytes) {
            result.payloads.push_back(std::move(current));
            current.clear();
        }
        current += line;
        current += '\n';
    }
    if (!current.empty()) {
        result.payloads.push_back(std::move(current));
    }
    return result;
}

} // namespace greenrack::sinks
