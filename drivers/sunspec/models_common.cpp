// SunSpec models 1 (common), 120 (nameplate) and 121 (basic settings).
// Offsets count from the first register after L (models.hpp).

#include "drivers/sunspec/model_tables.hpp"

#include <array>

namespace greenrack::sunspec::tables {

namespace {

using T = PointType;

// Model 1, L = 66. Older devices report L = 65 (no Pad); decode() then reports Pad missing.
constexpr auto common_points = std::to_array<PointDef>({
    {"Mn", 0, 16, T::string},
    {"Md", 16, 16, T::string},
    {"Opt", 32, 8, T::string},
    {"Vr", 40, 8, T::string},
    {"SN", 48, 16, T::string},
    {"DA", 64, 1, T::uint16},
    {"Pad", 65, 1, T::pad},
});

// Model 120, L = 26.
constexpr auto nameplate_points = std::to_array<PointDef>({
    {"DERTyp", 0, 1, T::enum16},
    {"WRtg", 1, 1, T::uint16, "W", sf("WRtg_SF")},
    {"WRtg_SF", 2, 1, T::sunssf},
    {"VARtg", 3, 1, T::uint16, "VA", sf("VARtg_SF")},
    {"VARtg_SF", 4, 1, T::sunssf},
    {"VArRtgQ1", 5, 1, T::int16, "var", sf("VArRtg_SF")},
    {"VArRtgQ2", 6, 1, T::int16, "var", sf("VArRtg_SF")},
    {"VArRtgQ3", 7, 1, T::int16, "var", sf("VArRtg_SF")},
    {"VArRtgQ4", 8, 1, T::int16, "var", sf("VArRtg_SF")},
    {"VArRtg_SF", 9, 1, T::sunssf},
    {"ARtg", 10, 1, T::uint16, "A", sf("ARtg_SF")},
    {"ARtg_SF", 11, 1, T::sunssf},
    {"PFRtgQ1", 12, 1, T::int16, "cos()", sf("PFRtg_SF")},
    {"PFRtgQ2", 13, 1, T::int16, "cos()", sf("PFRtg_SF")},
    {"PFRtgQ3", 14, 1, T::int16, "cos()", sf("PFRtg_SF")},
    {"PFRtgQ4", 15, 1, T::int16, "cos()", sf("PFRtg_SF")},
    {"PFRtg_SF", 16, 1, T::sunssf},
    {"WHRtg", 17, 1, T::uint16, "Wh", sf("WHRtg_SF")},
    {"WHRtg_SF", 18, 1, T::sunssf},
    {"AhrRtg", 19, 1, T::uint16, "AH", sf("AhrRtg_SF")},
    {"AhrRtg_SF", 20, 1, T::sunssf},
    {"MaxChaRte", 21, 1, T::uint16, "W", sf("MaxChaRte_SF")},
    {"MaxChaRte_SF", 22, 1, T::sunssf},
    {"MaxDisChaRte", 23, 1, T::uint16, "W", sf("MaxDisChaRte_SF")},
    {"MaxDisChaRte_SF", 24, 1, T::sunssf},
    {"Pad", 25, 1, T::pad},
});

// Model 121, L = 30.
constexpr auto settings_points = std::to_array<PointDef>({
    {"WMax", 0, 1, T::uint16, "W", sf("WMax_SF")},
    {"VRef", 1, 1, T::uint16, "V", sf("VRef_SF")},
    {"VRefOfs", 2, 1, T::int16, "V", sf("VRefOfs_SF")},
    {"VMax", 3, 1, T::uint16, "V", sf("VMinMax_SF")},
    {"VMin", 4, 1, T::uint16, "V", sf("VMinMax_SF")},
    {"VAMax", 5, 1, T::uint16, "VA", sf("VAMax_SF")},
    {"VArMaxQ1", 6, 1, T::int16, "var", sf("VArMax_SF")},
    {"VArMaxQ2", 7, 1, T::int16, "var", sf("VArMax_SF")},
    {"VArMaxQ3", 8, 1, T::int16, "var", sf("VArMax_SF")},
    {"VArMaxQ4", 9, 1, T::int16, "var", sf("VArMax_SF")},
    {"WGra", 10, 1, T::uint16, "% WMax/sec", sf("WGra_SF")},
    {"PFMinQ1", 11, 1, T::int16, "cos()", sf("PFMin_SF")},
    {"PFMinQ2", 12, 1, T::int16, "cos()", sf("PFMin_SF")},
    {"PFMinQ3", 13, 1, T::int16, "cos()", sf("PFMin_SF")},
    {"PFMinQ4", 14, 1, T::int16, "cos()", sf("PFMin_SF")},
    {"VArAct", 15, 1, T::enum16},
    {"ClcTotVA", 16, 1, T::enum16},
    {"MaxRmpRte", 17, 1, T::uint16, "% WGra", sf("MaxRmpRte_SF")},
    {"ECPNomHz", 18, 1, T::uint16, "Hz", sf("ECPNomHz_SF")},
    {"ConnPh", 19, 1, T::enum16},
    {"WMax_SF", 20, 1, T::sunssf},
    {"VRef_SF", 21, 1, T::sunssf},
    {"VRefOfs_SF", 22, 1, T::sunssf},
    {"VMinMax_SF", 23, 1, T::sunssf},
    {"VAMax_SF", 24, 1, T::sunssf},
    {"VArMax_SF", 25, 1, T::sunssf},
    {"WGra_SF", 26, 1, T::sunssf},
    {"PFMin_SF", 27, 1, T::sunssf},
    {"MaxRmpRte_SF", 28, 1, T::sunssf},
    {"ECPNomHz_SF", 29, 1, T::sunssf},
});

constexpr std::array<ModelDef, 3> models{{
    {1, "common", 66, common_points, {}},
    {120, "nameplate", 26, nameplate_points, {}},
    {121, "settings", 30, settings_points, {}},
}};

} // namespace

std::span<const ModelDef> common_models() {
    return models;
}

} // namespace greenrack::sunspec::tables
