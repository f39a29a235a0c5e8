#pragma once

// Vocabulary of the alert engine: rules, their lifecycle and the events it emits. Pure data; time
// is UTC milliseconds since the Unix epoch and always comes in from the caller.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::alerts {

using std::chrono::milliseconds;

// What a rule watches: the whole site, each rack, the site battery, or each device.
enum class Scope : std::uint8_t { site, rack, battery, device };

enum class Comparator : std::uint8_t { gt, ge, lt, le };

// What a rule does while its output has no value (a data gap, a rack without green figures).
enum class MissingPolicy : std::uint8_t {
    keep,     // the state and its timers stand still (default: no flapping on gaps)
    ok,       // counts as "condition not met"
    alerting, // counts as "condition met"
};

// The alert lifecycle: inactive -> pending -> firing -> resolved (-> pending ...). `resolved`
// behaves as inactive for evaluation; it tells consumers the alert fired and has ended.
enum class AlertState : std::uint8_t { inactive, pending, firing, resolved };

std::string_view to_string(Scope scope);
std::string_view to_string(Comparator op); // ">", ">=", "<", "<="
std::string_view to_string(MissingPolicy policy);
std::string_view to_string(AlertState state);
std::optional<Scope> parse_scope(std::string_view text);
std::optional<Comparator> parse_comparator(std::string_view text);
std::optional<MissingPolicy> parse_missing_policy(std::string_view text);
std::optional<AlertState> parse_alert_state(std::string_view text);

bool compare(double value, Comparator op, double threshold);

// `output op threshold`, e.g. nongreen_w > 500.
struct Condition {
    std::string output;
    Comparator op = Comparator::gt;
    double threshold = 0.0;
};

struct RuleSpec {
    std::string name; // [a-z0-9_]+, unique; the Alertmanager `alertname`
    Scope scope = Scope::site;
    Condition condition;
    // Hysteresis: a firing alert clears only when the value is back beyond this threshold (on
    // the "good" side: below it for > and >=, above it for < and <=). Unset: the trigger
    // threshold itself.
    std::optional<double> clear_threshold;
    milliseconds for_duration{0};              // the condition must hold this long before firing
    milliseconds clear_for{0};                 // and be cleared this long before resolving
    std::string severity = "warning";          // info | warning | critical
    std::map<std::string, std::string> labels; // extra labels (Alertmanager, MQTT)
    std::string summary;                       // template, see summary_template.hpp
    std::vector<std::string> subjects;         // empty: every subject of the scope
    std::optional<Condition> when;             // guard on the same subject: outside it the
                                               // condition counts as not met
    MissingPolicy missing = MissingPolicy::keep;
    bool builtin = false;
    bool enabled = true;
};

// The racks behind the site's non-green energy over the last minutes (the marginal cause) and
// the clean headroom at the time of the evaluation.
struct RackShare {
    std::string rack;
    double nongreen_wh = 0.0; // burdened view, over the cause window
    double share = 0.0;       // of the site's rack non-green energy in the window, 0..1
};

struct Cause {
    milliseconds window{0};
    std::vector<RackShare> racks; // largest first, at most the configured count
    std::optional<double> headroom_free_w;
    std::optional<double> headroom_total_w;
    std::optional<double> headroom_storage_w;
};

// One (rule, subject) pair as consumers see it.
struct AlertStatus {
    std::string rule;
    std::string subject;
    Scope scope = Scope::site;
    AlertState state = AlertState::inactive;
    std::int64_t since_ms = 0;     // when the current state was entered
    std::int64_t active_at_ms = 0; // when the condition started to hold (pending/firing)
    std::int64_t fired_at_ms = 0;  // when it last started firing (0: never)
    std::int64_t resolved_at_ms = 0;
    std::optional<double> value; // the watched output at the last evaluation
    double threshold = 0.0;
    double clear_threshold = 0.0;
    std::string severity;
    std::map<std::string, std::string> labels; // rule labels plus site/scope/subject identity
    std::string summary;                       // the template filled with live values
    std::optional<Cause> cause;                // site and rack scope, when firing or pending
};

// A transition of one alert. One event per transition.
struct AlertEvent {
    AlertState from = AlertState::inactive;
    AlertState to = AlertState::inactive;
    std::int64_t ts_ms = 0;
    AlertStatus status; // after the transition
};

} // namespace greenrack::alerts
