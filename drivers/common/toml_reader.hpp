#pragma once

#include "drivers/common/config_error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <toml++/toml.h>

namespace greenrack::common {

// Parses a TOML file; a syntax error becomes a ConfigError at the parser's file:line:column.
toml::table parse_toml_file(const std::filesystem::path& path);
// Same for text already in memory; source_name is used as the file name in errors.
toml::table parse_toml_text(std::string_view text, std::string_view source_name);

// Location of a node (its first character) in the file it was parsed from.
SourceLocation location_of(const toml::node& node, const std::string& file);

// Typed, located access to one TOML table. Every getter throws ConfigError pointing at the
// offending value (or at the table for a missing key) with the dotted path of the key, e.g.
//   greenrack.toml:14:11: devices[2].poll_interval: expected a duration like "5s", got "fast"
// Keys that are read are remembered, so reject_unknown_keys() can report typos.
class TableReader {
public:
    TableReader(const toml::table& table, std::string file, std::string path);

    const toml::table& table() const { return *table_; }
    const std::string& file() const { return file_; }
    const std::string& path() const { return path_; }
    // Dotted path of a key inside this table ("mqtt.port", "devices[2].unit_id").
    std::string key_path(std::string_view key) const;

    bool has(std::string_view key) const;

    std::string require_string(std::string_view key) const;
    std::optional<std::string> optional_string(std::string_view key) const;
    std::string get_string(std::string_view key, std::string_view fallback) const;
    // A string that must be one of `allowed` (error lists the allowed values).
    std::string get_enum(std::string_view key, std::string_view fallback,
                         std::initializer_list<std::string_view> allowed) const;

    std::int64_t require_int(std::string_view key,
                             std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                             std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
    std::int64_t get_int(std::string_view key, std::int64_t fallback,
                         std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                         std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
    std::optional<std::int64_t>
    optional_int(std::string_view key, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                 std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;

    // Integers are accepted where a number is expected.
    double require_number(std::string_view key, double min = -std::numeric_limits<double>::max(),
                          double max = std::numeric_limits<double>::max()) const;
    double get_number(std::string_view key, double fallback,
                      double min = -std::numeric_limits<double>::max(),
                      double max = std::numeric_limits<double>::max()) const;
    std::optional<double> optional_number(std::string_view key,
                                          double min = -std::numeric_limits<double>::max(),
                                          double max = std::numeric_limits<double>::max()) const;

    bool get_bool(std::string_view key, bool fallback) const;

    // Durations are strings such as "500ms", "5s", "2m" (see parse_duration).
    std::chrono::milliseconds
    get_duration(std::string_view key, std::chrono::milliseconds fallback,
                 std::chrono::milliseconds min = std::chrono::milliseconds::zero(),
                 std::chrono::milliseconds max = std::chrono::hours(24 * 365)) const;
    std::optional<std::chrono::milliseconds>
    optional_duration(std::string_view key,
                      std::chrono::milliseconds min = std::chrono::milliseconds::zero(),
                      std::chrono::milliseconds max = std::chrono::hours(24 * 365)) const;

    // Sub-tables and arrays; nullptr when absent, error when present with another type.
    const toml::table* optional_table(std::string_view key) const;
    const toml::array* optional_array(std::string_view key) const;
    // Array of tables ([[name]]); empty vector when absent.
    std::vector<TableReader> table_array(std::string_view key) const;
    TableReader sub_table(std::string_view key) const; // required
    std::optional<TableReader> optional_sub_table(std::string_view key) const;

    SourceLocation location() const;
    SourceLocation location_of_key(std::string_view key) const; // value if present, else table
    [[noreturn]] void fail(std::string_view key, const std::string& message) const;
    [[noreturn]] void fail_here(const std::string& message) const;

    // Throws at the first key of this table that no getter asked for ("unknown key").
    void reject_unknown_keys() const;
    // Marks a key as handled without reading it through a getter.
    void mark_used(std::string_view key) const;

private:
    const toml::node* node(std::string_view key) const;
    [[noreturn]] void type_error(std::string_view key, std::string_view expected) const;

    const toml::table* table_;
    std::string file_;
    std::string path_;
    mutable std::set<std::string, std::less<>> used_;
};

// "text" with double quotes around it, for messages.
std::string quote(std::string_view text);
// A URL with any user name and password before '@' in its authority replaced by `***`
// ("http://***@host:8086"), so a message can quote it without leaking a secret.
std::string redact_url_userinfo(std::string_view url);
// True when the URL's authority (between "://" and the next '/') holds a '@'.
bool url_has_userinfo(std::string_view url);
// A number as an operator would write it in the file (default stream formatting).
std::string number_text(double value);

// Short human name of a TOML node's type: "string", "integer", "table", ...
std::string_view toml_type_name(const toml::node& node);

} // namespace greenrack::common
