// SunSpec inverter models: 101/102/103 (single, split, three phase; integers with scale
// factors), 111/112/113 (the same in float32) and 160 (multiple MPPT extension).
// Offsets count from the first register after L (models.hpp).

#include "drivers/sunspec/model_tables.hpp"

#include <array>

namespace greenrack::sunspec::tables {

namespace {

using T = PointType;

// Models 101, 102 and 103 share one layout, L = 50 (only which points are mandatory differs).
// Currents, voltages and frequency are uint16 here (the meters use int16).
constexpr auto integer_inverter_points = std::to_array<PointDef>({
    {"A", 0, 1, T::uint16, "A", sf("A_SF")},
    {"AphA", 1, 1, T::uint16, "A", sf("A_SF")},
    {"AphB", 2, 1, T::uint16, "A", sf("A_SF")},
    {"AphC", 3, 1, T::uint16, "A", sf("A_SF")},
    {"A_SF", 4, 1, T::sunssf},
    {"PPVphAB", 5, 1, T::uint16, "V", sf("V_SF")},
    {"PPVphBC", 6, 1, T::uint16, "V", sf("V_SF")},
    {"PPVphCA", 7, 1, T::uint16, "V", sf("V_SF")},
    {"PhVphA", 8, 1, T::uint16, "V", sf("V_SF")},
    {"PhVphB", 9, 1, T::uint16, "V", sf("V_SF")},
    {"PhVphC", 10, 1, T::uint16, "V", sf("V_SF")},
    {"V_SF", 11, 1, T::sunssf},
    {"W", 12, 1, T::int16, "W", sf("W_SF")},
    {"W_SF", 13, 1, T::sunssf},
    {"Hz", 14, 1, T::uint16, "Hz", sf("Hz_SF")},
    {"Hz_SF", 15, 1, T::sunssf},
    {"VA", 16, 1, T::int16, "VA", sf("VA_SF")},
    {"VA_SF", 17, 1, T::sunssf},
    {"VAr", 18, 1, T::int16, "var", sf("VAr_SF")},
    {"VAr_SF", 19, 1, T::sunssf},
    {"PF", 20, 1, T::int16, "Pct", sf("PF_SF")},
    {"PF_SF", 21, 1, T::sunssf},
    {"WH", 22, 2, T::acc32, "Wh", sf("WH_SF")},
    {"WH_SF", 24, 1, T::sunssf},
    {"DCA", 25, 1, T::uint16, "A", sf("DCA_SF")},
    {"DCA_SF", 26, 1, T::sunssf},
    {"DCV", 27, 1, T::uint16, "V", sf("DCV_SF")},
    {"DCV_SF", 28, 1, T::sunssf},
    {"DCW", 29, 1, T::int16, "W", sf("DCW_SF")},
    {"DCW_SF", 30, 1, T::sunssf},
    {"TmpCab", 31, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpSnk", 32, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpTrns", 33, 1, T::int16, "C", sf("Tmp_SF")},
    {"TmpOt", 34, 1, T::int16, "C", sf("Tmp_SF")},
    {"Tmp_SF", 35, 1, T::sunssf},
    {"St", 36, 1, T::enum16},
    {"StVnd", 37, 1, T::enum16},
    {"Evt1", 38, 2, T::bitfield32},
    {"Evt2", 40, 2, T::bitfield32},
    {"EvtVnd1", 42, 2, T::bitfield32},
    {"EvtVnd2", 44, 2, T::bitfield32},
    {"EvtVnd3", 46, 2, T::bitfield32},
    {"EvtVnd4", 48, 2, T::bitfield32},
});

// Models 111, 112 and 113 share one layout, L = 60: float32 values, no scale factors; WH is
// a float32 too, not an accumulator.
// One point per line, as in the other tables.
// clang-format off
constexpr auto float_inverter_points = std::to_array<PointDef>({
    {"A", 0, 2, T::float32, "A"},
    {"AphA", 2, 2, T::float32, "A"},
    {"AphB", 4, 2, T::float32, "A"},
    {"AphC", 6, 2, T::float32, "A"},
    {"PPVphAB", 8, 2, T::float32, "V"},
    {"PPVphBC", 10, 2, T::float32, "V"},
    {"PPVphCA", 12, 2, T::float32, "V"},
    {"PhVphA", 14, 2, T::float32, "V"},
    {"PhVphB", 16, 2, T::float32, "V"},
    {"PhVphC", 18, 2, T::float32, "V"},
    {"W", 20, 2, T::float32, "W"},
    {"Hz", 22, 2, T::float32, "Hz"},
    {"VA", 24, 2, T::float32, "VA"},
    {"VAr", 26, 2, T::float32, "var"},
    {"PF", 28, 2, T::float32, "Pct"},
    {"WH", 30, 2, T::float32, "Wh"},
    {"DCA", 32, 2, T::float32, "A"},
    {"DCV", 34, 2, T::float32, "V"},
    {"DCW", 36, 2, T::float32, "W"},
    {"TmpCab", 38, 2, T::float32, "C"},
    {"TmpSnk", 40, 2, T::float32, "C"},
    {"TmpTrns", 42, 2, T::float32, "C"},
    {"TmpOt", 44, 2, T::float32, "C"},
    {"St", 46, 1, T::enum16},
    {"StVnd", 47, 1, T::enum16},
    {"Evt1", 48, 2, T::bitfield32},
    {"Evt2", 50, 2, T::bitfield32},
    {"EvtVnd1", 52, 2, T::bitfield32},
    {"EvtVnd2", 54, 2, T::bitfield32},
    {"EvtVnd3", 56, 2, T::bitfield32},
    {"EvtVnd4", 58, 2, T::bitfield32},
});
// clang-format on

// Model 160: a fixed block of 8 registers (the scale factors shared by every module), then N
// instances of the 20-register `module` group, so L = 8 + 20 N.
constexpr auto mppt_points = std::to_array<PointDef>({
    {"DCA_SF", 0, 1, T::sunssf},
    {"DCV_SF", 1, 1, T::sunssf},
    {"DCW_SF", 2, 1, T::sunssf},
    {"DCWH_SF", 3, 1, T::sunssf},
    {"Evt", 4, 2, T::bitfield32},
    {"N", 6, 1, T::count},
    {"TmsPer", 7, 1, T::uint16},
});

// Offsets from the start of one module instance.
constexpr auto mppt_module_points = std::to_array<PointDef>({
    {"ID", 0, 1, T::uint16},
    {"IDStr", 1, 8, T::string},
    {"DCA", 9, 1, T::uint16, "A", sf("DCA_SF")},
    {"DCV", 10, 1, T::uint16, "V", sf("DCV_SF")},
    {"DCW", 11, 1, T::uint16, "W", sf("DCW_SF")},
    {"DCWH", 12, 2, T::acc32, "Wh", sf("DCWH_SF")},
    {"Tms", 14, 2, T::uint32, "Secs"},
    {"Tmp", 16, 1, T::int16, "C"},
    {"DCSt", 17, 1, T::enum16},
    {"DCEvt", 18, 2, T::bitfield32},
});

constexpr std::array<GroupDef, 1> mppt_groups{{
    {"module", 20, 0, mppt_module_points},
}};

constexpr std::array<ModelDef, 7> models{{
    {101, "inverter_single_phase", 50, integer_inverter_points, {}},
    {102, "inverter_split_phase", 50, integer_inverter_points, {}},
    {103, "inverter_three_phase", 50, integer_inverter_points, {}},
    {111, "inverter_single_phase_float", 60, float_inverter_points, {}},
    {112, "inverter_split_phase_float", 60, float_inverter_points, {}},
    {113, "inverter_three_phase_float", 60, float_inverter_points, {}},
    {160, "mppt", 8, mppt_points, mppt_groups},
}};

} // namespace

std::span<const ModelDef> inverter_models() {
    return models;
}

} // namespace greenrack::sunspec::tables
