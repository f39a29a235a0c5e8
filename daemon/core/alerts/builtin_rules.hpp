#pragma once

#include "daemon/core/alerts/alert_types.hpp"

#include <vector>

namespace greenrack::alerts {

// The rules greenrack runs unless configured otherwise ([alerts.builtin.<name>] tunes or
// disables one). Names:
//   rack_nongreen       rack   nongreen_w > 500 W for 60 s, clears below 250 W for 30 s
//   site_nongreen       site   nongreen_w > 1000 W for 60 s, clears below 200 W for 30 s
//   site_coverage_low   site   coverage < 0.9 for 5 min, clears above 0.95 for 60 s
//   device_stale        device stale >= 1 for 30 s
//   data_gap            site   data_gap >= 1 for 60 s, clears for 15 s
//   balance_residual    site   balance_residual_ratio > 0.05 for 5 min, clears below 0.03 for 60 s
//   spool_dropping      site   spool_dropped_recent >= 1 (a sink spool dropped data at its cap in
//                       the last 10 min), fires at once, critical
//   spool_filling       site   spool_fill > 0.8 for 60 s, clears below 0.5 for 60 s
//   battery_green_low   battery green_fraction < 0.5 while discharge_w > 100, for 60 s, clears
//                       above 0.6 for 30 s
std::vector<RuleSpec> builtin_rules();

} // namespace greenrack::alerts
