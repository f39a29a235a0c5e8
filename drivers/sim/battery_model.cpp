#include "drivers/sim/battery_model.hpp"

#include <algorithm>

namespace greenrack::sim {

BatteryModel::BatteryModel(BatteryParams params, double initial_energy_wh)
    : params_(params), stored_wh_(params.capacity_wh * params.initial_soc_pct / 100.0),
      max_charge_w_(params.max_charge_w), max_discharge_w_(params.max_discharge_w),
      charge_energy_wh_(initial_energy_wh), discharge_energy_wh_(initial_energy_wh) {}

double BatteryModel::dispatch(double dt_s, double request_w,
                              const EventTimeline::BatteryLimits& limits) {
    max_charge_w_ =
        std::min(params_.max_charge_w, limits.max_charge_w.value_or(params_.max_charge_w));
    max_discharge_w_ =
        std::min(params_.max_discharge_w, limits.max_discharge_w.value_or(params_.max_discharge_w));
    const double min_wh = params_.capacity_wh * params_.min_soc_pct / 100.0;
    const double max_wh = params_.capacity_wh * params_.max_soc_pct / 100.0;
    const double dt_h = dt_s / 3600.0;

    double discharge = 0.0;
    double charge = 0.0;
    if (request_w > 0.0) {
        discharge = std::min(request_w, max_discharge_w_);
        if (stored_wh_ <= min_wh) {
            discharge = 0.0;
        } else if (dt_h > 0.0) {
            discharge =
                std::min(discharge, (stored_wh_ - min_wh) * params_.discharge_efficiency / dt_h);
        }
    } else if (request_w < 0.0) {
        charge = std::min(-request_w, max_charge_w_);
        if (stored_wh_ >= max_wh) {
            charge = 0.0;
        } else if (dt_h > 0.0) {
            charge = std::min(charge, (max_wh - stored_wh_) / (params_.charge_efficiency * dt_h));
        }
    }
    stored_wh_ +=
        (charge * params_.charge_efficiency - discharge / params_.discharge_efficiency) * dt_h;
    stored_wh_ = std::clamp(stored_wh_, 0.0, params_.capacity_wh);
    charge_energy_wh_ += charge * dt_h;
    discharge_energy_wh_ += discharge * dt_h;
    power_w_ = discharge - charge;
    return power_w_;
}

void BatteryModel::fill(DeviceReadings& out) const {
    const double soc = soc_pct();
    const double voltage = params_.voltage_v * (0.9 + 0.2 * soc / 100.0);
    out.set("battery_power", power_w_);
    out.set("soc", soc);
    out.set("capacity", params_.capacity_wh);
    out.set("charge_energy", charge_energy_wh_);
    out.set("discharge_energy", discharge_energy_wh_);
    out.set("max_charge_power", max_charge_w_);
    out.set("max_discharge_power", max_discharge_w_);
    out.set("voltage", voltage);
    out.set("current", power_w_ / voltage);
    out.set("dc_power", power_w_);
    out.set("temperature", 28.0);
    // battery_generic state: 2 standby, 3 charging, 4 discharging.
    out.set("status", power_w_ > 0.0 ? 4.0 : (power_w_ < 0.0 ? 3.0 : 2.0));
}

} // namespace greenrack::sim
