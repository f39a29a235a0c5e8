#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace greenrack::sim {

// Small deterministic random generator (xoshiro256** seeded by splitmix64). The standard
// library's distributions differ between implementations, so the simulator draws its numbers
// here: same seed, same outputs, on every platform.
class Rng {
public:
    explicit Rng(std::uint64_t seed);

    std::uint64_t next();
    // Uniform in [0, 1).
    double uniform();
    // Uniform in [low, high).
    double uniform(double low, double high);
    // Standard normal (Box-Muller; one draw per call, so streams stay easy to reason about).
    double normal();

private:
    std::array<std::uint64_t, 4> state_{};
};

// Seed of an independent stream for one model ("pv-1/clouds"), so adding a device does not
// change the random numbers of the others.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view stream);

} // namespace greenrack::sim
