// SunSpec storage models 124 (basic storage controls) and 802 (battery base model).
// Offsets count from the first register after L (models.hpp).

#include "drivers/sunspec/model_tables.hpp"

#include <array>

namespace greenrack::sunspec::tables {

namespace {

using T = PointType;

// Model 124, L = 24. ChaState is the state of charge in % of AhrRtg (model 120). The JSON
// writes InWRte's units with a leading blank (" % WChaMax"); trimmed here.
constexpr auto storage_basic_points = std::to_array<PointDef>({
    {"WChaMax", 0, 1, T::uint16, "W", sf("WChaMax_SF")},
    {"WChaGra", 1, 1, T::uint16, "% WChaMax/sec", sf("WChaDisChaGra_SF")},
    {"WDisChaGra", 2, 1, T::uint16, "% WChaMax/sec", sf("WChaDisChaGra_SF")},
    {"StorCtl_Mod", 3, 1, T::bitfield16},
    {"VAChaMax", 4, 1, T::uint16, "VA", sf("VAChaMax_SF")},
    {"MinRsvPct", 5, 1, T::uint16, "% WChaMax", sf("MinRsvPct_SF")},
    {"ChaState", 6, 1, T::uint16, "% AhrRtg", sf("ChaState_SF")},
    {"StorAval", 7, 1, T::uint16, "AH", sf("StorAval_SF")},
    {"InBatV", 8, 1, T::uint16, "V", sf("InBatV_SF")},
    {"ChaSt", 9, 1, T::enum16},
    {"OutWRte", 10, 1, T::int16, "% WDisChaMax", sf("InOutWRte_SF")},
    {"InWRte", 11, 1, T::int16, "% WChaMax", sf("InOutWRte_SF")},
    {"InOutWRte_WinTms", 12, 1, T::uint16, "Secs"},
    {"InOutWRte_RvrtTms", 13, 1, T::uint16, "Secs"},
    {"InOutWRte_RmpTms", 14, 1, T::uint16, "Secs"},
    {"ChaGriSet", 15, 1, T::enum16},
    {"WChaMax_SF", 16, 1, T::sunssf},
    {"WChaDisChaGra_SF", 17, 1, T::sunssf},
    {"VAChaMax_SF", 18, 1, T::sunssf},
    {"MinRsvPct_SF", 19, 1, T::sunssf},
    {"ChaState_SF", 20, 1, T::sunssf},
    {"StorAval_SF", 21, 1, T::sunssf},
    {"InBatV_SF", 22, 1, T::sunssf},
    {"InOutWRte_SF", 23, 1, T::sunssf},
});

// Model 802, L = 62, no repeating group. The JSON states no sign for W and A (see
// device-register-maps.md §1.5); the table carries none either.
constexpr auto battery_points = std::to_array<PointDef>({
    {"AHRtg", 0, 1, T::uint16, "Ah", sf("AHRtg_SF")},
    {"WHRtg", 1, 1, T::uint16, "Wh", sf("WHRtg_SF")},
    {"WChaRteMax", 2, 1, T::uint16, "W", sf("WChaDisChaMax_SF")},
    {"WDisChaRteMax", 3, 1, T::uint16, "W", sf("WChaDisChaMax_SF")},
    {"DisChaRte", 4, 1, T::uint16, "%WHRtg", sf("DisChaRte_SF")},
    {"SoCMax", 5, 1, T::uint16, "%WHRtg", sf("SoC_SF")},
    {"SoCMin", 6, 1, T::uint16, "%WHRtg", sf("SoC_SF")},
    {"SocRsvMax", 7, 1, T::uint16, "%WHRtg", sf("SoC_SF")},
    {"SoCRsvMin", 8, 1, T::uint16, "%WHRtg", sf("SoC_SF")},
    {"SoC", 9, 1, T::uint16, "%WHRtg", sf("SoC_SF")},
    {"DoD", 10, 1, T::uint16, "%", sf("DoD_SF")},
    {"SoH", 11, 1, T::uint16, "%", sf("SoH_SF")},
    {"NCyc", 12, 2, T::uint32},
    {"ChaSt", 14, 1, T::enum16},
    {"LocRemCtl", 15, 1, T::enum16},
    {"Hb", 16, 1, T::uint16},
    {"CtrlHb", 17, 1, T::uint16},
    {"AlmRst", 18, 1, T::uint16},
    {"Typ", 19, 1, T::enum16},
    {"State", 20, 1, T::enum16},
    {"StateVnd", 21, 1, T::enum16},
    {"WarrDt", 22, 2, T::uint32},
    {"Evt1", 24, 2, T::bitfield32},
    {"Evt2", 26, 2, T::bitfield32},
    {"EvtVnd1", 28, 2, T::bitfield32},
    {"EvtVnd2", 30, 2, T::bitfield32},
    {"V", 32, 1, T::uint16, "V", sf("V_SF")},
    {"VMax", 33, 1, T::uint16, "V", sf("V_SF")},
    {"VMin", 34, 1, T::uint16, "V", sf("V_SF")},
    {"CellVMax", 35, 1, T::uint16, "V", sf("CellV_SF")},
    {"CellVMaxStr", 36, 1, T::uint16},
    {"CellVMaxMod", 37, 1, T::uint16},
    {"CellVMin", 38, 1, T::uint16, "V", sf("CellV_SF")},
    {"CellVMinStr", 39, 1, T::uint16},
    {"CellVMinMod", 40, 1, T::uint16},
    {"CellVAvg", 41, 1, T::uint16, "V", sf("CellV_SF")},
    {"A", 42, 1, T::int16, "A", sf("A_SF")},
    {"AChaMax", 43, 1, T::uint16, "A", sf("AMax_SF")},
    {"ADisChaMax", 44, 1, T::uint16, "A", sf("AMax_SF")},
    {"W", 45, 1, T::int16, "W", sf("W_SF")},
    {"ReqInvState", 46, 1, T::enum16},
    {"ReqW", 47, 1, T::int16, "W", sf("W_SF")},
    {"SetOp", 48, 1, T::enum16},
    {"SetInvState", 49, 1, T::enum16},
    {"AHRtg_SF", 50, 1, T::sunssf},
    {"WHRtg_SF", 51, 1, T::sunssf},
    {"WChaDisChaMax_SF", 52, 1, T::sunssf},
    {"DisChaRte_SF", 53, 1, T::sunssf},
    {"SoC_SF", 54, 1, T::sunssf},
    {"DoD_SF", 55, 1, T::sunssf},
    {"SoH_SF", 56, 1, T::sunssf},
    {"V_SF", 57, 1, T::sunssf},
    {"CellV_SF", 58, 1, T::sunssf},
    {"A_SF", 59, 1, T::sunssf},
    {"AMax_SF", 60, 1, T::sunssf},
    {"W_SF", 61, 1, T::sunssf},
});

constexpr std::array<ModelDef, 2> models{{
    {124, "storage_basic", 24, storage_basic_points, {}},
    {802, "battery", 62, battery_points, {}},
}};

} // namespace

std::span<const ModelDef> storage_models() {
    return models;
}

} // namespace greenrack::sunspec::tables
