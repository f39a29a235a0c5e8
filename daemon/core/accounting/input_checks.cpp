#include "daemon/core/accounting/input_checks.hpp"

#include "daemon/core/accounting/units.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace greenrack::accounting {

namespace {

// Negative values this close to zero are rounding noise of the time base, not readings.
constexpr double rounding_noise_wh = 1e-9;

void check(Energy& energy, std::uint32_t& flags) {
    if (!energy.usable()) {
        energy.wh = 0.0;
        return;
    }
    if (!std::isfinite(energy.wh) || energy.wh < -rounding_noise_wh) {
        energy = Energy{0.0, SourceQuality::missing};
        flags |= flag_clamped;
        return;
    }
    energy.wh = std::max(0.0, energy.wh);
}

void check(std::optional<double>& value, std::uint32_t& flags) {
    if (value && (!std::isfinite(*value) || *value < 0.0)) {
        value.reset();
        flags |= flag_clamped;
    }
}

} // namespace

TickInputs checked_inputs(const TickInputs& inputs, const AccountingSettings& settings,
                          std::uint32_t& flags) {
    TickInputs out = inputs;
    for (Energy* e : {&out.pv, &out.wind, &out.discharge, &out.charge, &out.grid_import,
                      &out.grid_export, &out.load}) {
        check(*e, flags);
    }
    if (out.renewable_available) {
        check(*out.renewable_available, flags);
    }
    if (out.site_it) {
        check(*out.site_it, flags);
    }
    for (Energy& e : out.rack_it) {
        check(e, flags);
    }
    check(out.battery_stored_wh, flags);
    check(out.battery_max_discharge_w, flags);
    if (out.battery_stored_wh && settings.battery_capacity_wh &&
        *out.battery_stored_wh > 1.1 * *settings.battery_capacity_wh) {
        out.battery_stored_wh.reset();
        flags |= flag_clamped;
    }

    if (settings.renewable_nameplate_w) {
        const double limit = 1.1 * watt_hours(*settings.renewable_nameplate_w,
                                              static_cast<double>(settings.tick.count()));
        const double seen =
            (out.pv.usable() ? out.pv.wh : 0.0) + (out.wind.usable() ? out.wind.wh : 0.0);
        if (seen > limit) {
            out.pv = Energy{0.0, SourceQuality::missing};
            out.wind = Energy{0.0, SourceQuality::missing};
            flags |= flag_clamped;
        }
    }
    return out;
}

} // namespace greenrack::accounting
