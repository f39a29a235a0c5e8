#include "daemon/core/accounting/totals.hpp"

#include <algorithm>

namespace greenrack::accounting {

namespace {

double counted(double wh) {
    return std::max(0.0, wh);
}

} // namespace

void add_rack(RackTotals& totals, const RackTick& rack) {
    if (!rack.valid) {
        return;
    }
    if (rack.it.usable()) {
        totals.it_wh += counted(rack.it.wh);
    }
    totals.green_wh += counted(rack.green_wh);
    totals.nongreen_wh += counted(rack.nongreen_wh);
    totals.green_it_wh += counted(rack.green_it_wh);
    totals.nongreen_it_wh += counted(rack.nongreen_it_wh);
    totals.carbon_location_g += counted(rack.carbon_location_g);
    totals.carbon_residual_g += counted(rack.carbon_residual_g);
}

void add_tick(Totals& totals, const TickResult& tick) {
    ++totals.ticks;
    if (!tick.valid) {
        return;
    }
    ++totals.ticks_valid;
    totals.load_wh += counted(tick.load.wh);
    totals.green_wh += counted(tick.green_wh);
    totals.nongreen_wh += counted(tick.nongreen_wh);
    totals.renewable_wh += counted(tick.renewable.wh);
    if (tick.pv.usable()) {
        totals.pv_wh += counted(tick.pv.wh);
    }
    if (tick.wind.usable()) {
        totals.wind_wh += counted(tick.wind.wh);
    }
    totals.discharge_wh += counted(tick.discharge.wh);
    totals.charge_wh += counted(tick.charge.wh);
    totals.import_wh += counted(tick.grid_import.wh);
    totals.export_wh += counted(tick.grid_export.wh);
    totals.it_wh += counted(tick.it_wh);
    totals.carbon_location_g += counted(tick.carbon_location_g);
    totals.carbon_residual_g += counted(tick.carbon_residual_g);
    for (std::size_t i = 0; i < tick.racks.size() && i < totals.racks.size(); ++i) {
        add_rack(totals.racks[i], tick.racks[i]);
    }
    if (tick.unattributed) {
        add_rack(totals.unattributed, *tick.unattributed);
    }
}

} // namespace greenrack::accounting
