#pragma once

#include "drivers/sim/rng.hpp"
#include "drivers/sim/scenario.hpp"

namespace greenrack::sim {

// IT load of one rack over time: constant, diurnal (peak mid-afternoon local solar time) or a
// mean-reverting random walk around the base load. A rack_load event replaces the base load.
class RackLoadModel {
public:
    RackLoadModel(RackSpec spec, std::uint64_t seed);

    // Advances the random walk by dt (0 at reset) and returns the load in W at `local_hours`.
    // override_w is the base load set by a scripted event, if any.
    double step(double dt_s, double local_hours, std::optional<double> override_w);

    const RackSpec& spec() const { return spec_; }

private:
    RackSpec spec_;
    Rng rng_;
    double walk_ = 0.0; // relative deviation of the random walk
};

} // namespace greenrack::sim
