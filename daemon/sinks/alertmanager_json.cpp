#include "daemon/sinks/alertmanager_json.hpp"

#include "daemon/sinks/json_writer.hpp"

#include <chrono>
#include <cstdio>

namespace greenrack::sinks {

namespace {

void write_string_map(JsonWriter& json, const std::map<std::string, std::string>& map,
                      bool skip_empty_values) {
    json.begin_object();
    for (const auto& [name, value] : map) {
        if (skip_empty_values && value.empty()) {
            continue;
        }
        json.key(name);
        json.value(value);
    }
    json.end_object();
}

} // namespace

std::string format_rfc3339_ms(std::int64_t unix_ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> time{milliseconds(unix_ms)};
    const auto day = floor<days>(time);
    const year_month_day date{day};
    const hh_mm_ss clock{time - day};
    char buffer[48];
    const int length = std::snprintf(
        buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
        static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
        static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
    return std::string(buffer, length > 0 ? static_cast<std::size_t>(length) : 0);
}

std::string encode_alertmanager_alerts(const std::vector<AmAlert>& alerts) {
    JsonWriter json;
    json.begin_array();
    for (const auto& alert : alerts) {
        json.begin_object();
        json.key("labels");
        write_string_map(json, alert.labels, true);
        json.key("annotations");
        write_string_map(json, alert.annotations, false);
        json.key("startsAt");
        json.value(format_rfc3339_ms(alert.starts_at_ms));
        if (alert.ends_at_ms) {
            json.key("endsAt");
            json.value(format_rfc3339_ms(*alert.ends_at_ms));
        }
        if (!alert.generator_url.empty()) {
            json.key("generatorURL");
            json.value(alert.generator_url);
        }
        json.end_object();
    }
    json.end_array();
    return json.take();
}

std::string alert_key(const AmAlert& alert) {
    // name=<length>:<value>, in name order (std::map): names cannot hold '=', and the length
    // makes any value byte unambiguous.
    std::string key;
    for (const auto& [name, value] : alert.labels) {
        if (value.empty()) {
            continue;
        }
        key += name;
        key += '=';
        key += std::to_string(value.size());
        key += ':';
        key += value;
    }
    return key;
}

} // namespace greenrack::sinks
