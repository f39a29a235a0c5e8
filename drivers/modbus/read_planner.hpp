#pragma once

#include "drivers/modbus/point.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace greenrack::modbus {

struct PlanOptions {
    // Largest request the device accepts (protocol limit 125; e.g. 80 for an Eastron SDM630).
    std::uint16_t max_registers = max_read_registers;
    // Registers that belong to no point and may be read anyway to merge two requests.
    std::uint16_t max_gap = 16;
    // Device quirk: requests must start on an even address and read an even count.
    bool even_alignment = false;
};

// One Modbus read: registers [start, start + count) of one kind, carrying some points.
struct ReadRequest {
    RegisterKind function = RegisterKind::holding;
    std::uint16_t start = 0;
    std::uint16_t count = 0;
    std::vector<std::size_t> points; // indices into the point list given to plan_reads, sorted
};

struct ReadPlan {
    std::vector<ReadRequest> requests;
    std::size_t registers_read() const; // sum of counts
};

struct PlanError {
    std::string message; // e.g. "point 'w' and its scale factor 'w_sf' span 130 registers ..."
};

// Groups the points into the fewest requests such that
//   * each request reads one register kind and at most max_registers registers,
//   * inside a request, consecutive points are at most max_gap unread registers apart,
//   * a point and its scale-factor point are always read by the same request,
// Holding and input registers are planned separately. Linear in the number of points once they
// are sorted by address (points given in address order are not re-sorted).
// "Unread" registers are those that belong to no point of that register kind; registers of a
// point carried by another request do not count (requests may overlap when scale-factor groups
// interleave). With even_alignment an odd max_registers is rounded down, and the padding at a
// request's ends is not a gap. PlanError when the options are invalid (max_registers outside
// 1..125), a point is empty or runs past register 65535, a scale_factor index is out of range or
// in the other register kind, or a point or scale-factor group cannot be read by one request
// (too many registers, or a hole of more than max_gap registers inside it).
std::variant<ReadPlan, PlanError> plan_reads(std::span<const PointSpec> points,
                                             const PlanOptions& options);

// One line per request, '\n'-separated, for the start-up log:
//   "FC03 40070..40121 (52 regs): w, w_sf, va, ..." (at most 8 names, then "... (N more)").
// Addresses are the 0-based wire addresses.
std::string describe(const ReadPlan& plan, std::span<const PointSpec> points);

} // namespace greenrack::modbus
