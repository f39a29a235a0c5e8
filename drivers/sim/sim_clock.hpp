#pragma once

#include "drivers/sim/sim_time.hpp"

#include <chrono>

namespace greenrack::sim {

// Maps wall-clock time elapsed since start-up to sim time: start + elapsed x speed, or start
// forever when frozen. Pure: the caller passes the elapsed wall time.
class SimClock {
public:
    SimClock(SimTime start, double speed, bool frozen)
        : start_(start), speed_(speed), frozen_(frozen) {}

    SimTime at(std::chrono::nanoseconds wall_elapsed) const {
        if (frozen_) {
            return start_;
        }
        const auto sim_elapsed = std::chrono::duration<double, std::milli>(wall_elapsed) * speed_;
        return start_ + std::chrono::duration_cast<SimDuration>(sim_elapsed);
    }

    // Wall time until sim time reaches `target` (zero when frozen or already past).
    std::chrono::nanoseconds wall_until(SimTime target,
                                        std::chrono::nanoseconds wall_elapsed) const {
        if (frozen_) {
            return std::chrono::nanoseconds::max();
        }
        const auto sim_left = std::chrono::duration<double, std::nano>(target - at(wall_elapsed));
        return sim_left.count() <= 0.0
                   ? std::chrono::nanoseconds::zero()
                   : std::chrono::duration_cast<std::chrono::nanoseconds>(sim_left / speed_);
    }

    bool frozen() const { return frozen_; }

private:
    SimTime start_;
    double speed_;
    bool frozen_;
};

} // namespace greenrack::sim
