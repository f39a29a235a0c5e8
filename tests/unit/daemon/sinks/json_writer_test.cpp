#include "daemon/sinks/json_writer.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

using greenrack::sinks::append_json_string;
using greenrack::sinks::JsonWriter;

namespace {

std::string json_quoted(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

} // namespace

TEST_CASE("json strings escape quotes, backslashes and control characters", "[json]") {
    CHECK(json_quoted("plain") == "\"plain\"");
    CHECK(json_quoted("say \"hi\"") == "\"say \\\"hi\\\"\"");
    CHECK(json_quoted("c:\\dir") == "\"c:\\\\dir\"");
    CHECK(json_quoted("a\nb\tc\rd") == "\"a\\nb\\tc\\rd\"");
    CHECK(json_quoted(std::string_view("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
    CHECK(json_quoted(std::string_view("nul\0x", 5)) == "\"nul\\u0000x\"");
}

TEST_CASE("json strings keep valid UTF-8 and replace invalid bytes with U+FFFD", "[json]") {
    CHECK(json_quoted("机架-07 °C") == "\"机架-07 °C\"");
    CHECK(json_quoted("\xff") == "\"\xEF\xBF\xBD\"");
    CHECK(json_quoted("a\xC3") == "\"a\xEF\xBF\xBD\"");               // truncated sequence
    CHECK(json_quoted("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\""); // overlong '/'
    CHECK(json_quoted("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""); // surrogate
    // Whatever a device sends, the result parses as JSON.
    std::string garbage;
    for (int c = 0; c < 256; ++c) {
        garbage += static_cast<char>(c);
    }
    CHECK_NOTHROW(nlohmann::json::parse(json_quoted(garbage)));
}

TEST_CASE("json writer separates members and nests objects and arrays", "[json]") {
    JsonWriter json;
    json.begin_object();
    json.key("a");
    json.value(1);
    json.key("b");
    json.begin_array();
    json.value(true);
    json.null();
    json.value("x");
    json.end_array();
    json.key("c");
    json.begin_object();
    json.end_object();
    json.end_object();
    CHECK(json.str() == R"({"a":1,"b":[true,null,"x"],"c":{}})");
}

TEST_CASE("json numbers use the shortest round-trip text and null for non-finite", "[json]") {
    JsonWriter json;
    json.begin_array();
    json.value(22.9);
    json.value_float32(229.8f);
    json.value(static_cast<double>(229.8f));
    json.value(std::numeric_limits<double>::quiet_NaN());
    json.value(std::numeric_limits<double>::infinity());
    json.value(static_cast<std::int64_t>(-5));
    json.value(static_cast<std::uint64_t>(18446744073709551615ULL));
    json.value(1e21);
    json.end_array();
    CHECK(json.str() == "[22.9,229.8,229.8000030517578,null,null,-5,18446744073709551615,1e+21]");
    auto parsed = nlohmann::json::parse(json.str());
    CHECK(parsed[2].get<double>() == static_cast<double>(229.8f));
}
