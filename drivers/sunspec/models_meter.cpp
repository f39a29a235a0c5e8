// SunSpec AC meter models 201 (single phase), 202 (split phase), 203 (wye three phase) and
// 204 (delta three phase): integers with scale factors, L = 105.
// Offsets count from the first register after L (models.hpp).

#include "drivers/sunspec/model_tables.hpp"

#include <array>
#include <string_view>

namespace greenrack::sunspec::tables {

namespace {

using T = PointType;

// The four meter models share one layout; only the names of the three line-to-line voltages
// differ: PPVphAB/BC/CA in 201, PhVphAB/BC/CA in 202, 203 and 204. Currents, voltages and
// frequency are int16 here (the inverters use uint16).
constexpr std::array<PointDef, 72> meter_points(std::string_view v_ab, std::string_view v_bc,
                                                std::string_view v_ca) {
    return std::to_array<PointDef>({
        {"A", 0, 1, T::int16, "A", sf("A_SF")},
        {"AphA", 1, 1, T::int16, "A", sf("A_SF")},
        {"AphB", 2, 1, T::int16, "A", sf("A_SF")},
        {"AphC", 3, 1, T::int16, "A", sf("A_SF")},
        {"A_SF", 4, 1, T::sunssf},
        {"PhV", 5, 1, T::int16, "V", sf("V_SF")},
        {"PhVphA", 6, 1, T::int16, "V", sf("V_SF")},
        {"PhVphB", 7, 1, T::int16, "V", sf("V_SF")},
        {"PhVphC", 8, 1, T::int16, "V", sf("V_SF")},
        {"PPV", 9, 1, T::int16, "V", sf("V_SF")},
        {v_ab, 10, 1, T::int16, "V", sf("V_SF")},
        {v_bc, 11, 1, T::int16, "V", sf("V_SF")},
        {v_ca, 12, 1, T::int16, "V", sf("V_SF")},
        {"V_SF", 13, 1, T::sunssf},
        {"Hz", 14, 1, T::int16, "Hz", sf("Hz_SF")},
        {"Hz_SF", 15, 1, T::sunssf},
        {"W", 16, 1, T::int16, "W", sf("W_SF")},
        {"WphA", 17, 1, T::int16, "W", sf("W_SF")},
        {"WphB", 18, 1, T::int16, "W", sf("W_SF")},
        {"WphC", 19, 1, T::int16, "W", sf("W_SF")},
        {"W_SF", 20, 1, T::sunssf},
        {"VA", 21, 1, T::int16, "VA", sf("VA_SF")},
        {"VAphA", 22, 1, T::int16, "VA", sf("VA_SF")},
        {"VAphB", 23, 1, T::int16, "VA", sf("VA_SF")},
        {"VAphC", 24, 1, T::int16, "VA", sf("VA_SF")},
        {"VA_SF", 25, 1, T::sunssf},
        {"VAR", 26, 1, T::int16, "var", sf("VAR_SF")},
        {"VARphA", 27, 1, T::int16, "var", sf("VAR_SF")},
        {"VARphB", 28, 1, T::int16, "var", sf("VAR_SF")},
        {"VARphC", 29, 1, T::int16, "var", sf("VAR_SF")},
        {"VAR_SF", 30, 1, T::sunssf},
        {"PF", 31, 1, T::int16, "Pct", sf("PF_SF")},
        {"PFphA", 32, 1, T::int16, "Pct", sf("PF_SF")},
        {"PFphB", 33, 1, T::int16, "Pct", sf("PF_SF")},
        {"PFphC", 34, 1, T::int16, "Pct", sf("PF_SF")},
        {"PF_SF", 35, 1, T::sunssf},
        {"TotWhExp", 36, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWhExpPhA", 38, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWhExpPhB", 40, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWhExpPhC", 42, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWhImp", 44, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWhImpPhA", 46, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWhImpPhB", 48, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWhImpPhC", 50, 2, T::acc32, "Wh", sf("TotWh_SF")},
        {"TotWh_SF", 52, 1, T::sunssf},
        {"TotVAhExp", 53, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAhExpPhA", 55, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAhExpPhB", 57, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAhExpPhC", 59, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAhImp", 61, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAhImpPhA", 63, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAhImpPhB", 65, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAhImpPhC", 67, 2, T::acc32, "VAh", sf("TotVAh_SF")},
        {"TotVAh_SF", 69, 1, T::sunssf},
        {"TotVArhImpQ1", 70, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhImpQ1PhA", 72, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhImpQ1PhB", 74, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhImpQ1PhC", 76, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhImpQ2", 78, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhImpQ2PhA", 80, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhImpQ2PhB", 82, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhImpQ2PhC", 84, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ3", 86, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ3PhA", 88, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ3PhB", 90, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ3PhC", 92, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ4", 94, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ4PhA", 96, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ4PhB", 98, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArhExpQ4PhC", 100, 2, T::acc32, "varh", sf("TotVArh_SF")},
        {"TotVArh_SF", 102, 1, T::sunssf},
        {"Evt", 103, 2, T::bitfield32},
    });
}

constexpr auto single_phase_meter_points = meter_points("PPVphAB", "PPVphBC", "PPVphCA");
constexpr auto multi_phase_meter_points = meter_points("PhVphAB", "PhVphBC", "PhVphCA");

constexpr std::array<ModelDef, 4> models{{
    {201, "ac_meter_an_or_ab", 105, single_phase_meter_points, {}},
    {202, "ac_meter_abn", 105, multi_phase_meter_points, {}},
    {203, "ac_meter_abcn", 105, multi_phase_meter_points, {}},
    {204, "ac_meter_abc", 105, multi_phase_meter_points, {}},
}};

} // namespace

std::span<const ModelDef> meter_models() {
    return models;
}

} // namespace greenrack::sunspec::tables
