#include "daemon/config/alerts_loader.hpp"

#include "daemon/config/key_check.hpp"
#include "daemon/core/alerts/alert_engine.hpp"
#include "daemon/core/alerts/builtin_rules.hpp"
#include "drivers/common/config_error.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace greenrack::config {

namespace {

using common::ConfigError;
using common::quote;
using common::SourceLocation;
using common::TableReader;
using std::chrono::hours;

// Keys a built-in rule override takes; a [[alert]] rule takes these and name, scope, output, op.
constexpr std::array<std::string_view, 11> tunable_keys{
    "enabled", "threshold", "clear_threshold", "for",  "clear_for", "severity",
    "labels",  "summary",   "subjects",        "when", "missing"};

std::vector<std::string_view> rule_keys() {
    std::vector<std::string_view> keys{"name", "scope", "output", "op"};
    keys.insert(keys.end(), tunable_keys.begin(), tunable_keys.end());
    return keys;
}

alerts::Comparator read_comparator(const TableReader& reader, std::string_view key) {
    const std::string text = reader.require_string(key);
    if (auto op = alerts::parse_comparator(text)) {
        return *op;
    }
    reader.fail(key, "expected one of \">\", \">=\", \"<\", \"<=\", got " + quote(text));
}

// Reads the keys a built-in override and a custom rule share into `rule`.
void read_tunables(const TableReader& reader, alerts::RuleSpec& rule, const Config& config) {
    rule.enabled = reader.get_bool("enabled", rule.enabled);
    if (reader.has("threshold")) {
        rule.condition.threshold = reader.require_number("threshold");
    }
    if (reader.has("clear_threshold")) {
        rule.clear_threshold = reader.require_number("clear_threshold");
    }
    rule.for_duration = reader.get_duration("for", rule.for_duration, {}, hours(24));
    rule.clear_for = reader.get_duration("clear_for", rule.clear_for, {}, hours(24));
    rule.severity = reader.get_enum("severity", rule.severity, {"info", "warning", "critical"});
    rule.summary = reader.get_string("summary", rule.summary);
    if (reader.has("missing")) {
        const std::string text = reader.get_enum("missing", "keep", {"keep", "ok", "alerting"});
        rule.missing = *alerts::parse_missing_policy(text);
    }
    if (const toml::table* labels = reader.optional_table("labels")) {
        rule.labels.clear();
        for (const auto& [name, value] : *labels) {
            const std::string path = reader.key_path("labels") + "." + std::string(name.str());
            if (!value.is_string()) {
                throw ConfigError(common::location_of(value, reader.file()),
                                  path + ": label values must be strings, got " +
                                      std::string(common::toml_type_name(value)));
            }
            rule.labels[std::string(name.str())] = value.as_string()->get();
        }
    }
    if (const toml::array* subjects = reader.optional_array("subjects")) {
        if (rule.scope == alerts::Scope::site || rule.scope == alerts::Scope::battery) {
            reader.fail("subjects", "only rack and device rules take subjects");
        }
        rule.subjects.clear();
        std::size_t index = 0;
        for (const toml::node& element : *subjects) {
            const std::string path =
                reader.key_path("subjects") + "[" + std::to_string(index++) + "]";
            const SourceLocation where = common::location_of(element, reader.file());
            if (!element.is_string()) {
                throw ConfigError(where, path + ": expected a " +
                                             std::string(to_string(rule.scope)) + " id, got " +
                                             std::string(common::toml_type_name(element)));
            }
            const std::string id = element.as_string()->get();
            const bool known = rule.scope == alerts::Scope::rack
                                   ? (config.find_rack(id) != nullptr || id == "unattributed")
                                   : config.find_device(id) != nullptr;
            if (!known) {
                throw ConfigError(where, path + ": no " + std::string(to_string(rule.scope)) + " " +
                                             quote(id) + " is configured");
            }
            rule.subjects.push_back(id);
        }
        if (rule.subjects.empty()) {
            reader.fail("subjects", "must list at least one subject (omit it for all)");
        }
    }
    if (auto when = reader.optional_sub_table("when")) {
        check_keys(*when, {"output", "op", "threshold"});
        alerts::Condition condition;
        condition.output = when->require_string("output");
        condition.op = read_comparator(*when, "op");
        condition.threshold = when->require_number("threshold");
        when->reject_unknown_keys();
        rule.when = std::move(condition);
    }
}

// Reports a rule problem found by the engine's validation at the field it names.
[[noreturn]] void fail_rule(const TableReader& reader, const alerts::RuleError& error) {
    if (error.key == "summary" && reader.has("summary")) {
        SourceLocation where = reader.location_of_key("summary");
        where.column += 1 + static_cast<int>(error.offset); // past the opening quote
        throw ConfigError(where, reader.key_path("summary") + ": " + error.message);
    }
    if (error.key == "when" && reader.has("when")) {
        if (auto when = reader.optional_sub_table("when")) {
            when->fail("output", error.message);
        }
    }
    const std::string key = reader.has(error.key) ? error.key : std::string();
    if (key.empty()) {
        reader.fail_here(error.key + ": " + error.message);
    }
    reader.fail(key, error.message);
}

void load_alertmanager(const TableReader& section, AlertmanagerConfig& out) {
    check_keys(section, {"enabled", "urls", "resend_interval", "timeout", "retry_min", "retry_max",
                         "generator_url", "max_pending_resolves"});
    out.enabled = section.get_bool("enabled", out.enabled);
    if (const toml::array* urls = section.optional_array("urls")) {
        out.urls.clear();
        std::size_t index = 0;
        for (const toml::node& element : *urls) {
            const std::string path = section.key_path("urls") + "[" + std::to_string(index++) + "]";
            const SourceLocation where = common::location_of(element, section.file());
            if (!element.is_string()) {
                throw ConfigError(where, path + ": expected a URL string, got " +
                                             std::string(common::toml_type_name(element)));
            }
            const std::string url = element.as_string()->get();
            if (common::url_has_userinfo(url)) {
                throw ConfigError(where, path +
                                             ": a user name or password in the URL would end up "
                                             "in logs (basic auth is not supported), got " +
                                             quote(common::redact_url_userinfo(url)));
            }
            const std::string_view scheme = "http://";
            const auto rest = std::string_view(url).substr(std::min(url.size(), scheme.size()));
            const auto colon = rest.find(':');
            if (url.rfind(scheme, 0) != 0 || colon == std::string_view::npos || colon == 0 ||
                url.find_first_of("@?# ") != std::string::npos || colon + 1 >= rest.size() ||
                rest.substr(colon + 1, rest.find('/', colon) - colon - 1)
                        .find_first_not_of("0123456789") != std::string_view::npos) {
                throw ConfigError(where, path + ": expected http://host:port[/prefix], got " +
                                             quote(url) +
                                             (url.rfind("https://", 0) == 0
                                                  ? " (TLS to Alertmanager is not supported yet)"
                                                  : ""));
            }
            out.urls.push_back(url);
        }
        if (out.urls.empty() && out.enabled) {
            section.fail("urls", "must list at least one Alertmanager URL");
        }
    }
    using std::chrono::milliseconds;
    out.resend_interval = section.get_duration("resend_interval", out.resend_interval,
                                               milliseconds(100), std::chrono::minutes(4));
    out.timeout = section.get_duration("timeout", out.timeout, milliseconds(100), hours(1));
    out.retry_min = section.get_duration("retry_min", out.retry_min, milliseconds(10), hours(1));
    out.retry_max = section.get_duration("retry_max", out.retry_max, milliseconds(10), hours(1));
    if (out.retry_max < out.retry_min) {
        section.fail("retry_max", "must not be shorter than retry_min");
    }
    out.generator_url = section.get_string("generator_url", out.generator_url);
    out.max_pending_resolves = static_cast<std::size_t>(
        section.get_int("max_pending_resolves", static_cast<std::int64_t>(out.max_pending_resolves),
                        1, 10'000'000));
    section.reject_unknown_keys();
}

} // namespace

void load_alerts(const TableReader& section, const std::vector<TableReader>& rules,
                 const TableReader& alertmanager, Config& config) {
    check_keys(section, {"enabled", "cause_window", "cause_racks", "device_interval", "builtin"});
    AlertsConfig& out = config.alerts;
    out.enabled = section.get_bool("enabled", out.enabled);
    out.cause_window =
        section.get_duration("cause_window", out.cause_window, std::chrono::minutes(1), hours(24));
    out.cause_racks = static_cast<std::size_t>(
        section.get_int("cause_racks", static_cast<std::int64_t>(out.cause_racks), 1, 100));
    out.device_interval = section.get_duration("device_interval", out.device_interval,
                                               std::chrono::seconds(1), std::chrono::minutes(10));

    out.rules = alerts::builtin_rules();
    std::set<std::string, std::less<>> builtin_names;
    for (const auto& rule : out.rules) {
        builtin_names.insert(rule.name);
    }
    if (auto builtin = section.optional_sub_table("builtin")) {
        std::string names;
        for (const auto& rule : out.rules) {
            names += names.empty() ? "" : ", ";
            names += rule.name;
        }
        for (const auto& [key, value] : builtin->table()) {
            const std::string name(key.str());
            auto rule = std::find_if(out.rules.begin(), out.rules.end(),
                                     [&](const alerts::RuleSpec& r) { return r.name == name; });
            if (rule == out.rules.end()) {
                builtin->fail(name, "no built-in rule " + quote(name) + " (built-in rules: " +
                                        names + "; define new rules with [[alert]])");
            }
            const TableReader tuning = builtin->sub_table(name);
            check_keys(tuning, tunable_keys);
            read_tunables(tuning, *rule, config);
            if (auto error = alerts::validate_rule(*rule)) {
                fail_rule(tuning, *error);
            }
            tuning.reject_unknown_keys();
        }
        builtin->reject_unknown_keys();
    }

    std::map<std::string, std::string, std::less<>> custom_lines;
    for (const TableReader& reader : rules) {
        check_keys(reader, rule_keys());
        alerts::RuleSpec rule;
        rule.name = reader.require_string("name");
        if (builtin_names.contains(rule.name)) {
            reader.fail("name", "rule " + quote(rule.name) +
                                    " is built in: tune it with [alerts.builtin." + rule.name +
                                    "] instead");
        }
        const auto location = reader.location_of_key("name");
        const auto [seen, inserted] =
            custom_lines.emplace(rule.name, std::to_string(location.line));
        if (!inserted) {
            reader.fail("name", "duplicate rule name " + quote(rule.name) +
                                    " (first defined at line " + seen->second + ")");
        }
        const std::string scope = reader.require_string("scope");
        if (auto parsed = alerts::parse_scope(scope)) {
            rule.scope = *parsed;
        } else {
            reader.fail("scope",
                        "expected one of \"site\", \"rack\", \"battery\", \"device\", got " +
                            quote(scope));
        }
        rule.condition.output = reader.require_string("output");
        rule.condition.op = read_comparator(reader, "op");
        rule.condition.threshold = reader.require_number("threshold");
        read_tunables(reader, rule, config);
        if (auto error = alerts::validate_rule(rule)) {
            fail_rule(reader, *error);
        }
        reader.reject_unknown_keys();
        out.rules.push_back(std::move(rule));
    }
    load_alertmanager(alertmanager, config.alertmanager);
}

} // namespace greenrack::config
