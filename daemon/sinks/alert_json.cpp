#include "daemon/sinks/alert_json.hpp"

#include "daemon/sinks/influx_lines.hpp"
#include "daemon/sinks/json_writer.hpp"

namespace greenrack::sinks {

namespace {

void time_or_null(JsonWriter& json, std::string_view key, std::int64_t ms) {
    json.key(key);
    if (ms > 0) {
        json.value(ms);
    } else {
        json.null();
    }
}

void optional_number(JsonWriter& json, std::string_view key, const std::optional<double>& value) {
    json.key(key);
    if (value) {
        json.value(*value);
    } else {
        json.null();
    }
}

void write_cause(JsonWriter& json, const std::optional<alerts::Cause>& cause) {
    json.key("cause");
    if (!cause) {
        json.null();
        return;
    }
    json.begin_object();
    json.key("window_s");
    json.value(static_cast<std::int64_t>(cause->window.count() / 1000));
    json.key("racks");
    json.begin_array();
    for (const auto& rack : cause->racks) {
        json.begin_object();
        json.key("rack");
        json.value(rack.rack);
        json.key("nongreen_wh");
        json.value(rack.nongreen_wh);
        json.key("share");
        json.value(rack.share);
        json.end_object();
    }
    json.end_array();
    optional_number(json, "headroom_free_w", cause->headroom_free_w);
    optional_number(json, "headroom_total_w", cause->headroom_total_w);
    optional_number(json, "headroom_storage_w", cause->headroom_storage_w);
    json.end_object();
}

void write_status_fields(JsonWriter& json, const alerts::AlertStatus& status) {
    json.key("rule");
    json.value(status.rule);
    json.key("subject");
    json.value(status.subject);
    json.key("scope");
    json.value(alerts::to_string(status.scope));
    json.key("state");
    json.value(alerts::to_string(status.state));
    json.key("severity");
    json.value(status.severity);
    time_or_null(json, "since", status.since_ms);
    time_or_null(json, "active_at", status.active_at_ms);
    time_or_null(json, "fired_at", status.fired_at_ms);
    time_or_null(json, "resolved_at", status.resolved_at_ms);
    optional_number(json, "value", status.value);
    json.key("threshold");
    json.value(status.threshold);
    json.key("clear_threshold");
    json.value(status.clear_threshold);
    json.key("summary");
    json.value(status.summary);
    json.key("labels");
    json.begin_object();
    for (const auto& [name, value] : status.labels) {
        json.key(name);
        json.value(value);
    }
    json.end_object();
    write_cause(json, status.cause);
}

} // namespace

std::string encode_alert_state(const alerts::AlertStatus& status, std::int64_t ts_ms) {
    JsonWriter json;
    json.begin_object();
    json.key("ts");
    json.value(ts_ms);
    write_status_fields(json, status);
    json.end_object();
    return json.take();
}

std::string encode_alert_event(const alerts::AlertEvent& event) {
    JsonWriter json;
    json.begin_object();
    json.key("ts");
    json.value(event.ts_ms);
    json.key("type");
    json.value("alert");
    json.key("from");
    json.value(alerts::to_string(event.from));
    json.key("to");
    json.value(alerts::to_string(event.to));
    write_status_fields(json, event.status);
    json.end_object();
    return json.take();
}

void append_alert_line(LineBuilder& out, std::string_view site, const alerts::AlertEvent& event) {
    const auto& status = event.status;
    out.begin("alert")
        .tag("site", site)
        .tag("rule", status.rule)
        .tag("subject", status.subject)
        .tag("scope", alerts::to_string(status.scope))
        .tag("severity", status.severity);
    out.field_string("state", alerts::to_string(event.to));
    out.field_string("from_state", alerts::to_string(event.from));
    if (status.value) {
        out.field_float("value", *status.value);
    }
    out.field_float("threshold", status.threshold);
    out.field_string("summary", status.summary);
    out.end(from_unix_ms(event.ts_ms));
}

} // namespace greenrack::sinks
