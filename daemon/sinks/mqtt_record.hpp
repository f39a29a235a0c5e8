#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace greenrack::sinks {

// One MQTT message as stored in the MQTT sink's spool record (pure, no I/O):
// byte 0: flags (bit 0 retained, bits 1-2 QoS), bytes 1-2: topic length (little-endian),
// then the topic, then the payload.
struct MqttRecord {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retained = false;
};

std::string encode_mqtt_record(std::string_view topic, std::string_view payload, int qos,
                               bool retained);
// nullopt when `data` is not a record (too short, topic longer than the data, QoS 3).
std::optional<MqttRecord> decode_mqtt_record(std::string_view data);

} // namespace greenrack::sinks
