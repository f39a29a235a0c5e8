#include "daemon/sinks/device_json.hpp"

#include "drivers/modbus/transport.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace greenrack;
using modbus::DataType;
using modbus::PointValue;
using modbus::Quality;
using sinks::encode_device_meta;
using sinks::encode_device_state;

namespace {

profiles::DeviceProfile sample_profile() {
    profiles::DeviceProfile profile;
    profile.name = "sample";
    profile.device_role = profiles::DeviceRole::pv_inverter;
    auto add = [&](std::string name, DataType type, std::string unit, std::string role) {
        modbus::PointSpec point;
        point.name = std::move(name);
        point.type = type;
        point.unit = std::move(unit);
        point.role = std::move(role);
        profile.points.push_back(point);
    };
    add("power_w", DataType::i16, "W", "ac_power");
    add("voltage_v", DataType::f32, "V", "voltage");
    add("energy_wh", DataType::acc32, "Wh", "ac_energy");
    add("serial", DataType::string, "", "serial");
    add("var_var", DataType::i16, "var", "");
    return profile;
}

core::DeviceReading sample_reading() {
    core::DeviceReading reading;
    reading.ts =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'340'000'123));
    reading.seq = 42;
    reading.duration = std::chrono::microseconds(3250);
    reading.requests_ok = 2;
    reading.values = {
        PointValue{51230.0, Quality::ok, {}},
        PointValue{static_cast<double>(229.8f), Quality::ok, {}},
        PointValue{0.0, Quality::missing, {}},
        PointValue{0.0, Quality::ok, "PV-\"7\""},
        PointValue{99999.0, Quality::implausible, {}},
    };
    return reading;
}

} // namespace

TEST_CASE("device state carries ts, seq, quality and one value+quality per point", "[json]") {
    auto profile = sample_profile();
    auto json = nlohmann::json::parse(encode_device_state("pv-1", profile, sample_reading()));
    CHECK(json["ts"] == 1'764'340'000'123);
    CHECK(json["seq"] == 42);
    CHECK(json["device"] == "pv-1");
    CHECK(json["quality"] == "partial");
    CHECK(json["poll_ms"] == 3.25);
    CHECK_FALSE(json.contains("error"));
    CHECK(json["points"].size() == 5);
    CHECK(json["points"]["power_w"]["value"] == 51230.0);
    CHECK(json["points"]["power_w"]["quality"] == "ok");
    CHECK(json["points"]["serial"]["value"] == "PV-\"7\"");
}

TEST_CASE("device state never publishes a number for a missing or implausible point", "[json]") {
    auto profile = sample_profile();
    auto json = nlohmann::json::parse(encode_device_state("pv-1", profile, sample_reading()));
    CHECK(json["points"]["energy_wh"]["value"].is_null());
    CHECK(json["points"]["energy_wh"]["quality"] == "missing");
    CHECK(json["points"]["var_var"]["value"].is_null());
    CHECK(json["points"]["var_var"]["quality"] == "implausible");
}

TEST_CASE("device state writes float32 registers at float precision", "[json]") {
    auto profile = sample_profile();
    std::string text = encode_device_state("pv-1", profile, sample_reading());
    CHECK(text.find("\"voltage_v\":{\"value\":229.8,") != std::string::npos);
}

TEST_CASE("device state of an unreachable device is offline with the error", "[json]") {
    auto profile = sample_profile();
    core::DeviceReading reading;
    reading.seq = 7;
    reading.requests_failed = 2;
    reading.error = modbus::make_error_code(modbus::ModbusErrc::timeout);
    reading.values.resize(profile.points.size());
    auto json = nlohmann::json::parse(encode_device_state("pv-1", profile, reading));
    CHECK(json["quality"] == "offline");
    CHECK(json["error"] == "response timeout");
    for (const auto& [name, point] : json["points"].items()) {
        INFO(name);
        CHECK(point["value"].is_null());
        CHECK(point["quality"] == "error");
    }
}

TEST_CASE("device meta lists unit, kind, role and index of every point", "[json]") {
    auto profile = sample_profile();
    profile.points[2].kind = modbus::PointKind::counter;
    profile.points[0].index = 3;
    sinks::DeviceMeta meta{"pv-1", "generation", "tcp://127.0.0.1:15021", 1,
                           std::chrono::milliseconds(1000)};
    auto json = nlohmann::json::parse(encode_device_meta(meta, profile));
    CHECK(json["device"] == "pv-1");
    CHECK(json["device_role"] == "pv_inverter");
    CHECK(json["unit_id"] == 1);
    CHECK(json["poll_interval_ms"] == 1000);
    CHECK(json["points"]["energy_wh"]["kind"] == "counter");
    CHECK(json["points"]["energy_wh"]["unit"] == "Wh");
    CHECK(json["points"]["power_w"]["role"] == "ac_power");
    CHECK(json["points"]["power_w"]["index"] == 3);
    CHECK_FALSE(json["points"]["var_var"].contains("role"));
}
