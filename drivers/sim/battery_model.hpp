#pragma once

#include "drivers/sim/device_readings.hpp"
#include "drivers/sim/event_timeline.hpp"
#include "drivers/sim/scenario.hpp"

namespace greenrack::sim {

// A battery with its power conversion system. It charges from a renewable surplus and
// discharges on a deficit, within its power limits (possibly lowered by a scripted
// battery_limit) and its state-of-charge window. Battery power sign: + = discharge.
class BatteryModel {
public:
    BatteryModel(BatteryParams params, double initial_energy_wh);

    // request_w: + = the site wants this much discharge, - = this much surplus could be
    // stored. Integrates over dt (0 at reset) and returns the AC power actually delivered
    // (+ discharge, - charge).
    double dispatch(double dt_s, double request_w, const EventTimeline::BatteryLimits& limits);

    double power_w() const { return power_w_; }
    double soc_pct() const { return 100.0 * stored_wh_ / params_.capacity_wh; }
    double charge_energy_wh() const { return charge_energy_wh_; }
    double discharge_energy_wh() const { return discharge_energy_wh_; }
    void fill(DeviceReadings& out) const;

private:
    BatteryParams params_;
    double stored_wh_;
    double power_w_ = 0.0;
    double max_charge_w_;
    double max_discharge_w_;
    double charge_energy_wh_;
    double discharge_energy_wh_;
};

} // namespace greenrack::sim
