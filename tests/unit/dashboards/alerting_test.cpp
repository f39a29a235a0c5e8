// The Grafana alert rules (dashboards/provisioning/alerting/greenrack-alerts.json) for sites that
// alert from Grafana instead of greenrackd, checked without a Grafana: the file has the shape of
// Grafana's alert-rule file provisioning, every query uses only data sources of
// dashboards/provisioning/datasources/greenrack.yaml and names listed in dashboards/METRICS.md,
// and every built-in rule of greenrackd (alerts::builtin_rules()) has exactly one Grafana rule
// with the same threshold, direction, recovery threshold, pending period and severity.

#include "daemon/core/alerts/builtin_rules.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using nlohmann::json;
namespace alerts = greenrack::alerts;
using std::chrono::milliseconds;

namespace {

const std::filesystem::path source_dir = GREENRACK_SOURCE_DIR;
const std::filesystem::path rules_file =
    source_dir / "dashboards/provisioning/alerting/greenrack-alerts.json";

// Grafana evaluates rule groups on multiples of its scheduler's base interval (10 s unless
// [unified_alerting] base_interval says otherwise); other intervals are rejected.
constexpr milliseconds grafana_base_interval{10'000};

// Grafana rejects longer rule uids (util.MaxUIDLength); letters, digits, - and _ only.
constexpr std::size_t max_uid_length = 40;

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        FAIL("cannot read " << path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) {
        out += line + "\n";
    }
    return out;
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) {
        return "";
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

bool mentions(const std::vector<std::string>& problems, const std::string& part) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(part) != std::string::npos; });
}

std::string number_text(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// The names after every `prefix` in a text: "$labels." in "{{ $labels.rack }}" -> {"rack"}.
std::vector<std::string> names_after(const std::string& text, const std::string& prefix) {
    std::vector<std::string> names;
    for (auto pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos)) {
        pos += prefix.size();
        auto end = pos;
        while (end < text.size() && word_char(text[end])) {
            ++end;
        }
        names.push_back(text.substr(pos, end - pos));
    }
    return names;
}

// A whole decimal number ("-0.5", "1e3"); nullopt for anything else.
std::optional<double> parse_number(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789.eE+-") != std::string::npos) {
        return std::nullopt;
    }
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        return used == text.size() ? std::optional(value) : std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// The relational operator at `pos` (longest first), or "".
std::string operator_at(const std::string& text, std::size_t pos,
                        const std::vector<std::string>& operators) {
    for (const auto& op : operators) {
        if (text.compare(pos, op.size(), op) == 0) {
            return op;
        }
    }
    return "";
}

// "1m30s", "5m", "30s", "500ms" (Prometheus duration syntax, as Grafana parses `for`).
std::optional<milliseconds> parse_duration(const std::string& text) {
    static const std::vector<std::pair<std::string, std::int64_t>> units = {
        {"ms", 1},         {"s", 1'000},       {"m", 60'000},        {"h", 3'600'000},
        {"d", 86'400'000}, {"w", 604'800'000}, {"y", 31'536'000'000}};
    if (text.empty()) {
        return std::nullopt;
    }
    std::int64_t total = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t digits = pos;
        while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
            ++digits;
        }
        if (digits == pos) {
            return std::nullopt;
        }
        const std::int64_t count = std::stoll(text.substr(pos, digits - pos));
        bool matched = false;
        for (const auto& [unit, ms] : units) {
            if (text.compare(digits, unit.size(), unit) == 0) {
                total += count * ms;
                pos = digits + unit.size();
                matched = true;
                break;
            }
        }
        if (!matched) {
            return std::nullopt;
        }
    }
    return milliseconds{total};
}

// ------------------------------------------------------------------------------------------------
// dashboards/METRICS.md, Prometheus section (the table parsing of dashboards_test.cpp, keeping
// the fixed label values given in parentheses)

std::vector<std::string> table_cells(const std::string& line) {
    const auto row = trim(line);
    if (row.size() < 2 || row.front() != '|' || row.back() != '|') {
        return {};
    }
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 1; i + 1 < row.size(); ++i) {
        if (row[i] == '|' && row[i - 1] != '\\') {
            cells.push_back(trim(cell));
            cell.clear();
        } else {
            cell += row[i];
        }
    }
    cells.push_back(trim(cell));
    return cells;
}

std::string single_name(const std::string& cell) {
    if (cell.size() < 3 || cell.front() != '`' || cell.back() != '`' ||
        cell.find('`', 1) != cell.size() - 1) {
        return "";
    }
    return cell.substr(1, cell.size() - 2);
}

struct PromMetric {
    // label -> its fixed values (empty: any value)
    std::map<std::string, std::set<std::string>> labels;
};

using PromCatalog = std::map<std::string, PromMetric>;

// "`site`, `flow` (load, it, renewable)" -> {site: {}, flow: {load, it, renewable}}
std::map<std::string, std::set<std::string>> parse_labels(const std::string& cell) {
    std::map<std::string, std::set<std::string>> labels;
    std::size_t pos = 0;
    while (true) {
        const auto open = cell.find('`', pos);
        if (open == std::string::npos) {
            break;
        }
        const auto close = cell.find('`', open + 1);
        if (close == std::string::npos) {
            break;
        }
        auto& values = labels[cell.substr(open + 1, close - open - 1)];
        pos = close + 1;
        const auto next = cell.find_first_not_of(' ', pos);
        if (next != std::string::npos && cell[next] == '(') {
            const auto end = cell.find(')', next);
            std::istringstream list(cell.substr(next + 1, end - next - 1));
            std::string value;
            while (std::getline(list, value, ',')) {
                values.insert(trim(value));
            }
            pos = end == std::string::npos ? cell.size() : end + 1;
        }
    }
    return labels;
}

PromCatalog parse_prometheus_catalog(const std::string& text) {
    PromCatalog catalog;
    std::istringstream in(text);
    std::string line;
    std::string section;
    while (std::getline(in, line)) {
        if (starts_with(line, "## ")) {
            section = trim(line.substr(3));
            continue;
        }
        const auto cells = table_cells(line);
        if (section != "Prometheus" || cells.size() != 5 || cells[0] == "metric" ||
            starts_with(cells[0], "---")) {
            continue;
        }
        const auto name = single_name(cells[0]);
        if (!name.empty()) {
            catalog[name] = PromMetric{parse_labels(cells[3])};
        }
    }
    return catalog;
}

// ------------------------------------------------------------------------------------------------
// dashboards/provisioning/datasources/greenrack.yaml: the provisioned data source uids

std::set<std::string> provisioned_uids(const std::string& yaml) {
    std::set<std::string> uids;
    std::istringstream in(yaml);
    std::string line;
    while (std::getline(in, line)) {
        if (const auto hash = line.find('#'); hash != std::string::npos) {
            line = line.substr(0, hash);
        }
        auto item = trim(line);
        if (starts_with(item, "- ")) {
            item = trim(item.substr(2));
        }
        if (starts_with(item, "uid:")) {
            uids.insert(trim(item.substr(4)));
        }
    }
    return uids;
}

// ------------------------------------------------------------------------------------------------
// PromQL: the metric selectors and grouping modifiers of a query

struct Matcher {
    std::string label;
    std::string op; // = != =~ !~
    std::string value;
};

struct Selector {
    std::string metric;
    std::vector<Matcher> matchers;
};

struct QueryNames {
    std::vector<Selector> selectors;        // every greenrack_* name and its {...} matchers
    std::vector<std::string> other_names;   // label names of on(), ignoring(), by(), without()
    std::vector<std::string> syntax_errors; // selectors the scan could not read
};

// `label op "value"`, op one of = != =~ !~.
std::optional<Matcher> parse_matcher(const std::string& text) {
    const auto item = trim(text);
    std::size_t end = 0;
    while (end < item.size() && word_char(item[end])) {
        ++end;
    }
    const auto label = item.substr(0, end);
    const auto op_pos = item.find_first_not_of(' ', end);
    if (label.empty() || std::isdigit(static_cast<unsigned char>(label[0])) ||
        op_pos == std::string::npos) {
        return std::nullopt;
    }
    const auto op = operator_at(item, op_pos, {"=~", "!~", "!=", "="});
    const auto quote = item.find_first_not_of(' ', op_pos + op.size());
    if (op.empty() || quote == std::string::npos || item[quote] != '"' || item.back() != '"' ||
        quote + 1 > item.size() - 1 || item.find('"', quote + 1) != item.size() - 1) {
        return std::nullopt;
    }
    return Matcher{label, op, item.substr(quote + 1, item.size() - quote - 2)};
}

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

QueryNames scan_query(const std::string& expr) {
    QueryNames out;
    std::size_t pos = 0;
    while (pos < expr.size()) {
        if (expr[pos] == '"') { // skip string literals (label values)
            const auto close = expr.find('"', pos + 1);
            pos = close == std::string::npos ? expr.size() : close + 1;
            continue;
        }
        if (!name_char(expr[pos]) || (pos > 0 && name_char(expr[pos - 1]))) {
            ++pos;
            continue;
        }
        std::size_t end = pos;
        while (end < expr.size() && name_char(expr[end])) {
            ++end;
        }
        const std::string word = expr.substr(pos, end - pos);
        pos = end;
        auto next = expr.find_first_not_of(' ', pos);
        if (starts_with(word, "greenrack_")) {
            Selector selector{word, {}};
            if (next != std::string::npos && expr[next] == '{') {
                const auto close = expr.find('}', next);
                if (close == std::string::npos) {
                    out.syntax_errors.push_back("unclosed { after " + word);
                    break;
                }
                std::istringstream list(expr.substr(next + 1, close - next - 1));
                std::string item;
                while (std::getline(list, item, ',')) {
                    if (auto m = parse_matcher(item)) {
                        selector.matchers.push_back(*m);
                    } else if (!trim(item).empty()) {
                        out.syntax_errors.push_back("cannot read matcher '" + item + "' of " +
                                                    word);
                    }
                }
                pos = close + 1;
            }
            out.selectors.push_back(selector);
            continue;
        }
        static const std::set<std::string> modifiers = {"on",      "ignoring",   "by",
                                                        "without", "group_left", "group_right"};
        if (modifiers.count(word) != 0 && next != std::string::npos && expr[next] == '(') {
            const auto close = expr.find(')', next);
            std::istringstream list(expr.substr(next + 1, close - next - 1));
            std::string label;
            while (std::getline(list, label, ',')) {
                if (!trim(label).empty()) {
                    out.other_names.push_back(trim(label));
                }
            }
            pos = close == std::string::npos ? expr.size() : close + 1;
        }
    }
    return out;
}

// ------------------------------------------------------------------------------------------------
// The checks

struct Context {
    PromCatalog catalog;
    std::set<std::string> datasource_uids; // provisioned
    std::vector<alerts::RuleSpec> builtin;
};

const Context& context() {
    static const Context c{
        parse_prometheus_catalog(read_text(source_dir / "dashboards/METRICS.md")),
        provisioned_uids(
            read_text(source_dir / "dashboards/provisioning/datasources/greenrack.yaml")),
        alerts::builtin_rules()};
    return c;
}

json load_rules() {
    return json::parse(read_text(rules_file));
}

std::string string_at(const json& object, const std::string& key) {
    if (!object.is_object() || !object.contains(key) || !object[key].is_string()) {
        return "";
    }
    return object[key].get<std::string>();
}

std::string rule_name(const json& rule) {
    return rule.contains("labels") ? string_at(rule["labels"], "greenrack_rule") : "";
}

std::string uid_for(std::string name) {
    std::replace(name.begin(), name.end(), '_', '-');
    return "greenrack-" + name;
}

const json* data_node(const json& rule, const std::string& ref) {
    if (!rule.contains("data") || !rule["data"].is_array()) {
        return nullptr;
    }
    for (const auto& d : rule["data"]) {
        if (string_at(d, "refId") == ref) {
            return &d;
        }
    }
    return nullptr;
}

// Evaluator types of a threshold expression.
std::optional<alerts::Comparator> evaluator_comparator(const std::string& type) {
    static const std::map<std::string, alerts::Comparator> types = {
        {"gt", alerts::Comparator::gt},
        {"gte", alerts::Comparator::ge},
        {"lt", alerts::Comparator::lt},
        {"lte", alerts::Comparator::le}};
    const auto it = types.find(type);
    return it == types.end() ? std::nullopt : std::optional(it->second);
}

// Relational operators of a math expression.
alerts::Comparator math_comparator(const std::string& op) {
    return *alerts::parse_comparator(op);
}

bool upward(alerts::Comparator op) {
    return op == alerts::Comparator::gt || op == alerts::Comparator::ge;
}

// What the condition node of a rule compares: `input op threshold`, and the recovery threshold.
struct Comparison {
    std::string input; // refId compared
    alerts::Comparator op = alerts::Comparator::gt;
    double threshold = 0.0;
    std::optional<alerts::Comparator> recovery_op;
    std::optional<double> recovery;
};

// A threshold expression (one condition, optional unloadEvaluator) or a math expression
// "$B >= 1"; problems go to `problems`.
std::optional<Comparison> comparison_of(const json& model, const std::string& where,
                                        std::vector<std::string>& problems) {
    const auto type = string_at(model, "type");
    if (type == "math") {
        // "$REF <op> <number>"
        const auto text = trim(string_at(model, "expression"));
        std::size_t end = 1;
        while (end < text.size() && word_char(text[end])) {
            ++end;
        }
        const auto ref = text.substr(std::min<std::size_t>(1, text.size()), end - 1);
        const auto op_pos = text.find_first_not_of(' ', end);
        const auto op = op_pos == std::string::npos
                            ? std::string()
                            : operator_at(text, op_pos, {">=", "<=", ">", "<"});
        const auto value =
            op.empty() ? std::nullopt : parse_number(trim(text.substr(op_pos + op.size())));
        if (text.empty() || text[0] != '$' || ref.empty() || !value) {
            problems.push_back(where + "math condition '" + text +
                               "' is not of the form $REF <op> <number>");
            return std::nullopt;
        }
        return Comparison{ref, math_comparator(op), *value, std::nullopt, std::nullopt};
    }
    if (type != "threshold") {
        problems.push_back(where + "the condition is a '" + type +
                           "' expression, not a threshold or math comparison");
        return std::nullopt;
    }
    const auto& conditions = model.value("conditions", json::array());
    if (!conditions.is_array() || conditions.size() != 1) {
        problems.push_back(where + "a threshold expression has exactly one condition");
        return std::nullopt;
    }
    auto evaluator =
        [&](const json& e,
            const std::string& what) -> std::optional<std::pair<alerts::Comparator, double>> {
        const auto kind = string_at(e, "type");
        const auto op = evaluator_comparator(kind);
        if (!op) {
            problems.push_back(where + what + " type '" + kind + "' is not gt, gte, lt or lte");
            return std::nullopt;
        }
        if (kind == "gte" || kind == "lte") {
            problems.push_back(where + what + " type '" + kind +
                               "' is newer than Grafana 10.4: use a math expression");
        }
        if (!e.contains("params") || !e["params"].is_array() || e["params"].size() != 1 ||
            !e["params"][0].is_number()) {
            problems.push_back(where + what + " params must be one number");
            return std::nullopt;
        }
        return std::pair{*op, e["params"][0].get<double>()};
    };
    const auto& condition = conditions[0];
    const auto trigger = evaluator(condition.value("evaluator", json::object()), "evaluator");
    if (!trigger) {
        return std::nullopt;
    }
    Comparison out{string_at(model, "expression"), trigger->first, trigger->second, std::nullopt,
                   std::nullopt};
    if (condition.contains("unloadEvaluator")) {
        const auto recovery = evaluator(condition["unloadEvaluator"], "unloadEvaluator");
        if (recovery) {
            out.recovery_op = recovery->first;
            out.recovery = recovery->second;
        }
    }
    for (const auto& [key, value] : condition.items()) {
        if (key != "evaluator" && key != "unloadEvaluator") {
            problems.push_back(where + "unknown key \"" + key + "\" in the threshold condition");
        }
    }
    return out;
}

// The file's shape: one rule group, rules with unique short uids, data nodes chained
// query -> reduce -> condition, and the condition among the data nodes.
std::vector<std::string> check_structure(const json& file) {
    std::vector<std::string> problems;
    if (!file.is_object() || file.value("apiVersion", 0) != 1) {
        problems.push_back("apiVersion must be 1");
    }
    if (!file.contains("groups") || !file["groups"].is_array() || file["groups"].size() != 1) {
        problems.push_back("there must be exactly one rule group");
        return problems;
    }
    const auto& group = file["groups"][0];
    if (string_at(group, "name") != "greenrack" || string_at(group, "folder") != "greenrack") {
        problems.push_back("the rule group is \"greenrack\" in folder \"greenrack\"");
    }
    if (group.value("orgId", 0) != 1) {
        problems.push_back("the rule group's orgId must be 1");
    }
    const auto interval = parse_duration(string_at(group, "interval"));
    if (!interval || interval->count() <= 0 ||
        *interval % grafana_base_interval != milliseconds{0}) {
        problems.push_back("interval '" + string_at(group, "interval") +
                           "' is not a multiple of Grafana's 10 s base interval");
    }
    if (!group.contains("rules") || !group["rules"].is_array() || group["rules"].empty()) {
        problems.push_back("the rule group has no rules");
        return problems;
    }
    static const std::set<std::string> known_keys = {"uid",
                                                     "title",
                                                     "condition",
                                                     "data",
                                                     "noDataState",
                                                     "execErrState",
                                                     "for",
                                                     "keepFiringFor",
                                                     "annotations",
                                                     "labels",
                                                     "isPaused",
                                                     "dashboardUid",
                                                     "panelId",
                                                     "notification_settings",
                                                     "missing_series_evals_to_resolve"};
    static const std::set<std::string> no_data_states = {"NoData", "Alerting", "OK", "KeepLast"};
    static const std::set<std::string> error_states = {"Error", "Alerting", "OK", "KeepLast"};
    static const std::set<std::string> reducers = {"last", "mean", "min", "max", "sum", "count"};
    std::set<std::string> uids;
    std::set<std::string> titles;
    for (const auto& rule : group["rules"]) {
        const auto uid = string_at(rule, "uid");
        const std::string where = "rule " + uid + ": ";
        // Grafana ignores keys it does not know: a misspelt key would silently change nothing.
        for (const auto& [key, value] : rule.items()) {
            if (known_keys.count(key) == 0) {
                problems.push_back(where + "unknown key \"" + key + "\"");
            }
        }
        if (uid.empty() || uid.size() > max_uid_length) {
            problems.push_back(where + "uid must have 1 to 40 characters");
        }
        if (!std::all_of(uid.begin(), uid.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
            })) {
            problems.push_back(where + "uid has characters other than letters, digits, - and _");
        }
        if (!uids.insert(uid).second) {
            problems.push_back(where + "uid used twice");
        }
        const auto title = string_at(rule, "title");
        if (title.empty() || !titles.insert(title).second) {
            problems.push_back(where + "title must be non-empty and unique in the folder");
        }
        const auto name = rule_name(rule);
        if (name.empty() || string_at(rule.value("labels", json::object()), "severity").empty()) {
            problems.push_back(where + "labels greenrack_rule and severity are required");
        } else if (uid != uid_for(name)) {
            problems.push_back(where + "uid must be " + uid_for(name));
        }
        if (no_data_states.count(string_at(rule, "noDataState")) == 0) {
            problems.push_back(where + "noDataState must be NoData, Alerting, OK or KeepLast");
        }
        if (error_states.count(string_at(rule, "execErrState")) == 0) {
            problems.push_back(where + "execErrState must be Error, Alerting, OK or KeepLast");
        }
        if (!parse_duration(string_at(rule, "for"))) {
            problems.push_back(where + "for '" + string_at(rule, "for") + "' is not a duration");
        }
        if (rule.contains("keepFiringFor") && !parse_duration(string_at(rule, "keepFiringFor"))) {
            problems.push_back(where + "keepFiringFor is not a duration");
        }
        if (!rule.contains("data") || !rule["data"].is_array() || rule["data"].empty()) {
            problems.push_back(where + "no data");
            continue;
        }
        std::set<std::string> refs;
        std::map<std::string, std::string> types; // refId -> query | reduce | threshold | math
        for (const auto& d : rule["data"]) {
            const auto ref = string_at(d, "refId");
            const auto& model = d.value("model", json::object());
            if (ref.empty() || !refs.insert(ref).second) {
                problems.push_back(where + "refId '" + ref + "' empty or used twice");
            }
            if (string_at(model, "refId") != ref) {
                problems.push_back(where + ref + ": model.refId differs from refId");
            }
            const auto& range = d.value("relativeTimeRange", json::object());
            if (!range.value("from", json()).is_number_integer() ||
                !range.value("to", json()).is_number_integer()) {
                problems.push_back(where + ref + ": relativeTimeRange needs integer from and to");
            }
            const auto datasource = string_at(d, "datasourceUid");
            if (datasource == "__expr__") {
                types[ref] = string_at(model, "type");
            } else {
                types[ref] = "query";
            }
            if (string_at(model.value("datasource", json::object()), "uid") != datasource) {
                problems.push_back(where + ref +
                                   ": model.datasource.uid differs from datasourceUid");
            }
        }
        // Chain: every expression refers to an earlier node; a reduce reduces a query.
        for (const auto& d : rule["data"]) {
            const auto ref = string_at(d, "refId");
            const auto& model = d.value("model", json::object());
            const auto& type = types[ref];
            if (type == "query") {
                continue;
            }
            if (type == "reduce") {
                if (types[string_at(model, "expression")] != "query") {
                    problems.push_back(where + ref + ": a reduce expression reduces a query");
                }
                if (reducers.count(string_at(model, "reducer")) == 0) {
                    problems.push_back(where + ref + ": unknown reducer '" +
                                       string_at(model, "reducer") + "'");
                }
            } else if (type == "threshold" || type == "math") {
                std::vector<std::string> ignored;
                const auto c = comparison_of(model, where, ignored);
                if (c && refs.count(c->input) == 0) {
                    problems.push_back(where + ref + ": compares unknown refId '" + c->input + "'");
                }
            } else {
                problems.push_back(where + ref + ": expression type '" + type +
                                   "' is not reduce, threshold or math");
            }
        }
        const auto condition = string_at(rule, "condition");
        if (refs.count(condition) == 0) {
            problems.push_back(where + "condition '" + condition + "' is not a refId of data");
        } else if (types[condition] != "threshold" && types[condition] != "math") {
            problems.push_back(where + "condition '" + condition +
                               "' is not a threshold or math expression");
        } else {
            comparison_of(data_node(rule, condition)->at("model"), where, problems);
        }
        // Annotations: a summary; $values only of reduce/math nodes (Grafana gives no value
        // for others).
        const auto summary = string_at(rule.value("annotations", json::object()), "summary");
        if (summary.empty()) {
            problems.push_back(where + "no summary annotation");
        }
        for (const auto& ref : names_after(summary, "$values.")) {
            if (types.count(ref) == 0 || (types[ref] != "reduce" && types[ref] != "math")) {
                problems.push_back(where + "summary uses $values." + ref +
                                   ", not a reduce or math expression");
            }
        }
    }
    return problems;
}

// Data sources are the provisioned ones; every greenrack_* name, label and fixed label value a
// query uses is listed in METRICS.md; the summary's $labels are labels of the queried metrics.
std::vector<std::string> check_queries(const json& file, const Context& c) {
    std::vector<std::string> problems;
    for (const auto& group : file.value("groups", json::array())) {
        for (const auto& rule : group.value("rules", json::array())) {
            const std::string where = "rule " + string_at(rule, "uid") + ": ";
            std::set<std::string> labels;
            for (const auto& d : rule.value("data", json::array())) {
                const auto datasource = string_at(d, "datasourceUid");
                if (datasource == "__expr__") {
                    continue;
                }
                if (c.datasource_uids.count(datasource) == 0) {
                    problems.push_back(where + "datasourceUid '" + datasource +
                                       "' is not provisioned in datasources/greenrack.yaml");
                }
                const auto& model = d.value("model", json::object());
                if (string_at(model.value("datasource", json::object()), "type") != "prometheus") {
                    problems.push_back(where + "queries go to the Prometheus data source");
                }
                const auto expr = string_at(model, "expr");
                if (expr.empty()) {
                    problems.push_back(where + "query without expr");
                    continue;
                }
                const auto names = scan_query(expr);
                for (const auto& e : names.syntax_errors) {
                    problems.push_back(where + e);
                }
                if (names.selectors.empty()) {
                    problems.push_back(where + "query '" + expr + "' uses no greenrack_* metric");
                }
                for (const auto& s : names.selectors) {
                    const auto metric = c.catalog.find(s.metric);
                    if (metric == c.catalog.end()) {
                        problems.push_back(where + "metric " + s.metric +
                                           " is not listed in METRICS.md");
                        continue;
                    }
                    for (const auto& [label, values] : metric->second.labels) {
                        labels.insert(label);
                    }
                    for (const auto& m : s.matchers) {
                        const auto label = metric->second.labels.find(m.label);
                        if (label == metric->second.labels.end()) {
                            problems.push_back(where + "label " + m.label + " is not a label of " +
                                               s.metric);
                        } else if ((m.op == "=" || m.op == "!=") && !label->second.empty() &&
                                   label->second.count(m.value) == 0) {
                            problems.push_back(where + m.label + "=\"" + m.value +
                                               "\" is not a value METRICS.md lists for " +
                                               s.metric);
                        }
                    }
                }
                for (const auto& label : names.other_names) {
                    const bool known = std::any_of(
                        names.selectors.begin(), names.selectors.end(), [&](const Selector& s) {
                            const auto metric = c.catalog.find(s.metric);
                            return metric != c.catalog.end() &&
                                   metric->second.labels.count(label) != 0;
                        });
                    if (!known) {
                        problems.push_back(where + "grouping label " + label +
                                           " is not a label of the query's metrics");
                    }
                }
            }
            const auto summary = string_at(rule.value("annotations", json::object()), "summary");
            for (const auto& label : names_after(summary, "$labels.")) {
                if (labels.count(label) == 0) {
                    problems.push_back(where + "summary uses $labels." + label +
                                       ", not a label of the queried metrics");
                }
            }
        }
    }
    return problems;
}

// Every built-in rule has exactly one Grafana rule (by its greenrack_rule label), comparing the
// same way with the same threshold, recovery threshold, pending period, clear period and
// severity; no Grafana rule stands for a rule greenrackd does not have.
std::vector<std::string> check_equivalence(const json& file, const Context& c) {
    std::vector<std::string> problems;
    std::map<std::string, std::vector<const json*>> by_name; // points into `file`
    if (file.contains("groups") && file["groups"].is_array()) {
        for (const auto& group : file["groups"]) {
            if (group.contains("rules") && group["rules"].is_array()) {
                for (const auto& rule : group["rules"]) {
                    by_name[rule_name(rule)].push_back(&rule);
                }
            }
        }
    }
    std::set<std::string> builtin_names;
    for (const auto& spec : c.builtin) {
        builtin_names.insert(spec.name);
        const std::string where = "built-in rule " + spec.name + ": ";
        const auto found = by_name.find(spec.name);
        const std::size_t count = found == by_name.end() ? 0 : found->second.size();
        if (count != 1) {
            problems.push_back(where + "has " + std::to_string(count) +
                               " Grafana rules, not exactly one");
            continue;
        }
        const json& rule = *found->second.front();
        const auto severity = string_at(rule["labels"], "severity");
        if (severity != spec.severity) {
            problems.push_back(where + "severity " + severity + " differs from the built-in " +
                               spec.severity);
        }
        const auto pending = parse_duration(string_at(rule, "for"));
        if (!pending || *pending != spec.for_duration) {
            problems.push_back(where + "for '" + string_at(rule, "for") + "' differs from the " +
                               std::to_string(spec.for_duration.count()) + " ms of the built-in");
        }
        const auto keep = rule.contains("keepFiringFor")
                              ? parse_duration(string_at(rule, "keepFiringFor"))
                              : std::optional(milliseconds{0});
        if (!keep || *keep != spec.clear_for) {
            problems.push_back(where + "keepFiringFor '" + string_at(rule, "keepFiringFor") +
                               "' differs from the " + std::to_string(spec.clear_for.count()) +
                               " ms clear period of the built-in");
        }
        const json* condition = data_node(rule, string_at(rule, "condition"));
        if (condition == nullptr) {
            problems.push_back(where + "no condition node");
            continue;
        }
        std::vector<std::string> ignored;
        const auto cmp = comparison_of(condition->at("model"), where, ignored);
        if (!cmp) {
            problems.push_back(where + "cannot read the condition");
            continue;
        }
        if (cmp->op != spec.condition.op) {
            problems.push_back(where + "compares with " + std::string(alerts::to_string(cmp->op)) +
                               ", the built-in with " +
                               std::string(alerts::to_string(spec.condition.op)));
        }
        if (cmp->threshold != spec.condition.threshold) {
            problems.push_back(where + "threshold " + number_text(cmp->threshold) +
                               " differs from the built-in " +
                               number_text(spec.condition.threshold));
        }
        if (spec.clear_threshold) {
            if (!cmp->recovery) {
                problems.push_back(where +
                                   "no recovery threshold (unloadEvaluator) for the "
                                   "built-in clear threshold " +
                                   number_text(*spec.clear_threshold));
            } else {
                if (*cmp->recovery != *spec.clear_threshold) {
                    problems.push_back(where + "recovery threshold " + number_text(*cmp->recovery) +
                                       " differs from the built-in clear threshold " +
                                       number_text(*spec.clear_threshold));
                }
                if (upward(*cmp->recovery_op) == upward(spec.condition.op)) {
                    problems.push_back(where + "the recovery threshold must compare the other "
                                               "way than the trigger");
                }
            }
        } else if (cmp->recovery) {
            problems.push_back(where + "a recovery threshold the built-in does not have");
        }
        if (spec.when) {
            // The guard is part of the query: `<output metric> <op> <number>`.
            const json* query = data_node(rule, "A");
            const auto expr = query == nullptr ? "" : string_at(query->at("model"), "expr");
            const auto guard = std::string(alerts::to_string(spec.when->op)) + " " +
                               number_text(spec.when->threshold);
            if (expr.find(guard) == std::string::npos) {
                problems.push_back(where + "the query does not hold the guard '" + guard + "'");
            }
        }
    }
    for (const auto& [name, rules] : by_name) {
        if (builtin_names.count(name) == 0) {
            problems.push_back("Grafana rule " + name + " stands for no built-in rule");
        }
    }
    return problems;
}

std::vector<std::string> check_all(const json& file) {
    auto problems = check_structure(file);
    const auto queries = check_queries(file, context());
    const auto equivalence = check_equivalence(file, context());
    problems.insert(problems.end(), queries.begin(), queries.end());
    problems.insert(problems.end(), equivalence.begin(), equivalence.end());
    return problems;
}

json& rule_named(json& file, const std::string& name) {
    for (auto& rule : file["groups"][0]["rules"]) {
        if (rule_name(rule) == name) {
            return rule;
        }
    }
    FAIL("no Grafana rule " << name);
    throw std::logic_error("unreachable");
}

json& node(json& rule, const std::string& ref) {
    for (auto& d : rule["data"]) {
        if (d["refId"] == ref) {
            return d;
        }
    }
    FAIL("no data node " << ref);
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("the Grafana alert rules file has the shape of Grafana's alert-rule provisioning",
          "[dashboards][alerting]") {
    json file;
    REQUIRE_NOTHROW(file = load_rules());
    const auto problems = check_structure(file);
    INFO(join(problems));
    CHECK(problems.empty());
    CHECK(file["groups"][0]["rules"].size() == alerts::builtin_rules().size());
}

TEST_CASE("the Grafana alert rules query only provisioned data sources and names listed in "
          "METRICS.md",
          "[dashboards][alerting]") {
    const auto& c = context();
    REQUIRE(c.catalog.size() >= 20);
    REQUIRE(c.datasource_uids.count("greenrack-prometheus") == 1);
    REQUIRE(c.catalog.at("greenrack_site_power_watts").labels.at("flow").count("nongreen") == 1);
    const auto problems = check_queries(load_rules(), c);
    INFO(join(problems));
    CHECK(problems.empty());
}

TEST_CASE("every built-in rule has exactly one Grafana rule with the same threshold, direction, "
          "recovery, pending period and severity",
          "[dashboards][alerting]") {
    REQUIRE(context().builtin.size() == 9);
    const auto problems = check_equivalence(load_rules(), context());
    INFO(join(problems));
    CHECK(problems.empty());
}

TEST_CASE("each Grafana rule watches the quantity of its built-in rule", "[dashboards][alerting]") {
    auto file = load_rules();
    auto expr_of = [&](const std::string& name) {
        return node(rule_named(file, name), "A")["model"]["expr"].get<std::string>();
    };
    // The queries of the METRICS.md metrics standing for the engine's outputs.
    const std::map<std::string, std::vector<std::string>> fragments = {
        {"rack_nongreen",
         {"greenrack_rack_power_watts{", "view=\"burdened\"", "kind=\"nongreen\""}},
        {"site_nongreen", {"greenrack_site_power_watts{flow=\"nongreen\"}"}},
        {"site_coverage_low", {"greenrack_site_coverage_ratio"}},
        {"device_stale", {"1 - greenrack_device_up"}},
        {"data_gap", {"1 - greenrack_site_tick_valid"}},
        {"balance_residual",
         {"abs(greenrack_site_balance_residual_watts) /",
          "greenrack_site_power_watts{flow=\"load\"} > 0"}},
        {"spool_dropping", {"increase(greenrack_self_spool_dropped_total[10m])"}},
        {"spool_filling", {"greenrack_self_spool_bytes / greenrack_self_spool_max_bytes"}},
        {"battery_green_low",
         {"greenrack_battery_green_fraction_ratio and",
          "greenrack_site_power_watts{flow=\"battery_discharge\"} > 100"}}};
    for (const auto& spec : alerts::builtin_rules()) {
        INFO(spec.name);
        REQUIRE(fragments.count(spec.name) == 1);
        const auto expr = expr_of(spec.name);
        for (const auto& fragment : fragments.at(spec.name)) {
            INFO(expr << " should contain " << fragment);
            CHECK(expr.find(fragment) != std::string::npos);
        }
        // Instant queries: the value now, not the last point of a range that may have ended.
        CHECK(node(rule_named(file, spec.name), "A")["model"]["instant"] == true);
    }
    // No data: with no tick validity in Prometheus no green figure is computed (data_gap
    // fires); outside the battery guard there is no series by design (normal), and no spool
    // series means no sink; otherwise the state stands still, as greenrackd keeps it over gaps.
    CHECK(rule_named(file, "data_gap")["noDataState"] == "Alerting");
    CHECK(rule_named(file, "battery_green_low")["noDataState"] == "OK");
    // Nothing dropped is nothing to report (no sink, no spool series).
    CHECK(rule_named(file, "spool_dropping")["noDataState"] == "OK");
    for (const char* name : {"rack_nongreen", "site_nongreen", "site_coverage_low", "device_stale",
                             "balance_residual", "spool_filling"}) {
        INFO(name);
        CHECK(rule_named(file, name)["noDataState"] == "KeepLast");
    }
}

TEST_CASE("the checks reject each kind of mistake in the Grafana alert rules",
          "[dashboards][alerting][check]") {
    {
        const auto problems = check_all(load_rules());
        INFO(join(problems));
        REQUIRE(problems.empty());
    }
    auto rejects = [](const std::function<void(json&)>& mutate, const std::string& expected) {
        auto file = load_rules();
        mutate(file);
        const auto problems = check_all(file);
        INFO("expected a problem mentioning: " << expected << "\ngot:\n" << join(problems));
        CHECK(mentions(problems, expected));
    };
    auto threshold_of = [](json& file, const std::string& name) -> json& {
        return node(rule_named(file, name), "C")["model"]["conditions"][0];
    };
    rejects([](json& f) { f["apiVersion"] = 2; }, "apiVersion must be 1");
    rejects([](json& f) { f["groups"][0]["interval"] = "15s"; }, "10 s base interval");
    rejects([](json& f) { rule_named(f, "data_gap")["forr"] = "1m"; }, "unknown key \"forr\"");
    rejects([&](json& f) { threshold_of(f, "rack_nongreen")["evaluator"]["params"][0] = 600; },
            "threshold 600 differs from the built-in 500");
    rejects([&](json& f) { threshold_of(f, "site_coverage_low")["evaluator"]["type"] = "gt"; },
            "compares with >, the built-in with <");
    rejects([&](json& f) { threshold_of(f, "site_nongreen")["evaluator"]["type"] = "gte"; },
            "is newer than Grafana 10.4");
    rejects([&](json& f) { threshold_of(f, "site_nongreen").erase("unloadEvaluator"); },
            "no recovery threshold");
    rejects(
        [&](json& f) {
            threshold_of(f, "balance_residual")["unloadEvaluator"]["params"][0] = 0.04;
        },
        "recovery threshold 0.04 differs");
    rejects(
        [&](json& f) { threshold_of(f, "battery_green_low")["unloadEvaluator"]["type"] = "lt"; },
        "must compare the other way");
    rejects(
        [](json& f) { node(rule_named(f, "device_stale"), "C")["model"]["expression"] = "$B > 1"; },
        "compares with >, the built-in with >=");
    rejects(
        [](json& f) {
            node(rule_named(f, "data_gap"), "C")["model"]["expression"] = "$B >= 1 + 0";
        },
        "is not of the form");
    rejects([](json& f) { rule_named(f, "site_coverage_low")["for"] = "4m"; }, "for '4m' differs");
    rejects([](json& f) { rule_named(f, "site_nongreen")["keepFiringFor"] = "1m"; },
            "keepFiringFor '1m' differs");
    rejects([](json& f) { rule_named(f, "site_nongreen")["labels"]["severity"] = "warning"; },
            "severity warning differs from the built-in critical");
    rejects(
        [](json& f) {
            auto& rules = f["groups"][0]["rules"];
            rules.erase(rules.begin());
        },
        "built-in rule rack_nongreen: has 0 Grafana rules");
    rejects(
        [](json& f) {
            auto& rules = f["groups"][0]["rules"];
            rules.push_back(rules[0]);
        },
        "uid used twice");
    rejects([](json& f) { rule_named(f, "data_gap")["uid"] = std::string(41, 'g'); },
            "uid must have 1 to 40 characters");
    rejects([](json& f) { rule_named(f, "data_gap")["labels"]["greenrack_rule"] = "data_gaps"; },
            "stands for no built-in rule");
    rejects([](json& f) { rule_named(f, "data_gap")["condition"] = "D"; },
            "condition 'D' is not a refId of data");
    rejects([](json& f) { rule_named(f, "data_gap")["condition"] = "B"; },
            "is not a threshold or math expression");
    rejects([](json& f) { node(rule_named(f, "data_gap"), "A")["datasourceUid"] = "other"; },
            "datasourceUid 'other' is not provisioned");
    rejects(
        [](json& f) {
            node(rule_named(f, "site_nongreen"), "A")["model"]["expr"] =
                "greenrack_site_power_watt{flow=\"nongreen\"}";
        },
        "metric greenrack_site_power_watt is not listed in METRICS.md");
    rejects(
        [](json& f) {
            node(rule_named(f, "rack_nongreen"), "A")["model"]["expr"] =
                "greenrack_rack_power_watts{view=\"burden\",kind=\"nongreen\"}";
        },
        "view=\"burden\" is not a value METRICS.md lists");
    rejects(
        [](json& f) {
            node(rule_named(f, "balance_residual"), "A")["model"]["expr"] =
                "abs(greenrack_site_balance_residual_watts) / ignoring(kind) "
                "(greenrack_site_power_watts{flow=\"load\"} > 0)";
        },
        "grouping label kind is not a label");
    rejects(
        [](json& f) {
            node(rule_named(f, "battery_green_low"), "A")["model"]["expr"] =
                "greenrack_battery_green_fraction_ratio";
        },
        "does not hold the guard '> 100'");
    rejects(
        [](json& f) {
            rule_named(f, "rack_nongreen")["annotations"]["summary"] = "Rack {{ $labels.device }}";
        },
        "summary uses $labels.device");
    rejects(
        [](json& f) {
            rule_named(f, "rack_nongreen")["annotations"]["summary"] = "{{ $values.A.Value }} W";
        },
        "summary uses $values.A");
    rejects([](json& f) { node(rule_named(f, "rack_nongreen"), "B")["model"]["reducer"] = "avg"; },
            "unknown reducer 'avg'");
}
