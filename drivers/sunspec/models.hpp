#pragma once

#include "drivers/sunspec/point_type.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace greenrack::sunspec {

// The SunSpec information models greenrack knows, as constant tables written in this
// repository (facts from the official model definitions, sunspec/models json/model_<id>.json;
// see ../shared/docs/device-register-maps.md §1). Pure data: no I/O.
//
// Offset convention. A model instance on the wire is a two-register header, ID then L (the
// number of registers that follow), and then L registers of data. The JSON lists ID and L as
// the model's first two points, so counting its point sizes gives offsets from the model start
// (ID = 0, L = 1, first data point = 2; the "Off" column of device-register-maps.md §1.6).
// These tables leave ID and L out and count from the first register AFTER L:
//
//     PointDef::offset = JSON offset - 2        (the SMDX convention)
//     absolute address = model start + 2 + offset
//
// and decode() (decode.hpp) takes the L data registers, header excluded. Points of a repeating
// group count from the start of their group instance (0 = the instance's first register).

// What scales a point: nothing, the sunssf point of this name (looked up in the same group
// instance first, then in the model's fixed block, as pysunspec2 does), or a fixed exponent
// given in the definition itself.
struct ScaleFactorRef {
    enum class Kind : std::uint8_t { none, point, fixed };
    Kind kind = Kind::none;
    std::string_view point{};
    int exponent = 0;

    constexpr bool operator==(const ScaleFactorRef&) const = default;
};

constexpr ScaleFactorRef sf(std::string_view point) {
    return {ScaleFactorRef::Kind::point, point, 0};
}
constexpr ScaleFactorRef fixed_sf(int exponent) {
    return {ScaleFactorRef::Kind::fixed, {}, exponent};
}

// One point of a model's fixed block or of a repeating group.
struct PointDef {
    std::string_view name;    // the SunSpec name: "W", "W_SF", "TotWhImp", ...
    std::uint16_t offset = 0; // registers from the first register after L (see above)
    std::uint16_t size = 0;   // registers
    PointType type = PointType::uint16;
    // As the JSON writes them, surrounding blanks trimmed: "W", "Wh", "Pct", "C", "%WHRtg", ...
    std::string_view units{};
    ScaleFactorRef sf{};
};

// A repeating group: `count` instances of `length` registers each, laid out one after the
// other after the model's fixed block. count == 0 means "as many as fit in L" (the JSON's
// "count": 0, model 160 `module`); such a group must be the model's last.
struct GroupDef {
    std::string_view name;
    std::uint16_t length = 0; // registers per instance
    std::uint16_t count = 0;
    std::span<const PointDef> points; // in register order

    // The point of this name, or nullptr.
    const PointDef* find_point(std::string_view point_name) const;
};

struct ModelDef {
    int id = 0;
    std::string_view name;    // the JSON's group name: "common", "inverter_three_phase", ...
    std::uint16_t length = 0; // registers of the fixed block (L without repeating groups)
    std::span<const PointDef> points; // the fixed block, ID and L excluded, in register order
    std::span<const GroupDef> groups; // repeating groups, in register order

    // The fixed-block point of this name, or nullptr.
    const PointDef* find_point(std::string_view point_name) const;
    // The repeating group of this name, or nullptr.
    const GroupDef* find_group(std::string_view group_name) const;
};

// The model with this id, or nullptr when greenrack has no table for it.
const ModelDef* find_model(int id);

// Every id find_model() knows, ascending: 1, 101, 102, 103, 111, 112, 113, 120, 121, 124, 160,
// 201, 202, 203, 204, 701, 713, 802.
std::span<const int> supported_model_ids();

} // namespace greenrack::sunspec
