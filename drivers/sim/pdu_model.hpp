#pragma once

#include "drivers/sim/device_readings.hpp"
#include "drivers/sim/event_timeline.hpp"
#include "drivers/sim/rack_load_model.hpp"
#include "drivers/sim/rng.hpp"
#include "drivers/sim/scenario.hpp"

#include <span>
#include <vector>

namespace greenrack::sim {

// A metered-outlet rack PDU feeding one or more racks. Each rack's load is split over its
// outlets with fixed (seeded) shares, each outlet has its own power factor (0.95..0.99);
// current = P / V / PF, VA = P / PF; inlet = sum of the outlets. Energies integrate in double.
// A PDU or panel without metered outlets (outlet_count 0, e.g. a floor-PDU panel) feeds each
// rack through one unreported feeder with its own power factor: inlet = sum of the racks.
class PduModel {
public:
    PduModel(const PduParams& params, int outlet_count, double initial_energy_wh,
             std::uint64_t seed);

    // Advances by dt (0 at reset) to sim time t.
    void step(double dt_s, SimTime t, double longitude_deg, const EventTimeline& events);

    double inlet_power_w() const { return inlet_power_w_; }
    double rack_power_w(std::size_t rack) const { return rack_power_w_[rack]; }
    const std::vector<RackLoadModel>& racks() const { return racks_; }
    void fill(DeviceReadings& out) const;

private:
    struct Outlet {
        int rack = -1; // index into racks_, -1 = unused
        double share = 0.0;
        double power_factor = 0.0;
        double power_w = 0.0;
        double energy_wh = 0.0;
    };

    std::vector<RackLoadModel> racks_;
    std::vector<double> rack_power_w_;
    // The metered outlets, or the feeders of a PDU without any.
    std::span<Outlet> all_outlets() { return outlets_.empty() ? feeders_ : outlets_; }

    std::vector<Outlet> outlets_; // outlets_[k - 1] = outlet k
    std::vector<Outlet> feeders_; // one per rack when the PDU has no metered outlets
    double nominal_voltage_v_;
    double voltage_v_;
    double voltage_walk_ = 0.0;
    double inlet_power_w_ = 0.0;
    double inlet_energy_wh_ = 0.0;
    Rng rng_;
};

} // namespace greenrack::sim
