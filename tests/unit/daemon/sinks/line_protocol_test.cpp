#include "daemon/sinks/line_protocol.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

using greenrack::sinks::LineBuilder;
using greenrack::sinks::Precision;
using namespace std::chrono;

namespace {

struct Case {
    std::string_view input;
    std::string_view expected;
};

template <typename Append> std::string escaped(Append append, std::string_view text) {
    std::string out;
    append(out, text);
    return out;
}

// 2025-11-28T14:26:40.123456789Z
const system_clock::time_point sample_ts{nanoseconds(1'764'340'000'123'456'789)};
const system_clock::time_point ts_ms{milliseconds(1'764'340'000'123)};

} // namespace

TEST_CASE("measurement names escape commas and spaces only", "[line_protocol]") {
    const Case cases[] = {
        {"cpu", "cpu"},
        {"my meas", "my\\ meas"},
        {"a,b", "a\\,b"},
        {"a=b", "a=b"},
        {"say \"hi\"", "say\\ \"hi\""},
        {"c:\\dir", "c:\\dir"},
        {"机架-07", "机架-07"},
        {"line1\nline2\r", "line1\\ line2\\ "},
        // A backslash InfluxDB would read as an escape becomes '/'.
        {"end\\", "end/"},
        {"a\\,b", "a/\\,b"},
        {"a\\=b", "a/=b"},
        {"a\\\"b", "a/\"b"},
        {"a\\\\b", "a\\\\b"},
        // InfluxDB skips a tab or NUL at the start of a line.
        {"\tcpu", "\\ cpu"},
        {std::string_view("\0cpu", 4), "\\ cpu"},
        {"\t#cpu", "\\ #cpu"},
    };
    for (const auto& c : cases) {
        INFO(c.input);
        CHECK(escaped(greenrack::sinks::append_measurement, c.input) == c.expected);
    }
}

TEST_CASE("tag keys and values escape commas, equals signs and spaces", "[line_protocol]") {
    const Case cases[] = {
        {"rack-07", "rack-07"},
        {"a b", "a\\ b"},
        {"a,b", "a\\,b"},
        {"a=b", "a\\=b"},
        {"\"quoted\"", "\"quoted\""},
        {"c:\\dir", "c:\\dir"},
        {"机架-07", "机架-07"},
        {"x\r\ny", "x\\ \\ y"},
        // Before an escaped comma or equals sign InfluxDB keeps a tag's backslash; before a space
        // (its line splitter would end the tags there) and at the end it cannot.
        {"a\\,b", "a\\\\,b"},
        {"a\\=b", "a\\\\=b"},
        {"a\\ b", "a/\\ b"},
        {"a\\\nb", "a/\\ b"},
        {"end\\", "end/"},
    };
    for (const auto& c : cases) {
        INFO(c.input);
        CHECK(escaped(greenrack::sinks::append_tag_text, c.input) == c.expected);
    }
}

TEST_CASE("field keys escape commas, equals signs and spaces", "[line_protocol]") {
    const Case cases[] = {
        {"power_w", "power_w"},
        {"power w", "power\\ w"},
        {"a=b", "a\\=b"},
        {"a,b", "a\\,b"},
        {"a\\\"b", "a/\"b"},
        {"c:\\dir", "c:\\dir"},
        {"温度", "温度"},
        {"a\nb", "a\\ b"},
        {"a\\ b", "a/\\ b"},
        {"a\\=b", "a/\\=b"},
        {"end\\", "end/"},
        // InfluxDB skips a tab or NUL before the first field key.
        {"\tv", "\\ v"},
        {std::string_view("\0v", 2), "\\ v"},
        {"v\t", "v\t"},
    };
    for (const auto& c : cases) {
        INFO(c.input);
        CHECK(escaped(greenrack::sinks::append_field_key, c.input) == c.expected);
    }
}

TEST_CASE("string field values are quoted with quotes and backslashes escaped", "[line_protocol]") {
    const Case cases[] = {
        {"plain", "\"plain\""},
        {"", "\"\""},
        {"say \"hi\" c:\\dir", "\"say \\\"hi\\\" c:\\\\dir\""},
        {"end\\", "\"end\\\\\""},
        {"a, b=c", "\"a, b=c\""},
        {"two\nlines", "\"two lines\""},
        {"机架-07", "\"机架-07\""},
    };
    for (const auto& c : cases) {
        INFO(c.input);
        CHECK(escaped(greenrack::sinks::append_string_value, c.input) == c.expected);
    }
}

TEST_CASE("a line has sorted tags, typed fields and the timestamp", "[line_protocol]") {
    LineBuilder lines;
    CHECK(lines.begin("rack power")
              .tag("site", "demo")
              .tag("rack", "机架-07")
              .tag("quality", "ok")
              .field_float("p w", 21.5)
              .field_int("n", -42)
              .field_bool("up", true)
              .field_bool("down", false)
              .field_string("note", "say \"hi\"")
              .end(ts_ms));
    CHECK(lines.str() == "rack\\ power,quality=ok,rack=机架-07,site=demo p\\ w=21.5,n=-42i,up=true,"
                         "down=false,note=\"say \\\"hi\\\"\" 1764340000123\n");
    CHECK(lines.lines() == 1);
}

TEST_CASE("floats use the shortest round-trip text", "[line_protocol]") {
    auto line = [](auto add) {
        LineBuilder lines;
        lines.begin("m");
        add(lines);
        lines.end(ts_ms);
        return lines.take();
    };
    CHECK(line([](auto& l) { l.field_float("v", 0.1); }) == "m v=0.1 1764340000123\n");
    CHECK(line([](auto& l) { l.field_float("v", 3.0); }) == "m v=3 1764340000123\n");
    CHECK(line([](auto& l) { l.field_float("v", -0.0); }) == "m v=-0 1764340000123\n");
    CHECK(line([](auto& l) { l.field_float("v", 1e21); }) == "m v=1e+21 1764340000123\n");
    CHECK(line([](auto& l) { l.field_float("v", 5e-324); }) == "m v=5e-324 1764340000123\n");
    CHECK(line([](auto& l) { l.field_float("v", 0.1 + 0.2); }) ==
          "m v=0.30000000000000004 1764340000123\n");
    CHECK(line([](auto& l) { l.field_float32("v", 229.8F); }) == "m v=229.8 1764340000123\n");
}

TEST_CASE("counters are written as signed integers and saturate", "[line_protocol]") {
    LineBuilder lines;
    lines.begin("m")
        .field_count("big", std::numeric_limits<std::uint64_t>::max())
        .field_count("small", 7)
        .field_int("min", std::numeric_limits<std::int64_t>::min())
        .end(ts_ms);
    CHECK(lines.str() ==
          "m big=9223372036854775807i,small=7i,min=-9223372036854775808i 1764340000123\n");
}

TEST_CASE("non-finite floats are skipped and a line without fields is not written",
          "[line_protocol]") {
    LineBuilder lines;
    lines.begin("m")
        .field_float("nan", std::nan(""))
        .field_float("a", 1.0)
        .field_float("inf", std::numeric_limits<double>::infinity())
        .field_float32("ninf", -std::numeric_limits<float>::infinity())
        .end(ts_ms);
    CHECK(lines.str() == "m a=1 1764340000123\n");

    LineBuilder empty;
    CHECK_FALSE(empty.begin("m").tag("site", "demo").field_float("v", std::nan("")).end(ts_ms));
    CHECK_FALSE(empty.begin("m").end(ts_ms));
    CHECK(empty.str().empty());
    CHECK(empty.lines() == 0);
}

TEST_CASE("empty tags and names, repeated tags and the reserved name time", "[line_protocol]") {
    LineBuilder lines;
    lines.begin("m")
        .tag("role", "")
        .tag("", "x")
        .tag("site", "a")
        .tag("site", "b")
        .tag("time", "t")
        .field_float("", 1.0)
        .field_float("time", 2.0)
        .field_float("v", 3.0)
        .end(ts_ms);
    CHECK(lines.str() == "m,site=b v=3 1764340000123\n");
}

TEST_CASE("tag keys written alike are one tag, the last value kept", "[line_protocol]") {
    // "a\n" and "a\r" are both written "a\ ": two of them would be "duplicate tags" (a 400).
    LineBuilder lines;
    lines.begin("m").tag("a\n", "x").tag("a\r", "y").field_float("v", 1.0).end(ts_ms);
    CHECK(lines.str() == "m,a\\ =y v=1 1764340000123\n");
}

TEST_CASE("a measurement that is empty or starts a comment is not written", "[line_protocol]") {
    LineBuilder lines;
    CHECK_FALSE(lines.begin("").field_float("v", 1.0).end(ts_ms));
    CHECK_FALSE(lines.begin("#note").field_float("v", 1.0).end(ts_ms));
    CHECK(lines.begin("a#b").field_float("v", 1.0).end(ts_ms));
    CHECK(lines.str() == "a#b v=1 1764340000123\n");
}

TEST_CASE("a line begun again discards the unfinished one", "[line_protocol]") {
    LineBuilder lines;
    lines.begin("first").tag("t", "1").field_float("v", 1.0);
    lines.begin("second").field_float("w", 2.0).end(ts_ms);
    CHECK(lines.str() == "second w=2 1764340000123\n");
}

TEST_CASE("timestamps follow the precision, with the v1 and v2 query spellings",
          "[line_protocol]") {
    struct PrecisionCase {
        Precision precision;
        std::string_view v1;
        std::string_view v2;
        std::string_view line;
    };
    const PrecisionCase cases[] = {
        {Precision::s, "s", "s", "m v=1 1764340000\n"},
        {Precision::ms, "ms", "ms", "m v=1 1764340000123\n"},
        {Precision::us, "u", "us", "m v=1 1764340000123456\n"},
        {Precision::ns, "n", "ns", "m v=1 1764340000123456789\n"},
    };
    for (const auto& c : cases) {
        INFO(c.v2);
        CHECK(greenrack::sinks::v1_precision(c.precision) == c.v1);
        CHECK(greenrack::sinks::v2_precision(c.precision) == c.v2);
        LineBuilder lines(c.precision);
        lines.begin("m").field_float("v", 1.0).end(sample_ts);
        CHECK(lines.str() == c.line);
    }
    CHECK(LineBuilder().precision() == Precision::ms);
}

TEST_CASE("take hands over the lines and starts afresh", "[line_protocol]") {
    LineBuilder lines;
    lines.begin("a").field_float("v", 1.0).end(ts_ms);
    lines.begin("b").field_float("v", 2.0).end(ts_ms);
    CHECK(lines.lines() == 2);
    CHECK(lines.take() == "a v=1 1764340000123\nb v=2 1764340000123\n");
    CHECK(lines.lines() == 0);
    CHECK(lines.str().empty());
}

TEST_CASE("count_lines counts non-empty lines", "[line_protocol]") {
    CHECK(greenrack::sinks::count_lines("") == 0);
    CHECK(greenrack::sinks::count_lines("a v=1 1\n") == 1);
    CHECK(greenrack::sinks::count_lines("a v=1 1\n\nb v=2 2") == 2);
}

TEST_CASE("payloads for MQTT hold whole lines up to the byte limit", "[line_protocol]") {
    using greenrack::sinks::split_into_payloads;
    auto split = split_into_payloads("a 1\nbb 2\nccc 3\n", 9);
    CHECK(split.payloads == std::vector<std::string>{"a 1\nbb 2\n", "ccc 3\n"});
    CHECK(split.oversized_lines == 0);

    // Exactly at the limit, then one byte more.
    CHECK(split_into_payloads("a 1\nb 2\n", 8).payloads == std::vector<std::string>{"a 1\nb 2\n"});
    CHECK(split_into_payloads("a 1\nb 2\n", 7).payloads ==
          std::vector<std::string>{"a 1\n", "b 2\n"});

    // A last line without '\n' gets one; empty lines are skipped.
    CHECK(split_into_payloads("a 1\n\nb 2", 100).payloads ==
          std::vector<std::string>{"a 1\nb 2\n"});

    // A line longer than the limit cannot go whole: left out and counted.
    auto oversized = split_into_payloads("a 1\nccccccc 3\nb 2\n", 5);
    CHECK(oversized.payloads == std::vector<std::string>{"a 1\n", "b 2\n"});
    CHECK(oversized.oversized_lines == 1);

    CHECK(split_into_payloads("", 10).payloads.empty());
}
