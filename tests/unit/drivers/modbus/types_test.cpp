#include "drivers/modbus/point.hpp"
#include "drivers/modbus/types.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace greenrack::modbus;

namespace {

struct TypeRow {
    DataType type;
    const char* name;
    std::uint16_t registers;
    bool is_signed;
    bool is_float;
};

// Names as written in profiles; register counts and signedness from the SunSpec type table.
const std::vector<TypeRow>& type_table() {
    using enum DataType;
    static const std::vector<TypeRow> table{
        {u16, "u16", 1, false, false},
        {i16, "i16", 1, true, false},
        {u32, "u32", 2, false, false},
        {i32, "i32", 2, true, false},
        {u64, "u64", 4, false, false},
        {i64, "i64", 4, true, false},
        {f32, "f32", 2, false, true},
        {f64, "f64", 4, false, true},
        {acc16, "acc16", 1, false, false},
        {acc32, "acc32", 2, false, false},
        {acc64, "acc64", 4, false, false},
        {enum16, "enum16", 1, false, false},
        {enum32, "enum32", 2, false, false},
        {bitfield16, "bitfield16", 1, false, false},
        {bitfield32, "bitfield32", 2, false, false},
        {sunssf, "sunssf", 1, true, false},
    };
    return table;
}

} // namespace

TEST_CASE("every data type parses from its profile name and prints back to it") {
    for (const auto& row : type_table()) {
        CAPTURE(row.name);
        CHECK(parse_data_type(row.name) == row.type);
        CHECK(to_string(row.type) == row.name);
    }
    CHECK(parse_data_type("string") == DataType::string);
    CHECK(to_string(DataType::string) == "string");
}

TEST_CASE("unknown data type names are rejected") {
    for (const char* text : {"", "uint16", "float32", "U16", "u16 ", "acc", "sunssf16"}) {
        CAPTURE(text);
        CHECK_FALSE(parse_data_type(text).has_value());
    }
}

TEST_CASE("register_count gives the width of each type") {
    for (const auto& row : type_table()) {
        CAPTURE(row.name);
        CHECK(register_count(row.type) == row.registers);
        // The string length argument only matters for strings.
        CHECK(register_count(row.type, 8) == row.registers);
    }
}

TEST_CASE("register_count of a string is the given string length") {
    CHECK(register_count(DataType::string, 16) == 16);
    CHECK(register_count(DataType::string, 1) == 1);
    CHECK(register_count(DataType::string) == 0);
}

TEST_CASE("only i16, i32, i64 and sunssf are signed, only f32 and f64 are floats") {
    for (const auto& row : type_table()) {
        CAPTURE(row.name);
        CHECK(is_signed(row.type) == row.is_signed);
        CHECK(is_float(row.type) == row.is_float);
    }
    CHECK_FALSE(is_signed(DataType::string));
    CHECK_FALSE(is_float(DataType::string));
}

TEST_CASE("word orders parse from and print as their upper-case names") {
    const std::vector<std::pair<WordOrder, const char*>> orders{
        {WordOrder::abcd, "ABCD"},
        {WordOrder::cdab, "CDAB"},
        {WordOrder::badc, "BADC"},
        {WordOrder::dcba, "DCBA"},
    };
    for (const auto& [order, name] : orders) {
        CAPTURE(name);
        CHECK(parse_word_order(name) == order);
        CHECK(to_string(order) == name);
    }
    CHECK_FALSE(parse_word_order("ABDC").has_value());
    CHECK_FALSE(parse_word_order("").has_value());
}

TEST_CASE("register kinds parse from holding and input and map to FC03 and FC04") {
    CHECK(parse_register_kind("holding") == RegisterKind::holding);
    CHECK(parse_register_kind("input") == RegisterKind::input);
    CHECK_FALSE(parse_register_kind("coil").has_value());
    CHECK(to_string(RegisterKind::holding) == "holding");
    CHECK(to_string(RegisterKind::input) == "input");
    CHECK(function_code(RegisterKind::holding) == 3);
    CHECK(function_code(RegisterKind::input) == 4);
    STATIC_REQUIRE(max_read_registers == 125);
}

TEST_CASE("point kinds parse from gauge and counter and print back") {
    CHECK(parse_point_kind("gauge") == PointKind::gauge);
    CHECK(parse_point_kind("counter") == PointKind::counter);
    CHECK_FALSE(parse_point_kind("total").has_value());
    CHECK(to_string(PointKind::gauge) == "gauge");
    CHECK(to_string(PointKind::counter) == "counter");
}

TEST_CASE("qualities print as their names") {
    CHECK(to_string(Quality::ok) == "ok");
    CHECK(to_string(Quality::missing) == "missing");
    CHECK(to_string(Quality::implausible) == "implausible");
    CHECK(to_string(Quality::error) == "error");
}

TEST_CASE("PointSpec::end is one past its last register, even at the top of the address space") {
    PointSpec point;
    point.address = 40070;
    point.registers = 2;
    CHECK(point.end() == 40072u);
    point.address = 65535;
    point.registers = 4;
    CHECK(point.end() == 65539u);
}
