#include "daemon/core/alerts/builtin_rules.hpp"

namespace greenrack::alerts {

namespace {

using namespace std::chrono_literals;

RuleSpec rule(std::string name, Scope scope, Condition condition, std::optional<double> clear,
              milliseconds for_duration, milliseconds clear_for, std::string severity,
              std::string summary) {
    RuleSpec spec;
    spec.name = std::move(name);
    spec.scope = scope;
    spec.condition = std::move(condition);
    spec.clear_threshold = clear;
    spec.for_duration = for_duration;
    spec.clear_for = clear_for;
    spec.severity = std::move(severity);
    spec.summary = std::move(summary);
    spec.builtin = true;
    return spec;
}

} // namespace

std::vector<RuleSpec> builtin_rules() {
    std::vector<RuleSpec> rules;
    rules.push_back(rule("rack_nongreen", Scope::rack, {"nongreen_w", Comparator::gt, 500.0}, 250.0,
                         60s, 30s, "warning",
                         "Rack {subject} runs on {value:.0f} W of non-green power "
                         "(coverage {coverage:.0%}); clean headroom {headroom_total_w:.0f} W"));
    rules.push_back(rule("site_nongreen", Scope::site, {"nongreen_w", Comparator::gt, 1000.0},
                         200.0, 60s, 30s, "critical",
                         "Site {subject} draws {value:.0f} W of non-green power (grid "
                         "{grid_to_load_w:.0f} W, non-green battery "
                         "{battery_nongreen_to_load_w:.0f} W); top racks: {cause}"));
    rules.push_back(rule("site_coverage_low", Scope::site, {"coverage", Comparator::lt, 0.9}, 0.95,
                         5min, 60s, "warning",
                         "Clean coverage of site {subject} is {value:.1%} (floor "
                         "{threshold:.0%}); top racks: {cause}"));
    rules.push_back(rule("device_stale", Scope::device, {"stale", Comparator::ge, 1.0},
                         std::nullopt, 30s, 0s, "warning",
                         "Device {subject} has no recent good reading (last {age_s:.0f} s ago)"));
    rules.push_back(rule("data_gap", Scope::site, {"data_gap", Comparator::ge, 1.0}, std::nullopt,
                         60s, 15s, "warning",
                         "Green figures of site {subject} cannot be computed: a source the "
                         "balance needs is stale or missing"));
    rules.push_back(rule("balance_residual", Scope::site,
                         {"balance_residual_ratio", Comparator::gt, 0.05}, 0.03, 5min, 60s,
                         "warning",
                         "Bus balance of site {subject} does not close: residual "
                         "{balance_residual_w:.0f} W ({value:.1%} of the load)"));
    rules.push_back(rule("spool_dropping", Scope::site,
                         {"spool_dropped_recent", Comparator::ge, 1.0}, std::nullopt, 0s, 0s,
                         "critical",
                         "Store and forward of site {subject} dropped {value:.0f} undelivered "
                         "records in the last 10 min: a sink spool is at its cap (fill "
                         "{spool_fill:.0%}, oldest waiting {spool_backlog_s:.0f} s)"));
    rules.push_back(rule("spool_filling", Scope::site, {"spool_fill", Comparator::gt, 0.8}, 0.5,
                         60s, 60s, "warning",
                         "A sink spool of site {subject} is {value:.0%} full (oldest waiting "
                         "{spool_backlog_s:.0f} s): is the broker or database reachable? At "
                         "100 % the oldest data is dropped"));
    RuleSpec battery = rule("battery_green_low", Scope::battery,
                            {"green_fraction", Comparator::lt, 0.5}, 0.6, 60s, 30s, "info",
                            "Battery discharges {discharge_w:.0f} W while only {value:.0%} of "
                            "its charge is green");
    battery.when = Condition{"discharge_w", Comparator::gt, 100.0};
    rules.push_back(std::move(battery));
    return rules;
}

} // namespace greenrack::alerts
