#include "drivers/sunspec/point_type.hpp"

#include <array>

namespace greenrack::sunspec {

namespace {

struct TypeInfo {
    PointType type;
    std::string_view name;
    std::uint16_t size;
};

// Sizes from the SunSpec Modbus data types (device-register-maps.md §1.4).
constexpr std::array<TypeInfo, 22> type_infos{{
    {PointType::int16, "int16", 1},       {PointType::uint16, "uint16", 1},
    {PointType::count, "count", 1},       {PointType::acc16, "acc16", 1},
    {PointType::enum16, "enum16", 1},     {PointType::bitfield16, "bitfield16", 1},
    {PointType::pad, "pad", 1},           {PointType::int32, "int32", 2},
    {PointType::uint32, "uint32", 2},     {PointType::acc32, "acc32", 2},
    {PointType::enum32, "enum32", 2},     {PointType::bitfield32, "bitfield32", 2},
    {PointType::ipaddr, "ipaddr", 2},     {PointType::int64, "int64", 4},
    {PointType::uint64, "uint64", 4},     {PointType::acc64, "acc64", 4},
    {PointType::ipv6addr, "ipv6addr", 8}, {PointType::float32, "float32", 2},
    {PointType::float64, "float64", 4},   {PointType::string, "string", 0},
    {PointType::sunssf, "sunssf", 1},     {PointType::eui48, "eui48", 4},
}};

} // namespace

std::string_view to_string(PointType type) {
    for (const TypeInfo& info : type_infos) {
        if (info.type == type) {
            return info.name;
        }
    }
    return "?";
}

std::optional<PointType> parse_point_type(std::string_view text) {
    for (const TypeInfo& info : type_infos) {
        if (info.name == text) {
            return info.type;
        }
    }
    return std::nullopt;
}

std::uint16_t type_size(PointType type) {
    for (const TypeInfo& info : type_infos) {
        if (info.type == type) {
            return info.size;
        }
    }
    return 0;
}

} // namespace greenrack::sunspec
