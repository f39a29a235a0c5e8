#pragma once

#include "drivers/sim/device_readings.hpp"
#include "drivers/sim/rng.hpp"
#include "drivers/sim/scenario.hpp"

namespace greenrack::sim {

// A small wind turbine behind a charge controller. Wind speed is a seeded AR(1) process
// (Ornstein-Uhlenbeck, 20 s time constant) around the mean, standard deviation gustiness x mean;
// power follows a cubic curve from cut-in to rated speed, capped at rated, 0 past cut-out.
class WindModel {
public:
    WindModel(WindParams params, double initial_energy_wh, std::uint64_t seed);

    // Advances by dt (0 at reset). calm: a scripted calm pulls the wind towards 0.5 m/s.
    void step(double dt_s, bool calm);

    double power_w() const { return power_w_; }
    double wind_speed_ms() const { return speed_ms_; }
    double energy_wh() const { return energy_wh_; }
    void fill(DeviceReadings& out) const;

    // The power curve alone (pure), exposed for tests.
    static double power_curve(const WindParams& params, double speed_ms);

private:
    WindParams params_;
    Rng rng_;
    double speed_ms_;
    double power_w_ = 0.0;
    double energy_wh_;
};

} // namespace greenrack::sim
