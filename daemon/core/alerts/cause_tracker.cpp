#include "daemon/core/alerts/cause_tracker.hpp"

#include "daemon/core/alerts/summary_template.hpp"

#include <algorithm>
#include <map>

namespace greenrack::alerts {

CauseTracker::CauseTracker(milliseconds window, std::size_t max_racks)
    : window_(window), max_racks_(max_racks) {}

void CauseTracker::add(std::int64_t end_ms,
                       const std::vector<std::pair<std::string, double>>& racks) {
    if (!ticks_.empty() && end_ms <= ticks_.back().end_ms) {
        return;
    }
    ticks_.push_back(Tick{end_ms, racks});
    while (!ticks_.empty() && ticks_.front().end_ms <= end_ms - window_.count()) {
        ticks_.pop_front();
    }
}

std::vector<RackShare> CauseTracker::top(std::int64_t now_ms) const {
    std::map<std::string, double> sums;
    double total = 0.0;
    for (const auto& tick : ticks_) {
        if (tick.end_ms <= now_ms - window_.count() || tick.end_ms > now_ms) {
            continue;
        }
        for (const auto& [rack, wh] : tick.racks) {
            if (wh > 0.0) {
                sums[rack] += wh;
                total += wh;
            }
        }
    }
    std::vector<RackShare> out;
    for (const auto& [rack, wh] : sums) {
        out.push_back(RackShare{rack, wh, total > 0.0 ? wh / total : 0.0});
    }
    std::stable_sort(out.begin(), out.end(), [](const RackShare& a, const RackShare& b) {
        return a.nongreen_wh > b.nongreen_wh;
    });
    if (out.size() > max_racks_) {
        out.resize(max_racks_);
    }
    return out;
}

std::string describe(const std::vector<RackShare>& racks) {
    if (racks.empty()) {
        return "none";
    }
    std::string text;
    for (const auto& share : racks) {
        if (!text.empty()) {
            text += ", ";
        }
        text += share.rack + " " + format_number(share.nongreen_wh / 1000.0, 2) + " kWh (" +
                format_number(share.share, 0, true) + ")";
    }
    return text;
}

} // namespace greenrack::alerts
