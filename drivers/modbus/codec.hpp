#pragma once

#include "drivers/modbus/point.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace greenrack::modbus {

// Pure register <-> value conversion. No I/O, no allocation on the numeric paths.

// Assembles the bits of a 1-, 2- or 4-register value (regs.size() is 1, 2 or 4) in the given
// order into an unsigned integer whose most significant byte is "A".
std::uint64_t assemble_bits(std::span<const std::uint16_t> regs, WordOrder order);
// The inverse: spreads `bits` (width = out.size() * 16) over out in the given order.
void spread_bits(std::uint64_t bits, WordOrder order, std::span<std::uint16_t> out);

// Raw numeric value of a point's registers (before scale/offset/SF): integers as their signed or
// unsigned value, floats as their value. nullopt when the raw value is the point's sentinel (per
// the SentinelPolicy and type table), or a NaN/infinite float. regs.size() must equal
// register_count(type).
std::optional<double> decode_raw(std::span<const std::uint16_t> regs, DataType type,
                                 WordOrder order, const SentinelPolicy& sentinel = {});

// A SunSpec scale factor register: int16 exponent; nullopt for 0x8000 or outside -10..10.
std::optional<int> decode_scale_factor(std::uint16_t reg);

// Characters of a string point; stops at the first NUL and drops trailing spaces. nullopt
// when every register is 0 (SunSpec "not implemented") unless the policy is Mode::none; with
// Mode::custom, nullopt when every register equals `raw` instead (e.g. 0xFFFF filled).
std::optional<std::string> decode_string(std::span<const std::uint16_t> regs, WordOrder order,
                                         const SentinelPolicy& sentinel = {});

// Decodes a whole point from its own registers (exactly point.registers of them) and, when the
// point has a scale factor, the raw register of that SF point. Applies sentinels, SF, scale,
// offset and the plausibility range. sf_register is ignored for points without scale_factor; a
// point with scale_factor but no sf_register is `error`.
PointValue decode_point(const PointSpec& point, std::span<const std::uint16_t> regs,
                        std::optional<std::uint16_t> sf_register = std::nullopt);

// --- encoding (used by the simulator and by tests; the daemon never writes to devices) ---

// Writes a raw numeric value (already divided by scale/SF) into out (register_count(type)
// registers). Integers are rounded to nearest (halves away from zero) and saturated to the
// type's range minus its SunSpec sentinel, so a number never encodes as "not implemented":
// i16/sunssf -32767..32767, u16/enum16/bitfield16 0..0xFFFE, i32 -(2^31-1)..2^31-1,
// u32/enum32/bitfield32 0..0xFFFFFFFE, i64 -(2^63-1)..2^63-1, u64 0..2^64-2. acc* saturate to
// 0..max, so 0 stays 0 (SunSpec cannot tell a zero count from "not implemented"). A NaN
// writes the type's sentinel. Floats are converted to the type's precision; a finite value
// beyond f32's range saturates to +-FLT_MAX; NaN and infinities are kept (they decode as
// missing). Nothing is written when out.size() != register_count(type) or type is string.
void encode_raw(double raw, DataType type, WordOrder order, std::span<std::uint16_t> out);
// Writes the type's "not implemented" sentinel (quiet NaN 0x7FC00000 / 0x7FF8000000000000
// for floats, all zero for strings).
void encode_sentinel(DataType type, WordOrder order, std::span<std::uint16_t> out);
// NUL-padded string, truncated to out.size() * 2 characters.
void encode_string(std::string_view text, WordOrder order, std::span<std::uint16_t> out);
// Inverse of decode_point for numbers: raw = ((value - offset) / scale) / 10^sf.
double to_raw(const PointSpec& point, double value, int sf = 0);

} // namespace greenrack::modbus
