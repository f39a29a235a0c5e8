#pragma once

#include "daemon/core/accounting/accounting_types.hpp"

namespace greenrack::accounting {

// Throws std::invalid_argument naming the first setting the engine cannot work with (tick not
// dividing 900 s, ratios outside 0..1, efficiencies outside (0, 1], duplicate or reserved rack
// ids, ...).
void check_settings(const AccountingSettings& settings);

} // namespace greenrack::accounting
