#include "drivers/sim/wind_model.hpp"

#include <algorithm>
#include <cmath>

namespace greenrack::sim {

namespace {

constexpr double gust_time_constant_s = 20.0;
constexpr double calm_speed_ms = 0.5;

} // namespace

WindModel::WindModel(WindParams params, double initial_energy_wh, std::uint64_t seed)
    : params_(params), rng_(seed), speed_ms_(params.mean_wind_ms), energy_wh_(initial_energy_wh) {}

double WindModel::power_curve(const WindParams& p, double v) {
    if (v < p.cut_in_ms || v >= p.cut_out_ms) {
        return 0.0;
    }
    if (v >= p.rated_wind_ms) {
        return p.rated_w;
    }
    const double v3 = v * v * v;
    const double in3 = p.cut_in_ms * p.cut_in_ms * p.cut_in_ms;
    const double rated3 = p.rated_wind_ms * p.rated_wind_ms * p.rated_wind_ms;
    return p.rated_w * (v3 - in3) / (rated3 - in3);
}

void WindModel::step(double dt_s, bool calm) {
    const double mean = calm ? calm_speed_ms : params_.mean_wind_ms;
    const double sd = params_.gustiness * mean;
    const double decay = std::exp(-dt_s / gust_time_constant_s);
    speed_ms_ =
        mean + (speed_ms_ - mean) * decay + sd * std::sqrt(1.0 - decay * decay) * rng_.normal();
    speed_ms_ = std::max(0.0, speed_ms_);
    power_w_ = power_curve(params_, speed_ms_);
    energy_wh_ += power_w_ * dt_s / 3600.0;
}

void WindModel::fill(DeviceReadings& out) const {
    out.set("ac_power", power_w_);
    out.set("ac_power_available", power_w_);
    out.set("ac_energy", energy_wh_);
    out.set("dc_power", power_w_);
    out.set("wind_speed", speed_ms_);
    out.set("voltage", params_.voltage_v);
    out.set("current", power_w_ / params_.voltage_v);
    out.set("temperature", 30.0 + 10.0 * power_w_ / params_.rated_w);
    // MidNite Classic charge stage in the high byte: 4 = bulk MPPT, 0 = resting.
    out.set("status", power_w_ > 0.0 ? 4.0 * 256.0 : 0.0);
}

} // namespace greenrack::sim
