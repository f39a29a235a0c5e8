#pragma once

#include "drivers/sim/scenario.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace greenrack::sim {

// The scripted events of a scenario, answering "what is in force at sim time t?". Pure and
// stateless: the answer depends only on t, so physics and server can ask in any order.
class EventTimeline {
public:
    EventTimeline(std::vector<EventSpec> events, SimTime start);

    // Product of the factors of the clouds over this PV device at t (1 = no scripted cloud).
    double cloud_factor(std::string_view pv_device, SimTime t) const;
    // Load set by the latest rack_load event in force for this rack, if any.
    std::optional<double> rack_load(std::string_view rack, SimTime t) const;
    bool device_offline(std::string_view device, SimTime t) const;
    bool wind_calm(std::string_view wind_device, SimTime t) const;

    struct BatteryLimits {
        std::optional<double> max_charge_w;
        std::optional<double> max_discharge_w;
    };
    // Limits of the latest battery_limit events in force (each limit separately).
    BatteryLimits battery_limits(std::string_view battery_device, SimTime t) const;

private:
    bool in_force(const EventSpec& event, SimTime t) const;

    std::vector<EventSpec> events_; // sorted by `at` (stable)
    SimTime start_;
};

} // namespace greenrack::sim
