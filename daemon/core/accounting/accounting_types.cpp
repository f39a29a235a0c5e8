#include "daemon/core/accounting/accounting_types.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace greenrack::accounting {

std::string_view to_string(SourceQuality quality) {
    switch (quality) {
    case SourceQuality::ok:
        return "ok";
    case SourceQuality::held:
        return "held";
    case SourceQuality::inferred:
        return "inferred";
    case SourceQuality::stale:
        return "stale";
    case SourceQuality::missing:
        return "missing";
    }
    return "missing";
}

SourceQuality worst(SourceQuality a, SourceQuality b) {
    return std::max(a, b);
}

std::string_view to_string(Allocation allocation) {
    switch (allocation) {
    case Allocation::priority:
        return "priority";
    case Allocation::pool:
        return "pool";
    }
    return "priority";
}

std::string_view to_string(BatteryModel model) {
    switch (model) {
    case BatteryModel::well_mixed:
        return "well_mixed";
    case BatteryModel::fifo:
        return "fifo";
    }
    return "well_mixed";
}

std::string_view to_string(Window window) {
    switch (window) {
    case Window::quarter_hour:
        return "15m";
    case Window::hour:
        return "1h";
    case Window::day:
        return "1d";
    }
    return "1h";
}

std::vector<std::string_view> flag_names(std::uint32_t flags) {
    static constexpr std::array<std::pair<TickFlag, std::string_view>, 9> names{{
        {flag_data_gap, "data_gap"},
        {flag_inferred_renewable, "inferred_renewable"},
        {flag_estimated_load, "estimated_load"},
        {flag_balance, "balance"},
        {flag_counter_reset, "counter_reset"},
        {flag_battery_resync, "battery_resync"},
        {flag_battery_cold_start, "battery_cold_start"},
        {flag_clamped, "clamped"},
        {flag_unattributed, "unattributed"},
    }};
    std::vector<std::string_view> out;
    for (const auto& [flag, name] : names) {
        if ((flags & flag) != 0U) {
            out.push_back(name);
        }
    }
    return out;
}

} // namespace greenrack::accounting
