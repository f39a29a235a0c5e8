#pragma once

#include "drivers/sim/battery_model.hpp"
#include "drivers/sim/bus_balance.hpp"
#include "drivers/sim/device_readings.hpp"
#include "drivers/sim/event_timeline.hpp"
#include "drivers/sim/meter_models.hpp"
#include "drivers/sim/pdu_model.hpp"
#include "drivers/sim/pv_model.hpp"
#include "drivers/sim/rng.hpp"
#include "drivers/sim/scenario.hpp"
#include "drivers/sim/wind_model.hpp"

#include <variant>
#include <vector>

namespace greenrack::sim {

// The physics of the whole site, stepped in sim time. Pure and deterministic: the same
// scenario (seed included) and the same sequence of steps give the same numbers.
//
// Per step, at the new time t: racks -> PDUs -> IT; L = IT + cooling (facility meter params);
// R = PV + wind; batteries cover L - R within their limits; the grid meter closes
// R + D + I = L + C + X exactly. Energy counters integrate power x dt in double.
class SitePhysics {
public:
    // State at scenario.sim.start (or `start` when the scenario says "now").
    SitePhysics(const Scenario& scenario, SimTime start);

    void step(SimDuration dt);

    SimTime now() const { return now_; }
    const BusBalance& balance() const { return balance_; }
    const EventTimeline& events() const { return events_; }
    // Values of device `index` (scenario order) by role, at now().
    DeviceReadings readings(std::size_t index) const;
    std::size_t device_count() const { return models_.size(); }

private:
    using Model = std::variant<PduModel, PvModel, WindModel, BatteryModel, FacilityMeterModel,
                               GridMeterModel>;

    void advance(double dt_s);

    const Scenario& scenario_;
    EventTimeline events_;
    std::vector<Model> models_;
    double cooling_fraction_ = 0.0;
    double cooling_fixed_w_ = 0.0;
    Rng grid_rng_;
    double voltage_walk_ = 0.0;
    double frequency_walk_ = 0.0;
    SimTime now_;
    BusBalance balance_;
};

} // namespace greenrack::sim
