#include "drivers/modbus/codec.hpp"

#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace greenrack::modbus;

namespace {

using Regs = std::vector<std::uint16_t>;
using Mode = SentinelPolicy::Mode;

constexpr std::array<WordOrder, 4> all_orders{WordOrder::abcd, WordOrder::cdab, WordOrder::badc,
                                              WordOrder::dcba};

constexpr std::array<DataType, 16> numeric_types{
    DataType::u16,    DataType::i16,        DataType::u32,        DataType::i32,
    DataType::u64,    DataType::i64,        DataType::f32,        DataType::f64,
    DataType::acc16,  DataType::acc32,      DataType::acc64,      DataType::enum16,
    DataType::enum32, DataType::bitfield16, DataType::bitfield32, DataType::sunssf,
};

std::string hex(const Regs& regs) {
    std::string text = "{";
    for (std::size_t i = 0; i < regs.size(); ++i) {
        char word[16];
        std::snprintf(word, sizeof word, "%s%04X", i == 0 ? "" : " ", regs[i]);
        text += word;
    }
    return text + "}";
}

std::string name(DataType type) {
    return std::string(to_string(type));
}
std::string name(WordOrder order) {
    return std::string(to_string(order));
}

SentinelPolicy policy(Mode mode, std::uint64_t raw = 0) {
    return SentinelPolicy{mode, raw};
}

// One numeric value as it appears on the wire in one word order. All register values below
// were written by hand from the value's big-endian bytes "ABCD..." and the order's rule.
struct WireCase {
    DataType type;
    WordOrder order;
    Regs regs;
    double value;
};

const std::vector<WireCase>& wire_table() {
    using enum DataType;
    using enum WordOrder;
    // 123.456f = 0x42F6E979; 123.456 = 0x405EDD2F1A9FBE77; -1.5f = 0xBFC00000;
    // -12345 = 0xCFC7; -3 = 0xFFFD; -123456789 = 0xF8A432EB;
    // -0x00123456789ABCDE = 0xFFEDCBA987654322.
    static const std::vector<WireCase> table{
        {u16, abcd, {0x1234}, 0x1234},
        {u16, cdab, {0x1234}, 0x1234},
        {u16, badc, {0x3412}, 0x1234},
        {u16, dcba, {0x3412}, 0x1234},
        {i16, abcd, {0xCFC7}, -12345},
        {i16, cdab, {0xCFC7}, -12345},
        {i16, badc, {0xC7CF}, -12345},
        {i16, dcba, {0xC7CF}, -12345},
        {acc16, abcd, {0xBEEF}, 0xBEEF},
        {acc16, cdab, {0xBEEF}, 0xBEEF},
        {acc16, badc, {0xEFBE}, 0xBEEF},
        {acc16, dcba, {0xEFBE}, 0xBEEF},
        {enum16, abcd, {0x0007}, 7},
        {enum16, cdab, {0x0007}, 7},
        {enum16, badc, {0x0700}, 7},
        {enum16, dcba, {0x0700}, 7},
        {bitfield16, abcd, {0x8001}, 0x8001},
        {bitfield16, cdab, {0x8001}, 0x8001},
        {bitfield16, badc, {0x0180}, 0x8001},
        {bitfield16, dcba, {0x0180}, 0x8001},
        {sunssf, abcd, {0xFFFD}, -3},
        {sunssf, cdab, {0xFFFD}, -3},
        {sunssf, badc, {0xFDFF}, -3},
        {sunssf, dcba, {0xFDFF}, -3},
        {u32, abcd, {0x1234, 0x5678}, 0x12345678},
        {u32, cdab, {0x5678, 0x1234}, 0x12345678},
        {u32, badc, {0x3412, 0x7856}, 0x12345678},
        {u32, dcba, {0x7856, 0x3412}, 0x12345678},
        {i32, abcd, {0xF8A4, 0x32EB}, -123456789},
        {i32, cdab, {0x32EB, 0xF8A4}, -123456789},
        {i32, badc, {0xA4F8, 0xEB32}, -123456789},
        {i32, dcba, {0xEB32, 0xA4F8}, -123456789},
        {acc32, abcd, {0xDEAD, 0xBEEF}, 0xDEADBEEF},
        {acc32, cdab, {0xBEEF, 0xDEAD}, 0xDEADBEEF},
        {acc32, badc, {0xADDE, 0xEFBE}, 0xDEADBEEF},
        {acc32, dcba, {0xEFBE, 0xADDE}, 0xDEADBEEF},
        {enum32, abcd, {0x0001, 0x0002}, 0x00010002},
        {enum32, cdab, {0x0002, 0x0001}, 0x00010002},
        {enum32, badc, {0x0100, 0x0200}, 0x00010002},
        {enum32, dcba, {0x0200, 0x0100}, 0x00010002},
        {bitfield32, abcd, {0x8000, 0x0001}, 0x80000001},
        {bitfield32, cdab, {0x0001, 0x8000}, 0x80000001},
        {bitfield32, badc, {0x0080, 0x0100}, 0x80000001},
        {bitfield32, dcba, {0x0100, 0x0080}, 0x80000001},
        {f32, abcd, {0x42F6, 0xE979}, double{123.456f}},
        {f32, cdab, {0xE979, 0x42F6}, double{123.456f}},
        {f32, badc, {0xF642, 0x79E9}, double{123.456f}},
        {f32, dcba, {0x79E9, 0xF642}, double{123.456f}},
        {f32, abcd, {0xBFC0, 0x0000}, -1.5},
        {f32, cdab, {0x0000, 0xBFC0}, -1.5},
        {f32, badc, {0xC0BF, 0x0000}, -1.5},
        {f32, dcba, {0x0000, 0xC0BF}, -1.5},
        {u64, abcd, {0x0012, 0x3456, 0x789A, 0xBCDE}, double(0x00123456789ABCDEull)},
        {u64, cdab, {0xBCDE, 0x789A, 0x3456, 0x0012}, double(0x00123456789ABCDEull)},
        {u64, badc, {0x1200, 0x5634, 0x9A78, 0xDEBC}, double(0x00123456789ABCDEull)},
        {u64, dcba, {0xDEBC, 0x9A78, 0x5634, 0x1200}, double(0x00123456789ABCDEull)},
        {i64, abcd, {0xFFED, 0xCBA9, 0x8765, 0x4322}, -double(0x00123456789ABCDEull)},
        {i64, cdab, {0x4322, 0x8765, 0xCBA9, 0xFFED}, -double(0x00123456789ABCDEull)},
        {i64, badc, {0xEDFF, 0xA9CB, 0x6587, 0x2243}, -double(0x00123456789ABCDEull)},
        {i64, dcba, {0x2243, 0x6587, 0xA9CB, 0xEDFF}, -double(0x00123456789ABCDEull)},
        {acc64, abcd, {0x0000, 0x0001, 0x0000, 0x0002}, double(0x0000000100000002ull)},
        {acc64, cdab, {0x0002, 0x0000, 0x0001, 0x0000}, double(0x0000000100000002ull)},
        {acc64, badc, {0x0000, 0x0100, 0x0000, 0x0200}, double(0x0000000100000002ull)},
        {acc64, dcba, {0x0200, 0x0000, 0x0100, 0x0000}, double(0x0000000100000002ull)},
        {f64, abcd, {0x405E, 0xDD2F, 0x1A9F, 0xBE77}, 123.456},
        {f64, cdab, {0xBE77, 0x1A9F, 0xDD2F, 0x405E}, 123.456},
        {f64, badc, {0x5E40, 0x2FDD, 0x9F1A, 0x77BE}, 123.456},
        {f64, dcba, {0x77BE, 0x9F1A, 0x2FDD, 0x5E40}, 123.456},
    };
    return table;
}

// The SunSpec "not implemented" value of each type (device-register-maps §1.4), in ABCD order,
// and the number the same bits mean when sentinels are disabled.
struct SentinelCase {
    DataType type;
    Regs regs;
    double as_number;
};

const std::vector<SentinelCase>& sentinel_table() {
    using enum DataType;
    static const std::vector<SentinelCase> table{
        {i16, {0x8000}, -32768.0},
        {u16, {0xFFFF}, 65535.0},
        {acc16, {0x0000}, 0.0},
        {enum16, {0xFFFF}, 65535.0},
        {bitfield16, {0xFFFF}, 65535.0},
        {sunssf, {0x8000}, -32768.0},
        {i32, {0x8000, 0x0000}, -2147483648.0},
        {u32, {0xFFFF, 0xFFFF}, 4294967295.0},
        {acc32, {0x0000, 0x0000}, 0.0},
        {enum32, {0xFFFF, 0xFFFF}, 4294967295.0},
        {bitfield32, {0xFFFF, 0xFFFF}, 4294967295.0},
        {i64, {0x8000, 0x0000, 0x0000, 0x0000}, -9223372036854775808.0},
        // 2^64 - 1 rounds to 2^64 as a double.
        {u64, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, 18446744073709551616.0},
        {acc64, {0x0000, 0x0000, 0x0000, 0x0000}, 0.0},
    };
    return table;
}

PointSpec point_of(DataType type, std::uint16_t registers = 0) {
    PointSpec point;
    point.name = std::string{"p"}; // (assigning the literal trips GCC 12 -Wrestrict, PR 105329)
    point.type = type;
    point.registers = registers != 0 ? registers : register_count(type);
    return point;
}

} // namespace

TEST_CASE("assemble_bits puts byte A first for each of the four orders") {
    // 64-bit value 0x0123456789ABCDEF, bytes A..H = 01 23 45 67 89 AB CD EF.
    const Regs abcd{0x0123, 0x4567, 0x89AB, 0xCDEF};
    const Regs cdab{0xCDEF, 0x89AB, 0x4567, 0x0123};
    const Regs badc{0x2301, 0x6745, 0xAB89, 0xEFCD};
    const Regs dcba{0xEFCD, 0xAB89, 0x6745, 0x2301};
    CHECK(assemble_bits(abcd, WordOrder::abcd) == 0x0123456789ABCDEFull);
    CHECK(assemble_bits(cdab, WordOrder::cdab) == 0x0123456789ABCDEFull);
    CHECK(assemble_bits(badc, WordOrder::badc) == 0x0123456789ABCDEFull);
    CHECK(assemble_bits(dcba, WordOrder::dcba) == 0x0123456789ABCDEFull);

    // 32-bit 0x12345678 and 16-bit 0x1234.
    CHECK(assemble_bits(Regs{0x1234, 0x5678}, WordOrder::abcd) == 0x12345678u);
    CHECK(assemble_bits(Regs{0x5678, 0x1234}, WordOrder::cdab) == 0x12345678u);
    CHECK(assemble_bits(Regs{0x3412, 0x7856}, WordOrder::badc) == 0x12345678u);
    CHECK(assemble_bits(Regs{0x7856, 0x3412}, WordOrder::dcba) == 0x12345678u);
    CHECK(assemble_bits(Regs{0x1234}, WordOrder::abcd) == 0x1234u);
    CHECK(assemble_bits(Regs{0x1234}, WordOrder::cdab) == 0x1234u);
    CHECK(assemble_bits(Regs{0x1234}, WordOrder::badc) == 0x3412u);
    CHECK(assemble_bits(Regs{0x1234}, WordOrder::dcba) == 0x3412u);
}

TEST_CASE("spread_bits writes the hand-written layout of each order") {
    struct Case {
        WordOrder order;
        Regs regs;
    };
    const std::vector<Case> cases{
        {WordOrder::abcd, {0x0123, 0x4567, 0x89AB, 0xCDEF}},
        {WordOrder::cdab, {0xCDEF, 0x89AB, 0x4567, 0x0123}},
        {WordOrder::badc, {0x2301, 0x6745, 0xAB89, 0xEFCD}},
        {WordOrder::dcba, {0xEFCD, 0xAB89, 0x6745, 0x2301}},
    };
    for (const auto& c : cases) {
        CAPTURE(name(c.order));
        Regs out(4);
        spread_bits(0x0123456789ABCDEFull, c.order, out);
        CHECK(hex(out) == hex(c.regs));
    }
    Regs two(2);
    spread_bits(0x12345678u, WordOrder::cdab, two);
    CHECK(hex(two) == hex({0x5678, 0x1234}));
}

TEST_CASE("spread_bits is the inverse of assemble_bits for every width and order") {
    const std::array<std::uint64_t, 4> patterns{0x0ull, 0xFFFFFFFFFFFFFFFFull,
                                                0x8000000000000001ull, 0xA5C3F00F1E2D3C4Bull};
    for (const WordOrder order : all_orders) {
        for (const std::size_t width : {1u, 2u, 4u}) {
            for (const std::uint64_t pattern : patterns) {
                const std::uint64_t bits =
                    width == 4 ? pattern : pattern & ((1ull << (16 * width)) - 1);
                CAPTURE(name(order), width, bits);
                Regs regs(width);
                spread_bits(bits, order, regs);
                CHECK(assemble_bits(regs, order) == bits);
            }
        }
    }
}

TEST_CASE("decode_raw reads every numeric type in every word order from hand-written registers") {
    for (const auto& row : wire_table()) {
        CAPTURE(name(row.type), name(row.order), hex(row.regs));
        const auto decoded = decode_raw(row.regs, row.type, row.order);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == row.value);
    }
}

TEST_CASE("decode_raw reports each type's SunSpec sentinel as missing, in every order") {
    for (const auto& row : sentinel_table()) {
        for (const WordOrder order : all_orders) {
            // The sentinel is a property of the value, so lay its bits out in `order`.
            Regs regs(row.regs.size());
            spread_bits(assemble_bits(row.regs, WordOrder::abcd), order, regs);
            CAPTURE(name(row.type), name(order), hex(regs));
            CHECK_FALSE(decode_raw(regs, row.type, order).has_value());
        }
    }
}

TEST_CASE("with SentinelPolicy::none the sentinel bits decode as plain numbers") {
    for (const auto& row : sentinel_table()) {
        CAPTURE(name(row.type), hex(row.regs));
        const auto decoded = decode_raw(row.regs, row.type, WordOrder::abcd, policy(Mode::none));
        REQUIRE(decoded.has_value());
        CHECK(*decoded == row.as_number);
    }
}

TEST_CASE("values next to a sentinel are numbers") {
    using enum DataType;
    CHECK(decode_raw(Regs{0xFFFE}, u16, WordOrder::abcd) == 65534.0);
    CHECK(decode_raw(Regs{0x8001}, i16, WordOrder::abcd) == -32767.0);
    CHECK(decode_raw(Regs{0x0001}, acc16, WordOrder::abcd) == 1.0);
    CHECK(decode_raw(Regs{0x7FFF, 0xFFFF}, i32, WordOrder::abcd) == 2147483647.0);
    CHECK(decode_raw(Regs{0x0000, 0x0001}, acc32, WordOrder::abcd) == 1.0);
    CHECK(decode_raw(Regs{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}, u64, WordOrder::abcd) ==
          18446744073709551614.0);
    // 0xFFFF is not the sentinel of a signed 16-bit value: it is -1.
    CHECK(decode_raw(Regs{0xFFFF}, i16, WordOrder::abcd) == -1.0);
    // 0x8000 is an ordinary u16.
    CHECK(decode_raw(Regs{0x8000}, u16, WordOrder::abcd) == 32768.0);
}

TEST_CASE("sentinels are matched on the assembled value, not on the registers as read") {
    // {8000 0000} read CDAB is 0x00008000, a plain number; the i32 sentinel in CDAB is {0000 8000}.
    CHECK(decode_raw(Regs{0x8000, 0x0000}, DataType::i32, WordOrder::cdab) == 32768.0);
    CHECK_FALSE(decode_raw(Regs{0x0000, 0x8000}, DataType::i32, WordOrder::cdab).has_value());
    // The i16 sentinel 0x8000 byte-swapped is {0080}; {8000} read BADC is 0x0080 = 128.
    CHECK_FALSE(decode_raw(Regs{0x0080}, DataType::i16, WordOrder::badc).has_value());
    CHECK(decode_raw(Regs{0x8000}, DataType::i16, WordOrder::badc) == 128.0);
}

TEST_CASE("a custom sentinel compares the unsigned bits of the point's width") {
    // Eastron-style "0 means not available".
    CHECK_FALSE(decode_raw(Regs{0x0000}, DataType::u16, WordOrder::abcd, policy(Mode::custom, 0))
                    .has_value());
    // Under a custom policy the type's own sentinel is an ordinary number.
    CHECK(decode_raw(Regs{0xFFFF}, DataType::u16, WordOrder::abcd, policy(Mode::custom, 0)) ==
          65535.0);
    // Bits before sign interpretation: 0xFFFF is the i16 value -1.
    CHECK_FALSE(
        decode_raw(Regs{0xFFFF}, DataType::i16, WordOrder::abcd, policy(Mode::custom, 0xFFFF))
            .has_value());
    CHECK(decode_raw(Regs{0x8000}, DataType::i16, WordOrder::abcd, policy(Mode::custom, 0xFFFF)) ==
          -32768.0);
    // 32-bit, compared after assembling the words: 9999 = 0x0000270F, read CDAB.
    CHECK_FALSE(
        decode_raw(Regs{0x270F, 0x0000}, DataType::u32, WordOrder::cdab, policy(Mode::custom, 9999))
            .has_value());
    CHECK(decode_raw(Regs{0x270F, 0x0001}, DataType::u32, WordOrder::cdab,
                     policy(Mode::custom, 9999)) == 0x0001270F);
    // A raw value wider than the point never matches: 0x1FFFF is not a 16-bit pattern.
    CHECK(decode_raw(Regs{0xFFFF}, DataType::u16, WordOrder::abcd, policy(Mode::custom, 0x1FFFF)) ==
          65535.0);
    // Floats: 0.0f (bits 0) as the custom sentinel.
    CHECK_FALSE(
        decode_raw(Regs{0x0000, 0x0000}, DataType::f32, WordOrder::abcd, policy(Mode::custom, 0))
            .has_value());
    CHECK(decode_raw(Regs{0xBFC0, 0x0000}, DataType::f32, WordOrder::abcd,
                     policy(Mode::custom, 0)) == -1.5);
}

TEST_CASE("NaN and infinite floats are missing under every sentinel policy") {
    struct Case {
        DataType type;
        Regs regs;
        const char* what;
    };
    const std::vector<Case> cases{
        {DataType::f32, {0x7FC0, 0x0000}, "f32 quiet NaN (SunSpec)"},
        {DataType::f32, {0xFFC0, 0x0000}, "f32 negative quiet NaN"},
        {DataType::f32, {0x7F80, 0x0001}, "f32 signalling NaN"},
        {DataType::f32, {0x7FFF, 0xFFFF}, "f32 NaN with full payload"},
        {DataType::f32, {0x7F80, 0x0000}, "f32 +inf"},
        {DataType::f32, {0xFF80, 0x0000}, "f32 -inf"},
        {DataType::f64, {0x7FF8, 0x0000, 0x0000, 0x0000}, "f64 quiet NaN (SunSpec)"},
        {DataType::f64, {0x7FF0, 0x0000, 0x0000, 0x0001}, "f64 signalling NaN"},
        {DataType::f64, {0x7FF0, 0x0000, 0x0000, 0x0000}, "f64 +inf"},
        {DataType::f64, {0xFFF0, 0x0000, 0x0000, 0x0000}, "f64 -inf"},
    };
    for (const auto& c : cases) {
        for (const Mode mode : {Mode::type_default, Mode::none, Mode::custom}) {
            CAPTURE(c.what, static_cast<int>(mode));
            CHECK_FALSE(decode_raw(c.regs, c.type, WordOrder::abcd, policy(mode, 1)).has_value());
        }
    }
}

TEST_CASE("the largest finite floats are numbers") {
    CHECK(decode_raw(Regs{0x7F7F, 0xFFFF}, DataType::f32, WordOrder::abcd) ==
          double{std::numeric_limits<float>::max()});
    CHECK(decode_raw(Regs{0x7FEF, 0xFFFF, 0xFFFF, 0xFFFF}, DataType::f64, WordOrder::abcd) ==
          std::numeric_limits<double>::max());
    // Negative zero is a number too.
    CHECK(decode_raw(Regs{0x8000, 0x0000}, DataType::f32, WordOrder::abcd) == 0.0);
}

TEST_CASE("decode_raw rejects a register count that does not match the type") {
    CHECK_FALSE(decode_raw(Regs{0x0001}, DataType::u32, WordOrder::abcd).has_value());
    CHECK_FALSE(decode_raw(Regs{0x0001, 0x0002}, DataType::u16, WordOrder::abcd).has_value());
    CHECK_FALSE(decode_raw(Regs{0x4142}, DataType::string, WordOrder::abcd).has_value());
}

TEST_CASE("decode_scale_factor accepts -10..10 and rejects the sentinel and larger exponents") {
    CHECK(decode_scale_factor(0x0000) == 0);
    CHECK(decode_scale_factor(0x0002) == 2);
    CHECK(decode_scale_factor(0xFFFE) == -2);
    CHECK(decode_scale_factor(0x000A) == 10);
    CHECK(decode_scale_factor(0xFFF6) == -10);
    CHECK_FALSE(decode_scale_factor(0x000B).has_value()); // 11
    CHECK_FALSE(decode_scale_factor(0xFFF5).has_value()); // -11
    CHECK_FALSE(decode_scale_factor(0x8000).has_value()); // SunSpec "not implemented"
    CHECK_FALSE(decode_scale_factor(0x7FFF).has_value());
}

TEST_CASE("decode_string reads NUL-padded text with the first character in the high byte") {
    // "SunSpec" = 53 75 6E 53 70 65 63.
    CHECK(decode_string(Regs{0x5375, 0x6E53, 0x7065, 0x6300}, WordOrder::abcd) == "SunSpec");
    // Word order does not reorder the registers of a string.
    CHECK(decode_string(Regs{0x5375, 0x6E53, 0x7065, 0x6300}, WordOrder::cdab) == "SunSpec");
    CHECK(decode_string(Regs{0x4142, 0x0000, 0x0000, 0x0000}, WordOrder::abcd) == "AB");
    CHECK(decode_string(Regs{0x4142, 0x4300}, WordOrder::abcd) == "ABC");
}

TEST_CASE("decode_string with BADC or DCBA takes the first character from the low byte") {
    CHECK(decode_string(Regs{0x7553, 0x536E, 0x6570, 0x0063}, WordOrder::badc) == "SunSpec");
    CHECK(decode_string(Regs{0x7553, 0x536E, 0x6570, 0x0063}, WordOrder::dcba) == "SunSpec");
    // The same registers read high byte first give the pairs swapped.
    CHECK(decode_string(Regs{0x7553, 0x536E}, WordOrder::abcd) == "uSSn");
}

TEST_CASE("decode_string drops trailing spaces and stops at the first NUL") {
    CHECK(decode_string(Regs{0x4142, 0x2020, 0x2020}, WordOrder::abcd) == "AB");
    CHECK(decode_string(Regs{0x4142, 0x2000, 0x0000}, WordOrder::abcd) == "AB");
    CHECK(decode_string(Regs{0x2041, 0x4200}, WordOrder::abcd) == " AB"); // leading kept
    CHECK(decode_string(Regs{0x4120, 0x4200}, WordOrder::abcd) == "A B"); // inner kept
    CHECK(decode_string(Regs{0x4100, 0x4243}, WordOrder::abcd) == "A");   // data after NUL
    CHECK(decode_string(Regs{0x0041, 0x4243}, WordOrder::abcd) == "");    // NUL first
    CHECK(decode_string(Regs{0x2020, 0x2020}, WordOrder::abcd) == "");    // only spaces
}

TEST_CASE("an all-zero string is missing unless sentinels are disabled") {
    CHECK_FALSE(decode_string(Regs{0, 0, 0, 0}, WordOrder::abcd).has_value());
    CHECK_FALSE(decode_string(Regs{0, 0}, WordOrder::badc).has_value());
    CHECK(decode_string(Regs{0, 0, 0, 0}, WordOrder::abcd, policy(Mode::none)) == "");
    // A custom filler: every register equal to it means not implemented.
    CHECK_FALSE(decode_string(Regs{0xFFFF, 0xFFFF}, WordOrder::abcd, policy(Mode::custom, 0xFFFF))
                    .has_value());
    CHECK(decode_string(Regs{0xFFFF, 0xFFFF}, WordOrder::abcd) == "\xFF\xFF\xFF\xFF");
    CHECK(decode_string(Regs{0, 0}, WordOrder::abcd, policy(Mode::custom, 0xFFFF)) == "");
}

TEST_CASE("decode_point applies a negative scale factor by exact division") {
    PointSpec w = point_of(DataType::u16);
    w.scale_factor = 1;
    // raw 1234 = 0x04D2, SF -1 = 0xFFFF.
    const PointValue v = decode_point(w, Regs{0x04D2}, std::uint16_t{0xFFFF});
    CHECK(v.quality == Quality::ok);
    CHECK(v.value == 123.4);
}

TEST_CASE("decode_point applies positive scale factors and signed raw values") {
    PointSpec w = point_of(DataType::u16);
    w.scale_factor = 1;
    CHECK(decode_point(w, Regs{0x000F}, std::uint16_t{0x0002}).value == 1500.0);
    CHECK(decode_point(w, Regs{0x000F}, std::uint16_t{0x0000}).value == 15.0);

    PointSpec a = point_of(DataType::i16);
    a.scale_factor = 1;
    // raw -500 = 0xFE0C, SF -2 = 0xFFFE.
    const PointValue v = decode_point(a, Regs{0xFE0C}, std::uint16_t{0xFFFE});
    CHECK(v.quality == Quality::ok);
    CHECK(v.value == -5.0);

    PointSpec e = point_of(DataType::acc32);
    e.scale_factor = 1;
    // raw 0x00010000 = 65536 Wh, SF 3 -> 65536000.
    CHECK(decode_point(e, Regs{0x0001, 0x0000}, std::uint16_t{0x0003}).value == 65536000.0);
}

TEST_CASE("a scale-factor sentinel or an out-of-range SF makes the point missing") {
    PointSpec w = point_of(DataType::u16);
    w.scale_factor = 1;
    CHECK(decode_point(w, Regs{0x04D2}, std::uint16_t{0x8000}).quality == Quality::missing);
    CHECK(decode_point(w, Regs{0x04D2}, std::uint16_t{0x000B}).quality == Quality::missing);
    CHECK(decode_point(w, Regs{0x04D2}, std::uint16_t{0xFFF5}).quality == Quality::missing);
    CHECK(decode_point(w, Regs{0x04D2}, std::uint16_t{0x000A}).quality == Quality::ok);
}

TEST_CASE("a point with a scale factor but no SF register is an error") {
    PointSpec w = point_of(DataType::u16);
    w.scale_factor = 3;
    CHECK(decode_point(w, Regs{0x04D2}).quality == Quality::error);
}

TEST_CASE("a point without a scale factor ignores the SF register") {
    const PointSpec w = point_of(DataType::u16);
    const PointValue v = decode_point(w, Regs{0x04D2}, std::uint16_t{0x0002});
    CHECK(v.quality == Quality::ok);
    CHECK(v.value == 1234.0);
}

TEST_CASE("decode_point applies scale and offset after the scale factor") {
    PointSpec t = point_of(DataType::u16);
    t.scale = 0.1;
    t.offset = -40.0;
    // raw 250 = 0x00FA: 250 * 0.1 - 40 = -15.
    CHECK(decode_point(t, Regs{0x00FA}).value == Approx(-15.0));

    PointSpec k = point_of(DataType::u16);
    k.scale_factor = 1;
    k.scale = 1000.0;
    k.offset = 5.0;
    // raw 1234, SF -1: 123.4 * 1000 + 5 = 123405.
    CHECK(decode_point(k, Regs{0x04D2}, std::uint16_t{0xFFFF}).value == Approx(123405.0));

    PointSpec f = point_of(DataType::f32);
    f.scale = -1.0; // sign flip
    CHECK(decode_point(f, Regs{0xBFC0, 0x0000}).value == 1.5);
}

TEST_CASE("a value sentinel makes the point missing even with a valid scale factor") {
    PointSpec w = point_of(DataType::i16);
    w.scale_factor = 1;
    CHECK(decode_point(w, Regs{0x8000}, std::uint16_t{0x0000}).quality == Quality::missing);

    const PointSpec f = point_of(DataType::f32);
    CHECK(decode_point(f, Regs{0x7FC0, 0x0000}).quality == Quality::missing);

    PointSpec n = point_of(DataType::u16);
    n.sentinel = policy(Mode::none);
    const PointValue v = decode_point(n, Regs{0xFFFF});
    CHECK(v.quality == Quality::ok);
    CHECK(v.value == 65535.0);
}

TEST_CASE("values outside the plausibility range are implausible but keep the value") {
    PointSpec w = point_of(DataType::i16);
    w.scale_factor = 1;
    w.min = 0.0;
    w.max = 1000.0;
    // raw 15, SF 2 -> 1500 > 1000.
    const PointValue high = decode_point(w, Regs{0x000F}, std::uint16_t{0x0002});
    CHECK(high.quality == Quality::implausible);
    CHECK(high.value == 1500.0);
    // raw -1 -> below 0.
    const PointValue low = decode_point(w, Regs{0xFFFF}, std::uint16_t{0x0000});
    CHECK(low.quality == Quality::implausible);
    CHECK(low.value == -1.0);
    // Bounds are inclusive: 1000 and 0 are ok.
    CHECK(decode_point(w, Regs{0x000A}, std::uint16_t{0x0002}).quality == Quality::ok);
    CHECK(decode_point(w, Regs{0x0000}, std::uint16_t{0x0000}).quality == Quality::ok);

    PointSpec only_max = point_of(DataType::i16);
    only_max.max = 10.0;
    CHECK(decode_point(only_max, Regs{0xFF00}).quality == Quality::ok); // -256
    CHECK(decode_point(only_max, Regs{0x000B}).quality == Quality::implausible);
}

TEST_CASE("a result that overflows to infinity is implausible") {
    PointSpec f = point_of(DataType::f64);
    f.scale_factor = 1;
    // DBL_MAX * 10^10 overflows.
    const PointValue v = decode_point(f, Regs{0x7FEF, 0xFFFF, 0xFFFF, 0xFFFF}, std::uint16_t{10});
    CHECK(v.quality == Quality::implausible);
}

TEST_CASE("decode_point is an error when the register count does not fit the point") {
    const PointSpec w = point_of(DataType::u32);
    CHECK(decode_point(w, Regs{0x0001}).quality == Quality::error);
    PointSpec bad = point_of(DataType::u32, 1); // registers inconsistent with the type
    CHECK(decode_point(bad, Regs{0x0001}).quality == Quality::error);
}

TEST_CASE("decode_point fills text for string points and reports all-zero as missing") {
    PointSpec s = point_of(DataType::string, 4);
    const PointValue v = decode_point(s, Regs{0x5375, 0x6E53, 0x7065, 0x6300});
    CHECK(v.quality == Quality::ok);
    CHECK(v.text == "SunSpec");
    s.order = WordOrder::badc;
    CHECK(decode_point(s, Regs{0x7553, 0x536E, 0x6570, 0x0063}).text == "SunSpec");
    const PointValue empty = decode_point(s, Regs{0, 0, 0, 0});
    CHECK(empty.quality == Quality::missing);
    CHECK(empty.text.empty());
}

TEST_CASE("encode_raw writes the hand-written registers of every type and order") {
    for (const auto& row : wire_table()) {
        CAPTURE(name(row.type), name(row.order), hex(row.regs));
        Regs out(row.regs.size(), 0xAAAA);
        encode_raw(row.value, row.type, row.order, out);
        CHECK(hex(out) == hex(row.regs));
    }
}

TEST_CASE("encode_raw then decode_raw round-trips every type and order") {
    struct Values {
        DataType type;
        std::vector<double> values;
    };
    using enum DataType;
    const std::vector<Values> table{
        {u16, {0, 1, 4660, 65534}},
        {i16, {-32767, -1, 0, 1, 32767}},
        {acc16, {1, 65535}},
        {enum16, {0, 3, 65534}},
        {bitfield16, {0, 0x8001, 0xFFFE}},
        {sunssf, {-10, -2, 0, 3, 10}},
        {u32, {0, 70000, 4294967294.0}},
        {i32, {-2147483647.0, -70000, 0, 2147483647.0}},
        {acc32, {1, 4294967295.0}},
        {enum32, {0, 65538}},
        {bitfield32, {1, 2147483649.0}},
        {u64, {0, 1, 9007199254740991.0, 1e18}},
        {i64, {-1e18, -1, 0, 9007199254740992.0}},
        {acc64, {1, 1e15}},
        {f32, {0.0, -1.5, 123.456f, 3.4e38f, -1e-30f}},
        {f64, {0.0, -1.5, 123.456, 1e300, -2.2250738585072014e-308}},
    };
    for (const auto& row : table) {
        for (const WordOrder order : all_orders) {
            for (const double value : row.values) {
                CAPTURE(name(row.type), name(order), value);
                Regs out(register_count(row.type));
                encode_raw(value, row.type, order, out);
                CAPTURE(hex(out));
                const auto decoded = decode_raw(out, row.type, order);
                REQUIRE(decoded.has_value());
                CHECK(*decoded == value);
            }
        }
    }
}

TEST_CASE("encode_raw rounds to nearest with halves away from zero") {
    Regs one(1);
    encode_raw(2.5, DataType::u16, WordOrder::abcd, one);
    CHECK(one[0] == 0x0003);
    encode_raw(2.4999, DataType::u16, WordOrder::abcd, one);
    CHECK(one[0] == 0x0002);
    encode_raw(1234.5, DataType::u16, WordOrder::abcd, one);
    CHECK(one[0] == 0x04D3); // 1235
    encode_raw(-2.5, DataType::i16, WordOrder::abcd, one);
    CHECK(one[0] == 0xFFFD); // -3
    encode_raw(-0.4, DataType::i16, WordOrder::abcd, one);
    CHECK(one[0] == 0x0000);
}

TEST_CASE("encode_raw saturates to the type's range without producing the sentinel") {
    struct Case {
        DataType type;
        double raw;
        Regs expected; // ABCD
    };
    using enum DataType;
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<Case> cases{
        {u16, 70000, {0xFFFE}},
        {u16, 65535, {0xFFFE}}, // in range, but 0xFFFF is "not implemented"
        {u16, -5, {0x0000}},
        {u16, inf, {0xFFFE}},
        {i16, 40000, {0x7FFF}},
        {i16, -40000, {0x8001}},
        {i16, -32768, {0x8001}},
        {i16, -inf, {0x8001}},
        {sunssf, 1e9, {0x7FFF}},
        {enum16, 1e9, {0xFFFE}},
        {bitfield16, 1e9, {0xFFFE}},
        {acc16, 70000, {0xFFFF}},
        {acc16, -3, {0x0000}},
        {u32, 1e12, {0xFFFF, 0xFFFE}},
        {u32, -1, {0x0000, 0x0000}},
        {i32, 1e12, {0x7FFF, 0xFFFF}},
        {i32, -1e12, {0x8000, 0x0001}},
        {enum32, 1e12, {0xFFFF, 0xFFFE}},
        {bitfield32, 1e12, {0xFFFF, 0xFFFE}},
        {acc32, 1e12, {0xFFFF, 0xFFFF}},
        {u64, 1e30, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}},
        {u64, -1e30, {0x0000, 0x0000, 0x0000, 0x0000}},
        {i64, 1e30, {0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF}},
        {i64, -1e30, {0x8000, 0x0000, 0x0000, 0x0001}},
        {i64, -9223372036854775808.0, {0x8000, 0x0000, 0x0000, 0x0001}},
        {acc64, 1e30, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}},
        {f32, 1e39, {0x7F7F, 0xFFFF}},  // FLT_MAX, not +inf
        {f32, -1e39, {0xFF7F, 0xFFFF}}, // -FLT_MAX
    };
    for (const auto& c : cases) {
        CAPTURE(name(c.type), c.raw);
        Regs out(c.expected.size(), 0xAAAA);
        encode_raw(c.raw, c.type, WordOrder::abcd, out);
        CHECK(hex(out) == hex(c.expected));
    }
}

TEST_CASE("encode_raw writes the sentinel for NaN and keeps NaN for floats") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Regs one(1);
    encode_raw(nan, DataType::u16, WordOrder::abcd, one);
    CHECK(one[0] == 0xFFFF);
    Regs two(2);
    encode_raw(nan, DataType::i32, WordOrder::cdab, two);
    CHECK(hex(two) == hex({0x0000, 0x8000}));
    encode_raw(nan, DataType::f32, WordOrder::abcd, two);
    CHECK_FALSE(decode_raw(two, DataType::f32, WordOrder::abcd).has_value());
}

TEST_CASE("encode_raw leaves the output alone when its size does not fit the type") {
    Regs out{0xAAAA};
    encode_raw(5.0, DataType::u32, WordOrder::abcd, out);
    CHECK(out[0] == 0xAAAA);
    encode_raw(5.0, DataType::string, WordOrder::abcd, out);
    CHECK(out[0] == 0xAAAA);
}

TEST_CASE("encode_sentinel writes each type's not-implemented value") {
    struct Case {
        DataType type;
        WordOrder order;
        Regs expected;
    };
    using enum DataType;
    using enum WordOrder;
    const std::vector<Case> cases{
        {u16, abcd, {0xFFFF}},
        {i16, abcd, {0x8000}},
        {i16, badc, {0x0080}},
        {acc16, abcd, {0x0000}},
        {sunssf, abcd, {0x8000}},
        {i32, abcd, {0x8000, 0x0000}},
        {i32, cdab, {0x0000, 0x8000}},
        {i32, badc, {0x0080, 0x0000}},
        {i32, dcba, {0x0000, 0x0080}},
        {u32, abcd, {0xFFFF, 0xFFFF}},
        {acc32, abcd, {0x0000, 0x0000}},
        {i64, abcd, {0x8000, 0x0000, 0x0000, 0x0000}},
        {i64, dcba, {0x0000, 0x0000, 0x0000, 0x0080}},
        {u64, abcd, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}},
        {f32, abcd, {0x7FC0, 0x0000}},
        {f32, cdab, {0x0000, 0x7FC0}},
        {f64, abcd, {0x7FF8, 0x0000, 0x0000, 0x0000}},
        {f64, badc, {0xF87F, 0x0000, 0x0000, 0x0000}},
        {string, abcd, {0x0000, 0x0000, 0x0000}},
    };
    for (const auto& c : cases) {
        CAPTURE(name(c.type), name(c.order));
        Regs out(c.expected.size(), 0xAAAA);
        encode_sentinel(c.type, c.order, out);
        CHECK(hex(out) == hex(c.expected));
    }
}

TEST_CASE("every encoded sentinel decodes as missing") {
    for (const DataType type : numeric_types) {
        for (const WordOrder order : all_orders) {
            CAPTURE(name(type), name(order));
            Regs out(register_count(type));
            encode_sentinel(type, order, out);
            CHECK_FALSE(decode_raw(out, type, order).has_value());
        }
    }
    Regs text(5, 0x4141);
    encode_sentinel(DataType::string, WordOrder::abcd, text);
    CHECK_FALSE(decode_string(text, WordOrder::abcd).has_value());
}

TEST_CASE("encode_string pads with NUL, truncates, and honours the byte order") {
    Regs four(4);
    encode_string("SunSpec", WordOrder::abcd, four);
    CHECK(hex(four) == hex({0x5375, 0x6E53, 0x7065, 0x6300}));
    encode_string("SunSpec", WordOrder::badc, four);
    CHECK(hex(four) == hex({0x7553, 0x536E, 0x6570, 0x0063}));
    Regs two(2);
    encode_string("ABCDE", WordOrder::abcd, two);
    CHECK(hex(two) == hex({0x4142, 0x4344}));
    Regs three(3, 0xAAAA);
    encode_string("A", WordOrder::abcd, three);
    CHECK(hex(three) == hex({0x4100, 0x0000, 0x0000}));
    encode_string("", WordOrder::dcba, three);
    CHECK(hex(three) == hex({0x0000, 0x0000, 0x0000}));
}

TEST_CASE("encode_string then decode_string round-trips in every order") {
    for (const WordOrder order : all_orders) {
        for (const std::string text : {"SunSpec", "A", "Fronius Symo 8.2-3-M", "12345678"}) {
            CAPTURE(name(order), text);
            Regs regs(10);
            encode_string(text, order, regs);
            CHECK(decode_string(regs, order) == text);
        }
    }
}

TEST_CASE("to_raw inverts offset, scale and scale factor") {
    PointSpec t = point_of(DataType::u16);
    t.scale = 0.1;
    t.offset = -40.0;
    CHECK(to_raw(t, -15.0) == Approx(250.0));

    const PointSpec w = point_of(DataType::u16);
    CHECK(to_raw(w, 123.4, -1) == Approx(1234.0));
    CHECK(to_raw(w, 1500.0, 2) == 15.0);
    CHECK(to_raw(w, 42.0) == 42.0);
}

TEST_CASE("to_raw, encode_raw and decode_point round-trip a scaled value in every order") {
    for (const WordOrder order : all_orders) {
        for (const DataType type : {DataType::i16, DataType::u32, DataType::i64, DataType::f32}) {
            CAPTURE(name(order), name(type));
            PointSpec p = point_of(type);
            p.order = order;
            p.scale_factor = 1;
            p.scale = 0.5;
            p.offset = 10.0;
            const int sf = -2;
            const double value = 110.5; // raw = (110.5 - 10) / 0.5 / 10^-2 = 20100
            Regs regs(p.registers);
            encode_raw(to_raw(p, value, sf), type, order, regs);
            const PointValue v = decode_point(p, regs, std::uint16_t{0xFFFE});
            CHECK(v.quality == Quality::ok);
            CHECK(v.value == Approx(value));
        }
    }
}

TEST_CASE("decoded values report their resolution: scale x 10^sf, or the float's ulp", "[codec]") {
    using namespace greenrack::modbus;
    PointSpec energy;
    energy.type = DataType::acc32;
    energy.registers = 2;
    energy.scale_factor = 1;
    const std::uint16_t wh[2] = {0x0001, 0x0000};                          // 65536
    auto v = decode_point(energy, wh, static_cast<std::uint16_t>(0xFFFD)); // SF -3
    REQUIRE(v.quality == Quality::ok);
    CHECK(v.value == Approx(65.536));
    CHECK(v.resolution == Approx(0.001));

    PointSpec tenths;
    tenths.type = DataType::u16;
    tenths.registers = 1;
    tenths.scale = 100.0; // 0.1 kWh steps in Wh
    const std::uint16_t r[1] = {5};
    CHECK(decode_point(tenths, r).resolution == Approx(100.0));

    PointSpec meter;
    meter.type = DataType::f32;
    meter.registers = 2;
    const std::uint16_t big[2] = {0x4B80, 0x0000}; // 2^24 = 16777216.0f: next float is +2
    auto f = decode_point(meter, big);
    CHECK(f.value == 16777216.0);
    CHECK(f.resolution == 2.0);
}
