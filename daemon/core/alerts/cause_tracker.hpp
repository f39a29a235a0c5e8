#pragma once

#include "daemon/core/alerts/alert_types.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace greenrack::alerts {

// Sums each rack's non-green energy over a sliding window of ticks and names the racks with the
// most of it: the marginal cause of the site's non-green draw. Pure; time comes in with add().
class CauseTracker {
public:
    CauseTracker(milliseconds window, std::size_t max_racks);

    // One tick ending at end_ms with each rack's non-green energy (Wh, burdened view). Ticks
    // must come in increasing end_ms order; an older one is ignored.
    void add(std::int64_t end_ms, const std::vector<std::pair<std::string, double>>& racks);

    // The racks with non-green energy > 0 in (now_ms - window, now_ms], largest first (ties by
    // name), at most max_racks, with their share of the window's rack non-green energy.
    std::vector<RackShare> top(std::int64_t now_ms) const;

    milliseconds window() const { return window_; }

private:
    struct Tick {
        std::int64_t end_ms = 0;
        std::vector<std::pair<std::string, double>> racks;
    };
    milliseconds window_;
    std::size_t max_racks_;
    std::deque<Tick> ticks_;
};

// "r2 1.20 kWh (62%), r1 0.74 kWh (38%)", or "none" without non-green rack energy.
std::string describe(const std::vector<RackShare>& racks);

} // namespace greenrack::alerts
