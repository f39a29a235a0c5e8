#include "daemon/sinks/mqtt_record.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::sinks;

TEST_CASE("an MQTT spool record keeps topic, payload, QoS and the retained flag") {
    const std::string payload("{\"ts\":1}\0binary", 15);
    for (int qos : {0, 1, 2}) {
        for (bool retained : {false, true}) {
            const auto record = decode_mqtt_record(
                encode_mqtt_record("greenrack/v1/demo/site/state", payload, qos, retained));
            REQUIRE(record.has_value());
            CHECK(record->topic == "greenrack/v1/demo/site/state");
            CHECK(record->payload == payload);
            CHECK(record->qos == qos);
            CHECK(record->retained == retained);
        }
    }
}

TEST_CASE("an MQTT topic of 65535 bytes round-trips and an empty payload is kept empty") {
    const std::string topic(65535, 't');
    const auto record = decode_mqtt_record(encode_mqtt_record(topic, "", 1, true));
    REQUIRE(record.has_value());
    CHECK(record->topic == topic);
    CHECK(record->payload.empty());
}

TEST_CASE("bytes that are not an MQTT spool record are refused") {
    CHECK_FALSE(decode_mqtt_record("").has_value());
    CHECK_FALSE(decode_mqtt_record(std::string("\x02\x05", 2)).has_value());
    CHECK_FALSE(decode_mqtt_record(std::string("\x02\x09\x00topic", 8)).has_value()); // short
    CHECK_FALSE(decode_mqtt_record(std::string("\x06\x01\x00t", 4)).has_value());     // QoS 3
    CHECK_FALSE(decode_mqtt_record(std::string("\x10\x01\x00t", 4)).has_value());     // flag bits
    CHECK_FALSE(decode_mqtt_record(std::string("\x02\x00\x00", 3)).has_value());      // no topic
}
