#include "drivers/sim/rack_load_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace greenrack::sim {

namespace {

constexpr double walk_time_constant_s = 600.0; // how fast the walk returns to the base load

} // namespace

RackLoadModel::RackLoadModel(RackSpec spec, std::uint64_t seed)
    : spec_(std::move(spec)), rng_(seed) {}

double RackLoadModel::step(double dt_s, double local_hours, std::optional<double> override_w) {
    const double base = override_w.value_or(spec_.base_load_w);
    double factor = 1.0;
    switch (spec_.pattern) {
    case LoadPattern::constant:
        break;
    case LoadPattern::diurnal:
        // Peak at 15:00 local, trough at 03:00.
        factor =
            1.0 + spec_.amplitude * std::cos(2.0 * std::numbers::pi * (local_hours - 15.0) / 24.0);
        break;
    case LoadPattern::random_walk: {
        // Ornstein-Uhlenbeck: stationary standard deviation = amplitude.
        const double decay = std::exp(-dt_s / walk_time_constant_s);
        const double noise = spec_.amplitude * std::sqrt(1.0 - decay * decay);
        walk_ = walk_ * decay + noise * rng_.normal();
        walk_ = std::clamp(walk_, -0.9, 0.9);
        factor = 1.0 + walk_;
        break;
    }
    }
    return std::max(0.0, base * factor);
}

} // namespace greenrack::sim
