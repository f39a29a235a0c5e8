#include "daemon/sinks/device_json.hpp"

#include "daemon/sinks/json_writer.hpp"

namespace greenrack::sinks {

std::int64_t to_unix_ms(std::chrono::system_clock::time_point ts) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count();
}

std::string encode_device_state(std::string_view device_id, const profiles::DeviceProfile& profile,
                                const core::DeviceReading& reading) {
    JsonWriter json;
    json.begin_object();
    json.key("ts");
    json.value(to_unix_ms(reading.ts));
    json.key("seq");
    json.value(static_cast<std::uint64_t>(reading.seq));
    json.key("device");
    json.value(device_id);
    json.key("quality");
    json.value(core::to_string(core::reading_quality(reading)));
    json.key("poll_ms");
    json.value(static_cast<double>(reading.duration.count()) / 1000.0);
    if (reading.error) {
        json.key("error");
        json.value(reading.error.message());
    }
    json.key("points");
    json.begin_object();
    const std::size_t count = std::min(profile.points.size(), reading.values.size());
    for (std::size_t i = 0; i < count; ++i) {
        const auto& point = profile.points[i];
        const auto& value = reading.values[i];
        json.key(point.name);
        json.begin_object();
        json.key("value");
        if (value.quality != modbus::Quality::ok) {
            json.null();
        } else if (point.type == modbus::DataType::string) {
            json.value(value.text);
        } else if (point.type == modbus::DataType::f32 && point.scale == 1.0 &&
                   point.offset == 0.0) {
            json.value_float32(static_cast<float>(value.value));
        } else {
            json.value(value.value);
        }
        json.key("quality");
        json.value(modbus::to_string(value.quality));
        json.end_object();
    }
    json.end_object();
    json.end_object();
    return json.take();
}

std::string encode_device_meta(const DeviceMeta& meta, const profiles::DeviceProfile& profile) {
    JsonWriter json;
    json.begin_object();
    json.key("device");
    json.value(meta.device_id);
    json.key("profile");
    json.value(profile.name);
    json.key("device_role");
    json.value(profiles::to_string(profile.device_role));
    json.key("description");
    json.value(profile.description);
    json.key("bus");
    json.value(meta.bus_id);
    json.key("endpoint");
    json.value(meta.endpoint);
    json.key("unit_id");
    json.value(meta.unit_id);
    json.key("poll_interval_ms");
    json.value(static_cast<std::int64_t>(meta.poll_interval.count()));
    json.key("points");
    json.begin_object();
    for (const auto& point : profile.points) {
        json.key(point.name);
        json.begin_object();
        json.key("unit");
        json.value(point.unit);
        json.key("kind");
        json.value(modbus::to_string(point.kind));
        if (!point.role.empty()) {
            json.key("role");
            json.value(point.role);
        }
        if (point.index != 0) {
            json.key("index");
            json.value(point.index);
        }
        json.end_object();
    }
    json.end_object();
    json.end_object();
    return json.take();
}

} // namespace greenrack::sinks
