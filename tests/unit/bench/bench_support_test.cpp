#include "bench/bench_support.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace greenrack::bench;

namespace {

std::vector<DeviceSpec> parse(const std::string& text) {
    std::istringstream in(text);
    return parse_device_file(in);
}

// The line number and message of the DeviceFileError that parsing `text` throws.
// Lateness values are differences of unix ms near 1.8e12, exact to about 0.0002 ms.
Approx near(double value) {
    return Approx(value).margin(0.001);
}

std::pair<std::size_t, std::string> parse_error(const std::string& text) {
    try {
        parse(text);
    } catch (const DeviceFileError& e) {
        return {e.line(), e.what()};
    }
    FAIL("no DeviceFileError for:\n" << text);
    return {};
}

} // namespace

TEST_CASE("bench: the device file gives every device with its requests in file order, skipping "
          "comments and blank lines",
          "[bench]") {
    const auto devices = parse("# reference poller devices\n"
                               "\n"
                               "pdu-r01 127.0.0.1 15020 1 3:40070:52 4:0:125   # inlet\n"
                               "   \t\n"
                               "\tpv-1\tgw.example 502 255 3:40000:2\r\n"
                               "meter-grid 10.0.0.7 1502 0 4:65534:2\n");
    REQUIRE(devices.size() == 3);
    CHECK(devices[0].id == "pdu-r01");
    CHECK(devices[0].host == "127.0.0.1");
    CHECK(devices[0].port == 15020);
    CHECK(devices[0].unit_id == 1);
    CHECK(devices[0].line == 3);
    REQUIRE(devices[0].requests.size() == 2);
    CHECK(devices[0].requests[0].function == 3);
    CHECK(devices[0].requests[0].start == 40070);
    CHECK(devices[0].requests[0].count == 52);
    CHECK(devices[0].requests[1].function == 4);
    CHECK(devices[0].requests[1].start == 0);
    CHECK(devices[0].requests[1].count == 125);
    CHECK(devices[1].id == "pv-1");
    CHECK(devices[1].host == "gw.example");
    CHECK(devices[1].unit_id == 255);
    CHECK(devices[1].line == 5);
    CHECK(devices[2].requests[0].start == 65534);
    CHECK(devices[2].line == 6);
}

TEST_CASE("bench: a bad device file is reported with the line number of the first bad line",
          "[bench]") {
    const std::string good = "# header\npdu-r01 127.0.0.1 15020 1 3:0:10\n";
    struct Case {
        std::string line;
        std::string reason;
    };
    const std::vector<Case> cases{
        {"pdu-r02 127.0.0.1 15020 2", "got 4 field(s)"},
        {"pdu-r02 127.0.0.1 port 2 3:0:1", "port 'port'"},
        {"pdu-r02 127.0.0.1 0 2 3:0:1", "port '0'"},
        {"pdu-r02 127.0.0.1 65536 2 3:0:1", "port '65536'"},
        {"pdu-r02 127.0.0.1 15020 248 3:0:1", "unit id '248'"},
        {"pdu-r02 127.0.0.1 15020 -1 3:0:1", "unit id '-1'"},
        {"pdu-r02 127.0.0.1 15020 2 6:0:1", "function must be 3"},
        {"pdu-r02 127.0.0.1 15020 2 16:0:1", "function must be 3"},
        {"pdu-r02 127.0.0.1 15020 2 3:0:126", "count must be a number 1..125"},
        {"pdu-r02 127.0.0.1 15020 2 3:0:0", "count must be a number 1..125"},
        {"pdu-r02 127.0.0.1 15020 2 3:65535:2", "ends beyond register 65535"},
        {"pdu-r02 127.0.0.1 15020 2 3:x:2", "start must be a number"},
        {"pdu-r02 127.0.0.1 15020 2 3:0", "is not <fc>:<start>:<count>"},
        {"pdu-r02 127.0.0.1 15020 2 3:0:1:4", "is not <fc>:<start>:<count>"},
        {"pdu-r02 127.0.0.1 15020 2 3:0:1x", "count must be"},
        {"pdu/r02 127.0.0.1 15020 2 3:0:1", "may not contain"},
        {"pdu+ 127.0.0.1 15020 2 3:0:1", "may not contain"},
        {"pdu\"x 127.0.0.1 15020 2 3:0:1", "may not contain"},
        {"pdu-r01 127.0.0.1 15020 2 3:0:1", "'pdu-r01' is used twice"},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        const auto [line, message] = parse_error(good + "\n" + c.line + "\npv-1 h 1 1 3:0:1\n");
        CHECK(line == 4);
        CHECK_THAT(message, Catch::StartsWith("line 4: ") && Catch::Contains(c.reason));
    }
}

TEST_CASE("bench: a device file without any device is an error", "[bench]") {
    const auto [line, message] = parse_error("# nothing\n\n   # still nothing\n");
    CHECK(line == 3);
    CHECK_THAT(message, Catch::Contains("no device"));
    CHECK(parse_error("").first == 0);
}

TEST_CASE("bench: numbers are found after their quoted key without parsing the JSON", "[bench]") {
    const std::string payload =
        R"({"ts":1764340000123,"seq":42,"device":"pv-1","quality":"ok","poll_ms":3.25,)"
        R"("points":{"ac_power_w":{"value":51230,"quality":"ok"}}})";
    CHECK(find_number_field(payload, "ts") == 1764340000123.0);
    CHECK(find_number_field(payload, "seq") == 42.0);
    CHECK(find_number_field(payload, "poll_ms") == 3.25);
    CHECK(find_number_field(payload, "value") == 51230.0);
    CHECK_FALSE(find_number_field(payload, "missing"));
    // "device" holds a string, not a number.
    CHECK_FALSE(find_number_field(payload, "device"));
}

TEST_CASE("bench: field extraction copes with odd payloads", "[bench]") {
    // Whitespace around the colon (pretty-printed JSON).
    CHECK(find_number_field("{\"ts\" :\n\t 17 , \"seq\": 3}", "ts") == 17.0);
    CHECK(find_number_field("{\"ts\" :\n\t 17 , \"seq\": 3}", "seq") == 3.0);
    // A longer key that ends with the wanted one, and the key's text as a string value.
    CHECK(find_number_field(R"({"xts":1,"note":"ts","ts":2})", "ts") == 2.0);
    CHECK(find_number_field(R"({"ts_ms":1,"ts":2})", "ts") == 2.0);
    // The key inside an escaped string value is not the key.
    CHECK(find_number_field(R"({"error":"bad \"ts\":5 here","ts":9})", "ts") == 9.0);
    // null, a string, nothing after the colon, a truncated payload.
    CHECK_FALSE(find_number_field(R"({"poll_ms":null})", "poll_ms"));
    CHECK_FALSE(find_number_field(R"({"ts":"123"})", "ts"));
    CHECK_FALSE(find_number_field(R"({"ts":)", "ts"));
    CHECK_FALSE(find_number_field(R"({"ts")", "ts"));
    CHECK_FALSE(find_number_field(R"({"ts)", "ts"));
    CHECK_FALSE(find_number_field("", "ts"));
    CHECK_FALSE(find_number_field("not json at all", "ts"));
    // Negative, exponent and fraction forms; not a number after the digits is fine.
    CHECK(find_number_field(R"({"poll_ms":-0.5})", "poll_ms") == -0.5);
    CHECK(find_number_field(R"({"ts":1.5e3})", "ts") == 1500.0);
    CHECK(find_number_field(R"({"seq":7})", "seq") == 7.0);
    // Not finite.
    CHECK_FALSE(find_number_field(R"({"ts":inf})", "ts"));
    CHECK_FALSE(find_number_field(R"({"ts":nan})", "ts"));
}

TEST_CASE("bench: the device is the topic level before the last", "[bench]") {
    CHECK(device_from_topic("greenrack/v1/bench/device/pdu-r01/state") == "pdu-r01");
    CHECK(device_from_topic("device/pv-1/state") == "pv-1");
    CHECK(device_from_topic("pv-1/state") == "pv-1");
    CHECK(device_from_topic("a//state") == "");
    CHECK(device_from_topic("state") == "");
    CHECK(device_from_topic("/state") == "");
    CHECK(device_from_topic("") == "");
}

TEST_CASE("bench: nearest-rank percentiles of known samples", "[bench]") {
    std::vector<double> samples;
    for (int i = 1; i <= 100; ++i) {
        samples.push_back(i);
    }
    CHECK(percentile_nearest_rank(samples, 50) == 50.0);
    CHECK(percentile_nearest_rank(samples, 90) == 90.0);
    CHECK(percentile_nearest_rank(samples, 99) == 99.0);
    CHECK(percentile_nearest_rank(samples, 100) == 100.0);
    CHECK(percentile_nearest_rank(samples, 0) == 1.0);
    CHECK(percentile_nearest_rank(samples, 99.5) == 100.0);

    // The textbook example: 15, 20, 35, 40, 50.
    const std::vector<double> five{15, 20, 35, 40, 50};
    CHECK(percentile_nearest_rank(five, 5) == 15.0);
    CHECK(percentile_nearest_rank(five, 30) == 20.0);
    CHECK(percentile_nearest_rank(five, 40) == 20.0);
    CHECK(percentile_nearest_rank(five, 50) == 35.0);
    CHECK(percentile_nearest_rank(five, 100) == 50.0);

    const std::vector<double> one{7.5};
    CHECK(percentile_nearest_rank(one, 1) == 7.5);
    CHECK(percentile_nearest_rank(one, 99) == 7.5);
    CHECK_FALSE(percentile_nearest_rank({}, 50));
}

TEST_CASE("bench: lateness is the poll's start offset from its slot, wrapping at the interval",
          "[bench]") {
    const double slot = 1764340000000.0; // a whole second
    // Started 12.5 ms after the slot, took 3.25 ms.
    CHECK(lateness_ms(slot + 15.75, 3.25, 1000) == near(12.5));
    // Exactly on the slot.
    CHECK(lateness_ms(slot + 4, 4, 1000) == 0.0);
    // A poll that took longer than an interval still maps to its start offset.
    CHECK(lateness_ms(slot + 1500, 1300, 1000) == near(200));
    // Started late in the slot: 999 ms + 0.6 after the slot is 0.6 into the next one...
    CHECK(lateness_ms(slot + 1000.6 + 2, 2, 1000) == near(0.6));
    // ...and 998.9 ms is reported as it is, not wrapped.
    CHECK(lateness_ms(slot + 998.9 + 2, 2, 1000) == near(998.9));
    // ts is cut to whole ms: a poll that started 0.2 ms after its slot and took 0.5 ms has
    // ts = slot (0.7 cut off), so ts - poll_ms is 0.5 ms *before* the slot. Within the ts
    // resolution below the slot counts as on time, not as 999.5 ms late.
    CHECK(lateness_ms(slot, 0.5, 1000) == 0.0);
    CHECK(lateness_ms(slot + 0, 0.999, 1000) == 0.0);
    // Other intervals.
    CHECK(lateness_ms(slot + 250 + 30, 30, 100) == near(50)); // slot + 200 is a 100 ms slot
    CHECK(lateness_ms(slot + 5000 + 7, 1, 5000) == near(6));
}

TEST_CASE("bench: the measurement window starts on the first slot after the warm-up", "[bench]") {
    const double t0 = 1764340000000.0 + 238.6; // the probe started 238.6 ms into a second
    CHECK(measurement_window_start(t0, 4000, 1000) == 1764340005000.0);
    CHECK(measurement_window_start(t0, 0, 1000) == 1764340001000.0);
    CHECK(measurement_window_start(t0, 4000, 5000) == 1764340005000.0);
    CHECK(measurement_window_start(t0, 5000, 5000) == 1764340010000.0);
    // Already on a slot: no move.
    CHECK(measurement_window_start(1764340000000.0, 3000, 1000) == 1764340003000.0);
}

TEST_CASE("bench: JSON string escaping of error texts", "[bench]") {
    std::string out = "x";
    append_json_escaped(out, "Connection refused");
    CHECK(out == "xConnection refused");
    out.clear();
    append_json_escaped(out, "a\"b\\c\n\x01");
    CHECK(out == "a\\\"b\\\\c\\u000a\\u0001");
}

TEST_CASE("bench: command-line integers are whole numbers inside their range, nothing else",
          "[bench]") {
    using greenrack::bench::parse_integer;
    CHECK(parse_integer("1000", 1, 10'000) == 1000);
    CHECK(parse_integer("0", 0, 5) == 0);
    CHECK_FALSE(parse_integer("0", 1, 5));
    CHECK_FALSE(parse_integer("6", 1, 5));
    CHECK_FALSE(parse_integer("2.0", 0, 5));
    CHECK_FALSE(parse_integer("3s", 0, 5));
    CHECK_FALSE(parse_integer("", 0, 5));
    CHECK_FALSE(parse_integer("-1", 0, 5));
    CHECK(parse_integer("-1", -5, 5) == -1);
}
