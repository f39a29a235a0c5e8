#pragma once

#include "drivers/sim/register_image.hpp"
#include "drivers/sim/request_handler.hpp"
#include "drivers/sim/request_stats.hpp"
#include "drivers/sim/scenario.hpp"
#include "drivers/sim/site_physics.hpp"

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace greenrack::sim {

// The simulated site as the network sees it: physics + one register image per device + the
// routing of (listener, unit id) to devices. Pure: time comes in through advance_to(), requests
// through handle_request(); the server and main do the I/O.
class Simulator {
public:
    // start: sim time to use when the scenario says start = "now".
    Simulator(Scenario scenario, SimTime start);
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    // Steps the physics by the scenario's step while now() + step <= target, then re-encodes the
    // register images once. Returns the number of steps taken (0: nothing changed).
    std::size_t advance_to(SimTime target);

    // Answers a request PDU addressed to `unit` on listener `listener` (index into
    // scenario().listeners). Returns the response PDU length; 0 = no answer (device offline).
    // Unknown unit id: exception 0x0B (gateway target device failed to respond) on TCP,
    // silence on a serial (RTU) listener.
    std::size_t handle_request(std::size_t listener, std::uint8_t unit,
                               std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response);

    SimTime now() const { return physics_.now(); }
    SimDuration step() const { return scenario_.sim.step; }
    const Scenario& scenario() const { return scenario_; }
    const BusBalance& balance() const { return physics_.balance(); }
    const RegisterImage& image(std::size_t device) const { return images_[device]; }
    bool device_offline(std::size_t device) const;
    const RequestStats& stats() const { return stats_; }

private:
    std::optional<std::size_t> device_at(std::size_t listener, std::uint8_t unit) const;
    void refresh_images();

    Scenario scenario_; // before physics_, which refers to it
    SitePhysics physics_;
    std::vector<RegisterImage> images_;
    std::vector<std::array<int, 256>> units_; // per listener: unit id -> device index or -1
    RequestStats stats_;
};

} // namespace greenrack::sim
