#pragma once

#include "drivers/modbus/point.hpp"
#include "drivers/modbus/read_planner.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace greenrack::modbus {

// Decodes the points one answered request carries into `values` (one per point of `points`,
// indexed like them). A point's scale factor is used when the same request read it (the planner
// keeps a point and its scale factor together); otherwise the value is decoded without one.
// Pure.
void decode_request(std::span<const PointSpec> points, const ReadRequest& request,
                    std::span<const std::uint16_t> registers, std::vector<PointValue>& values);

} // namespace greenrack::modbus
