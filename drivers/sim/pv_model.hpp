#pragma once

#include "drivers/sim/device_readings.hpp"
#include "drivers/sim/rng.hpp"
#include "drivers/sim/scenario.hpp"

namespace greenrack::sim {

// A PV array and its inverter: clear-sky output from the sun's elevation, times passing clouds
// (a seeded random process whose frequency grows with `cloudiness`) and scripted clouds.
class PvModel {
public:
    PvModel(PvParams params, double initial_energy_wh, std::uint64_t seed);

    // Advances by dt (0 at reset) to sim time t. scripted_factor: product of the scripted clouds.
    void step(double dt_s, SimTime t, const SiteSettings& site, double scripted_factor);

    double power_w() const { return power_w_; }
    double energy_wh() const { return energy_wh_; }
    // Random-cloud transmission in force (1 = clear), for tests and diagnostics.
    double random_cloud_factor() const;
    void fill(DeviceReadings& out) const;

private:
    PvParams params_;
    Rng rng_;
    double cloud_elapsed_s_ = 0.0;
    double cloud_length_s_ = 0.0; // 0 = no random cloud
    double cloud_transmission_ = 1.0;
    double elevation_deg_ = 0.0;
    double power_w_ = 0.0;
    double energy_wh_;
};

} // namespace greenrack::sim
