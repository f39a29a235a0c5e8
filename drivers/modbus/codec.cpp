#include "drivers/modbus/codec.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

namespace greenrack::modbus {

namespace {

// SunSpec "not implemented" raw values, unsigned bits of the type's width (SunSpec Modbus
// data types; pysunspec2 SUNS_UNIMPL_*):
//   int16 0x8000, uint16 0xFFFF, acc16 0, enum16 0xFFFF, bitfield16 0xFFFF, sunssf 0x8000,
//   int32 0x80000000, uint32 / enum32 / bitfield32 0xFFFFFFFF, acc32 0,
//   int64 0x8000000000000000, uint64 0xFFFFFFFFFFFFFFFF, acc64 0,
//   float32 / float64: NaN (any NaN; infinities are treated the same way), string: all zero.
constexpr std::optional<std::uint64_t> default_sentinel(DataType type) {
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
        return 0xFFFF'FFFF'FFFF'FFFFu;
    case DataType::i64:
        return 0x8000'0000'0000'0000u;
    case DataType::acc16:
    case DataType::acc32:
    case DataType::acc64:
        return 0u;
    case DataType::f32:
    case DataType::f64:
    case DataType::string:
        return std::nullopt;
    }
    return std::nullopt;
}

unsigned width_bits(DataType type) {
    return register_count(type) * 16U;
}

constexpr std::uint64_t width_mask(unsigned bits) {
    return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

constexpr std::uint16_t swap_bytes(std::uint16_t word) {
    return static_cast<std::uint16_t>((word << 8) | (word >> 8));
}

constexpr bool low_word_first(WordOrder order) {
    return order == WordOrder::cdab || order == WordOrder::dcba;
}

constexpr bool bytes_swapped(WordOrder order) {
    return order == WordOrder::badc || order == WordOrder::dcba;
}

// Exact powers of ten (every 10^k with k <= 22 is exactly representable as a double).
constexpr std::array<double, 23> powers_of_ten{
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

double power_of_ten(unsigned exponent) {
    return exponent < powers_of_ten.size() ? powers_of_ten[exponent]
                                           : std::pow(10.0, static_cast<double>(exponent));
}

// x * 10^exponent, dividing by an exact power for negative exponents so that e.g. 1234 with
// SF -1 gives the double nearest to 123.4 (multiplying by the inexact 0.1 would not).
double scale_by_power_of_ten(double x, int exponent) {
    if (exponent >= 0) {
        return x * power_of_ten(static_cast<unsigned>(exponent));
    }
    return x / power_of_ten(static_cast<unsigned>(-static_cast<long>(exponent)));
}

double bits_to_float(std::uint64_t bits, DataType type) {
    if (type == DataType::f32) {
        return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    }
    return std::bit_cast<double>(bits);
}

double bits_to_integer(std::uint64_t bits, DataType type) {
    const unsigned width = width_bits(type);
    if (is_signed(type)) {
        // Sign-extend from `width` bits (arithmetic right shift is defined in C++20).
        const unsigned shift = 64 - width;
        const auto value = static_cast<std::int64_t>(bits << shift) >> shift;
        return static_cast<double>(value);
    }
    return static_cast<double>(bits & width_mask(width));
}

// Inclusive range of raw integers encode_raw may produce for a type. Where the SunSpec
// sentinel sits at an end of the type's range it is left out, so that saturation never turns a
// real value into "not implemented". acc* keep 0: SunSpec uses 0 both as a legitimate count and
// as the sentinel, and the two cannot be told apart.
struct SignedRange {
    std::int64_t lo;
    std::int64_t hi;
};

struct UnsignedRange {
    std::uint64_t lo;
    std::uint64_t hi;
};

constexpr SignedRange signed_range(DataType type) {
    switch (type) {
    case DataType::i16:
    case DataType::sunssf:
        return {-0x7FFF, 0x7FFF};
    case DataType::i32:
        return {-0x7FFF'FFFF, 0x7FFF'FFFF};
    default:
        return {-0x7FFF'FFFF'FFFF'FFFF, 0x7FFF'FFFF'FFFF'FFFF};
    }
}

constexpr UnsignedRange unsigned_range(DataType type) {
    switch (type) {
    case DataType::u16:
    case DataType::enum16:
    case DataType::bitfield16:
        return {0, 0xFFFE};
    case DataType::acc16:
        return {0, 0xFFFF};
    case DataType::u32:
    case DataType::enum32:
    case DataType::bitfield32:
        return {0, 0xFFFF'FFFE};
    case DataType::acc32:
        return {0, 0xFFFF'FFFF};
    case DataType::u64:
        return {0, 0xFFFF'FFFF'FFFF'FFFE};
    default: // acc64
        return {0, 0xFFFF'FFFF'FFFF'FFFF};
    }
}

// 2^63 and 2^64 are exact doubles; every double below them converts without overflow.
constexpr double two_pow_63 = 9223372036854775808.0;
constexpr double two_pow_64 = 18446744073709551616.0;

std::uint64_t saturate_signed(double rounded, SignedRange range) {
    std::int64_t value = 0;
    if (rounded >= two_pow_63) {
        value = range.hi;
    } else if (rounded < -two_pow_63) {
        value = range.lo;
    } else {
        value = std::clamp(static_cast<std::int64_t>(rounded), range.lo, range.hi);
    }
    return static_cast<std::uint64_t>(value);
}

std::uint64_t saturate_unsigned(double rounded, UnsignedRange range) {
    if (!(rounded > 0.0)) {
        return range.lo;
    }
    if (rounded >= two_pow_64) {
        return range.hi;
    }
    return std::clamp(static_cast<std::uint64_t>(rounded), range.lo, range.hi);
}

std::uint64_t float_bits(double raw, DataType type) {
    if (type == DataType::f32) {
        constexpr double float_max = std::numeric_limits<float>::max();
        // A finite value beyond float's range would become infinity, which decodes as missing:
        // saturate to the largest finite float instead. NaN and infinities pass through.
        const double clamped = std::isfinite(raw) ? std::clamp(raw, -float_max, float_max) : raw;
        return std::bit_cast<std::uint32_t>(static_cast<float>(clamped));
    }
    return std::bit_cast<std::uint64_t>(raw);
}

constexpr std::uint64_t quiet_nan_f32 = 0x7FC0'0000u;
constexpr std::uint64_t quiet_nan_f64 = 0x7FF8'0000'0000'0000u;

std::uint64_t sentinel_bits(DataType type) {
    if (type == DataType::f32) {
        return quiet_nan_f32;
    }
    if (type == DataType::f64) {
        return quiet_nan_f64;
    }
    return default_sentinel(type).value_or(0);
}

} // namespace

std::uint64_t assemble_bits(std::span<const std::uint16_t> regs, WordOrder order) {
    const std::size_t n = regs.size();
    if (n == 0 || n > 4) {
        return 0;
    }
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        // i counts words from the most significant one.
        std::uint16_t word = regs[low_word_first(order) ? n - 1 - i : i];
        if (bytes_swapped(order)) {
            word = swap_bytes(word);
        }
        bits = (bits << 16) | word;
    }
    return bits;
}

void spread_bits(std::uint64_t bits, WordOrder order, std::span<std::uint16_t> out) {
    const std::size_t n = out.size();
    if (n == 0 || n > 4) {
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        auto word = static_cast<std::uint16_t>(bits >> (16 * (n - 1 - i)));
        if (bytes_swapped(order)) {
            word = swap_bytes(word);
        }
        out[low_word_first(order) ? n - 1 - i : i] = word;
    }
}

std::optional<double> decode_raw(std::span<const std::uint16_t> regs, DataType type,
                                 WordOrder order, const SentinelPolicy& sentinel) {
    if (type == DataType::string || regs.size() != register_count(type)) {
        return std::nullopt;
    }
    const std::uint64_t bits = assemble_bits(regs, order);
    if (sentinel.mode == SentinelPolicy::Mode::custom && bits == sentinel.raw) {
        return std::nullopt;
    }
    if (is_float(type)) {
        const double value = bits_to_float(bits, type);
        if (!std::isfinite(value)) {
            return std::nullopt; // NaN / infinity: never a number, whatever the policy
        }
        return value;
    }
    if (sentinel.mode == SentinelPolicy::Mode::type_default && bits == default_sentinel(type)) {
        return std::nullopt;
    }
    return bits_to_integer(bits, type);
}

std::optional<int> decode_scale_factor(std::uint16_t reg) {
    const auto sf = static_cast<std::int16_t>(reg);
    if (reg == 0x8000u || sf < -10 || sf > 10) {
        return std::nullopt;
    }
    return sf;
}

std::optional<std::string> decode_string(std::span<const std::uint16_t> regs, WordOrder order,
                                         const SentinelPolicy& sentinel) {
    if (sentinel.mode != SentinelPolicy::Mode::none) {
        // type_default: all registers 0 (SunSpec). custom: all registers equal `raw` (e.g.
        // 0xFFFF for devices that fill an unset string with ones).
        const std::uint64_t filler =
            sentinel.mode == SentinelPolicy::Mode::custom ? sentinel.raw : 0u;
        if (std::all_of(regs.begin(), regs.end(),
                        [filler](std::uint16_t reg) { return reg == filler; })) {
            return std::nullopt;
        }
    }
    std::string text;
    text.reserve(regs.size() * 2);
    for (const std::uint16_t reg : regs) {
        const auto high = static_cast<char>(reg >> 8);
        const auto low = static_cast<char>(reg & 0xFFu);
        const char first = bytes_swapped(order) ? low : high;
        const char second = bytes_swapped(order) ? high : low;
        if (first == '\0') {
            break;
        }
        text.push_back(first);
        if (second == '\0') {
            break;
        }
        text.push_back(second);
    }
    while (!text.empty() && text.back() == ' ') {
        text.pop_back();
    }
    return text;
}

PointValue decode_point(const PointSpec& point, std::span<const std::uint16_t> regs,
                        std::optional<std::uint16_t> sf_register) {
    PointValue result; // quality error until proven otherwise
    if (regs.size() != point.registers) {
        return result;
    }
    if (point.type == DataType::string) {
        auto text = decode_string(regs, point.order, point.sentinel);
        if (!text) {
            result.quality = Quality::missing;
            return result;
        }
        result.text = std::move(*text);
        result.quality = Quality::ok;
        return result;
    }
    if (point.registers != register_count(point.type)) {
        return result;
    }
    int sf = 0;
    if (point.scale_factor) {
        if (!sf_register) {
            return result;
        }
        const auto decoded_sf = decode_scale_factor(*sf_register);
        if (!decoded_sf) {
            result.quality = Quality::missing;
            return result;
        }
        sf = *decoded_sf;
    }
    const auto raw = decode_raw(regs, point.type, point.order, point.sentinel);
    if (!raw) {
        result.quality = Quality::missing;
        return result;
    }
    result.value = scale_by_power_of_ten(*raw, sf) * point.scale + point.offset;
    // The value's step: one raw unit for integers, one unit in the last place for floats.
    if (is_float(point.type)) {
        const double ulp = point.type == DataType::f32
                               ? static_cast<double>(std::nextafter(
                                     static_cast<float>(std::fabs(*raw)), HUGE_VALF)) -
                                     std::fabs(static_cast<double>(static_cast<float>(*raw)))
                               : std::nextafter(std::fabs(*raw), HUGE_VAL) - std::fabs(*raw);
        result.resolution = std::fabs(ulp * point.scale);
    } else {
        result.resolution = std::fabs(scale_by_power_of_ten(1.0, sf) * point.scale);
    }
    // A result that overflowed to infinity (or NaN from a NaN scale) is not usable as a number.
    const bool plausible = std::isfinite(result.value) &&
                           !(point.min && result.value < *point.min) &&
                           !(point.max && result.value > *point.max);
    result.quality = plausible ? Quality::ok : Quality::implausible;
    return result;
}

void encode_raw(double raw, DataType type, WordOrder order, std::span<std::uint16_t> out) {
    if (type == DataType::string || out.size() != register_count(type)) {
        return;
    }
    if (is_float(type)) {
        spread_bits(float_bits(raw, type), order, out);
        return;
    }
    if (std::isnan(raw)) {
        spread_bits(sentinel_bits(type), order, out); // "no value" in, "not implemented" out
        return;
    }
    const double rounded = std::round(raw); // half away from zero, independent of fenv
    const std::uint64_t bits = is_signed(type) ? saturate_signed(rounded, signed_range(type))
                                               : saturate_unsigned(rounded, unsigned_range(type));
    spread_bits(bits & width_mask(width_bits(type)), order, out);
}

void encode_sentinel(DataType type, WordOrder order, std::span<std::uint16_t> out) {
    if (type == DataType::string) {
        std::fill(out.begin(), out.end(), std::uint16_t{0});
        return;
    }
    if (out.size() != register_count(type)) {
        return;
    }
    spread_bits(sentinel_bits(type), order, out);
}

void encode_string(std::string_view text, WordOrder order, std::span<std::uint16_t> out) {
    const auto byte_at = [&text](std::size_t i) -> std::uint16_t {
        return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u;
    };
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::uint16_t first = byte_at(2 * i);
        const std::uint16_t second = byte_at(2 * i + 1);
        out[i] = bytes_swapped(order) ? static_cast<std::uint16_t>((second << 8) | first)
                                      : static_cast<std::uint16_t>((first << 8) | second);
    }
}

double to_raw(const PointSpec& point, double value, int sf) {
    const double unscaled = (value - point.offset) / point.scale;
    if (sf >= 0) {
        return unscaled / power_of_ten(static_cast<unsigned>(sf));
    }
    return unscaled * power_of_ten(static_cast<unsigned>(-static_cast<long>(sf)));
}

} // namespace greenrack::modbus
