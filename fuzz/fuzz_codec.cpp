// Fuzz target: Modbus register decoding (drivers/modbus/codec.hpp) with arbitrary register words
// and arbitrary point definitions (type, word order, string length, scale, offset, scale factor,
// plausibility range, sentinel policy).
//
// Invariants:
// * the four word orders are the byte permutations they are documented to be, and spread_bits
//   inverts assemble_bits;
// * integers decode to the signed / unsigned value of their bits; a value in the range
//   encode_raw writes (exact in a double) encodes back to the same registers; floats decode to
//   their value and encode back bit for bit; only the sentinel (per policy) or a NaN/infinite
//   float decodes as missing;
// * strings stop at the first NUL, lose only trailing spaces, and encode back;
// * decode_point: quality error exactly for a register count mismatch or a scale-factor point
//   without its register; missing exactly for sentinels and unusable scale factors; ok values are
//   finite and inside the plausibility range; the value is raw x 10^sf x scale + offset; the
//   resolution is never negative or NaN.

#include "drivers/modbus/codec.hpp"
#include "fuzz/fuzz_check.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <fuzzer/FuzzedDataProvider.h>
#include <limits>
#include <optional>
#include <vector>

using namespace greenrack;
using modbus::DataType;
using modbus::PointSpec;
using modbus::Quality;
using modbus::SentinelPolicy;
using modbus::WordOrder;

namespace {

constexpr std::array<DataType, 17> all_types{
    DataType::u16,        DataType::i16,   DataType::u32,    DataType::i32,    DataType::u64,
    DataType::i64,        DataType::f32,   DataType::f64,    DataType::string, DataType::acc16,
    DataType::acc32,      DataType::acc64, DataType::enum16, DataType::enum32, DataType::bitfield16,
    DataType::bitfield32, DataType::sunssf};
constexpr std::array<WordOrder, 4> all_orders{WordOrder::abcd, WordOrder::cdab, WordOrder::badc,
                                              WordOrder::dcba};

std::string hex_words(std::span<const std::uint16_t> regs) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (const std::uint16_t reg : regs) {
        out += out.empty() ? "" : " ";
        for (int shift = 12; shift >= 0; shift -= 4) {
            out += digits[(reg >> shift) & 0xF];
        }
    }
    return out;
}

std::string describe(const PointSpec& p, std::span<const std::uint16_t> regs) {
    return "type " + std::string(modbus::to_string(p.type)) + " order " +
           std::string(modbus::to_string(p.order)) + " registers [" + hex_words(regs) + "]";
}

// Reverses the low `bytes` bytes of `bits`.
std::uint64_t byte_reverse(std::uint64_t bits, unsigned bytes) {
    return __builtin_bswap64(bits) >> (64 - 8 * bytes);
}

double pick_double(FuzzedDataProvider& in) {
    static constexpr std::array<double, 12> specials{1.0,
                                                     -1.0,
                                                     0.1,
                                                     10.0,
                                                     0.001,
                                                     1000.0,
                                                     1e-300,
                                                     1e300,
                                                     std::numeric_limits<double>::max(),
                                                     -std::numeric_limits<double>::max(),
                                                     std::numeric_limits<double>::denorm_min(),
                                                     0.5};
    if (in.ConsumeBool()) {
        return specials[in.ConsumeIntegralInRange<std::size_t>(0, specials.size() - 1)];
    }
    return in.ConsumeFloatingPoint<double>();
}

// The range encode_raw saturates to (codec.hpp), as signed / unsigned limits.
bool encodable_integer(DataType type, std::uint64_t bits) {
    switch (type) {
    case DataType::i16:
    case DataType::sunssf: {
        const auto v = static_cast<std::int16_t>(bits);
        return v != std::numeric_limits<std::int16_t>::min();
    }
    case DataType::i32: {
        const auto v = static_cast<std::int32_t>(bits);
        return v != std::numeric_limits<std::int32_t>::min();
    }
    case DataType::i64: {
        const auto v = static_cast<std::int64_t>(bits);
        return v > -(std::int64_t{1} << 53) && v < (std::int64_t{1} << 53);
    }
    case DataType::u16:
    case DataType::enum16:
    case DataType::bitfield16:
        return bits != 0xFFFF;
    case DataType::acc16:
        return true;
    case DataType::u32:
    case DataType::enum32:
    case DataType::bitfield32:
        return bits != 0xFFFF'FFFF;
    case DataType::acc32:
        return true;
    case DataType::u64:
    case DataType::acc64:
        return bits < (std::uint64_t{1} << 53);
    default:
        return false;
    }
}

// The integer a register value stands for, as a double (exact for the values checked).
double integer_value(DataType type, std::uint64_t bits) {
    switch (type) {
    case DataType::i16:
    case DataType::sunssf:
        return static_cast<std::int16_t>(bits);
    case DataType::i32:
        return static_cast<std::int32_t>(bits);
    case DataType::i64:
        return static_cast<double>(static_cast<std::int64_t>(bits));
    default:
        return static_cast<double>(bits);
    }
}

std::optional<std::uint64_t> type_sentinel(DataType type) {
    switch (type) {
    case DataType::u16:
    case DataType::enum16:
    case DataType::bitfield16:
        return 0xFFFFu;
    case DataType::i16:
    case DataType::sunssf:
        return 0x8000u;
    case DataType::u32:
    case DataType::enum32:
    case DataType::bitfield32:
        return 0xFFFF'FFFFu;
    case DataType::i32:
        return 0x8000'0000u;
    case DataType::u64:
        return ~std::uint64_t{0};
    case DataType::i64:
        return std::uint64_t{1} << 63;
    case DataType::acc16:
    case DataType::acc32:
    case DataType::acc64:
        return 0u;
    default:
        return std::nullopt;
    }
}

void check_word_orders(std::span<const std::uint16_t> regs) {
    const auto n = static_cast<unsigned>(regs.size());
    const std::uint64_t abcd = modbus::assemble_bits(regs, WordOrder::abcd);
    const std::uint64_t cdab = modbus::assemble_bits(regs, WordOrder::cdab);
    const std::uint64_t badc = modbus::assemble_bits(regs, WordOrder::badc);
    const std::uint64_t dcba = modbus::assemble_bits(regs, WordOrder::dcba);
    std::vector<std::uint16_t> reversed(regs.rbegin(), regs.rend());
    FUZZ_CHECK(cdab == modbus::assemble_bits(reversed, WordOrder::abcd),
               "cdab is not abcd of the reversed words: [" + hex_words(regs) + "]");
    FUZZ_CHECK(dcba == byte_reverse(abcd, 2 * n),
               "dcba is not abcd byte-reversed: [" + hex_words(regs) + "]");
    FUZZ_CHECK(badc == byte_reverse(cdab, 2 * n),
               "badc is not cdab byte-reversed: [" + hex_words(regs) + "]");
    for (const WordOrder order : all_orders) {
        std::vector<std::uint16_t> back(regs.size(), 0);
        modbus::spread_bits(modbus::assemble_bits(regs, order), order, back);
        FUZZ_CHECK(std::equal(back.begin(), back.end(), regs.begin()),
                   "spread_bits(assemble_bits(x)) != x for " +
                       std::string(modbus::to_string(order)) + ": [" + hex_words(regs) + "] -> [" +
                       hex_words(back) + "]");
    }
}

// decode_raw without any sentinel, and encode_raw back.
void check_numeric_round_trip(DataType type, WordOrder order, std::span<const std::uint16_t> regs) {
    const SentinelPolicy none{SentinelPolicy::Mode::none, 0};
    const auto raw = modbus::decode_raw(regs, type, order, none);
    const std::uint64_t bits = modbus::assemble_bits(regs, order);
    const std::string what = std::string(modbus::to_string(type)) + " " +
                             std::string(modbus::to_string(order)) + " [" + hex_words(regs) + "]";
    if (modbus::is_float(type)) {
        const double value =
            type == DataType::f32
                ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)))
                : std::bit_cast<double>(bits);
        FUZZ_CHECK(raw.has_value() == std::isfinite(value),
                   "a float is missing exactly when it is NaN or infinite: " + what);
        if (!raw) {
            return;
        }
        FUZZ_CHECK(*raw == value, "float decodes to its value: " + what);
        std::vector<std::uint16_t> back(regs.size(), 0);
        modbus::encode_raw(*raw, type, order, back);
        FUZZ_CHECK(std::equal(back.begin(), back.end(), regs.begin()),
                   "float encodes back bit for bit: " + what + " -> [" + hex_words(back) + "]");
        return;
    }
    FUZZ_CHECK(raw.has_value(), "an integer without sentinel policy is never missing: " + what);
    if (encodable_integer(type, bits)) {
        FUZZ_CHECK(*raw == integer_value(type, bits), "integer decodes to its value: " + what);
        std::vector<std::uint16_t> back(regs.size(), 0);
        modbus::encode_raw(*raw, type, order, back);
        FUZZ_CHECK(std::equal(back.begin(), back.end(), regs.begin()),
                   "integer encodes back: " + what + " -> [" + hex_words(back) + "]");
    }
}

// The string decode_string is documented to return (sentinel handling aside).
std::string expected_text(std::span<const std::uint16_t> regs, WordOrder order) {
    const bool swapped = order == WordOrder::badc || order == WordOrder::dcba;
    std::string text;
    for (const std::uint16_t reg : regs) {
        const auto high = static_cast<char>(reg >> 8);
        const auto low = static_cast<char>(reg & 0xFF);
        text += swapped ? low : high;
        text += swapped ? high : low;
    }
    text = text.substr(0, text.find('\0'));
    while (!text.empty() && text.back() == ' ') {
        text.pop_back();
    }
    return text;
}

bool is_sentinel_string(std::span<const std::uint16_t> regs, const SentinelPolicy& policy) {
    if (policy.mode == SentinelPolicy::Mode::none) {
        return false;
    }
    const std::uint64_t filler = policy.mode == SentinelPolicy::Mode::custom ? policy.raw : 0;
    return std::all_of(regs.begin(), regs.end(),
                       [filler](std::uint16_t reg) { return reg == filler; });
}

void check_string(const PointSpec& point, std::span<const std::uint16_t> regs,
                  const modbus::PointValue& result) {
    const std::string what = describe(point, regs);
    if (is_sentinel_string(regs, point.sentinel)) {
        FUZZ_CHECK(result.quality == Quality::missing, "sentinel string is missing: " + what);
        return;
    }
    FUZZ_CHECK(result.quality == Quality::ok, "string decodes: " + what);
    const std::string expected = expected_text(regs, point.order);
    FUZZ_CHECK(result.text == expected, "string text: got \"" + fuzz::printable(result.text) +
                                            "\", expected \"" + fuzz::printable(expected) +
                                            "\": " + what);
    // Encoding the text again gives registers that decode to the same text.
    std::vector<std::uint16_t> back(regs.size(), 0);
    modbus::encode_string(result.text, point.order, back);
    const SentinelPolicy none{SentinelPolicy::Mode::none, 0};
    const auto again = modbus::decode_string(back, point.order, none);
    FUZZ_CHECK(again && *again == result.text, "string encodes back: " + what);
}

double pow10_scaled(double x, int sf) {
    static constexpr std::array<double, 11> powers{1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
                                                   1e6, 1e7, 1e8, 1e9, 1e10};
    return sf >= 0 ? x * powers[static_cast<std::size_t>(sf)]
                   : x / powers[static_cast<std::size_t>(-sf)];
}

void check_point(const PointSpec& point, std::span<const std::uint16_t> regs,
                 std::optional<std::uint16_t> sf_register) {
    const modbus::PointValue result = modbus::decode_point(point, regs, sf_register);
    const std::string what = describe(point, regs);
    FUZZ_CHECK(!std::isnan(result.resolution) && result.resolution >= 0.0,
               "resolution " + std::to_string(result.resolution) + ": " + what);
    if (regs.size() != point.registers) {
        FUZZ_CHECK(result.quality == Quality::error, "register count mismatch is error: " + what);
        return;
    }
    if (point.type == DataType::string) {
        check_string(point, regs, result);
        return;
    }
    if (point.scale_factor && !sf_register) {
        FUZZ_CHECK(result.quality == Quality::error, "scale factor register absent: " + what);
        return;
    }
    int sf = 0;
    if (point.scale_factor) {
        const auto exponent = static_cast<std::int16_t>(*sf_register);
        if (*sf_register == 0x8000 || exponent < -10 || exponent > 10) {
            FUZZ_CHECK(result.quality == Quality::missing, "unusable scale factor: " + what);
            return;
        }
        sf = exponent;
    }
    const std::uint64_t bits = modbus::assemble_bits(regs, point.order);
    bool sentinel =
        point.sentinel.mode == SentinelPolicy::Mode::custom && bits == point.sentinel.raw;
    double raw = 0.0;
    if (modbus::is_float(point.type)) {
        raw = point.type == DataType::f32
                  ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)))
                  : std::bit_cast<double>(bits);
        sentinel = sentinel || !std::isfinite(raw);
    } else {
        sentinel = sentinel || (point.sentinel.mode == SentinelPolicy::Mode::type_default &&
                                type_sentinel(point.type) == bits);
        const SentinelPolicy none{SentinelPolicy::Mode::none, 0};
        raw = modbus::decode_raw(regs, point.type, point.order, none).value_or(0.0);
    }
    if (sentinel) {
        FUZZ_CHECK(result.quality == Quality::missing, "sentinel is missing: " + what);
        return;
    }
    FUZZ_CHECK(result.quality == Quality::ok || result.quality == Quality::implausible,
               "a decoded number is ok or implausible: " + what);
    const double value = pow10_scaled(raw, sf) * point.scale + point.offset;
    FUZZ_CHECK(result.value == value || (std::isnan(result.value) && std::isnan(value)),
               "value " + std::to_string(result.value) + " != raw x 10^sf x scale + offset " +
                   std::to_string(value) + ": " + what);
    const bool plausible = std::isfinite(value) && !(point.min && value < *point.min) &&
                           !(point.max && value > *point.max);
    FUZZ_CHECK((result.quality == Quality::ok) == plausible,
               "ok exactly when finite and inside min..max: " + what);
    if (result.quality == Quality::ok && point.offset == 0.0 && std::fabs(point.scale) >= 1e-3 &&
        std::fabs(point.scale) <= 1e3 && std::fabs(raw) < 1e15) {
        // to_raw inverts decoding (what the simulator relies on), up to rounding.
        const double back = modbus::to_raw(point, result.value, sf);
        FUZZ_CHECK(std::fabs(back - raw) <= 1e-9 * std::max(1.0, std::fabs(raw)),
                   "to_raw(" + std::to_string(result.value) + ") = " + std::to_string(back) +
                       ", raw was " + std::to_string(raw) + ": " + what);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    PointSpec point;
    point.type = all_types[in.ConsumeIntegralInRange<std::size_t>(0, all_types.size() - 1)];
    point.order = all_orders[in.ConsumeIntegralInRange<std::size_t>(0, all_orders.size() - 1)];
    const auto string_length = in.ConsumeIntegralInRange<std::uint16_t>(1, 8);
    point.registers = modbus::register_count(point.type, string_length);
    // A profile only admits finite, non-zero scales and finite offsets and limits.
    point.scale = pick_double(in);
    if (point.scale == 0.0 || !std::isfinite(point.scale)) {
        point.scale = 1.0;
    }
    point.offset = in.ConsumeBool() ? 0.0 : pick_double(in);
    if (!std::isfinite(point.offset)) {
        point.offset = 0.0;
    }
    if (in.ConsumeBool()) {
        point.min = pick_double(in);
    }
    if (in.ConsumeBool()) {
        point.max = pick_double(in);
    }
    const auto mode = in.ConsumeIntegralInRange<int>(0, 2);
    point.sentinel.mode = static_cast<SentinelPolicy::Mode>(mode);
    if (point.sentinel.mode == SentinelPolicy::Mode::custom) {
        const unsigned width =
            16U *
            modbus::register_count(point.type == DataType::string ? DataType::u16 : point.type);
        const auto value = in.ConsumeIntegral<std::uint64_t>();
        point.sentinel.raw = width >= 64 ? value : value & ((std::uint64_t{1} << width) - 1);
    }
    std::optional<std::uint16_t> sf_register;
    if (point.type != DataType::string && point.type != DataType::sunssf && in.ConsumeBool()) {
        point.scale_factor = 0;
        if (in.ConsumeBool()) {
            sf_register = in.ConsumeIntegral<std::uint16_t>();
        }
    }
    // Occasionally one register too few or too many.
    std::size_t count = point.registers;
    const auto shape = in.ConsumeIntegralInRange<int>(0, 15);
    if (shape == 0 && count > 0) {
        --count;
    } else if (shape == 1) {
        ++count;
    }
    std::vector<std::uint16_t> regs(count, 0);
    for (auto& reg : regs) {
        reg = in.ConsumeIntegral<std::uint16_t>();
    }

    check_point(point, regs, sf_register);
    if (regs.size() == 1 || regs.size() == 2 || regs.size() == 4) {
        check_word_orders(regs);
        if (point.type != DataType::string && regs.size() == point.registers) {
            check_numeric_round_trip(point.type, point.order, regs);
        }
    }
    return 0;
}
