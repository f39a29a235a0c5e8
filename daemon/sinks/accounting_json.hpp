#pragma once

#include "daemon/core/accounting/accounting_types.hpp"

#include <string>

namespace greenrack::sinks {

// Payloads of the accounting topics (dashboards/METRICS.md lists every field). Pure.
// Every payload has `ts` (end of the tick, UTC ms), `seq` (tick number: start / tau, so it
// increases across restarts) and `quality`. Green figures are null when the tick is not valid.

struct SiteContext {
    const accounting::AccountingSettings* settings = nullptr;
    const accounting::Totals* totals = nullptr;
    const accounting::Rollup* hour_so_far = nullptr; // open 1 h window, may be null
};

// greenrack/v1/<site>/site/state
std::string encode_site_state(const accounting::TickResult& tick, const SiteContext& context);
// greenrack/v1/<site>/rack/<rack>/state
std::string encode_rack_state(const accounting::TickResult& tick, const accounting::RackTick& rack,
                              const accounting::RackTotals& totals);
// greenrack/v1/<site>/battery/state
std::string encode_battery_state(const accounting::TickResult& tick,
                                 const accounting::AccountingSettings& settings);
// greenrack/v1/<site>/site/rollup/<15m|1h|1d>
std::string encode_rollup(const accounting::Rollup& rollup,
                          const accounting::AccountingSettings& settings);

} // namespace greenrack::sinks
