#pragma once

// Plausibility checks on one tick's inputs (green-accounting.md §7.6): a value that is not a
// finite number, is negative (beyond rounding noise), or -- for on-site renewable output --
// exceeds 1.1 x nameplate x tau is excluded (its quality becomes missing, so it is never used
// as a number) and flag_clamped is raised. A stored-energy reading that is negative, not finite
// or above 1.1 x the configured capacity, and a negative discharge limit, are dropped the same
// way. Excluding rather than clamping to a bound never creates energy that was not seen.

#include "daemon/core/accounting/accounting_types.hpp"

#include <cstdint>

namespace greenrack::accounting {

TickInputs checked_inputs(const TickInputs& inputs, const AccountingSettings& settings,
                          std::uint32_t& flags);

} // namespace greenrack::accounting
