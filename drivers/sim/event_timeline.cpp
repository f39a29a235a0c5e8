#include "drivers/sim/event_timeline.hpp"

#include <algorithm>

namespace greenrack::sim {

EventTimeline::EventTimeline(std::vector<EventSpec> events, SimTime start)
    : events_(std::move(events)), start_(start) {
    std::stable_sort(events_.begin(), events_.end(),
                     [](const EventSpec& a, const EventSpec& b) { return a.at < b.at; });
}

bool EventTimeline::in_force(const EventSpec& event, SimTime t) const {
    const SimTime begin = start_ + event.at;
    if (t < begin) {
        return false;
    }
    return !event.duration || t < begin + *event.duration;
}

double EventTimeline::cloud_factor(std::string_view pv_device, SimTime t) const {
    double factor = 1.0;
    for (const auto& e : events_) {
        if (e.kind == EventKind::cloud && (e.device.empty() || e.device == pv_device) &&
            in_force(e, t)) {
            factor *= e.factor;
        }
    }
    return factor;
}

std::optional<double> EventTimeline::rack_load(std::string_view rack, SimTime t) const {
    std::optional<double> load;
    for (const auto& e : events_) {
        if (e.kind == EventKind::rack_load && e.rack == rack && in_force(e, t)) {
            load = e.load_w; // later events win
        }
    }
    return load;
}

bool EventTimeline::device_offline(std::string_view device, SimTime t) const {
    return std::any_of(events_.begin(), events_.end(), [&](const EventSpec& e) {
        return e.kind == EventKind::device_offline && e.device == device && in_force(e, t);
    });
}

bool EventTimeline::wind_calm(std::string_view wind_device, SimTime t) const {
    return std::any_of(events_.begin(), events_.end(), [&](const EventSpec& e) {
        return e.kind == EventKind::wind_calm && (e.device.empty() || e.device == wind_device) &&
               in_force(e, t);
    });
}

EventTimeline::BatteryLimits EventTimeline::battery_limits(std::string_view battery_device,
                                                           SimTime t) const {
    BatteryLimits limits;
    for (const auto& e : events_) {
        if (e.kind == EventKind::battery_limit && e.device == battery_device && in_force(e, t)) {
            if (e.max_charge_w) {
                limits.max_charge_w = e.max_charge_w;
            }
            if (e.max_discharge_w) {
                limits.max_discharge_w = e.max_discharge_w;
            }
        }
    }
    return limits;
}

} // namespace greenrack::sim
