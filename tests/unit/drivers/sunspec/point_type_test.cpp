#include "drivers/sunspec/point_type.hpp"

#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using greenrack::sunspec::parse_point_type;
using greenrack::sunspec::PointType;
using greenrack::sunspec::type_size;

namespace {

struct Expected {
    std::string name;
    PointType type;
    int size;
};

// SunSpec type names and sizes in registers (device-register-maps.md §1.4).
const std::vector<Expected> expected{
    {"int16", PointType::int16, 1},       {"uint16", PointType::uint16, 1},
    {"count", PointType::count, 1},       {"acc16", PointType::acc16, 1},
    {"enum16", PointType::enum16, 1},     {"bitfield16", PointType::bitfield16, 1},
    {"pad", PointType::pad, 1},           {"int32", PointType::int32, 2},
    {"uint32", PointType::uint32, 2},     {"acc32", PointType::acc32, 2},
    {"enum32", PointType::enum32, 2},     {"bitfield32", PointType::bitfield32, 2},
    {"ipaddr", PointType::ipaddr, 2},     {"int64", PointType::int64, 4},
    {"uint64", PointType::uint64, 4},     {"acc64", PointType::acc64, 4},
    {"ipv6addr", PointType::ipv6addr, 8}, {"float32", PointType::float32, 2},
    {"float64", PointType::float64, 4},   {"string", PointType::string, 0},
    {"sunssf", PointType::sunssf, 1},     {"eui48", PointType::eui48, 4},
};

} // namespace

TEST_CASE("SunSpec type names parse to their type and print back", "[sunspec][types]") {
    for (const auto& [name, type, size] : expected) {
        INFO(name);
        CHECK(parse_point_type(name) == type);
        CHECK(std::string(to_string(type)) == name);
    }
}

TEST_CASE("each SunSpec type occupies its size in registers, strings size per point",
          "[sunspec][types]") {
    for (const auto& [name, type, size] : expected) {
        INFO(name);
        CHECK(type_size(type) == size);
    }
}

TEST_CASE("unknown or differently spelt type names do not parse", "[sunspec][types]") {
    for (const char* name : {"", "u16", "UINT16", "float", "raw16", "bitfield64", "sunssf "}) {
        INFO('"' << name << '"');
        CHECK_FALSE(parse_point_type(name).has_value());
    }
}
