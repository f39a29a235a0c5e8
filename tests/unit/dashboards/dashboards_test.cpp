// The Grafana dashboards, their provisioning files and the canonical metric list
// (dashboards/METRICS.md), checked without a Grafana: every dashboard passes a strict structural
// check of the classic JSON model (in place of a type check against @grafana/schema), and every
// measurement, tag and field a query uses is listed in METRICS.md, which in turn lists exactly
// the names of docs/output-schema.md.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using nlohmann::json;

namespace {

const std::filesystem::path source_dir = GREENRACK_SOURCE_DIR;

const std::vector<std::string> dashboard_files = {"site-overview.json", "racks.json",
                                                  "devices-health.json"};

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        FAIL("cannot read " << path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

json load_dashboard(const std::string& name) {
    return json::parse(read_text(source_dir / "dashboards" / name));
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

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string text) {
    for (auto& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) {
        return "";
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

// ------------------------------------------------------------------------------------------------
// Markdown tables

// "| a | b |" -> {"a", "b"}; "" when the line is not a table row.
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

bool separator_row(const std::vector<std::string>& cells) {
    return !cells.empty() && starts_with(cells[0], "---");
}

// The `...` spans of a text, in order.
std::vector<std::string> backticked(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (true) {
        const auto open = text.find('`', pos);
        if (open == std::string::npos) {
            break;
        }
        const auto close = text.find('`', open + 1);
        if (close == std::string::npos) {
            break;
        }
        out.push_back(text.substr(open + 1, close - open - 1));
        pos = close + 1;
    }
    return out;
}

// A cell that is exactly one `name`; "" otherwise.
std::string single_name(const std::string& cell) {
    if (cell.size() < 3 || cell.front() != '`' || cell.back() != '`' ||
        cell.find('`', 1) != cell.size() - 1) {
        return "";
    }
    return cell.substr(1, cell.size() - 2);
}

std::string without_parenthesized(const std::string& text) {
    std::string out;
    int depth = 0;
    for (char c : text) {
        if (c == '(') {
            ++depth;
        } else if (c == ')') {
            depth = std::max(0, depth - 1);
        } else if (depth == 0) {
            out += c;
        }
    }
    return out;
}

// ------------------------------------------------------------------------------------------------
// dashboards/METRICS.md

struct InfluxColumn {
    std::string kind; // tag | field
    std::string type; // string | float | integer | boolean
    std::string unit;
    std::string written;
    std::string meaning;
};

struct Measurement {
    std::map<std::string, InfluxColumn> columns;
    std::set<std::string> documented; // every `token` of the rows (names, values, examples)

    bool has(const std::string& name, const std::string& kind) const {
        auto it = columns.find(name);
        return it != columns.end() && it->second.kind == kind;
    }
};

struct PromMetric {
    std::string type;
    std::string unit;
    std::set<std::string> labels;
};

struct Catalog {
    std::map<std::string, Measurement> influx;
    std::map<std::string, PromMetric> prometheus;
    std::vector<std::string> problems; // format problems found while parsing
};

// Reads the "## InfluxDB" section (one "### Measurement `name`" table per measurement, columns
// name | kind | type | unit | written | meaning) and the "## Prometheus" section (one table,
// columns metric | type | unit | labels | meaning).
Catalog parse_metrics(const std::string& text) {
    Catalog catalog;
    std::istringstream in(text);
    std::string line;
    std::string section;
    std::string measurement;
    while (std::getline(in, line)) {
        if (starts_with(line, "## ")) {
            section = trim(line.substr(3));
            measurement.clear();
            continue;
        }
        if (starts_with(line, "### ")) {
            measurement.clear();
            const auto heading = trim(line.substr(4));
            if (section == "InfluxDB") {
                if (!starts_with(heading, "Measurement ") ||
                    single_name(heading.substr(12)).empty()) {
                    catalog.problems.push_back("InfluxDB heading is not \"Measurement `name`\": " +
                                               heading);
                    continue;
                }
                measurement = single_name(heading.substr(12));
                if (catalog.influx.count(measurement) != 0) {
                    catalog.problems.push_back("measurement listed twice: " + measurement);
                }
                catalog.influx[measurement];
            }
            continue;
        }
        const auto cells = table_cells(line);
        if (cells.empty() || separator_row(cells)) {
            continue;
        }
        if (section == "InfluxDB") {
            if (cells[0] == "name") {
                continue;
            }
            if (measurement.empty()) {
                catalog.problems.push_back("InfluxDB row outside a measurement: " + line);
                continue;
            }
            if (cells.size() != 6) {
                catalog.problems.push_back("InfluxDB row without 6 columns: " + line);
                continue;
            }
            const auto name = single_name(cells[0]);
            if (name.empty()) {
                catalog.problems.push_back("first column is not one `name`: " + line);
                continue;
            }
            auto& m = catalog.influx[measurement];
            if (m.columns.count(name) != 0) {
                catalog.problems.push_back(measurement + "." + name + " listed twice");
            }
            m.columns[name] = {cells[1], cells[2], cells[3], cells[4], cells[5]};
            for (const auto& cell : cells) {
                for (const auto& token : backticked(cell)) {
                    m.documented.insert(token);
                }
            }
        } else if (section == "Prometheus") {
            if (cells[0] == "metric") {
                continue;
            }
            if (cells.size() != 5) {
                catalog.problems.push_back("Prometheus row without 5 columns: " + line);
                continue;
            }
            const auto name = single_name(cells[0]);
            if (name.empty()) {
                catalog.problems.push_back("first column is not one `name`: " + line);
                continue;
            }
            if (catalog.prometheus.count(name) != 0) {
                catalog.problems.push_back(name + " listed twice");
            }
            PromMetric metric{cells[1], cells[2], {}};
            for (const auto& label : backticked(without_parenthesized(cells[3]))) {
                metric.labels.insert(label);
            }
            catalog.prometheus[name] = metric;
        }
    }
    return catalog;
}

const Catalog& metrics_catalog() {
    static const Catalog catalog =
        parse_metrics(read_text(source_dir / "dashboards" / "METRICS.md"));
    return catalog;
}

bool identifier(const std::string& name) {
    if (name.empty() || !std::islower(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '_';
    });
}

// Field name suffix -> the unit METRICS.md must give it (`<quantity>_<unit>`).
std::string unit_for_field(const std::string& name) {
    const std::vector<std::pair<std::string, std::string>> suffixes = {
        {"_g_per_kwh", "g/kWh"}, {"_wh_total", "Wh"}, {"_g_total", "g CO2eq"},
        {"_wh", "Wh"},           {"_w", "W"},         {"_ratio", "ratio"},
        {"_g", "g CO2eq"},       {"_ms", "ms"}};
    for (const auto& [suffix, unit] : suffixes) {
        if (ends_with(name, suffix)) {
            return unit;
        }
    }
    return "";
}

std::string unit_for_metric(const std::string& name) {
    const std::vector<std::pair<std::string, std::string>> suffixes = {{"_grams_per_kwh", "g/kWh"},
                                                                       {"_joules_total", "J"},
                                                                       {"_joules", "J"},
                                                                       {"_grams_total", "g CO2eq"},
                                                                       {"_watts", "W"},
                                                                       {"_ratio", "ratio"},
                                                                       {"_seconds", "s"}};
    for (const auto& [suffix, unit] : suffixes) {
        if (ends_with(name, suffix)) {
            return unit;
        }
    }
    return "";
}

std::vector<std::string> check_catalog_rules(const Catalog& catalog) {
    std::vector<std::string> problems = catalog.problems;
    for (const auto& [measurement, m] : catalog.influx) {
        if (!m.has("site", "tag")) {
            problems.push_back(measurement + " has no `site` tag");
        }
        for (const auto& [name, column] : m.columns) {
            const std::string where = measurement + "." + name + ": ";
            if (name != "<point>" && !identifier(name)) {
                problems.push_back(where + "not a lower_snake_case name");
            }
            if (column.kind == "tag") {
                if (column.type != "string") {
                    problems.push_back(where + "a tag's type is string");
                }
                continue;
            }
            if (column.kind != "field") {
                problems.push_back(where + "kind is neither tag nor field");
                continue;
            }
            if (column.type == "integer") {
                if (column.unit != "count") {
                    problems.push_back(where + "integer fields are counts");
                }
            } else if (column.type == "float") {
                // An alert's value and threshold are in the unit of whatever output the rule
                // watches, so their names cannot carry one.
                const bool rule_unit = measurement == "alert" && column.unit.empty();
                const auto unit = unit_for_field(name);
                if (name != "<point>" && !rule_unit &&
                    (unit.empty() || !starts_with(column.unit, unit))) {
                    problems.push_back(where + "unit '" + column.unit +
                                       "' does not match the name's unit suffix");
                }
            } else if (column.type == "string") {
                if (!column.unit.empty()) {
                    problems.push_back(where + "a string field has no unit");
                }
            } else if (column.type != "boolean") {
                problems.push_back(where + "type is not float, integer, boolean or string");
            }
            if (column.written.empty()) {
                problems.push_back(where + "says nothing about when it is written");
            }
        }
    }
    for (const auto& [name, metric] : catalog.prometheus) {
        const std::string where = name + ": ";
        if (!starts_with(name, "greenrack_") || !identifier(name)) {
            problems.push_back(where + "not greenrack_<scope>_<quantity>_<unit>");
        }
        const std::set<std::string> types = {"gauge", "counter", "histogram"};
        if (types.count(metric.type) == 0) {
            problems.push_back(where + "type is not gauge, counter or histogram");
        }
        if ((metric.type == "counter") != ends_with(name, "_total")) {
            problems.push_back(where + "counters, and only counters, end in _total");
        }
        if (metric.labels.count("site") == 0) {
            problems.push_back(where + "has no site label");
        }
        const auto unit = unit_for_metric(name);
        if (!unit.empty() && !starts_with(metric.unit, unit)) {
            problems.push_back(where + "unit '" + metric.unit + "' does not match the name");
        }
        if (metric.unit.empty()) {
            problems.push_back(where + "has no unit");
        }
    }
    return problems;
}

// ------------------------------------------------------------------------------------------------
// docs/output-schema.md

struct SchemaMeasurement {
    std::set<std::string> tag_tokens;   // every `token` of the tags column
    std::set<std::string> field_tokens; // every `token` of the fields column
};

struct Schema {
    std::map<std::string, SchemaMeasurement> influx;
    std::map<std::string, std::set<std::string>> prometheus; // metric -> label names
};

Schema parse_schema(const std::string& text) {
    Schema schema;
    std::istringstream in(text);
    std::string line;
    std::string section;
    while (std::getline(in, line)) {
        if (starts_with(line, "## ")) {
            section = trim(line.substr(3));
            continue;
        }
        const auto cells = table_cells(line);
        if (cells.empty() || separator_row(cells)) {
            continue;
        }
        if (starts_with(section, "InfluxDB") && cells.size() == 4) {
            const auto name = single_name(cells[0]);
            if (!name.empty()) {
                auto& m = schema.influx[name];
                for (const auto& token : backticked(cells[1])) {
                    m.tag_tokens.insert(token);
                }
                for (const auto& token : backticked(cells[2])) {
                    m.field_tokens.insert(token);
                }
            }
        } else if (starts_with(section, "Prometheus") && cells.size() == 3) {
            const auto names = backticked(cells[0]);
            for (const auto& name : names) {
                auto& labels = schema.prometheus[name];
                labels.insert("site"); // "labels `site` on everything"
                for (const auto& label : backticked(cells[2])) {
                    labels.insert(label);
                }
            }
        }
    }
    return schema;
}

// ------------------------------------------------------------------------------------------------
// Provisioning files: a line-based reader for the two small YAML files (keys flattened to their
// last component; comments and blank lines ignored). Each "- " item of a list starts a new block.

std::vector<std::map<std::string, std::string>> yaml_blocks(const std::string& text) {
    std::vector<std::map<std::string, std::string>> blocks(1);
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (const auto hash = line.find('#'); hash != std::string::npos) {
            line = line.substr(0, hash);
        }
        auto item = trim(line);
        if (item.empty()) {
            continue;
        }
        if (starts_with(item, "- ")) {
            blocks.emplace_back();
            item = trim(item.substr(2));
        }
        const auto colon = item.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        blocks.back()[trim(item.substr(0, colon))] = trim(item.substr(colon + 1));
    }
    return blocks;
}

std::set<std::string> provisioned_uids() {
    std::set<std::string> uids;
    const auto blocks =
        yaml_blocks(read_text(source_dir / "dashboards/provisioning/datasources/greenrack.yaml"));
    for (const auto& block : blocks) {
        if (block.count("uid") != 0) {
            uids.insert(block.at("uid"));
        }
    }
    return uids;
}

// ------------------------------------------------------------------------------------------------
// InfluxQL: a tokenizer and a name check for the query shapes the dashboards use.

struct Token {
    enum Kind { word, ident, string, regex, variable, number, punct } kind;
    std::string text;
};

const std::set<std::string> influxql_keywords = {
    "select", "from",     "where",  "and", "or",     "not",  "group", "by",    "fill",   "null",
    "none",   "previous", "linear", "as",  "order",  "desc", "asc",   "limit", "slimit", "offset",
    "time",   "now",      "show",   "tag", "values", "with", "key",   "true",  "false"};

const std::set<std::string> influxql_functions = {"mean",
                                                  "median",
                                                  "mode",
                                                  "last",
                                                  "first",
                                                  "max",
                                                  "min",
                                                  "sum",
                                                  "count",
                                                  "spread",
                                                  "stddev",
                                                  "top",
                                                  "bottom",
                                                  "difference",
                                                  "non_negative_difference",
                                                  "derivative",
                                                  "non_negative_derivative",
                                                  "integral",
                                                  "distinct",
                                                  "percentile",
                                                  "moving_average",
                                                  "cumulative_sum",
                                                  "elapsed"};

const std::set<std::string> grafana_builtins = {"timeFilter", "__interval", "__interval_ms"};

std::vector<Token> tokenize(const std::string& q, std::vector<std::string>& problems) {
    std::vector<Token> tokens;
    std::size_t i = 0;
    auto read_until = [&](char end, Token::Kind kind) {
        const auto close = q.find(end, i + 1);
        if (close == std::string::npos) {
            problems.push_back("unterminated " + std::string(1, end) + " in: " + q);
            i = q.size();
            return;
        }
        tokens.push_back({kind, q.substr(i + 1, close - i - 1)});
        i = close + 1;
    };
    auto word_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    };
    while (i < q.size()) {
        const char c = q[i];
        if (std::isspace(static_cast<unsigned char>(c)) != 0) {
            ++i;
        } else if (c == '"') {
            read_until('"', Token::ident);
        } else if (c == '\'') {
            read_until('\'', Token::string);
        } else if (c == '/' && !tokens.empty() && tokens.back().kind == Token::punct &&
                   (tokens.back().text == "=~" || tokens.back().text == "!~")) {
            read_until('/', Token::regex);
        } else if (c == '$') {
            std::size_t end = i + 1;
            while (end < q.size() && word_char(q[end])) {
                ++end;
            }
            tokens.push_back({Token::variable, q.substr(i + 1, end - i - 1)});
            i = end;
        } else if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
            std::size_t end = i;
            while (end < q.size() && (word_char(q[end]) || q[end] == '.')) {
                ++end;
            }
            tokens.push_back({Token::number, q.substr(i, end - i)});
            i = end;
        } else if (word_char(c)) {
            std::size_t end = i;
            while (end < q.size() && word_char(q[end])) {
                ++end;
            }
            tokens.push_back({Token::word, q.substr(i, end - i)});
            i = end;
        } else {
            const auto two = q.substr(i, 2);
            if (two == "=~" || two == "!~" || two == "!=" || two == "<>" || two == ">=" ||
                two == "<=") {
                tokens.push_back({Token::punct, two});
                i += 2;
            } else if (std::string("(),*+-/=<>;").find(c) != std::string::npos) {
                tokens.push_back({Token::punct, std::string(1, c)});
                ++i;
            } else {
                problems.push_back("unexpected character '" + std::string(1, c) + "' in: " + q);
                ++i;
            }
        }
    }
    return tokens;
}

bool is_word(const Token& token, const std::string& word) {
    return token.kind == Token::word && lower(token.text) == word;
}

bool is_punct(const Token& token, const std::string& text) {
    return token.kind == Token::punct && token.text == text;
}

struct QueryNames {
    std::set<std::string> measurements;
    std::set<std::string> group_by_tags;
    std::set<std::string> variables; // template variables used (in /^$var$/)
};

// Checks one query against METRICS.md: measurements after FROM, tag keys after WITH KEY =, field
// arguments of functions, GROUP BY tags and every other "quoted" name (fields and tags in WHERE,
// raw SELECT fields, aliases of subqueries). Identifiers must be double-quoted; bare words must
// be InfluxQL keywords or functions; template variables appear only as /^$var$/ regexes, Grafana
// built-ins only outside regexes.
QueryNames check_query(const std::string& q, const Catalog& catalog,
                       const std::set<std::string>& template_vars,
                       std::vector<std::string>& problems) {
    QueryNames names;
    auto tokens = tokenize(q, problems);
    std::set<std::string> aliases;
    for (std::size_t k = 0; k + 1 < tokens.size(); ++k) {
        if (is_word(tokens[k], "from") && tokens[k + 1].kind == Token::ident) {
            names.measurements.insert(tokens[k + 1].text);
        }
        if (is_word(tokens[k], "as") && tokens[k + 1].kind == Token::ident) {
            aliases.insert(tokens[k + 1].text);
        }
    }
    std::vector<const Measurement*> listed;
    for (const auto& m : names.measurements) {
        auto it = catalog.influx.find(m);
        if (it == catalog.influx.end()) {
            problems.push_back("measurement \"" + m + "\" is not listed in METRICS.md: " + q);
        } else {
            listed.push_back(&it->second);
        }
    }
    if (names.measurements.empty()) {
        problems.push_back("no FROM \"measurement\": " + q);
    }
    std::string subject;
    for (const auto& m : names.measurements) {
        subject += (subject.empty() ? "" : ", ") + m;
    }
    auto listed_as = [&](const std::string& name, const std::string& kind) {
        return std::any_of(listed.begin(), listed.end(),
                           [&](const Measurement* m) { return m->has(name, kind); });
    };
    int depth = 0;
    int group_by_depth = -1; // paren depth of an open GROUP BY clause
    for (std::size_t k = 0; k < tokens.size(); ++k) {
        const auto& token = tokens[k];
        switch (token.kind) {
        case Token::punct:
            if (token.text == "(") {
                ++depth;
            } else if (token.text == ")") {
                --depth;
                if (depth < group_by_depth) {
                    group_by_depth = -1;
                }
            }
            break;
        case Token::word: {
            const auto word = lower(token.text);
            if (influxql_keywords.count(word) == 0 && influxql_functions.count(word) == 0) {
                problems.push_back("bare word '" + token.text +
                                   "' (quote identifiers with \"\"): " + q);
            }
            if (word == "by" && k > 0 && is_word(tokens[k - 1], "group")) {
                group_by_depth = depth;
            } else if (word == "fill" || word == "order" || word == "limit" || word == "slimit") {
                group_by_depth = -1;
            }
            break;
        }
        case Token::number: {
            std::size_t digits = 0;
            while (digits < token.text.size() &&
                   (std::isdigit(static_cast<unsigned char>(token.text[digits])) != 0 ||
                    token.text[digits] == '.')) {
                ++digits;
            }
            const std::set<std::string> units = {"", "ns", "u", "ms", "s", "m", "h", "d", "w"};
            if (units.count(token.text.substr(digits)) == 0) {
                problems.push_back("bad number or duration '" + token.text + "': " + q);
            }
            break;
        }
        case Token::variable:
            if (grafana_builtins.count(token.text) == 0) {
                problems.push_back("$" + token.text +
                                   " outside a /^$var$/ regex (or not a Grafana built-in): " + q);
            }
            break;
        case Token::regex: {
            const auto& r = token.text;
            const auto var = r.size() > 4 && starts_with(r, "^$") && ends_with(r, "$")
                                 ? r.substr(2, r.size() - 3)
                                 : std::string();
            if (var.empty() || template_vars.count(var) == 0) {
                problems.push_back("regex /" + r +
                                   "/ is not /^$var$/ of a template variable: " + q);
            } else {
                names.variables.insert(var);
            }
            break;
        }
        case Token::string:
            if (token.text.find('$') != std::string::npos) {
                problems.push_back("$ in a string literal '" + token.text +
                                   "' (filter with \"tag\" =~ /^$var$/): " + q);
            }
            break;
        case Token::ident: {
            const auto& name = token.text;
            const bool after_from = k > 0 && is_word(tokens[k - 1], "from");
            const bool after_as = k > 0 && is_word(tokens[k - 1], "as");
            if (after_from || after_as) {
                break;
            }
            const bool tag_key =
                k >= 2 && is_word(tokens[k - 2], "key") && is_punct(tokens[k - 1], "=");
            const bool function_argument = k >= 2 && is_punct(tokens[k - 1], "(") &&
                                           tokens[k - 2].kind == Token::word &&
                                           influxql_functions.count(lower(tokens[k - 2].text));
            if (tag_key || group_by_depth >= 0) {
                if (!listed_as(name, "tag")) {
                    problems.push_back("\"" + name + "\" is not a tag of " + subject +
                                       " in METRICS.md: " + q);
                }
                if (group_by_depth >= 0) {
                    names.group_by_tags.insert(name);
                }
            } else if (function_argument) {
                if (!listed_as(name, "field") && aliases.count(name) == 0) {
                    problems.push_back("\"" + name + "\" is not a field of " + subject +
                                       " in METRICS.md: " + q);
                }
            } else if (!listed_as(name, "field") && !listed_as(name, "tag") &&
                       aliases.count(name) == 0) {
                problems.push_back("\"" + name + "\" is not a tag or field of " + subject +
                                   " in METRICS.md: " + q);
            }
            break;
        }
        }
    }
    return names;
}

// ------------------------------------------------------------------------------------------------
// Dashboards: the strict structural check.

const std::set<std::string> dashboard_required = {
    "uid",     "title",   "tags", "timezone",   "editable",    "graphTooltip", "schemaVersion",
    "version", "refresh", "time", "templating", "annotations", "panels"};
const std::set<std::string> dashboard_optional = {"description",          "links",   "timepicker",
                                                  "fiscalYearStartMonth", "liveNow", "weekStart"};
const std::set<std::string> panel_keys = {
    "id",         "type",          "title",       "description", "gridPos",
    "datasource", "targets",       "fieldConfig", "options",     "transformations",
    "interval",   "maxDataPoints", "timeFrom",    "timeShift",   "hideTimeOverride",
    "links",      "transparent"};
const std::set<std::string> panel_types = {"timeseries", "stat",  "table",         "barchart",
                                           "bargauge",   "gauge", "state-timeline"};
const std::set<std::string> target_keys = {"refId", "datasource", "rawQuery", "resultFormat",
                                           "alias", "query",      "hide"};
const std::set<std::string> variable_keys = {
    "name",       "label",   "description", "type",       "datasource", "query",
    "definition", "refresh", "multi",       "includeAll", "allValue",   "sort",
    "current",    "options", "hide",        "regex",      "skipUrlSync"};
const std::set<std::string> link_keys = {"title",    "type", "tags", "asDropdown",  "includeVars",
                                         "keepTime", "url",  "icon", "targetBlank", "tooltip"};
const std::string influx_uid = "greenrack-influx";

struct Context {
    const Catalog& catalog;
    std::set<std::string> datasource_uids;
};

void check_keys(const json& object, const std::set<std::string>& allowed, const std::string& where,
                std::vector<std::string>& problems) {
    for (const auto& [key, value] : object.items()) {
        if (allowed.count(key) == 0) {
            problems.push_back(where + ": unknown key \"" + key + "\"");
        }
    }
}

bool is_int(const json& j) {
    return j.is_number_integer();
}

void check_datasource(const json& ds, const Context& context, const std::string& where,
                      std::vector<std::string>& problems) {
    if (!ds.is_object() || ds.size() != 2 || !ds.contains("type") || !ds.contains("uid") ||
        !ds["type"].is_string() || !ds["uid"].is_string()) {
        problems.push_back(where + ": datasource must be {\"type\", \"uid\"}");
        return;
    }
    if (ds["type"] != "influxdb" || ds["uid"] != influx_uid) {
        problems.push_back(where + ": datasource is not the influxdb uid " + influx_uid);
    }
    if (context.datasource_uids.count(ds["uid"].get<std::string>()) == 0) {
        problems.push_back(where + ": datasource uid " + ds["uid"].get<std::string>() +
                           " is not provisioned");
    }
}

// Template variables referenced as $name in a text (titles, aliases).
std::vector<std::string> dollar_names(const std::string& text) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$') {
            continue;
        }
        std::size_t end = i + 1;
        while (end < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[end])) != 0 || text[end] == '_')) {
            ++end;
        }
        out.push_back(text.substr(i + 1, end - i - 1));
        i = end - 1;
    }
    return out;
}

// Returns the names of the variables, in order; adds problems for malformed ones.
std::vector<std::string> check_variables(const json& list, const Context& context,
                                         std::set<std::string>& used,
                                         std::vector<std::string>& problems) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& v = list[i];
        std::string where = "templating.list[" + std::to_string(i) + "]";
        if (!v.is_object()) {
            problems.push_back(where + ": not an object");
            continue;
        }
        check_keys(v, variable_keys, where, problems);
        if (!v.contains("name") || !v["name"].is_string() ||
            !identifier(v["name"].get<std::string>())) {
            problems.push_back(where + ": name must be a lower_snake_case string");
            continue;
        }
        const auto name = v["name"].get<std::string>();
        where += " (" + name + ")";
        if (std::find(names.begin(), names.end(), name) != names.end()) {
            problems.push_back(where + ": defined twice");
        }
        for (const char* key : {"multi", "includeAll"}) {
            if (!v.contains(key) || !v[key].is_boolean()) {
                problems.push_back(where + ": " + key + " must be a boolean");
            }
        }
        if (!v.contains("query") || !v["query"].is_string() ||
            v["query"].get<std::string>().empty()) {
            problems.push_back(where + ": query must be a non-empty string");
            continue;
        }
        const auto query = v["query"].get<std::string>();
        const auto type = v.value("type", "");
        if (type == "query") {
            check_datasource(v.value("datasource", json()), context, where, problems);
            if (!v.contains("refresh") || !is_int(v["refresh"]) ||
                (v["refresh"] != 1 && v["refresh"] != 2)) {
                problems.push_back(where + ": refresh must be 1 (on load) or 2 (on time range)");
            }
            if (v.contains("definition") && v["definition"] != query) {
                problems.push_back(where + ": definition differs from query");
            }
            if (v.contains("sort") && !is_int(v["sort"])) {
                problems.push_back(where + ": sort must be an integer");
            }
            if (!starts_with(query, "SHOW TAG VALUES FROM \"") ||
                query.find(" WITH KEY = \"") == std::string::npos) {
                problems.push_back(where +
                                   ": query is not SHOW TAG VALUES FROM ... WITH KEY = ...");
            }
            // Only variables defined before this one can be used (Grafana resolves in order).
            const std::set<std::string> earlier(names.begin(), names.end());
            const auto q = check_query(query, context.catalog, earlier, problems);
            used.insert(q.variables.begin(), q.variables.end());
        } else if (type == "custom") {
            std::vector<std::string> items;
            std::istringstream in(query);
            std::string item;
            while (std::getline(in, item, ',')) {
                items.push_back(trim(item));
            }
            const auto& options = v.value("options", json::array());
            bool options_ok = options.is_array() && options.size() == items.size();
            for (std::size_t o = 0; options_ok && o < options.size(); ++o) {
                options_ok = options[o].value("value", "") == items[o] &&
                             options[o].value("text", "") == items[o];
            }
            if (!options_ok) {
                problems.push_back(where + ": options do not match the query's values");
            }
            const auto current = v.value("current", json::object()).value("value", "");
            if (std::find(items.begin(), items.end(), current) == items.end()) {
                problems.push_back(where + ": current value is not one of the values");
            }
        } else {
            problems.push_back(where + ": type must be query or custom");
        }
        names.push_back(name);
    }
    return names;
}

std::vector<std::string> check_dashboard(const json& d, const Context& context) {
    std::vector<std::string> problems;
    if (!d.is_object()) {
        return {"dashboard is not a JSON object"};
    }
    for (const auto& key : dashboard_required) {
        if (!d.contains(key)) {
            problems.push_back("missing top-level key \"" + key + "\"");
        }
    }
    std::set<std::string> top_keys = dashboard_required;
    top_keys.insert(dashboard_optional.begin(), dashboard_optional.end());
    check_keys(d, top_keys, "dashboard", problems);
    if (!problems.empty()) {
        return problems;
    }
    if (!d["uid"].is_string() || !starts_with(d["uid"].get<std::string>(), "greenrack-") ||
        d["uid"].get<std::string>().size() > 40) {
        problems.push_back("uid must be a string \"greenrack-...\" of at most 40 characters");
    }
    if (!d["title"].is_string() || d["title"].get<std::string>().empty()) {
        problems.push_back("title must be a non-empty string");
    }
    if (!d["tags"].is_array() ||
        std::find(d["tags"].begin(), d["tags"].end(), "greenrack") == d["tags"].end()) {
        problems.push_back("tags must be an array containing \"greenrack\"");
    }
    if (!d["timezone"].is_string()) {
        problems.push_back("timezone must be a string");
    }
    if (d["editable"] != false) {
        problems.push_back("editable must be false (the dashboards are provisioned)");
    }
    if (!is_int(d["graphTooltip"]) || d["graphTooltip"] < 0 || d["graphTooltip"] > 2) {
        problems.push_back("graphTooltip must be 0, 1 or 2");
    }
    if (d["schemaVersion"] != 39) {
        problems.push_back("schemaVersion must be 39");
    }
    if (!is_int(d["version"]) || d["version"] < 1) {
        problems.push_back("version must be a positive integer");
    }
    if (!d["refresh"].is_string()) {
        problems.push_back("refresh must be a string");
    }
    const auto& time = d["time"];
    if (!time.is_object() || time.size() != 2 || !time.value("from", json()).is_string() ||
        !time.value("to", json()).is_string()) {
        problems.push_back("time must be {\"from\", \"to\"} strings");
    }
    if (!d["annotations"].is_object() || !d["annotations"].value("list", json()).is_array()) {
        problems.push_back("annotations must be {\"list\": [...]}");
    }
    if (d.contains("links")) {
        if (!d["links"].is_array()) {
            problems.push_back("links must be an array");
        } else {
            for (const auto& link : d["links"]) {
                check_keys(link, link_keys, "links[]", problems);
            }
        }
    }
    const auto& templating = d["templating"];
    if (!templating.is_object() || templating.size() != 1 ||
        !templating.value("list", json()).is_array()) {
        problems.push_back("templating must be {\"list\": [...]}");
        return problems;
    }
    std::set<std::string> used;
    const auto variable_names = check_variables(templating["list"], context, used, problems);
    const std::set<std::string> template_vars(variable_names.begin(), variable_names.end());

    const auto& panels = d["panels"];
    if (!panels.is_array() || panels.empty()) {
        problems.push_back("panels must be a non-empty array");
        return problems;
    }
    std::set<std::int64_t> ids;
    std::set<std::string> titles;
    struct Box {
        std::int64_t x, y, w, h;
        std::string title;
    };
    std::vector<Box> boxes;
    for (std::size_t i = 0; i < panels.size(); ++i) {
        const auto& p = panels[i];
        std::string where = "panels[" + std::to_string(i) + "]";
        if (!p.is_object()) {
            problems.push_back(where + ": not an object");
            continue;
        }
        check_keys(p, panel_keys, where, problems);
        for (const char* key : {"id", "type", "title", "gridPos", "datasource", "fieldConfig",
                                "options", "targets"}) {
            if (!p.contains(key)) {
                problems.push_back(where + ": missing key \"" + key + "\"");
            }
        }
        if (!p.contains("title") || !p["title"].is_string() ||
            p["title"].get<std::string>().empty()) {
            problems.push_back(where + ": title must be a non-empty string");
            continue;
        }
        const auto title = p["title"].get<std::string>();
        where += " \"" + title + "\"";
        if (!titles.insert(title).second) {
            problems.push_back(where + ": title used twice");
        }
        for (const auto& name : dollar_names(title)) {
            if (template_vars.count(name) == 0) {
                problems.push_back(where + ": title uses undefined $" + name);
            }
        }
        if (!p.contains("id") || !is_int(p["id"]) || p["id"] < 1) {
            problems.push_back(where + ": id must be a positive integer");
        } else if (!ids.insert(p["id"].get<std::int64_t>()).second) {
            problems.push_back(where + ": id " + p["id"].dump() + " used twice");
        }
        const auto type = p.value("type", json()).is_string() ? p["type"].get<std::string>() : "";
        if (panel_types.count(type) == 0) {
            problems.push_back(where + ": type \"" + type + "\" is not an allowed panel type");
        }
        if (p.contains("description") && !p["description"].is_string()) {
            problems.push_back(where + ": description must be a string");
        }
        if (p.contains("interval") && !p["interval"].is_string()) {
            problems.push_back(where + ": interval must be a string");
        }
        const auto& grid = p.value("gridPos", json());
        bool grid_ok = grid.is_object() && grid.size() == 4;
        for (const char* key : {"h", "w", "x", "y"}) {
            grid_ok = grid_ok && grid.contains(key) && is_int(grid[key]);
        }
        if (!grid_ok) {
            problems.push_back(where + ": gridPos must be exactly integer h, w, x, y");
        } else {
            const Box box{grid["x"].get<std::int64_t>(), grid["y"].get<std::int64_t>(),
                          grid["w"].get<std::int64_t>(), grid["h"].get<std::int64_t>(), title};
            if (box.x < 0 || box.y < 0 || box.w < 1 || box.h < 1 || box.x + box.w > 24) {
                problems.push_back(where + ": gridPos outside the 24-column grid");
            }
            for (const auto& other : boxes) {
                if (box.x < other.x + other.w && other.x < box.x + box.w &&
                    box.y < other.y + other.h && other.y < box.y + box.h) {
                    problems.push_back(where + ": overlaps \"" + other.title + "\"");
                }
            }
            boxes.push_back(box);
        }
        const auto& field_config = p.value("fieldConfig", json());
        if (!field_config.is_object() || field_config.size() != 2 ||
            !field_config.value("defaults", json()).is_object() ||
            !field_config.value("overrides", json()).is_array()) {
            problems.push_back(where +
                               ": fieldConfig must be {\"defaults\": {}, \"overrides\": []}");
        } else if (field_config["defaults"].contains("unit") &&
                   !field_config["defaults"]["unit"].is_string()) {
            problems.push_back(where + ": fieldConfig.defaults.unit must be a string");
        }
        if (!p.value("options", json()).is_object()) {
            problems.push_back(where + ": options must be an object");
        }
        if (p.contains("transformations")) {
            for (const auto& t : p["transformations"]) {
                if (!t.is_object() || t.size() != 2 || !t.value("id", json()).is_string() ||
                    !t.value("options", json()).is_object()) {
                    problems.push_back(where + ": transformations must be {\"id\", \"options\"}");
                }
            }
        }
        if (!p.contains("datasource")) {
            continue;
        }
        check_datasource(p["datasource"], context, where, problems);
        const auto& targets = p.value("targets", json());
        if (!targets.is_array() || targets.empty()) {
            problems.push_back(where + ": targets must be a non-empty array");
            continue;
        }
        std::set<std::string> ref_ids;
        for (const auto& t : targets) {
            if (!t.is_object()) {
                problems.push_back(where + ": a target is not an object");
                continue;
            }
            check_keys(t, target_keys, where + " target", problems);
            const auto ref_id = t.value("refId", json()).is_string() ? t["refId"].get<std::string>()
                                                                     : std::string();
            const auto target_where = where + " refId " + ref_id;
            if (ref_id.size() != 1 || ref_id[0] < 'A' || ref_id[0] > 'Z') {
                problems.push_back(target_where + ": refId must be one letter A..Z");
            } else if (!ref_ids.insert(ref_id).second) {
                problems.push_back(target_where + ": refId used twice");
            }
            if (t.value("datasource", json()) != p["datasource"]) {
                problems.push_back(target_where + ": datasource differs from the panel's");
            }
            if (t.value("rawQuery", json()) != true) {
                problems.push_back(target_where + ": rawQuery must be true");
            }
            const auto format = t.value("resultFormat", json());
            if (format != (type == "table" ? "table" : "time_series")) {
                problems.push_back(target_where + ": resultFormat must be " +
                                   (type == "table" ? "table" : "time_series") + " for " + type);
            }
            if (!t.value("query", json()).is_string() || t["query"].get<std::string>().empty()) {
                problems.push_back(target_where + ": query must be a non-empty string");
                continue;
            }
            const auto query = t["query"].get<std::string>();
            if (!starts_with(query, "SELECT ")) {
                problems.push_back(target_where + ": query does not start with SELECT");
            }
            if (query.find("$timeFilter") == std::string::npos) {
                problems.push_back(target_where + ": query has no $timeFilter");
            }
            std::vector<std::string> query_problems;
            const auto names = check_query(query, context.catalog, template_vars, query_problems);
            for (const auto& problem : query_problems) {
                problems.push_back(target_where + ": " + problem);
            }
            if (names.variables.count("site") == 0) {
                problems.push_back(target_where + ": query does not filter by $site");
            }
            used.insert(names.variables.begin(), names.variables.end());
            if (t.contains("alias")) {
                if (!t["alias"].is_string()) {
                    problems.push_back(target_where + ": alias must be a string");
                    continue;
                }
                for (const auto& name : dollar_names(t["alias"].get<std::string>())) {
                    if (name == "col" || name == "m" || name == "measurement") {
                        continue;
                    }
                    if (!starts_with(name, "tag_") ||
                        names.group_by_tags.count(name.substr(4)) == 0) {
                        problems.push_back(target_where + ": alias uses $" + name +
                                           " but the query does not GROUP BY that tag");
                    }
                }
            }
        }
    }
    for (const auto& name : variable_names) {
        if (used.count(name) == 0) {
            problems.push_back("variable $" + name + " is not used by any query");
        }
    }
    return problems;
}

Context dashboards_context() {
    return Context{metrics_catalog(), provisioned_uids()};
}

// Every query of a dashboard (variables and targets).
std::vector<std::string> all_queries(const json& d) {
    std::vector<std::string> queries;
    for (const auto& v : d["templating"]["list"]) {
        if (v.value("type", "") == "query") {
            queries.push_back(v["query"].get<std::string>());
        }
    }
    for (const auto& p : d["panels"]) {
        for (const auto& t : p.value("targets", json::array())) {
            queries.push_back(t["query"].get<std::string>());
        }
    }
    return queries;
}

std::set<std::string> fields_used(const json& d) {
    const auto& catalog = metrics_catalog();
    std::set<std::string> out;
    for (const auto& q : all_queries(d)) {
        std::vector<std::string> problems;
        for (const auto& token : tokenize(q, problems)) {
            if (token.kind != Token::ident) {
                continue;
            }
            for (const auto& [measurement, m] : catalog.influx) {
                if (m.has(token.text, "field") &&
                    q.find("FROM \"" + measurement + "\"") != std::string::npos) {
                    out.insert(measurement + "." + token.text);
                }
            }
        }
    }
    return out;
}

// A small dashboard that passes the check, for the tests that show what the check rejects.
json minimal_dashboard() {
    return json::parse(R"json({
  "uid": "greenrack-test", "title": "test", "tags": ["greenrack"], "timezone": "browser",
  "editable": false, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "refresh": "30s",
  "time": {"from": "now-6h", "to": "now"},
  "templating": {"list": [
    {"name": "site", "type": "query", "datasource": {"type": "influxdb", "uid": "greenrack-influx"},
     "query": "SHOW TAG VALUES FROM \"site\" WITH KEY = \"site\"", "refresh": 1, "multi": true,
     "includeAll": true}]},
  "annotations": {"list": []},
  "panels": [
    {"id": 1, "type": "timeseries", "title": "Load", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
     "datasource": {"type": "influxdb", "uid": "greenrack-influx"},
     "fieldConfig": {"defaults": {"unit": "watt"}, "overrides": []}, "options": {},
     "targets": [{"refId": "A", "datasource": {"type": "influxdb", "uid": "greenrack-influx"},
       "rawQuery": true, "resultFormat": "time_series", "alias": "$tag_site",
       "query": "SELECT mean(\"load_w\") FROM \"site\" WHERE \"site\" =~ /^$site$/ AND $timeFilter GROUP BY time($__interval), \"site\" fill(null)"}]},
    {"id": 2, "type": "table", "title": "Racks", "gridPos": {"h": 8, "w": 12, "x": 12, "y": 0},
     "datasource": {"type": "influxdb", "uid": "greenrack-influx"},
     "fieldConfig": {"defaults": {}, "overrides": []}, "options": {},
     "targets": [{"refId": "A", "datasource": {"type": "influxdb", "uid": "greenrack-influx"},
       "rawQuery": true, "resultFormat": "table",
       "query": "SELECT last(\"it_w\") AS \"IT\" FROM \"rack\" WHERE \"site\" =~ /^$site$/ AND \"view\" = 'it' AND $timeFilter GROUP BY \"rack\""}]}]
})json");
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

} // namespace

// ------------------------------------------------------------------------------------------------

TEST_CASE("METRICS.md has well-formed InfluxDB and Prometheus tables that follow the naming rules",
          "[dashboards][metrics]") {
    const auto& catalog = metrics_catalog();
    const auto problems = check_catalog_rules(catalog);
    INFO(join(problems));
    CHECK(problems.empty());
    CHECK(catalog.influx.size() == 7);
    CHECK(catalog.prometheus.size() >= 20);
}

TEST_CASE("METRICS.md lists exactly the InfluxDB measurements, tags and fields of the output "
          "schema",
          "[dashboards][metrics]") {
    const auto& catalog = metrics_catalog();
    const auto schema = parse_schema(read_text(source_dir / "docs" / "output-schema.md"));
    REQUIRE(schema.influx.size() == 7);
    for (const auto& [measurement, row] : schema.influx) {
        INFO("measurement " << measurement);
        REQUIRE(catalog.influx.count(measurement) == 1);
        const auto& m = catalog.influx.at(measurement);
        // Every name the schema gives (and every value it quotes) is in METRICS.md.
        for (const auto& token : row.tag_tokens) {
            INFO("schema tag token `" << token << "`");
            CHECK((m.has(token, "tag") || m.documented.count(token) == 1));
        }
        for (const auto& token : row.field_tokens) {
            INFO("schema field token `" << token << "`");
            CHECK((m.has(token, "field") || m.documented.count(token) == 1));
        }
        // ...and METRICS.md invents none: every listed tag/field is in the schema's column.
        for (const auto& [name, column] : m.columns) {
            INFO(column.kind << " `" << name << "`");
            if (name == "<point>") {
                continue;
            }
            CHECK((column.kind == "tag" ? row.tag_tokens : row.field_tokens).count(name) == 1);
        }
    }
    for (const auto& [measurement, m] : catalog.influx) {
        INFO("METRICS.md measurement " << measurement);
        CHECK(schema.influx.count(measurement) == 1);
    }
}

TEST_CASE("METRICS.md lists exactly the Prometheus metrics of the output schema, with their "
          "labels",
          "[dashboards][metrics]") {
    const auto& catalog = metrics_catalog();
    const auto schema = parse_schema(read_text(source_dir / "docs" / "output-schema.md"));
    REQUIRE(schema.prometheus.size() >= 20);
    for (const auto& [name, labels] : schema.prometheus) {
        INFO("schema metric " << name);
        REQUIRE(catalog.prometheus.count(name) == 1);
        CHECK(catalog.prometheus.at(name).labels == labels);
    }
    for (const auto& [name, metric] : catalog.prometheus) {
        INFO("METRICS.md metric " << name);
        CHECK(schema.prometheus.count(name) == 1);
    }
}

TEST_CASE("the provisioning files define the InfluxDB and Prometheus data sources the dashboards "
          "use and a file provider",
          "[dashboards][provisioning]") {
    const auto datasources =
        yaml_blocks(read_text(source_dir / "dashboards/provisioning/datasources/greenrack.yaml"));
    REQUIRE(datasources.size() == 3); // header + two data sources
    CHECK(datasources[0].at("apiVersion") == "1");
    std::map<std::string, std::map<std::string, std::string>> by_uid;
    for (std::size_t i = 1; i < datasources.size(); ++i) {
        by_uid[datasources[i].at("uid")] = datasources[i];
    }
    REQUIRE(by_uid.count("greenrack-influx") == 1);
    REQUIRE(by_uid.count("greenrack-prometheus") == 1);
    const auto& influx = by_uid["greenrack-influx"];
    CHECK(influx.at("type") == "influxdb");
    CHECK(influx.at("access") == "proxy");
    CHECK(influx.at("database") == "greenrack");
    CHECK(influx.at("dbName") == "greenrack");
    CHECK(starts_with(influx.at("url"), "http://127.0.0.1:"));
    const auto& prometheus = by_uid["greenrack-prometheus"];
    CHECK(prometheus.at("type") == "prometheus");
    CHECK(prometheus.at("access") == "proxy");
    CHECK(starts_with(prometheus.at("url"), "http://127.0.0.1:"));

    const auto providers =
        yaml_blocks(read_text(source_dir / "dashboards/provisioning/dashboards/greenrack.yaml"));
    REQUIRE(providers.size() == 2);
    CHECK(providers[0].at("apiVersion") == "1");
    CHECK(providers[1].at("type") == "file");
    CHECK(providers[1].at("allowUiUpdates") == "false");
    CHECK(!providers[1].at("path").empty());

    for (const auto& file : dashboard_files) {
        INFO(file);
        // The dashboards reference the InfluxDB data source by its provisioned uid.
        const auto text = read_text(source_dir / "dashboards" / file);
        CHECK(text.find("\"uid\": \"greenrack-influx\"") != std::string::npos);
    }
}

TEST_CASE("every dashboard passes the strict structural check and uses only names listed in "
          "METRICS.md",
          "[dashboards]") {
    const auto context = dashboards_context();
    std::set<std::string> uids;
    for (const auto& file : dashboard_files) {
        INFO(file);
        json d;
        REQUIRE_NOTHROW(d = load_dashboard(file));
        const auto problems = check_dashboard(d, context);
        INFO(join(problems));
        CHECK(problems.empty());
        CHECK(uids.insert(d.value("uid", "")).second);
    }
}

TEST_CASE("each dashboard shows the quantities it is for", "[dashboards]") {
    SECTION("site overview: supply and load, coverage, non-green, headroom, CFE, carbon, data "
            "problems") {
        const auto d = load_dashboard("site-overview.json");
        const auto used = fields_used(d);
        for (const char* field :
             {"site.pv_w", "site.wind_w", "site.battery_discharge_w", "site.grid_import_w",
              "site.load_w", "site.coverage_ratio", "site.nongreen_w", "site.headroom_free_w",
              "site.headroom_total_w", "site.headroom_storage_w", "site.hour_cfe_hourly_ratio",
              "site.hour_cfe_interval_ratio", "rollup.cfe_hourly_ratio",
              "site.intensity_location_g_per_kwh", "site.valid"}) {
            INFO(field);
            CHECK(used.count(field) == 1);
        }
        std::set<std::string> variables;
        for (const auto& v : d["templating"]["list"]) {
            variables.insert(v["name"].get<std::string>());
        }
        CHECK(variables == std::set<std::string>{"site", "rack"});
        // The data-problems panels say that they stand in for alerts.
        bool explained = false;
        for (const auto& p : d["panels"]) {
            explained = explained || (starts_with(p["title"].get<std::string>(), "Data problems") &&
                                      p.value("description", "")
                                              .find("Alerts are not "
                                                    "implemented yet") != std::string::npos);
        }
        CHECK(explained);
    }
    SECTION("racks: green and non-green per rack by view, energy from totals, top non-green, "
            "tiers") {
        const auto d = load_dashboard("racks.json");
        const auto used = fields_used(d);
        for (const char* field : {"rack.green_w", "rack.nongreen_w", "rack.it_w",
                                  "rack.green_energy_wh_total", "rack.nongreen_energy_wh_total"}) {
            INFO(field);
            CHECK(used.count(field) == 1);
        }
        std::string all;
        for (const auto& q : all_queries(d)) {
            all += q + "\n";
        }
        CHECK(all.find("non_negative_difference(last(\"nongreen_energy_wh_total\"))") !=
              std::string::npos);
        CHECK(all.find("non_negative_difference(last(\"green_energy_wh_total\"))") !=
              std::string::npos);
        CHECK(all.find("top(") != std::string::npos);
        CHECK(all.find("\"view\" =~ /^$view$/") != std::string::npos);
        CHECK(all.find("\"tier\"") != std::string::npos);
        const auto& view = d["templating"]["list"][2];
        CHECK(view["name"] == "view");
        CHECK(view["current"]["value"] == "burdened");
    }
    SECTION("devices and health: poll latency, failed requests, device quality, queues and drops") {
        const auto d = load_dashboard("devices-health.json");
        const auto used = fields_used(d);
        for (const char* field :
             {"device.poll_ms", "device.requests_failed", "greenrack_self.devices_stale",
              "greenrack_self.modbus_requests_total", "greenrack_self.modbus_errors_total",
              "greenrack_self.modbus_timeouts_total", "greenrack_self.modbus_exceptions_total",
              "greenrack_self.poll_overruns_total", "greenrack_self.mqtt_published_total",
              "greenrack_self.mqtt_dropped_total", "greenrack_self.influx_queue_lines",
              "greenrack_self.influx_dropped_lines_total"}) {
            INFO(field);
            CHECK(used.count(field) == 1);
        }
        std::string all;
        for (const auto& q : all_queries(d)) {
            all += q + "\n";
        }
        CHECK(all.find("FROM \"device\"") != std::string::npos);
        CHECK(all.find("\"quality\"") != std::string::npos);
    }
}

TEST_CASE("the structural check accepts a minimal dashboard and rejects each kind of mistake",
          "[dashboards][check]") {
    const auto context = dashboards_context();
    {
        const auto problems = check_dashboard(minimal_dashboard(), context);
        INFO(join(problems));
        REQUIRE(problems.empty());
    }
    auto rejects = [&](const std::function<void(json&)>& mutate, const std::string& expected) {
        auto d = minimal_dashboard();
        mutate(d);
        const auto problems = check_dashboard(d, context);
        INFO("expected a problem mentioning: " << expected << "\ngot:\n" << join(problems));
        CHECK(mentions(problems, expected));
    };
    rejects([](json& d) { d["style"] = "dark"; }, "unknown key \"style\"");
    rejects([](json& d) { d.erase("templating"); }, "missing top-level key \"templating\"");
    rejects([](json& d) { d["editable"] = true; }, "editable must be false");
    rejects([](json& d) { d["schemaVersion"] = 36; }, "schemaVersion must be 39");
    rejects([](json& d) { d["panels"][0]["gridPos2"] = d["panels"][0]["gridPos"]; },
            "unknown key \"gridPos2\"");
    rejects([](json& d) { d["panels"][0]["type"] = "graph"; }, "not an allowed panel type");
    rejects([](json& d) { d["panels"][1]["id"] = 1; }, "id 1 used twice");
    rejects([](json& d) { d["panels"][1]["gridPos"]["x"] = 6; }, "overlaps \"Load\"");
    rejects([](json& d) { d["panels"][1]["gridPos"]["w"] = 13; }, "outside the 24-column grid");
    rejects([](json& d) { d["panels"][0]["gridPos"]["h"] = 8.5; }, "integer h, w, x, y");
    rejects([](json& d) { d["panels"][0]["datasource"]["uid"] = "other"; },
            "is not the influxdb uid");
    rejects([](json& d) { d["panels"][0]["targets"][0]["datasource"]["uid"] = "other"; },
            "differs from the panel's");
    rejects([](json& d) { d["panels"][0]["targets"].push_back(d["panels"][0]["targets"][0]); },
            "refId used twice");
    rejects([](json& d) { d["panels"][0]["targets"][0].erase("query"); },
            "query must be a non-empty string");
    rejects([](json& d) { d["panels"][1]["targets"][0]["resultFormat"] = "time_series"; },
            "resultFormat must be table");
    rejects([](json& d) { d["panels"][0]["targets"][0]["alias"] = "$tag_rack"; },
            "does not GROUP BY that tag");
    rejects([](json& d) { d["panels"][0]["title"] = "Load of $rack"; }, "undefined $rack");
    rejects([](json& d) { d["templating"]["list"][0]["refresh"] = 0; }, "refresh must be 1");
    rejects([](json& d) { d["templating"]["list"][0].erase("multi"); }, "multi must be a boolean");
    rejects(
        [](json& d) {
            auto extra = d["templating"]["list"][0];
            extra["name"] = "unused";
            d["templating"]["list"].push_back(extra);
        },
        "$unused is not used by any query");
}

TEST_CASE("the query check rejects names not listed in METRICS.md and unsafe query shapes",
          "[dashboards][check]") {
    const auto context = dashboards_context();
    auto rejects_query = [&](std::size_t panel, const std::string& query,
                             const std::string& expected) {
        auto d = minimal_dashboard();
        d["panels"][panel]["targets"][0]["query"] = query;
        const auto problems = check_dashboard(d, context);
        INFO("query: " << query << "\nexpected a problem mentioning: " << expected << "\ngot:\n"
                       << join(problems));
        CHECK(mentions(problems, expected));
    };
    const std::string where = " WHERE \"site\" =~ /^$site$/ AND $timeFilter";
    rejects_query(0, "SELECT mean(\"load_kw\") FROM \"site\"" + where,
                  "\"load_kw\" is not a field of site");
    rejects_query(0, "SELECT mean(\"load_w\") FROM \"sites\"" + where,
                  "measurement \"sites\" is not listed");
    // A field of another measurement is not good enough.
    rejects_query(0, "SELECT mean(\"poll_ms\") FROM \"site\"" + where,
                  "\"poll_ms\" is not a field of site");
    rejects_query(0, "SELECT mean(\"quality\") FROM \"site\"" + where,
                  "\"quality\" is not a field of site");
    rejects_query(0, "SELECT mean(\"load_w\") FROM \"site\"" + where + " GROUP BY \"rack\"",
                  "\"rack\" is not a tag of site");
    rejects_query(1, "SELECT last(\"it_w\") FROM \"rack\"" + where + " AND \"views\" = 'it'",
                  "\"views\" is not a tag or field of rack");
    rejects_query(0, "SELECT mean(load_w) FROM \"site\"" + where, "bare word 'load_w'");
    rejects_query(0,
                  "SELECT mean(\"load_w\") FROM \"site\" WHERE \"site\" = '$site' AND $timeFilter",
                  "$ in a string literal");
    rejects_query(0, "SELECT mean(\"load_w\") FROM \"site\"" + where + " GROUP BY time($interval)",
                  "$interval outside a /^$var$/ regex");
    rejects_query(
        0, "SELECT mean(\"load_w\") FROM \"site\" WHERE \"site\" =~ /^$rack$/ AND $timeFilter",
        "is not /^$var$/ of a template variable");
    rejects_query(0, "SELECT mean(\"load_w\") FROM \"site\" WHERE \"site\" =~ /^$site$/",
                  "no $timeFilter");
    rejects_query(0, "SELECT mean(\"load_w\") FROM \"site\" WHERE $timeFilter",
                  "does not filter by $site");
    rejects_query(0, "SELECT mean(\"load_w\") FROM \"site\"" + where + " GROUP BY time(5x)",
                  "bad number or duration '5x'");
    rejects_query(0, "SHOW TAG VALUES FROM \"site\" WITH KEY = \"site\"",
                  "does not start with SELECT");
    // Aliases of a subquery may be used by the outer query; unknown names may not.
    {
        auto d = minimal_dashboard();
        d["panels"][0]["targets"][0]["query"] =
            "SELECT sum(\"green\") FROM (SELECT non_negative_difference(last(\"green_energy_wh_"
            "total\")) AS \"green\" FROM \"site\"" +
            where +
            " GROUP BY time($__interval), \"site\" fill(none)) WHERE $timeFilter GROUP BY "
            "\"site\"";
        const auto problems = check_dashboard(d, context);
        INFO(join(problems));
        CHECK(problems.empty());
    }
    rejects_query(0,
                  "SELECT sum(\"greenish\") FROM (SELECT last(\"green_w\") AS \"green\" FROM "
                  "\"site\"" +
                      where + ")",
                  "\"greenish\" is not a field of site");
}
