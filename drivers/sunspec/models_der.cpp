// SunSpec DER models 701 (DER AC measurement) and 713 (DER storage capacity). Their scale
// factors are static (the JSON marks them "S"); they still come from the same block.
// Offsets count from the first register after L (models.hpp).

#include "drivers/sunspec/model_tables.hpp"

#include <array>

namespace greenrack::sunspec::tables {

namespace {

using T = PointType;

// Model 701, L = 153 (155 registers with the header: more than one 125-register read). W is
// positive for generation, negative for absorption. Energies are uint64, not acc64. PF has no
// units in the JSON.
constexpr auto der_measure_ac_points = std::to_array<PointDef>({
    {"ACType", 0, 1, T::enum16},
    {"St", 1, 1, T::enum16},
    {"InvSt", 2, 1, T::enum16},
    {"ConnSt", 3, 1, T::enum16},
    {"Alrm", 4, 2, T::bitfield32},
    {"DERMode", 6, 2, T::bitfield32},
    {"W", 8, 1, T::int16, "W", sf("W_SF")},
    {"VA", 9, 1, T::int16, "VA", sf("VA_SF")},
    {"Var", 10, 1, T::int16, "Var", sf("Var_SF")},
    {"PF", 11, 1, T::int16, "", sf("PF_SF")},
    {"A", 12, 1, T::int16, "A", sf("A_SF")},
    {"LLV", 13, 1, T::uint16, "V", sf("V_SF")},
    {"LNV", 14, 1, T::uint16, "V", sf("V_SF")},
    {"Hz", 15, 2, T::uint32, "Hz", sf("Hz_SF")},
    {"TotWhInj", 17, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotWhAbs", 21, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotVarhInj", 25, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"TotVarhAbs", 29, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"TmpAmb", 33, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpCab", 34, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpSnk", 35, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpTrns", 36, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpSw", 37, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpOt", 38, 1, T::int16, "C", sf("Tmp_SF")},
    {"WL1", 39, 1, T::int16, "W", sf("W_SF")},
    {"VAL1", 40, 1, T::int16, "VA", sf("VA_SF")},
    {"VarL1", 41, 1, T::int16, "Var", sf("Var_SF")},
    {"PFL1", 42, 1, T::int16, "", sf("PF_SF")},
    {"AL1", 43, 1, T::int16, "A", sf("A_SF")},
    {"VL1L2", 44, 1, T::uint16, "V", sf("V_SF")},
    {"VL1", 45, 1, T::uint16, "V", sf("V_SF")},
    {"TotWhInjL1", 46, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotWhAbsL1", 50, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotVarhInjL1", 54, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"TotVarhAbsL1", 58, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"WL2", 62, 1, T::int16, "W", sf("W_SF")},
    {"VAL2", 63, 1, T::int16, "VA", sf("VA_SF")},
    {"VarL2", 64, 1, T::int16, "Var", sf("Var_SF")},
    {"PFL2", 65, 1, T::int16, "", sf("PF_SF")},
    {"AL2", 66, 1, T::int16, "A", sf("A_SF")},
    {"VL2L3", 67, 1, T::uint16, "V", sf("V_SF")},
    {"VL2", 68, 1, T::uint16, "V", sf("V_SF")},
    {"TotWhInjL2", 69, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotWhAbsL2", 73, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotVarhInjL2", 77, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"TotVarhAbsL2", 81, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"WL3", 85, 1, T::int16, "W", sf("W_SF")},
    {"VAL3", 86, 1, T::int16, "VA", sf("VA_SF")},
    {"VarL3", 87, 1, T::int16, "Var", sf("Var_SF")},
    {"PFL3", 88, 1, T::int16, "", sf("PF_SF")},
    {"AL3", 89, 1, T::int16, "A", sf("A_SF")},
    {"VL3L1", 90, 1, T::uint16, "V", sf("V_SF")},
    {"VL3", 91, 1, T::uint16, "V", sf("V_SF")},
    {"TotWhInjL3", 92, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotWhAbsL3", 96, 4, T::uint64, "Wh", sf("TotWh_SF")},
    {"TotVarhInjL3", 100, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"TotVarhAbsL3", 104, 4, T::uint64, "Varh", sf("TotVarh_SF")},
    {"ThrotPct", 108, 1, T::uint16, "Pct"},
    {"ThrotSrc", 109, 2, T::bitfield32},
    {"A_SF", 111, 1, T::sunssf},
    {"V_SF", 112, 1, T::sunssf},
    {"Hz_SF", 113, 1, T::sunssf},
    {"W_SF", 114, 1, T::sunssf},
    {"PF_SF", 115, 1, T::sunssf},
    {"VA_SF", 116, 1, T::sunssf},
    {"Var_SF", 117, 1, T::sunssf},
    {"TotWh_SF", 118, 1, T::sunssf},
    {"TotVarh_SF", 119, 1, T::sunssf},
    {"Tmp_SF", 120, 1, T::sunssf},
    {"MnAlrmInfo", 121, 32, T::string},
});

// Model 713, L = 7. SoC and SoH in percent; WHRtg/WHAvail in Wh (the JSON writes "WH").
constexpr auto der_storage_capacity_points = std::to_array<PointDef>({
    {"WHRtg", 0, 1, T::uint16, "WH", sf("WH_SF")},
    {"WHAvail", 1, 1, T::uint16, "WH", sf("WH_SF")},
    {"SoC", 2, 1, T::uint16, "Pct", sf("Pct_SF")},
    {"SoH", 3, 1, T::uint16, "Pct", sf("Pct_SF")},
    {"Sta", 4, 1, T::enum16},
    {"WH_SF", 5, 1, T::sunssf},
    {"Pct_SF", 6, 1, T::sunssf},
});

constexpr std::array<ModelDef, 2> models{{
    {701, "DERMeasureAC", 153, der_measure_ac_points, {}},
    {713, "DERStorageCapacity", 7, der_storage_capacity_points, {}},
}};

} // namespace

std::span<const ModelDef> der_models() {
    return models;
}

} // namespace greenrack::sunspec::tables
