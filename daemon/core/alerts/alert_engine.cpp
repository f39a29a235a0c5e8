#include "daemon/core/alerts/alert_engine.hpp"

#include "daemon/core/alerts/cause_tracker.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <stdexcept>

namespace greenrack::alerts {

namespace {

constexpr int state_version = 1;

constexpr std::array<std::string_view, 8> fixed_template_names{
    "subject", "rule", "site", "severity", "value", "threshold", "clear_threshold", "cause"};
constexpr std::array<std::string_view, 7> identity_labels{"alertname", "severity", "site",  "scope",
                                                          "subject",   "rack",     "device"};

bool valid_rule_name(std::string_view name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool valid_label_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9') || name.substr(0, 2) == "__") {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

// The threshold at which a firing alert counts as cleared.
double clear_threshold_of(const RuleSpec& rule) {
    return rule.clear_threshold.value_or(rule.condition.threshold);
}

std::optional<double> lookup(const Values& values, std::string_view name) {
    if (auto it = values.find(name); it != values.end()) {
        return it->second;
    }
    return std::nullopt;
}

SummaryTemplate compile_summary(const RuleSpec& rule) {
    auto parsed = SummaryTemplate::parse(
        rule.summary, [&](std::string_view name) { return is_template_name(rule.scope, name); });
    if (auto* error = std::get_if<SummaryTemplate::Error>(&parsed)) {
        throw std::invalid_argument("rule " + rule.name + ": summary: " + error->message);
    }
    return std::get<SummaryTemplate>(std::move(parsed));
}

nlohmann::json optional_ms(std::int64_t ms) {
    return ms > 0 ? nlohmann::json(ms) : nlohmann::json(nullptr);
}

std::int64_t read_ms(const nlohmann::json& entry, const char* key) {
    auto it = entry.find(key);
    if (it == entry.end() || it->is_null()) {
        return 0;
    }
    if (!it->is_number_integer()) {
        throw std::invalid_argument(std::string("alert state: ") + key + " is not an integer");
    }
    return it->get<std::int64_t>();
}

} // namespace

bool is_template_name(Scope scope, std::string_view name) {
    return std::find(fixed_template_names.begin(), fixed_template_names.end(), name) !=
               fixed_template_names.end() ||
           is_output_of(scope, name);
}

std::optional<RuleError> validate_rule(const RuleSpec& rule) {
    if (!valid_rule_name(rule.name)) {
        return RuleError{"name",
                         "rule name '" + rule.name + "' must be 1-64 characters of a-z, 0-9 and _"};
    }
    auto check_output = [&](const Condition& condition,
                            const char* key) -> std::optional<RuleError> {
        if (!is_output_of(rule.scope, condition.output)) {
            std::string known;
            for (const auto& info : outputs_of(rule.scope)) {
                known += known.empty() ? "" : ", ";
                known += info.name;
            }
            return RuleError{key, "'" + condition.output + "' is not an output of scope " +
                                      std::string(to_string(rule.scope)) + " (known: " + known +
                                      ")"};
        }
        if (!std::isfinite(condition.threshold)) {
            return RuleError{"threshold", "threshold must be a finite number"};
        }
        return std::nullopt;
    };
    if (auto error = check_output(rule.condition, "output")) {
        return error;
    }
    if (rule.when) {
        if (auto error = check_output(*rule.when, "when")) {
            return error;
        }
    }
    if (rule.clear_threshold) {
        const double clear = *rule.clear_threshold;
        const double threshold = rule.condition.threshold;
        const bool upward =
            rule.condition.op == Comparator::gt || rule.condition.op == Comparator::ge;
        if (!std::isfinite(clear)) {
            return RuleError{"clear_threshold", "clear_threshold must be a finite number"};
        }
        if (upward && clear > threshold) {
            return RuleError{"clear_threshold", "clear_threshold " + format_number(clear) +
                                                    " must not be above threshold " +
                                                    format_number(threshold) + " for a '" +
                                                    std::string(to_string(rule.condition.op)) +
                                                    "' rule (it is where the alert clears)"};
        }
        if (!upward && clear < threshold) {
            return RuleError{"clear_threshold", "clear_threshold " + format_number(clear) +
                                                    " must not be below threshold " +
                                                    format_number(threshold) + " for a '" +
                                                    std::string(to_string(rule.condition.op)) +
                                                    "' rule (it is where the alert clears)"};
        }
    }
    if (rule.for_duration.count() < 0) {
        return RuleError{"for", "'for' must not be negative"};
    }
    if (rule.clear_for.count() < 0) {
        return RuleError{"clear_for", "clear_for must not be negative"};
    }
    if (rule.severity != "info" && rule.severity != "warning" && rule.severity != "critical") {
        return RuleError{"severity",
                         "severity '" + rule.severity + "' must be info, warning or critical"};
    }
    for (const auto& [name, value] : rule.labels) {
        if (!valid_label_name(name)) {
            return RuleError{"labels", "label name '" + name +
                                           "' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, "
                                           "not starting with __)"};
        }
        if (std::find(identity_labels.begin(), identity_labels.end(), name) !=
            identity_labels.end()) {
            return RuleError{"labels", "label '" + name +
                                           "' is set by greenrack and cannot be "
                                           "overridden"};
        }
    }
    auto parsed = SummaryTemplate::parse(
        rule.summary, [&](std::string_view name) { return is_template_name(rule.scope, name); });
    if (auto* error = std::get_if<SummaryTemplate::Error>(&parsed)) {
        return RuleError{"summary", error->message, error->offset};
    }
    return std::nullopt;
}

AlertEngine::AlertEngine(std::string site_id, std::vector<RuleSpec> rules)
    : site_id_(std::move(site_id)), rules_(std::move(rules)) {
    std::set<std::string, std::less<>> names;
    for (const auto& rule : rules_) {
        if (auto error = validate_rule(rule)) {
            throw std::invalid_argument("rule " + rule.name + ": " + error->key + ": " +
                                        error->message);
        }
        if (!names.insert(rule.name).second) {
            throw std::invalid_argument("duplicate rule name " + rule.name);
        }
        compiled_.push_back(CompiledRule{rule, compile_summary(rule)});
    }
}

AlertStatus AlertEngine::fresh_status(const CompiledRule& rule, const std::string& subject) const {
    AlertStatus status;
    status.rule = rule.spec.name;
    status.subject = subject;
    status.scope = rule.spec.scope;
    status.threshold = rule.spec.condition.threshold;
    status.clear_threshold = clear_threshold_of(rule.spec);
    status.severity = rule.spec.severity;
    status.labels = rule.spec.labels;
    status.labels["site"] = site_id_;
    if (rule.spec.scope == Scope::rack) {
        status.labels["rack"] = subject;
    } else if (rule.spec.scope == Scope::device) {
        status.labels["device"] = subject;
    }
    return status;
}

void AlertEngine::fill_status(const CompiledRule& rule, const SubjectValues& subject,
                              const Observations& observations, AlertStatus& status) const {
    const bool with_cause =
        (rule.spec.scope == Scope::site || rule.spec.scope == Scope::rack) &&
        (status.state == AlertState::pending || status.state == AlertState::firing);
    if (with_cause && observations.cause) {
        status.cause = observations.cause;
    } else if (!with_cause) {
        status.cause.reset();
    }
    const auto& spec = rule.spec;
    status.summary = rule.summary.render(
        [&](std::string_view name) -> std::variant<std::monostate, double, std::string> {
            if (name == "subject") {
                return subject.id;
            }
            if (name == "rule") {
                return spec.name;
            }
            if (name == "site") {
                return site_id_;
            }
            if (name == "severity") {
                return spec.severity;
            }
            if (name == "value") {
                if (status.value) {
                    return *status.value;
                }
                return std::monostate{};
            }
            if (name == "threshold") {
                return spec.condition.threshold;
            }
            if (name == "clear_threshold") {
                return clear_threshold_of(spec);
            }
            if (name == "cause") {
                return status.cause ? describe(status.cause->racks) : std::string("n/a");
            }
            if (auto value = lookup(subject.values, name)) {
                return *value;
            }
            return std::monostate{};
        });
}

void AlertEngine::step(const CompiledRule& rule, const SubjectValues& subject,
                       const Observations& observations, std::vector<AlertEvent>& events) {
    const auto& spec = rule.spec;
    const std::int64_t now = observations.now_ms;
    auto [it, created] = instances_.try_emplace({spec.name, subject.id});
    Instance& instance = it->second;
    if (created) {
        instance.status = fresh_status(rule, subject.id);
        instance.status.since_ms = now;
    }
    AlertStatus& status = instance.status;

    const std::optional<double> value = lookup(subject.values, spec.condition.output);
    status.value = value;
    bool known = true;
    bool breach = false;
    bool cleared = true;
    std::optional<double> guard;
    if (spec.when) {
        guard = lookup(subject.values, spec.when->output);
    }
    if (spec.when && guard && !compare(*guard, spec.when->op, spec.when->threshold)) {
        breach = false;
        cleared = true;
    } else if (!value || (spec.when && !guard)) {
        switch (spec.missing) {
        case MissingPolicy::keep:
            known = false;
            break;
        case MissingPolicy::ok:
            breach = false;
            cleared = true;
            break;
        case MissingPolicy::alerting:
            breach = true;
            cleared = false;
            break;
        }
    } else {
        breach = compare(*value, spec.condition.op, spec.condition.threshold);
        cleared = !compare(*value, spec.condition.op, clear_threshold_of(spec));
    }

    auto transition = [&](AlertState to) {
        const AlertState from = status.state;
        status.state = to;
        status.since_ms = now;
        fill_status(rule, subject, observations, status);
        events.push_back(AlertEvent{from, to, now, status});
    };

    if (known) {
        switch (status.state) {
        case AlertState::inactive:
        case AlertState::resolved:
            if (breach) {
                status.active_at_ms = now;
                instance.clearing_since_ms.reset();
                if (spec.for_duration.count() <= 0) {
                    status.fired_at_ms = now;
                    transition(AlertState::firing);
                } else {
                    transition(AlertState::pending);
                }
                return;
            }
            break;
        case AlertState::pending:
            if (!breach) {
                transition(AlertState::inactive);
                return;
            }
            if (now - status.active_at_ms >= spec.for_duration.count()) {
                status.fired_at_ms = now;
                transition(AlertState::firing);
                return;
            }
            break;
        case AlertState::firing:
            if (!cleared) {
                instance.clearing_since_ms.reset();
                break;
            }
            if (!instance.clearing_since_ms) {
                instance.clearing_since_ms = now;
            }
            if (now - *instance.clearing_since_ms >= spec.clear_for.count()) {
                instance.clearing_since_ms.reset();
                status.resolved_at_ms = now;
                transition(AlertState::resolved);
                return;
            }
            break;
        }
    }
    fill_status(rule, subject, observations, status);
}

std::vector<AlertEvent> AlertEngine::evaluate(const Observations& observations) {
    std::vector<AlertEvent> events;
    for (const auto& rule : compiled_) {
        if (!rule.spec.enabled) {
            continue;
        }
        const std::optional<std::vector<SubjectValues>>* scope = nullptr;
        switch (rule.spec.scope) {
        case Scope::site:
            scope = &observations.site;
            break;
        case Scope::rack:
            scope = &observations.racks;
            break;
        case Scope::battery:
            scope = &observations.battery;
            break;
        case Scope::device:
            scope = &observations.devices;
            break;
        }
        if (scope == nullptr || !scope->has_value()) {
            continue;
        }
        auto wanted = [&](const std::string& id) {
            return rule.spec.subjects.empty() ||
                   std::find(rule.spec.subjects.begin(), rule.spec.subjects.end(), id) !=
                       rule.spec.subjects.end();
        };
        std::set<std::string, std::less<>> seen;
        for (const auto& subject : **scope) {
            if (wanted(subject.id)) {
                seen.insert(subject.id);
                step(rule, subject, observations, events);
            }
        }
        // Subjects known from earlier evaluations but absent now have no values.
        std::vector<std::string> absent;
        for (const auto& [key, instance] : instances_) {
            if (key.first == rule.spec.name && !seen.contains(key.second)) {
                absent.push_back(key.second);
            }
        }
        for (const auto& id : absent) {
            step(rule, SubjectValues{id, {}}, observations, events);
        }
    }
    return events;
}

std::vector<AlertStatus> AlertEngine::statuses() const {
    std::vector<AlertStatus> out;
    out.reserve(instances_.size());
    for (const auto& [key, instance] : instances_) {
        out.push_back(instance.status);
    }
    return out;
}

std::vector<AlertStatus> AlertEngine::active() const {
    std::vector<AlertStatus> out;
    for (const auto& [key, instance] : instances_) {
        if (instance.status.state == AlertState::pending ||
            instance.status.state == AlertState::firing) {
            out.push_back(instance.status);
        }
    }
    return out;
}

nlohmann::json AlertEngine::save_state() const {
    nlohmann::json alerts = nlohmann::json::array();
    for (const auto& [key, instance] : instances_) {
        const auto& s = instance.status;
        nlohmann::json entry = {
            {"rule", s.rule},
            {"subject", s.subject},
            {"scope", to_string(s.scope)},
            {"state", to_string(s.state)},
            {"since_ms", s.since_ms},
            {"active_at_ms", optional_ms(s.active_at_ms)},
            {"fired_at_ms", optional_ms(s.fired_at_ms)},
            {"resolved_at_ms", optional_ms(s.resolved_at_ms)},
            {"clearing_since_ms", instance.clearing_since_ms
                                      ? nlohmann::json(*instance.clearing_since_ms)
                                      : nlohmann::json(nullptr)},
            {"value", s.value ? nlohmann::json(*s.value) : nlohmann::json(nullptr)},
            {"severity", s.severity},
            {"summary", s.summary},
            {"labels", s.labels},
        };
        alerts.push_back(std::move(entry));
    }
    return nlohmann::json{{"version", state_version}, {"alerts", std::move(alerts)}};
}

std::vector<AlertEvent>
AlertEngine::restore_state(const nlohmann::json& state, std::int64_t now_ms,
                           const std::function<bool(Scope, std::string_view)>& subject_exists) {
    if (!state.is_object() || state.value("version", 0) != state_version) {
        throw std::invalid_argument("alert state: unsupported version");
    }
    const auto& alerts = state.at("alerts");
    if (!alerts.is_array()) {
        throw std::invalid_argument("alert state: alerts is not an array");
    }
    std::map<std::pair<std::string, std::string>, Instance> restored;
    std::vector<AlertEvent> ended;
    for (const auto& entry : alerts) {
        if (!entry.is_object()) {
            throw std::invalid_argument("alert state: an entry is not an object");
        }
        const auto rule_name = entry.at("rule").get<std::string>();
        const auto subject = entry.at("subject").get<std::string>();
        const auto scope = parse_scope(entry.at("scope").get<std::string>());
        const auto alert_state = parse_alert_state(entry.at("state").get<std::string>());
        if (!scope || !alert_state) {
            throw std::invalid_argument("alert state: bad scope or state for " + rule_name);
        }
        const auto* rule = [&]() -> const CompiledRule* {
            for (const auto& compiled : compiled_) {
                if (compiled.spec.name == rule_name && compiled.spec.enabled &&
                    compiled.spec.scope == *scope) {
                    return &compiled;
                }
            }
            return nullptr;
        }();
        Instance instance;
        instance.status = rule != nullptr ? fresh_status(*rule, subject) : AlertStatus{};
        auto& s = instance.status;
        s.rule = rule_name;
        s.subject = subject;
        s.scope = *scope;
        s.state = *alert_state;
        s.since_ms = read_ms(entry, "since_ms");
        s.active_at_ms = read_ms(entry, "active_at_ms");
        s.fired_at_ms = read_ms(entry, "fired_at_ms");
        s.resolved_at_ms = read_ms(entry, "resolved_at_ms");
        if (auto clearing = read_ms(entry, "clearing_since_ms"); clearing > 0) {
            instance.clearing_since_ms = clearing;
        }
        if (auto it = entry.find("value"); it != entry.end() && it->is_number()) {
            s.value = it->get<double>();
        }
        s.summary = entry.value("summary", std::string());
        const bool exists = rule != nullptr && subject_exists(*scope, subject) &&
                            (rule->spec.subjects.empty() ||
                             std::find(rule->spec.subjects.begin(), rule->spec.subjects.end(),
                                       subject) != rule->spec.subjects.end());
        if (exists) {
            restored[{rule_name, subject}] = std::move(instance);
            continue;
        }
        if (s.state == AlertState::firing) {
            // The resolve must carry the label set and severity the alert fired with, or
            // Alertmanager would not match it.
            s.severity = entry.value("severity", s.severity.empty() ? "warning" : s.severity);
            if (auto labels = entry.find("labels"); labels != entry.end()) {
                s.labels = labels->get<std::map<std::string, std::string>>();
            }
            if (rule == nullptr) {
                s.labels["site"] = site_id_;
                if (s.scope == Scope::rack) {
                    s.labels["rack"] = subject;
                } else if (s.scope == Scope::device) {
                    s.labels["device"] = subject;
                }
            }
            AlertEvent event{AlertState::firing, AlertState::resolved, now_ms, s};
            event.status.state = AlertState::resolved;
            event.status.since_ms = now_ms;
            event.status.resolved_at_ms = now_ms;
            ended.push_back(std::move(event));
        }
    }
    instances_ = std::move(restored);
    return ended;
}

} // namespace greenrack::alerts
