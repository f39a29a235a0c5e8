#include "drivers/common/toml_reader.hpp"

#include "drivers/common/duration.hpp"

#include <array>
#include <fstream>
#include <sstream>

namespace greenrack::common {

toml::table parse_toml_text(std::string_view text, std::string_view source_name) {
    try {
        return toml::parse(text, source_name);
    } catch (const toml::parse_error& err) {
        SourceLocation where{std::string(source_name), static_cast<int>(err.source().begin.line),
                             static_cast<int>(err.source().begin.column)};
        throw ConfigError(where, "TOML syntax error: " + std::string(err.description()));
    }
}

toml::table parse_toml_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw ConfigError(SourceLocation{path.string(), 0, 0}, "cannot read: is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(SourceLocation{path.string(), 0, 0}, "cannot open file");
    }
    // Bounded, so that /dev/zero or a runaway generator behind a pipe cannot eat all memory.
    constexpr std::size_t max_bytes = 16 * 1024 * 1024;
    std::string text;
    std::array<char, 65536> buffer{};
    while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
        text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_bytes) {
            throw ConfigError(SourceLocation{path.string(), 0, 0},
                              "cannot read: larger than " + std::to_string(max_bytes) + " bytes");
        }
    }
    return parse_toml_text(text, path.string());
}

namespace {

// [begin, end) of the authority of `url`: after "://" (or from the start) to the next '/'.
std::pair<std::size_t, std::size_t> authority_of(std::string_view url) {
    const auto scheme_end = url.find("://");
    const std::size_t begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const auto slash = url.find('/', begin);
    return {begin, slash == std::string_view::npos ? url.size() : slash};
}

} // namespace

bool url_has_userinfo(std::string_view url) {
    const auto [begin, end] = authority_of(url);
    return url.substr(begin, end - begin).find('@') != std::string_view::npos;
}

std::string redact_url_userinfo(std::string_view url) {
    const auto [begin, end] = authority_of(url);
    const auto at = url.substr(begin, end - begin).rfind('@');
    if (at == std::string_view::npos) {
        return std::string(url);
    }
    return std::string(url.substr(0, begin)) + "***" + std::string(url.substr(begin + at));
}

std::string quote(std::string_view text) {
    std::string out = "\"";
    out += text;
    out += '"';
    return out;
}

std::string number_text(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

SourceLocation location_of(const toml::node& node, const std::string& file) {
    const auto& src = node.source();
    return SourceLocation{file, static_cast<int>(src.begin.line),
                          static_cast<int>(src.begin.column)};
}

std::string_view toml_type_name(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::table:
        return "table";
    case toml::node_type::array:
        return "array";
    case toml::node_type::string:
        return "string";
    case toml::node_type::integer:
        return "integer";
    case toml::node_type::floating_point:
        return "float";
    case toml::node_type::boolean:
        return "boolean";
    case toml::node_type::date:
        return "date";
    case toml::node_type::time:
        return "time";
    case toml::node_type::date_time:
        return "date-time";
    case toml::node_type::none:
        break;
    }
    return "nothing";
}

TableReader::TableReader(const toml::table& table, std::string file, std::string path)
    : table_(&table), file_(std::move(file)), path_(std::move(path)) {}

std::string TableReader::key_path(std::string_view key) const {
    if (path_.empty()) {
        return std::string(key);
    }
    return path_ + "." + std::string(key);
}

const toml::node* TableReader::node(std::string_view key) const {
    used_.insert(std::string(key));
    return table_->get(key);
}

bool TableReader::has(std::string_view key) const {
    return table_->contains(key);
}

void TableReader::mark_used(std::string_view key) const {
    used_.insert(std::string(key));
}

SourceLocation TableReader::location() const {
    return location_of(*table_, file_);
}

SourceLocation TableReader::location_of_key(std::string_view key) const {
    if (const toml::node* n = table_->get(key)) {
        return location_of(*n, file_);
    }
    return location();
}

void TableReader::fail(std::string_view key, const std::string& message) const {
    throw ConfigError(location_of_key(key), key_path(key) + ": " + message);
}

void TableReader::fail_here(const std::string& message) const {
    throw ConfigError(location(),
                      (path_.empty() ? std::string("top level") : path_) + ": " + message);
}

void TableReader::type_error(std::string_view key, std::string_view expected) const {
    const toml::node* n = table_->get(key);
    fail(key, "expected " + std::string(expected) + ", got " +
                  std::string(n != nullptr ? toml_type_name(*n) : "nothing"));
}

std::optional<std::string> TableReader::optional_string(std::string_view key) const {
    const toml::node* n = node(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_string()) {
        type_error(key, "a string");
    }
    return std::string(n->as_string()->get());
}

std::string TableReader::require_string(std::string_view key) const {
    auto value = optional_string(key);
    if (!value) {
        fail(key, "required key is missing");
    }
    return *value;
}

std::string TableReader::get_string(std::string_view key, std::string_view fallback) const {
    auto value = optional_string(key);
    return value ? *value : std::string(fallback);
}

std::string TableReader::get_enum(std::string_view key, std::string_view fallback,
                                  std::initializer_list<std::string_view> allowed) const {
    std::string value = get_string(key, fallback);
    for (std::string_view candidate : allowed) {
        if (candidate == value) {
            return value;
        }
    }
    std::string list;
    for (std::string_view candidate : allowed) {
        if (!list.empty()) {
            list += ", ";
        }
        list += quote(candidate);
    }
    fail(key, "unknown value " + quote(value) + " (expected one of " + list + ")");
}

std::optional<std::int64_t> TableReader::optional_int(std::string_view key, std::int64_t min,
                                                      std::int64_t max) const {
    const toml::node* n = node(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_integer()) {
        type_error(key, "an integer");
    }
    std::int64_t value = n->as_integer()->get();
    if (value < min || value > max) {
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      ", got " + std::to_string(value));
    }
    return value;
}

std::int64_t TableReader::require_int(std::string_view key, std::int64_t min,
                                      std::int64_t max) const {
    auto value = optional_int(key, min, max);
    if (!value) {
        fail(key, "required key is missing");
    }
    return *value;
}

std::int64_t TableReader::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) const {
    return optional_int(key, min, max).value_or(fallback);
}

std::optional<double> TableReader::optional_number(std::string_view key, double min,
                                                   double max) const {
    const toml::node* n = node(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    double value = 0.0;
    if (n->is_integer()) {
        value = static_cast<double>(n->as_integer()->get());
    } else if (n->is_floating_point()) {
        value = n->as_floating_point()->get();
    } else {
        type_error(key, "a number");
    }
    if (!(value >= min && value <= max)) {
        fail(key, "must be between " + number_text(min) + " and " + number_text(max) + ", got " +
                      number_text(value));
    }
    return value;
}

double TableReader::require_number(std::string_view key, double min, double max) const {
    auto value = optional_number(key, min, max);
    if (!value) {
        fail(key, "required key is missing");
    }
    return *value;
}

double TableReader::get_number(std::string_view key, double fallback, double min,
                               double max) const {
    return optional_number(key, min, max).value_or(fallback);
}

bool TableReader::get_bool(std::string_view key, bool fallback) const {
    const toml::node* n = node(key);
    if (n == nullptr) {
        return fallback;
    }
    if (!n->is_boolean()) {
        type_error(key, "true or false");
    }
    return n->as_boolean()->get();
}

std::optional<std::chrono::milliseconds>
TableReader::optional_duration(std::string_view key, std::chrono::milliseconds min,
                               std::chrono::milliseconds max) const {
    const toml::node* n = node(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_string()) {
        type_error(key, "a duration string like \"5s\"");
    }
    std::string text(n->as_string()->get());
    auto value = parse_duration(text);
    if (!value) {
        fail(key, "expected a duration like \"500ms\", \"5s\" or \"2m\", got " + quote(text));
    }
    if (*value < min || *value > max) {
        fail(key, "must be between " + std::to_string(min.count()) + "ms and " +
                      std::to_string(max.count()) + "ms, got " + quote(text));
    }
    return value;
}

std::chrono::milliseconds TableReader::get_duration(std::string_view key,
                                                    std::chrono::milliseconds fallback,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max) const {
    return optional_duration(key, min, max).value_or(fallback);
}

const toml::table* TableReader::optional_table(std::string_view key) const {
    const toml::node* n = node(key);
    if (n == nullptr) {
        return nullptr;
    }
    if (!n->is_table()) {
        type_error(key, "a table");
    }
    return n->as_table();
}

const toml::array* TableReader::optional_array(std::string_view key) const {
    const toml::node* n = node(key);
    if (n == nullptr) {
        return nullptr;
    }
    if (!n->is_array()) {
        type_error(key, "an array");
    }
    return n->as_array();
}

std::vector<TableReader> TableReader::table_array(std::string_view key) const {
    std::vector<TableReader> out;
    const toml::array* array = optional_array(key);
    if (array == nullptr) {
        return out;
    }
    std::size_t index = 0;
    for (const toml::node& element : *array) {
        std::string element_path = key_path(key) + "[" + std::to_string(index) + "]";
        if (!element.is_table()) {
            throw ConfigError(location_of(element, file_),
                              element_path + ": expected a table, got " +
                                  std::string(toml_type_name(element)));
        }
        out.emplace_back(*element.as_table(), file_, element_path);
        ++index;
    }
    return out;
}

std::optional<TableReader> TableReader::optional_sub_table(std::string_view key) const {
    const toml::table* t = optional_table(key);
    if (t == nullptr) {
        return std::nullopt;
    }
    return TableReader(*t, file_, key_path(key));
}

TableReader TableReader::sub_table(std::string_view key) const {
    auto t = optional_sub_table(key);
    if (!t) {
        fail(key, "required table is missing");
    }
    return *t;
}

void TableReader::reject_unknown_keys() const {
    for (const auto& [key, value] : *table_) {
        if (used_.find(key.str()) == used_.end()) {
            throw ConfigError(location_of(value, file_),
                              key_path(key.str()) + ": unknown key (misspelt, or not valid here)");
        }
    }
}

} // namespace greenrack::common
