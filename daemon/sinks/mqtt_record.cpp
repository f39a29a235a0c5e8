#include "daemon/sinks/mqtt_record.hpp"

namespace greenrack::sinks {

std::string encode_mqtt_record(std::string_view topic, std::string_view payload, int qos,
                               bool retained) {
    std::string out;
    out.reserve(3 + topic.size() + payload.size());
    out += static_cast<char>((retained ? 1U : 0U) | (static_cast<unsigned>(qos & 3) << 1U));
    out += static_cast<char>(topic.size() & 0xFFU);
    out += static_cast<char>((topic.size() >> 8U) & 0xFFU);
    out += topic;
    out += payload;
    return out;
}

std::optional<MqttRecord> decode_mqtt_record(std::string_view data) {
    if (data.size() < 3) {
        return std::nullopt;
    }
    const auto flags = static_cast<unsigned char>(data[0]);
    const std::size_t topic_size =
        static_cast<unsigned char>(data[1]) |
        (static_cast<std::size_t>(static_cast<unsigned char>(data[2])) << 8U);
    const int qos = static_cast<int>((flags >> 1U) & 3U);
    if ((flags & ~7U) != 0 || qos == 3 || 3 + topic_size > data.size() || topic_size == 0) {
        return std::nullopt;
    }
    MqttRecord record;
    record.retained = (flags & 1U) != 0;
    record.qos = qos;
    record.topic = std::string(data.substr(3, topic_size));
    record.payload = std::string(data.substr(3 + topic_size));
    return record;
}

} // namespace greenrack::sinks
