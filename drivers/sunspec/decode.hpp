#pragma once

#include "drivers/sunspec/models.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::sunspec {

// One decoded point of one model instance.
struct DecodedPoint {
    const PointDef* def = nullptr;
    // The device said "not implemented" (the type's SunSpec sentinel, a NaN float, an all-zero
    // string, a scale factor that is 0x8000 or outside -10..10), or the point lies past the end
    // of the registers given. Pads are always missing: they carry nothing.
    bool missing = true;
    // Numeric types: raw x 10^sf (sunssf points: the exponent itself; enums and bitfields:
    // their raw value). 64-bit integers beyond 2^53 lose precision. 0 when missing or textual.
    double value = 0.0;
    // string: the characters up to the first NUL, trailing blanks dropped; ipaddr "a.b.c.d";
    // ipv6addr eight groups of four hex digits; eui48 "XX:XX:XX:XX:XX:XX". Empty otherwise.
    std::string text;
    // Smallest step of `value` as read (10^sf for integers, the float's ulp); 0 when unknown.
    double resolution = 0.0;
};

struct DecodedGroup {
    const GroupDef* def = nullptr;
    // instances[i][j]: point j of def->points in instance i (0-based, in register order).
    std::vector<std::vector<DecodedPoint>> instances;
};

struct DecodedModel {
    const ModelDef* def = nullptr;
    std::vector<DecodedPoint> points; // one per def->points, same order
    std::vector<DecodedGroup> groups; // one per def->groups, same order
    // The registers given were fewer than the fixed block (and fixed-count groups) need: the
    // points past their end are missing. Happens with older model versions (model 1, L = 65).
    bool truncated = false;
    // Registers after the fixed block and the whole group instances that nothing decoded
    // (newer model versions, or a partial group instance).
    std::size_t trailing_registers = 0;

    // The fixed-block point of this name, or nullptr.
    const DecodedPoint* find(std::string_view point_name) const;
    // Point `point_name` of instance `index` (0-based) of group `group_name`, or nullptr.
    const DecodedPoint* find(std::string_view group_name, std::size_t index,
                             std::string_view point_name) const;
};

// Decodes one model instance from its data registers: the L registers after ID and L (the
// header is not part of `data`; offsets as in models.hpp). SunSpec byte order (big-endian,
// high word first). Scale factors come from the same `data` as the values they scale (a
// point's sf is looked up in its own group instance first, then in the fixed block). A group
// with count 0 gets as many instances as whole ones fit after the fixed block (and any earlier
// groups). Pure: no I/O, no logging, never throws on any register content.
DecodedModel decode(const ModelDef& model, std::span<const std::uint16_t> data);

} // namespace greenrack::sunspec
