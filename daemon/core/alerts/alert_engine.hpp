#pragma once

#include "daemon/core/alerts/alert_types.hpp"
#include "daemon/core/alerts/observations.hpp"
#include "daemon/core/alerts/summary_template.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace greenrack::alerts {

// What is wrong with a rule: `key` names the rule field at fault (for file:line:column),
// `offset` is the byte offset inside a summary template.
struct RuleError {
    std::string key;
    std::string message;
    std::size_t offset = 0;
};

// Checks a rule on its own: name syntax, the outputs exist in its scope, the clear threshold
// lies on the clearing side of the threshold, durations are not negative, the severity is
// info|warning|critical, label names are valid Alertmanager label names and do not shadow the
// identity labels, and the summary template parses with the scope's names.
std::optional<RuleError> validate_rule(const RuleSpec& rule);

// Names a summary may use besides the scope's outputs.
bool is_template_name(Scope scope, std::string_view name);

// The alert engine: pure (no I/O, no clock) and deterministic. Each evaluate() steps every
// (rule, subject) pair through inactive -> pending -> firing -> resolved:
// * inactive/resolved -> pending when the condition holds (-> firing at once when for = 0);
// * pending -> inactive as soon as the condition fails (no hysteresis before firing, like
//   Prometheus), pending -> firing once it has held for `for`;
// * firing -> resolved once the value has been beyond the clear threshold for `clear_for`; a
//   value between the two thresholds keeps it firing (hysteresis), and a relapse restarts the
//   clear timer.
// A missing value follows the rule's MissingPolicy; a `when` guard that does not hold counts as
// the condition not being met (and cleared). Every transition yields exactly one AlertEvent.
class AlertEngine {
public:
    // Throws std::invalid_argument for an invalid rule or a duplicate name (the config loader
    // reports them with positions first). Disabled rules are kept but never evaluated.
    AlertEngine(std::string site_id, std::vector<RuleSpec> rules);

    std::vector<AlertEvent> evaluate(const Observations& observations);

    // Every (rule, subject) pair seen so far, ordered by rule then subject.
    std::vector<AlertStatus> statuses() const;
    // Only the pending and firing ones.
    std::vector<AlertStatus> active() const;

    const std::vector<RuleSpec>& rules() const { return rules_; }
    const std::string& site_id() const { return site_id_; }

    // Persistence (the caller does the file I/O). restore_state() brings back every alert of a
    // rule that still exists and whose subject still exists (`subject_exists`), without an
    // event: a firing alert stays firing with its original fired_at. A firing alert whose rule
    // or subject is gone is returned as a `resolved` event stamped now_ms, so consumers learn it
    // ended. Throws std::invalid_argument on a malformed state (the engine is unchanged then).
    nlohmann::json save_state() const;
    std::vector<AlertEvent>
    restore_state(const nlohmann::json& state, std::int64_t now_ms,
                  const std::function<bool(Scope, std::string_view)>& subject_exists);

private:
    struct Instance {
        AlertStatus status;
        std::optional<std::int64_t> clearing_since_ms;
    };
    struct CompiledRule {
        RuleSpec spec;
        SummaryTemplate summary;
    };

    void step(const CompiledRule& rule, const SubjectValues& subject,
              const Observations& observations, std::vector<AlertEvent>& events);
    void fill_status(const CompiledRule& rule, const SubjectValues& subject,
                     const Observations& observations, AlertStatus& status) const;
    AlertStatus fresh_status(const CompiledRule& rule, const std::string& subject) const;

    std::string site_id_;
    std::vector<RuleSpec> rules_;
    std::vector<CompiledRule> compiled_;
    std::map<std::pair<std::string, std::string>, Instance> instances_; // (rule, subject)
};

} // namespace greenrack::alerts
