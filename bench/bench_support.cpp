#include "bench/bench_support.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_set>

namespace greenrack::bench {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Splits a line into whitespace-separated fields (views into the line).
std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space(line[i])) {
            ++i;
        }
        const std::size_t begin = i;
        while (i < line.size() && !is_space(line[i])) {
            ++i;
        }
        if (i > begin) {
            fields.push_back(line.substr(begin, i - begin));
        }
    }
    return fields;
}

// A whole field as a decimal integer in [min, max].
std::optional<int> parse_int(std::string_view text, int min, int max) {
    int value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || value < min || value > max) {
        return std::nullopt;
    }
    return value;
}

std::string quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// Usable as one MQTT topic level and inside a JSON string without escaping.
bool valid_device_id(std::string_view id) {
    return std::all_of(id.begin(), id.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u != 0x7f && c != '/' && c != '+' && c != '#' && c != '"' && c != '\\';
    });
}

ReadRequest parse_request(std::string_view field, std::size_t line) {
    const std::size_t first = field.find(':');
    const std::size_t second =
        first == std::string_view::npos ? std::string_view::npos : field.find(':', first + 1);
    if (second == std::string_view::npos || field.find(':', second + 1) != std::string_view::npos) {
        throw DeviceFileError(line, "request " + quoted(field) + " is not <fc>:<start>:<count>");
    }
    const auto function = parse_int(field.substr(0, first), 3, 4);
    if (!function) {
        throw DeviceFileError(line, "request " + quoted(field) +
                                        ": function must be 3 (holding) or 4 (input registers)");
    }
    const auto start = parse_int(field.substr(first + 1, second - first - 1), 0, 65535);
    if (!start) {
        throw DeviceFileError(line,
                              "request " + quoted(field) + ": start must be a number 0..65535");
    }
    const auto count = parse_int(field.substr(second + 1), 1, max_registers_per_request);
    if (!count) {
        throw DeviceFileError(line, "request " + quoted(field) + ": count must be a number 1.." +
                                        std::to_string(max_registers_per_request));
    }
    if (*start + *count > 65536) {
        throw DeviceFileError(line, "request " + quoted(field) + " ends beyond register 65535");
    }
    return ReadRequest{*function, *start, *count};
}

} // namespace

DeviceFileError::DeviceFileError(std::size_t line, const std::string& reason)
    : std::runtime_error("line " + std::to_string(line) + ": " + reason), line_(line) {}

std::vector<DeviceSpec> parse_device_file(std::istream& in) {
    std::vector<DeviceSpec> devices;
    std::unordered_set<std::string> ids;
    std::string text;
    std::size_t line = 0;
    while (std::getline(in, text)) {
        ++line;
        std::string_view view(text);
        if (const std::size_t hash = view.find('#'); hash != std::string_view::npos) {
            view = view.substr(0, hash);
        }
        const auto fields = split_fields(view);
        if (fields.empty()) {
            continue;
        }
        if (fields.size() < 5) {
            throw DeviceFileError(line, "expected <device-id> <host> <port> <unit-id> "
                                        "<fc>:<start>:<count>..., got " +
                                            std::to_string(fields.size()) + " field(s)");
        }
        DeviceSpec device;
        device.line = line;
        device.id = std::string(fields[0]);
        if (!valid_device_id(device.id)) {
            throw DeviceFileError(line, "device id " + quoted(device.id) +
                                            " may not contain '/', '+', '#', '\"', '\\' or "
                                            "control characters");
        }
        device.host = std::string(fields[1]);
        const auto port = parse_int(fields[2], 1, 65535);
        if (!port) {
            throw DeviceFileError(line, "port " + quoted(fields[2]) + " is not a number 1..65535");
        }
        device.port = *port;
        const auto unit = parse_int(fields[3], 0, 255);
        if (!unit || (*unit > 247 && *unit != 255)) {
            throw DeviceFileError(line, "unit id " + quoted(fields[3]) +
                                            " is not a number 0..247 or 255");
        }
        device.unit_id = *unit;
        for (std::size_t f = 4; f < fields.size(); ++f) {
            device.requests.push_back(parse_request(fields[f], line));
        }
        if (!ids.insert(device.id).second) {
            throw DeviceFileError(line, "device id " + quoted(device.id) + " is used twice");
        }
        devices.push_back(std::move(device));
    }
    if (in.bad()) {
        throw DeviceFileError(line, "read error");
    }
    if (devices.empty()) {
        throw DeviceFileError(line, "no device in the file");
    }
    return devices;
}

std::optional<double> find_number_field(std::string_view payload, std::string_view key) {
    std::size_t from = 0;
    while (true) {
        const std::size_t quote = payload.find('"', from);
        if (quote == std::string_view::npos) {
            return std::nullopt;
        }
        from = quote + 1;
        if (quote > 0 && payload[quote - 1] == '\\') {
            continue; // an escaped quote inside a string value
        }
        if (payload.compare(from, key.size(), key) != 0 || from + key.size() >= payload.size() ||
            payload[from + key.size()] != '"') {
            continue;
        }
        std::size_t i = from + key.size() + 1;
        while (i < payload.size() && is_space(payload[i])) {
            ++i;
        }
        if (i >= payload.size() || payload[i] != ':') {
            continue; // the key's text as a value ("x": "ts"), not as a key
        }
        ++i;
        while (i < payload.size() && is_space(payload[i])) {
            ++i;
        }
        double value = 0;
        const char* end = payload.data() + payload.size();
        const auto [ptr, ec] = std::from_chars(payload.data() + i, end, value);
        if (ec != std::errc() || !std::isfinite(value)) {
            return std::nullopt;
        }
        return value;
    }
}

std::string_view device_from_topic(std::string_view topic) {
    const std::size_t last = topic.rfind('/');
    if (last == std::string_view::npos || last == 0) {
        return {};
    }
    const std::size_t before = topic.rfind('/', last - 1);
    const std::size_t begin = before == std::string_view::npos ? 0 : before + 1;
    return topic.substr(begin, last - begin);
}

std::optional<double> percentile_nearest_rank(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return std::nullopt;
    }
    const double n = static_cast<double>(sorted.size());
    // p * n first: exact for whole percentages, so 90 % of 100 samples is rank 90, not 91.
    const double rank = std::ceil(std::clamp(p, 0.0, 100.0) * n / 100.0);
    const auto index = static_cast<std::size_t>(std::max(rank, 1.0)) - 1;
    return sorted[std::min(index, sorted.size() - 1)];
}

double lateness_ms(double ts_ms, double poll_ms, double interval_ms, double ts_resolution_ms) {
    double late = std::fmod(ts_ms - poll_ms, interval_ms);
    if (late < 0) {
        late += interval_ms;
    }
    if (late >= interval_ms - ts_resolution_ms) {
        return 0.0;
    }
    return late;
}

double measurement_window_start(double t0_ms, double warmup_ms, double interval_ms) {
    return std::ceil((t0_ms + warmup_ms) / interval_ms) * interval_ms;
}

void append_json_escaped(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20) {
            out += "\\u00";
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xf]);
        } else {
            out.push_back(c);
        }
    }
}

std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t min,
                                          std::int64_t max) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || value < min || value > max) {
        return std::nullopt;
    }
    return value;
}

} // namespace greenrack::bench
