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

std::optional<modbus::DataType> codec_type(PointType type) {
    using modbus::DataType;
    switch (type) {
    case PointType::int16:
        return DataType::i16;
    case PointType::uint16:
    case PointType::count: // a uint16 with uint16's sentinel (pysunspec2)
        return DataType::u16;
    case PointType::acc16:
        return DataType::acc16;
    case PointType::enum16:
        return DataType::enum16;
    case PointType::bitfield16:
        return DataType::bitfield16;
    case PointType::int32:
        return DataType::i32;
    case PointType::uint32:
        return DataType::u32;
    case PointType::acc32:
        return DataType::acc32;
    case PointType::enum32:
        return DataType::enum32;
    case PointType::bitfield32:
        return DataType::bitfield32;
    case PointType::int64:
        return DataType::i64;
    case PointType::uint64:
        return DataType::u64;
    case PointType::acc64:
        return DataType::acc64;
    case PointType::float32:
        return DataType::f32;
    case PointType::float64:
        return DataType::f64;
    case PointType::string:
        return DataType::string;
    case PointType::pad:
    case PointType::ipaddr:
    case PointType::ipv6addr:
    case PointType::sunssf:
    case PointType::eui48:
        return std::nullopt;
    }
    return std::nullopt;
}

} // namespace greenrack::sunspec
