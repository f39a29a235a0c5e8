#pragma once

#include "drivers/modbus/types.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace greenrack::sunspec {

// SunSpec point types: the "type" names of the SunSpec model JSON schema, except raw16 and
// bitfield64, which no model greenrack supports uses.
enum class PointType : std::uint8_t {
    int16,
    uint16,
    count, // uint16 holding the number of repeating-group instances
    acc16,
    enum16,
    bitfield16,
    pad, // one unused register
    int32,
    uint32,
    acc32,
    enum32,
    bitfield32,
    ipaddr, // IPv4 address, 2 registers, first octet in the high byte of the first register
    int64,
    uint64,
    acc64,
    ipv6addr, // 8 registers
    float32,
    float64,
    string, // 2 characters per register, NUL padded, first character in the high byte
    sunssf, // int16 power-of-ten exponent for other points
    eui48,  // MAC address: 4 registers, the first two bytes unused
};

// The SunSpec type name ("uint16", "acc32", "sunssf", ...) and back.
std::string_view to_string(PointType type);
std::optional<PointType> parse_point_type(std::string_view text);

// Registers a value of this type occupies; 0 for strings (their size is per point).
std::uint16_t type_size(PointType type);

// The register codec's type for a SunSpec type (its sentinels are SunSpec's: codec.cpp):
// count reads as u16. nullopt for the types the codec does not decode: pad, sunssf (a scale
// factor is an exponent, decoded on its own) and the address types.
std::optional<modbus::DataType> codec_type(PointType type);

} // namespace greenrack::sunspec
