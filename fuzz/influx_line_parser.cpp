// Port of the parsing half of InfluxDB 1.x models/points.go (and pkg/escape), keeping its
// structure and its quirks: a backslash makes the next byte "escaped" while scanning, but only
// some escape pairs are removed afterwards, and each part of a line is unescaped by a different
// function. Go's slice bounds checks become ParsePanic (the server would fail the request).

#include "fuzz/influx_line_parser.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace greenrack::fuzz {

namespace {

using Bytes = std::string_view;

struct ParseError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr std::size_t max_key_length = 65535;
constexpr int tag_key_state = 0;
constexpr int tag_value_state = 1;
constexpr int fields_state = 2;

// buf[i] with Go's bounds check.
char at(Bytes buf, long i) {
    if (i < 0 || static_cast<std::size_t>(i) >= buf.size()) {
        throw ParseError("index out of range (the Go parser would panic)");
    }
    return buf[static_cast<std::size_t>(i)];
}

long len(Bytes buf) {
    return static_cast<long>(buf.size());
}

Bytes slice(Bytes buf, long from, long to) {
    return buf.substr(static_cast<std::size_t>(from), static_cast<std::size_t>(to - from));
}

long skip_whitespace(Bytes buf, long i) {
    while (i < len(buf)) {
        const char c = at(buf, i);
        if (c != ' ' && c != '\t' && c != '\0') {
            break;
        }
        ++i;
    }
    return i;
}

// scanLine: the end of the line starting at i (a '\n' inside a quoted field value does not end
// it).
long scan_line(Bytes buf, long i) {
    bool quoted = false;
    bool fields = false;
    int equals = 0;
    int commas = 0;
    for (;;) {
        if (i >= len(buf)) {
            break;
        }
        if (at(buf, i) == '\\' && i + 2 < len(buf)) {
            i += 2;
            continue;
        }
        if (at(buf, i) == ' ') {
            fields = true;
        }
        if (fields) {
            if (!quoted && at(buf, i) == '=') {
                ++i;
                ++equals;
                continue;
            }
            if (!quoted && at(buf, i) == ',') {
                ++i;
                ++commas;
                continue;
            }
            if (at(buf, i) == '"' && equals > commas) {
                ++i;
                quoted = !quoted;
                continue;
            }
        }
        if (at(buf, i) == '\n' && !quoted) {
            break;
        }
        ++i;
    }
    return i;
}

// scanTo: up to the first `stop` not preceded by a backslash.
std::pair<long, Bytes> scan_to(Bytes buf, long i, char stop) {
    const long start = i;
    for (;;) {
        if (i >= len(buf)) {
            break;
        }
        if (at(buf, i) == stop && (i == 0 || at(buf, i - 1) != '\\')) {
            break;
        }
        ++i;
    }
    return {i, slice(buf, start, i)};
}

std::pair<long, Bytes> scan_to_space_or(Bytes buf, long i, char stop) {
    const long start = i;
    if (at(buf, i) == stop || at(buf, i) == ' ') {
        return {i, slice(buf, start, i)};
    }
    for (;;) {
        ++i;
        if (at(buf, i - 1) == '\\') {
            continue;
        }
        if (i >= len(buf)) {
            return {i, slice(buf, start, i)};
        }
        if (at(buf, i) == stop || at(buf, i) == ' ') {
            return {i, slice(buf, start, i)};
        }
    }
}

std::pair<int, long> scan_measurement(Bytes buf, long i) {
    if (i >= len(buf) || at(buf, i) == ',') {
        throw ParseError("missing measurement");
    }
    for (;;) {
        ++i;
        if (i >= len(buf)) {
            throw ParseError("missing fields");
        }
        if (at(buf, i - 1) == '\\') {
            continue;
        }
        if (at(buf, i) == ',') {
            return {tag_key_state, i + 1};
        }
        if (at(buf, i) == ' ') {
            return {fields_state, i};
        }
    }
}

long scan_tags_key(Bytes buf, long i) {
    if (i >= len(buf) || at(buf, i) == ' ' || at(buf, i) == ',' || at(buf, i) == '=') {
        throw ParseError("missing tag key");
    }
    for (;;) {
        ++i;
        if (i >= len(buf) || ((at(buf, i) == ' ' || at(buf, i) == ',') && at(buf, i - 1) != '\\')) {
            throw ParseError("missing tag value");
        }
        if (at(buf, i) == '=' && at(buf, i - 1) != '\\') {
            return i + 1;
        }
    }
}

std::pair<int, long> scan_tags_value(Bytes buf, long i) {
    if (i >= len(buf) || at(buf, i) == ',' || at(buf, i) == ' ') {
        throw ParseError("missing tag value");
    }
    for (;;) {
        ++i;
        if (i >= len(buf)) {
            throw ParseError("missing fields");
        }
        if (at(buf, i) == '=' && at(buf, i - 1) != '\\') {
            throw ParseError("invalid tag format");
        }
        if (at(buf, i) == ',' && at(buf, i - 1) != '\\') {
            return {tag_key_state, i + 1};
        }
        if (at(buf, i) == ' ' && at(buf, i - 1) != '\\') {
            return {fields_state, i};
        }
    }
}

// scanTags: positions of each tag's key, plus one past the end of the tag set.
long scan_tags(Bytes buf, long i, std::vector<long>& indices) {
    int state = tag_key_state;
    for (;;) {
        switch (state) {
        case tag_key_state:
            indices.push_back(i);
            i = scan_tags_key(buf, i);
            state = tag_value_state;
            break;
        case tag_value_state: {
            const auto [next, pos] = scan_tags_value(buf, i);
            state = next;
            i = pos;
            break;
        }
        default:
            indices.push_back(i + 1);
            return i;
        }
    }
}

// scanKey: the measurement and tag set, re-sorted by tag key when they are not in order.
std::pair<long, std::string> scan_key(Bytes buf, long i) {
    const long start = skip_whitespace(buf, i);
    i = start;
    std::vector<long> indices;
    const auto [state, pos] = scan_measurement(buf, i);
    i = pos;
    if (state == tag_key_state) {
        i = scan_tags(buf, i, indices);
    }
    const long commas = indices.empty() ? 0 : static_cast<long>(indices.size()) - 1;
    bool sorted = true;
    for (long j = 0; j < commas - 1; ++j) {
        const auto idx = [&](long k) { return indices[static_cast<std::size_t>(k)]; };
        const Bytes left = scan_to(slice(buf, idx(j), idx(j + 1) - 1), 0, '=').second;
        const Bytes right = scan_to(slice(buf, idx(j + 1), idx(j + 2) - 1), 0, '=').second;
        const int cmp = left.compare(right);
        if (cmp > 0) {
            sorted = false;
            break;
        }
        if (cmp == 0) {
            throw ParseError("duplicate tags");
        }
    }
    if (!sorted && commas > 0) {
        const Bytes measurement = slice(buf, start, indices[0] - 1);
        std::vector<long> order(indices.begin(), indices.begin() + commas);
        std::stable_sort(order.begin(), order.end(), [&](long a, long b) {
            return scan_to(buf, a, '=').second < scan_to(buf, b, '=').second;
        });
        std::string key(measurement);
        for (const long index : order) {
            key += ',';
            key += scan_to_space_or(buf, index, ',').second;
        }
        for (std::size_t j = 0; j + 1 < order.size(); ++j) {
            if (scan_to(buf, order[j], '=').second == scan_to(buf, order[j + 1], '=').second) {
                throw ParseError("duplicate tags");
            }
        }
        return {i, key};
    }
    return {i, std::string(slice(buf, start, i))};
}

bool is_numeric(char c) {
    return (c >= '0' && c <= '9') || c == '.';
}

long scan_number(Bytes buf, long i) {
    const long start = i;
    bool is_int = false;
    if (i < len(buf) && at(buf, i) == '-') {
        ++i;
        if (i == len(buf)) {
            throw ParseError("invalid number");
        }
    }
    bool decimal = false;
    bool scientific = false;
    for (;;) {
        if (i >= len(buf)) {
            break;
        }
        const char c = at(buf, i);
        if (c == ',' || c == ' ') {
            break;
        }
        if (c == 'i' && i > start && !is_int) {
            is_int = true;
            ++i;
            continue;
        }
        if (c == 'u' && i > start && !is_int) {
            // uint64 support is off in InfluxDB 1.x unless enabled at build time.
            throw ParseError("invalid number (unsigned)");
        }
        if (c == '.') {
            if (decimal) {
                throw ParseError("invalid number");
            }
            decimal = true;
        }
        if (i > start && (c == 'e' || c == 'E')) {
            scientific = true;
            ++i;
            continue;
        }
        if ((c == '+' || c == '-') && (at(buf, i - 1) == 'e' || at(buf, i - 1) == 'E')) {
            ++i;
            continue;
        }
        if (i + 2 < len(buf) && (c == 'N' || c == 'n')) {
            throw ParseError("invalid number");
        }
        if (!is_numeric(c)) {
            throw ParseError("invalid number");
        }
        ++i;
    }
    if (is_int && (decimal || scientific)) {
        throw ParseError("invalid number");
    }
    long digits = i - start;
    if (is_int) {
        --digits;
    }
    if (decimal) {
        --digits;
    }
    if (at(buf, start) == '-') {
        --digits;
    }
    if (digits == 0) {
        throw ParseError("invalid number");
    }
    if (is_int) {
        if (at(buf, i - 1) != 'i') {
            throw ParseError("invalid number");
        }
        const std::string text(slice(buf, start, i - 1));
        errno = 0;
        char* end = nullptr;
        std::strtoll(text.c_str(), &end, 10);
        if (errno == ERANGE || end != text.c_str() + text.size()) {
            throw ParseError("unable to parse integer");
        }
    } else if (scientific || i - start >= 25) {
        const std::string text(slice(buf, start, i));
        errno = 0;
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size() ||
            (errno == ERANGE && std::abs(value) == std::numeric_limits<double>::infinity())) {
            throw ParseError("invalid float");
        }
    }
    return i;
}

long scan_boolean(Bytes buf, long i) {
    const long start = i;
    if (i < len(buf) && at(buf, i) != 't' && at(buf, i) != 'f' && at(buf, i) != 'T' &&
        at(buf, i) != 'F') {
        throw ParseError("invalid boolean");
    }
    ++i;
    for (;;) {
        if (i >= len(buf)) {
            break;
        }
        if (at(buf, i) == ',' || at(buf, i) == ' ') {
            break;
        }
        ++i;
    }
    if (i - start == 1) {
        return i;
    }
    const Bytes word = slice(buf, start, i);
    const bool valid = word == "true" || word == "false" || word == "TRUE" || word == "True" ||
                       word == "FALSE" || word == "False";
    if (!valid) {
        throw ParseError("invalid boolean");
    }
    return i;
}

std::pair<long, Bytes> scan_fields(Bytes buf, long i) {
    const long start = skip_whitespace(buf, i);
    i = start;
    bool quoted = false;
    int equals = 0;
    int commas = 0;
    for (;;) {
        if (i >= len(buf)) {
            break;
        }
        if (at(buf, i) == '\\' && i + 1 < len(buf)) {
            i += 2;
            continue;
        }
        if (at(buf, i) == '"' && equals > commas) {
            quoted = !quoted;
            ++i;
            continue;
        }
        if (at(buf, i) == '=' && !quoted) {
            ++equals;
            if (at(buf, i - 1) == ' ' && at(buf, i - 2) != '\\') {
                throw ParseError("missing field key");
            }
            if (at(buf, i - 1) == ',' && at(buf, i - 2) != '\\') {
                throw ParseError("missing field key");
            }
            if (i + 1 >= len(buf)) {
                throw ParseError("missing field value");
            }
            const char next = at(buf, i + 1);
            if (next == ',' || next == ' ') {
                throw ParseError("missing field value");
            }
            if (is_numeric(next) || next == '-' || next == 'N' || next == 'n') {
                i = scan_number(buf, i + 1);
                continue;
            }
            if (next != '"') {
                i = scan_boolean(buf, i + 1);
                continue;
            }
        }
        if (at(buf, i) == ',' && !quoted) {
            ++commas;
        }
        if (at(buf, i) == ' ' && !quoted) {
            break;
        }
        ++i;
    }
    if (quoted) {
        throw ParseError("unbalanced quotes");
    }
    if (equals == 0 || commas != equals - 1) {
        throw ParseError("invalid field format");
    }
    return {i, slice(buf, start, i)};
}

std::pair<long, Bytes> scan_time(Bytes buf, long i) {
    const long start = skip_whitespace(buf, i);
    i = start;
    for (;;) {
        if (i >= len(buf)) {
            break;
        }
        if (at(buf, i) == '\n' || at(buf, i) == ' ') {
            break;
        }
        if (i == start && at(buf, i) == '-') {
            ++i;
            continue;
        }
        if (at(buf, i) < '0' || at(buf, i) > '9') {
            throw ParseError("bad timestamp");
        }
        ++i;
    }
    return {i, slice(buf, start, i)};
}

std::pair<long, Bytes> scan_field_value(Bytes buf, long i) {
    const long start = i;
    bool quoted = false;
    while (i < len(buf)) {
        if (at(buf, i) == '\\' && i + 1 < len(buf) &&
            (at(buf, i + 1) == '"' || at(buf, i + 1) == '\\')) {
            i += 2;
            continue;
        }
        if (at(buf, i) == '"') {
            ++i;
            quoted = !quoted;
            continue;
        }
        if (at(buf, i) == ',' && !quoted) {
            break;
        }
        ++i;
    }
    return {i, slice(buf, start, i)};
}

// walkFields with parsePoint's series key length check.
void walk_fields(Bytes buf, std::size_t key_length) {
    while (!buf.empty()) {
        const auto [i, key] = scan_to(buf, 0, '=');
        if (i > len(buf) - 2) {
            throw ParseError("invalid value: field-key=" + std::string(key));
        }
        if (key_length + 4 + key.size() > max_key_length) {
            throw ParseError("max key length exceeded");
        }
        buf = buf.substr(static_cast<std::size_t>(i + 1));
        const long end = scan_field_value(buf, 0).first;
        buf = buf.substr(static_cast<std::size_t>(end));
        if (!buf.empty()) {
            buf = buf.substr(1);
        }
    }
}

std::int64_t precision_multiplier(std::string_view precision) {
    if (precision == "u") {
        return 1'000;
    }
    if (precision == "ms") {
        return 1'000'000;
    }
    if (precision == "s") {
        return 1'000'000'000;
    }
    return 1;
}

// --- unescaping ------------------------------------------------------------------------------

std::string replace_all(std::string in, std::string_view from, std::string_view to) {
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t hit = in.find(from, pos);
        if (hit == std::string::npos) {
            out += in.substr(pos);
            return out;
        }
        out += in.substr(pos, hit - pos);
        out += to;
        pos = hit + from.size();
    }
}

// unescapeMeasurement / unescapeTag: bytes.Replace per escape code, in table order.
std::string unescape_codes(Bytes in, std::string_view codes) {
    std::string out(in);
    if (out.find('\\') == std::string::npos) {
        return out;
    }
    for (const char c : codes) {
        if (out.find(c) != std::string::npos) {
            const char escaped[2] = {'\\', c};
            out = replace_all(out, std::string_view(escaped, 2), std::string_view(&c, 1));
        }
    }
    return out;
}

constexpr std::string_view escape_chars = ",\" =";

// escape.Unescape.
std::string unescape(Bytes in) {
    std::string out;
    std::size_t i = 0;
    while (i < in.size()) {
        if (in[i] == '\\' && i + 1 < in.size() && escape_chars.find(in[i + 1]) != Bytes::npos) {
            out += in[i + 1];
            i += 2;
            continue;
        }
        out += in[i];
        ++i;
    }
    return out;
}

// escape.IsEscaped + escape.AppendUnescaped (the field iterator's keys).
bool is_escaped(Bytes b) {
    while (!b.empty()) {
        const std::size_t i = b.find('\\');
        if (i == Bytes::npos) {
            return false;
        }
        if (i + 1 < b.size() && escape_chars.find(b[i + 1]) != Bytes::npos) {
            return true;
        }
        b = b.substr(i + 1);
    }
    return false;
}

std::string append_unescaped(Bytes src) {
    std::string dst;
    std::size_t pos = 0;
    while (!src.empty()) {
        const std::size_t found = src.substr(pos).find('\\');
        if (found == Bytes::npos || pos + found + 1 >= src.size()) {
            dst += src;
            return dst;
        }
        const std::size_t next = found;
        if (escape_chars.find(src[pos + next + 1]) != Bytes::npos) {
            if (pos + next > 0) {
                dst += src.substr(0, pos + next);
            }
            src = src.substr(pos + next + 1);
            pos = 0;
        } else {
            pos += next + 1;
        }
    }
    return dst;
}

std::string unescape_string_field(Bytes s) {
    std::string value;
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == '"')) {
            value += s[i + 1];
            i += 2;
            continue;
        }
        value += s[i];
        ++i;
    }
    return value;
}

// scanTagValue (walkTags).
std::pair<long, Bytes> scan_tag_value(Bytes buf, long i) {
    const long start = i;
    for (;;) {
        if (i >= len(buf)) {
            break;
        }
        if (at(buf, i) == ',' && at(buf, i - 1) != '\\') {
            break;
        }
        ++i;
    }
    return {i, slice(buf, start, i)};
}

std::vector<std::pair<std::string, std::string>> walk_tags(Bytes key) {
    std::vector<std::pair<std::string, std::string>> tags;
    if (key.empty()) {
        return tags;
    }
    const auto [pos, name] = scan_to(key, 0, ',');
    if (name.empty()) {
        return tags;
    }
    const bool has_escape = key.find('\\') != Bytes::npos;
    long i = pos + 1;
    for (;;) {
        if (i >= len(key)) {
            break;
        }
        const auto [after_key, k] = scan_to(key, i, '=');
        const auto [after_value, v] = scan_tag_value(key, after_key + 1);
        i = after_value;
        if (v.empty()) {
            continue;
        }
        if (has_escape) {
            tags.emplace_back(unescape_codes(k, ", ="), unescape_codes(v, ", ="));
        } else {
            tags.emplace_back(std::string(k), std::string(v));
        }
        ++i;
    }
    return tags;
}

// models.ParseName: the measurement as the index sees it.
std::string parse_name(Bytes key) {
    long i = 0;
    int state = -1;
    try {
        const auto [s, pos] = scan_measurement(key, 0);
        state = s;
        i = pos;
    } catch (const ParseError&) {
        i = len(key); // "missing fields": the whole key is the name
    }
    const Bytes name = state == tag_key_state ? slice(key, 0, i - 1) : slice(key, 0, i);
    return unescape_codes(name, ", ");
}

InfluxField read_field(Bytes key, Bytes value) {
    InfluxField field;
    field.key = is_escaped(key) ? append_unescaped(key) : std::string(key);
    field.raw = std::string(value);
    const std::string_view s = value;
    if (s.empty() || s == "NaN" || s == "+Inf" || s == "-Inf") {
        field.type = InfluxField::Type::empty;
    } else if (s == "t" || s == "T" || s == "True" || s == "TRUE" || s == "true" || s == "f" ||
               s == "F" || s == "False" || s == "FALSE" || s == "false") {
        field.type = InfluxField::Type::boolean;
        field.boolean = s.front() == 't' || s.front() == 'T';
    } else if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        // (InfluxDB 1.6.7 stores "" as an empty string; later forks changed this test.)
        field.type = InfluxField::Type::string;
        field.text = unescape_string_field(s.substr(1, s.size() - 2));
    } else if (s.back() == 'i') {
        field.type = InfluxField::Type::integer;
        field.integer = std::strtoll(std::string(s.substr(0, s.size() - 1)).c_str(), nullptr, 10);
    } else {
        field.type = InfluxField::Type::float_;
        field.number = std::strtod(std::string(s).c_str(), nullptr);
    }
    return field;
}

InfluxPoint parse_point(Bytes buf, std::string_view precision) {
    auto [pos, key] = scan_key(buf, 0);
    if (key.empty()) {
        throw ParseError("missing measurement");
    }
    if (key.size() > max_key_length) {
        throw ParseError("max key length exceeded");
    }
    const auto [after_fields, fields] = scan_fields(buf, pos);
    if (fields.empty()) {
        throw ParseError("missing fields");
    }
    walk_fields(fields, key.size());
    auto [after_time, ts] = scan_time(buf, after_fields);
    InfluxPoint point;
    if (!ts.empty()) {
        const std::string text(ts);
        errno = 0;
        char* end = nullptr;
        const long long value = std::strtoll(text.c_str(), &end, 10);
        if (errno == ERANGE || end != text.c_str() + text.size()) {
            throw ParseError("unable to parse timestamp");
        }
        // SafeCalcTime + CheckTime.
        long long nanos = 0;
        if (__builtin_mul_overflow(value, precision_multiplier(precision), &nanos)) {
            throw ParseError("time outside range");
        }
        if (nanos < std::numeric_limits<std::int64_t>::min() + 2 ||
            nanos > std::numeric_limits<std::int64_t>::max() - 1) {
            throw ParseError("time outside range");
        }
        for (long p = after_time; p < len(buf); ++p) {
            if (at(buf, p) != ' ') {
                throw ParseError("point is invalid");
            }
        }
        point.timestamp = value;
    }
    point.name = unescape(scan_to(key, 0, ',').second);
    point.parsed_name = parse_name(key);
    point.tags = walk_tags(key);
    // The field iterator.
    long start = 0;
    while (start < len(fields)) {
        const auto [key_end, field_key] = scan_to(fields, start, '=');
        const auto [value_end, value] = scan_field_value(fields, key_end + 1);
        point.fields.push_back(read_field(field_key, value));
        start = value_end + 1;
    }
    return point;
}

} // namespace

InfluxParse parse_influx_lines(std::string_view buf, std::string_view precision) {
    InfluxParse result;
    long pos = 0;
    while (pos < len(buf)) {
        const long end = scan_line(buf, pos);
        Bytes block = slice(buf, pos, end);
        pos = end + 1;
        if (block.empty()) {
            continue;
        }
        const long start = skip_whitespace(block, 0);
        if (start >= len(block)) {
            continue;
        }
        if (block[static_cast<std::size_t>(start)] == '#') {
            continue;
        }
        if (block.back() == '\n') {
            block.remove_suffix(1);
        }
        const Bytes line = block.substr(static_cast<std::size_t>(start));
        try {
            result.points.push_back(parse_point(line, precision));
        } catch (const ParseError& err) {
            result.errors.push_back(std::string(err.what()) + ": " + std::string(line));
        }
    }
    return result;
}

} // namespace greenrack::fuzz
