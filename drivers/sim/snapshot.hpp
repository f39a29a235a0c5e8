#pragma once

#include "drivers/sim/simulator.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace greenrack::sim {

// JSON of what the simulator serves right now (for --snapshot; an integration test compares the
// daemon's values with it):
//   {"sim_time": "2026-06-21T02:00:00Z",
//    "devices": {"<id>": {"unit_id": 1, "listener": "pdus", "port": 15020,
//                         "profile": "rack_pdu_px3_24", "online": true,
//                         "points": {"<point>": <number> | "<string>" | null}}},
//    "site": {"renewable_w": ..., "discharge_w": ..., "import_w": ..., "load_w": ...,
//             "charge_w": ..., "export_w": ..., "it_w": ..., "cooling_w": ...}}
// Point values are decoded back from the served registers with modbus::decode_point (so they
// are exactly what a correct client decodes); null where a sentinel is served. Devices on a
// serial listener have "serial": "<device path>" instead of "port".
// listener_ports[i] is the bound port of scenario().listeners[i].
std::string snapshot_json(const Simulator& simulator,
                          std::span<const std::uint16_t> listener_ports);

} // namespace greenrack::sim
