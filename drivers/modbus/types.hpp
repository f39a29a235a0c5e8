#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenrack::modbus {

// Which register table a point lives in. The daemon only ever reads: FC03 / FC04.
enum class RegisterKind : std::uint8_t {
    holding, // FC03 Read Holding Registers
    input,   // FC04 Read Input Registers
};

// Register data types. acc*/enum*/bitfield*/sunssf are the SunSpec flavours: they decode like
// the plain integer of the same width but carry SunSpec's own "not implemented" sentinel
// (see ../shared/docs/device-register-maps.md §1.4, reproduced in codec.cpp).
enum class DataType : std::uint8_t {
    u16,
    i16,
    u32,
    i32,
    u64,
    i64,
    f32,
    f64,
    string, // 2 characters per register, NUL padded
    acc16,
    acc32,
    acc64,
    enum16,
    enum32,
    bitfield16,
    bitfield32,
    sunssf, // int16 power-of-ten exponent for other points
};

// Order of the bytes of a multi-register value, named after the bytes of a big-endian value
// "ABCD" (A = most significant byte):
//   abcd: high word first, high byte first in each word (Modbus default, SunSpec)
//   cdab: low word first, high byte first in each word ("word swap")
//   badc: high word first, bytes swapped inside each word ("byte swap")
//   dcba: low word first, bytes swapped (fully little-endian)
// For 64-bit values the same rule extends to four words; for 16-bit values abcd == cdab and
// badc == dcba. For strings, badc/dcba put the first character of each pair in the low byte.
enum class WordOrder : std::uint8_t { abcd, cdab, badc, dcba };

// gauge: an instantaneous value; counter: a monotonically increasing total that may wrap.
enum class PointKind : std::uint8_t { gauge, counter };

// How a "not implemented" raw value is recognised for one point.
struct SentinelPolicy {
    enum class Mode : std::uint8_t {
        type_default, // the SunSpec sentinel of the point's type (and NaN for floats)
        none,         // every raw value is a number (NaN/inf floats still become missing)
        custom,       // this raw value (as read, unsigned bits of the point's width)
    };
    Mode mode = Mode::type_default;
    std::uint64_t raw = 0;

    bool operator==(const SentinelPolicy&) const = default;
};

// Number of registers a value of this type occupies (string_registers for strings).
std::uint16_t register_count(DataType type, std::uint16_t string_registers = 0);
bool is_signed(DataType type);
bool is_float(DataType type);

std::optional<DataType> parse_data_type(std::string_view text);
std::string_view to_string(DataType type);
std::optional<WordOrder> parse_word_order(std::string_view text);
std::string_view to_string(WordOrder order);
std::optional<RegisterKind> parse_register_kind(std::string_view text); // "holding" | "input"
std::string_view to_string(RegisterKind kind);
std::optional<PointKind> parse_point_kind(std::string_view text); // "gauge" | "counter"
std::string_view to_string(PointKind kind);

// Modbus function code used to read a register kind (3 or 4).
constexpr int function_code(RegisterKind kind) {
    return kind == RegisterKind::holding ? 3 : 4;
}

// Largest read allowed by the protocol (MODBUS_MAX_READ_REGISTERS).
inline constexpr std::uint16_t max_read_registers = 125;

} // namespace greenrack::modbus
