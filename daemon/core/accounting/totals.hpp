#pragma once

// Monotonic cumulative counters (green-accounting.md §6): every increment is >= 0. They cover
// the accounted (valid) ticks only, so green + nongreen = load holds for the totals too; a tick
// without green figures adds nothing (it never counts as green, nor as load).

#include "daemon/core/accounting/accounting_types.hpp"

namespace greenrack::accounting {

void add_rack(RackTotals& totals, const RackTick& rack);
void add_tick(Totals& totals, const TickResult& tick);

} // namespace greenrack::accounting
