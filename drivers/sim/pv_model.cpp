#include "drivers/sim/pv_model.hpp"

#include "drivers/sim/solar_position.hpp"

#include <algorithm>
#include <cmath>

namespace greenrack::sim {

namespace {

constexpr double mean_clear_spell_s = 600.0; // at cloudiness 1
constexpr double cloud_edge_s = 20.0;        // a cloud's shadow fades in and out
constexpr double system_derate = 0.95;       // wiring, soiling, inverter
constexpr double inverter_efficiency = 0.97;
constexpr double ac_power_factor = 0.99;
constexpr double phase_voltage_v = 230.0;

} // namespace

PvModel::PvModel(PvParams params, double initial_energy_wh, std::uint64_t seed)
    : params_(params), rng_(seed), energy_wh_(initial_energy_wh) {}

double PvModel::random_cloud_factor() const {
    if (cloud_length_s_ <= 0.0) {
        return 1.0;
    }
    const double remaining = cloud_length_s_ - cloud_elapsed_s_;
    const double depth = std::clamp(std::min(cloud_elapsed_s_, remaining) / cloud_edge_s, 0.0, 1.0);
    return 1.0 - (1.0 - cloud_transmission_) * depth;
}

void PvModel::step(double dt_s, SimTime t, const SiteSettings& site, double scripted_factor) {
    // Random clouds: draw the same numbers every step so the stream does not depend on state.
    const double start_draw = rng_.uniform();
    const double length_draw = rng_.uniform(60.0, 480.0);
    const double transmission_draw = rng_.uniform(0.2, 0.7);
    if (cloud_length_s_ > 0.0) {
        cloud_elapsed_s_ += dt_s;
        if (cloud_elapsed_s_ >= cloud_length_s_) {
            cloud_length_s_ = 0.0;
        }
    } else if (params_.cloudiness > 0.0 && dt_s > 0.0 &&
               start_draw < 1.0 - std::exp(-params_.cloudiness * dt_s / mean_clear_spell_s)) {
        cloud_length_s_ = length_draw;
        cloud_elapsed_s_ = 0.0;
        cloud_transmission_ = transmission_draw;
    }

    elevation_deg_ = solar_elevation_deg(site.latitude_deg, site.longitude_deg, t);
    const double clear = clear_sky_irradiance(elevation_deg_) / 1000.0 * system_derate;
    power_w_ =
        params_.nameplate_w * std::clamp(clear * random_cloud_factor() * scripted_factor, 0.0, 1.0);
    energy_wh_ += power_w_ * dt_s / 3600.0;
}

void PvModel::fill(DeviceReadings& out) const {
    out.set("ac_power", power_w_);
    out.set("ac_power_available", power_w_);
    out.set("ac_energy", energy_wh_);
    out.set("dc_power", power_w_ / inverter_efficiency);
    out.set("power_factor", power_w_ > 0.0 ? ac_power_factor : 1.0);
    out.set("apparent_power", power_w_ / ac_power_factor);
    out.set("current", power_w_ / (phase_voltage_v * ac_power_factor));
    out.set("temperature", 25.0 + 20.0 * power_w_ / params_.nameplate_w);
    // SunSpec inverter operating state: 4 = MPPT, 8 = STANDBY, 2 = SLEEPING (night).
    out.set("status", power_w_ > 0.0 ? 4.0 : (elevation_deg_ > 0.0 ? 8.0 : 2.0));
}

} // namespace greenrack::sim
