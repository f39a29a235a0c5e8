// TOML config -> validated Config. Every problem is a common::ConfigError located at the
// offending value ("file:line:column: <dotted path>: <problem>"); the reference for every option
// is config/greenrack.toml.
#include "daemon/config/alerts_loader.hpp"
#include "daemon/config/config.hpp"
#include "daemon/config/key_check.hpp"

#include "drivers/common/byte_size.hpp"
#include "drivers/common/config_error.hpp"
#include "drivers/common/toml_reader.hpp"
#include "drivers/modbus/read_planner.hpp"
#include "drivers/profiles/profile_loader.hpp"
#include "drivers/sunspec/role_binding.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>
#include <variant>

namespace greenrack::config {

namespace {

using common::ConfigError;
using common::number_text;
using common::quote;
using common::SourceLocation;
using common::TableReader;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
namespace fs = std::filesystem;

constexpr std::size_t max_id_length = 64;
constexpr std::size_t max_listed = 10;              // names listed in "known: ..." hints
constexpr std::uintmax_t max_secret_bytes = 65'536; // password and token files

// "a, b, c" (at most max_listed names, then ", ...").
std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i == max_listed) {
            out += ", ...";
            break;
        }
        if (i > 0) {
            out += ", ";
        }
        out += names[i];
    }
    return out;
}

// "500ms", "5s", "2m", "1h": the largest unit that divides the value.
std::string format_duration(milliseconds value) {
    const auto ms = value.count();
    if (ms != 0 && ms % 3'600'000 == 0) {
        return std::to_string(ms / 3'600'000) + "h";
    }
    if (ms != 0 && ms % 60'000 == 0) {
        return std::to_string(ms / 60'000) + "m";
    }
    if (ms != 0 && ms % 1'000 == 0) {
        return std::to_string(ms / 1'000) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string line_of(const toml::node& node) {
    return std::to_string(node.source().begin.line);
}

[[noreturn]] void fail_at(const toml::node& node, const std::string& file, const std::string& path,
                          const std::string& message) {
    throw ConfigError(common::location_of(node, file), path + ": " + message);
}

// Ids end up in MQTT topics and metric labels: lower case, no spaces, no topic separators.
bool is_id(std::string_view text, bool allow_dot) {
    if (text.empty() || text.size() > max_id_length) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum || (i > 0 && (c == '_' || c == '-' || (allow_dot && c == '.')))) {
            continue;
        }
        return false;
    }
    return true;
}

std::string id_problem(std::string_view value, bool allow_dot) {
    return "invalid id " + quote(value) + ": use 1 to " + std::to_string(max_id_length) +
           " characters a-z, 0-9, '_'" + (allow_dot ? ", '-' or '.'" : " or '-'") +
           ", starting with a letter or digit";
}

// Problem with an MQTT broker URI, or nullopt when it is usable.
std::optional<std::string> uri_problem(std::string_view uri) {
    constexpr std::array<std::string_view, 6> schemes{"tcp", "ssl", "mqtt", "mqtts", "ws", "wss"};
    const auto scheme_end = uri.find("://");
    if (scheme_end == std::string_view::npos) {
        return "expected <scheme>://<host>:<port> with scheme tcp, ssl, mqtt, mqtts, ws or wss";
    }
    const std::string_view scheme = uri.substr(0, scheme_end);
    if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) {
        return "unknown scheme " + quote(scheme) + " (expected tcp, ssl, mqtt, mqtts, ws or wss)";
    }
    std::string_view rest = uri.substr(scheme_end + 3);
    const auto path_start = rest.find('/');
    if (path_start != std::string_view::npos) {
        if (scheme != "ws" && scheme != "wss") {
            return "a path is only allowed with ws:// and wss://";
        }
        rest = rest.substr(0, path_start);
    }
    std::string_view host = rest;
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') { // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            return std::string("unterminated IPv6 address");
        }
        host = rest.substr(1, close - 1);
        const std::string_view after = rest.substr(close + 1);
        if (!after.empty() && after.front() != ':') {
            return std::string("expected ':' and a port after the IPv6 address");
        }
        port = after.empty() ? after : after.substr(1);
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty()) {
        return std::string("missing host");
    }
    if (host.find_first_of(" \t@") != std::string_view::npos) {
        return "invalid host " + quote(host);
    }
    if (port.empty()) {
        return std::string("missing port (e.g. \"tcp://broker:1883\")");
    }
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
        return "invalid port " + quote(port);
    }
    const int number = std::stoi(std::string(port));
    if (number < 1 || number > 65535) {
        return "port must be between 1 and 65535, got " + std::string(port);
    }
    return std::nullopt;
}

std::optional<std::string> topic_prefix_problem(std::string_view prefix) {
    if (prefix.empty()) {
        return std::string("must not be empty");
    }
    if (prefix.find_first_of("+#") != std::string_view::npos) {
        return "must not contain the MQTT wildcards '+' or '#', got " + quote(prefix);
    }
    if (prefix.front() == '/' || prefix.back() == '/') {
        return "must not start or end with '/', got " + quote(prefix);
    }
    if (prefix.find("//") != std::string_view::npos) {
        return "must not contain an empty level (\"//\"), got " + quote(prefix);
    }
    if (prefix.front() == '$') {
        return "must not start with '$' (reserved for broker topics), got " + quote(prefix);
    }
    if (prefix.find('\0') != std::string_view::npos) {
        return std::string("must not contain a NUL character");
    }
    return std::nullopt;
}

bool is_standard_baud(std::int64_t baud) {
    constexpr std::array<std::int64_t, 13> rates{300,   600,   1200,   2400,   4800,   9600,  19200,
                                                 38400, 57600, 115200, 230400, 460800, 921600};
    return std::find(rates.begin(), rates.end(), baud) != rates.end();
}

// Duration limits shared by buses and devices.
constexpr milliseconds response_timeout_min{10};
constexpr milliseconds response_timeout_max = seconds(60);
constexpr milliseconds pause_max = seconds(60); // connect_delay, request_gap

class Loader {
public:
    explicit Loader(const fs::path& path)
        : path_(path), file_(path.string()), base_dir_(directory_of(path)) {}

    Config load() {
        document_ = common::parse_toml_file(path_);
        const TableReader root(document_, file_, "");
        check_keys(root,
                   {"site", "daemon", "mqtt", "bus", "device", "rack", "accounting", "influxdb",
                    "spool", "prometheus", "alerts", "alert", "alertmanager", "fleet"});

        config_.source = path_;
        load_site(root);
        load_daemon(root);
        load_mqtt(root);
        load_fleet_role(root);
        load_buses(root);
        load_devices(root);
        load_racks(root);
        load_accounting(root);
        load_fleet(root);
        load_influxdb(root);
        load_spool(root);
        load_prometheus(root);
        load_alerts(optional_section(root, "alerts"), table_array(root, "alert"),
                    optional_section(root, "alertmanager"), config_);
        root.reject_unknown_keys();
        return std::move(config_);
    }

private:
    // The config file's directory; for an empty path (fs::absolute would throw) the loader
    // fails with "cannot open file" before it is used.
    static fs::path directory_of(const fs::path& path) {
        std::error_code ec;
        const fs::path absolute = fs::absolute(path, ec);
        return ec ? path.parent_path() : absolute.parent_path();
    }

    // Relative paths in the config are relative to the directory of the config file.
    fs::path resolve(const fs::path& path) const {
        return (path.is_absolute() ? path : base_dir_ / path).lexically_normal();
    }

    // An optional table: a reader over an empty table when absent.
    TableReader optional_section(const TableReader& root, std::string_view key) const {
        if (auto section = root.optional_sub_table(key)) {
            return *section;
        }
        return TableReader(empty_table_, file_, std::string(key));
    }

    // [[key]] tables; a plain [key] table is reported as such.
    std::vector<TableReader> table_array(const TableReader& root, std::string_view key) const {
        const toml::node* node = root.table().get(key);
        if (node != nullptr && !node->is_array()) {
            root.fail(key, "expected an array of tables ([[" + std::string(key) + "]]), got " +
                               std::string(common::toml_type_name(*node)));
        }
        return root.table_array(key);
    }

    // A string that must be a valid id, unique among `seen` (id -> line first defined).
    std::string read_id(const TableReader& reader, std::map<std::string, std::string>& seen,
                        std::string_view kind) const {
        std::string id = reader.require_string("id");
        if (!is_id(id, true)) {
            reader.fail("id", id_problem(id, true));
        }
        const auto [it, inserted] = seen.emplace(id, line_of(*reader.table().get("id")));
        if (!inserted) {
            reader.fail("id", "duplicate " + std::string(kind) + " id " + quote(id) +
                                  " (first defined at line " + it->second + ")");
        }
        return id;
    }

    // A string that must not be empty.
    std::string require_nonempty(const TableReader& reader, std::string_view key) const {
        std::string value = reader.require_string(key);
        if (value.empty()) {
            reader.fail(key, "must not be empty");
        }
        return value;
    }

    void load_site(const TableReader& root) {
        const TableReader site = root.sub_table("site");
        check_keys(site, {"id", "name"});
        config_.site.id = site.require_string("id");
        if (!is_id(config_.site.id, false)) {
            site.fail("id", id_problem(config_.site.id, false));
        }
        config_.site.name = site.get_string("name", config_.site.id);
        if (config_.site.name.empty()) {
            config_.site.name = config_.site.id;
        }
        site.reject_unknown_keys();
    }

    // Device ids of one source kind: listed explicitly (each must exist and have the role), or
    // every device of that role.
    std::vector<std::string> source_devices(const TableReader& section, std::string_view key,
                                            profiles::DeviceRole role) const {
        std::vector<std::string> ids;
        const toml::array* list = section.optional_array(key);
        if (list == nullptr) {
            for (const auto& device : config_.devices) {
                if (device.profile->device_role == role) {
                    ids.push_back(device.id);
                }
            }
            return ids;
        }
        std::size_t index = 0;
        for (const toml::node& element : *list) {
            const std::string path = section.key_path(key) + "[" + std::to_string(index++) + "]";
            if (!element.is_string()) {
                fail_at(element, file_, path,
                        "expected a device id, got " +
                            std::string(common::toml_type_name(element)));
            }
            const std::string& id = element.as_string()->get();
            const DeviceConfig* device = config_.find_device(id);
            if (device == nullptr) {
                fail_at(element, file_, path, "unknown device " + quote(id));
            }
            if (device->profile->device_role != role) {
                fail_at(element, file_, path,
                        quote(id) + " is a " +
                            std::string(profiles::to_string(device->profile->device_role)) +
                            ", not a " + std::string(profiles::to_string(role)));
            }
            if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
                fail_at(element, file_, path, quote(id) + " is listed twice");
            }
            ids.push_back(id);
        }
        return ids;
    }

    void load_accounting(const TableReader& root) {
        const TableReader section = optional_section(root, "accounting");
        check_keys(section, {"enabled",
                             "tick",
                             "allocation",
                             "battery_model",
                             "grid_cfe_share",
                             "emission_factor_location",
                             "emission_factor_residual",
                             "retain_onsite_attributes",
                             "charge_efficiency",
                             "discharge_efficiency",
                             "battery_capacity_wh",
                             "battery_max_discharge_w",
                             "balance_abs_w",
                             "balance_rel",
                             "headroom_horizon",
                             "infrastructure_fraction",
                             "max_hold",
                             "max_span",
                             "counter_resolution_fraction",
                             "publish_delay",
                             "persist_interval",
                             "pv",
                             "wind",
                             "battery",
                             "grid",
                             "facility"});
        AccountingConfig& out = config_.accounting;
        accounting::AccountingSettings& s = out.settings;

        out.enabled = section.get_bool("enabled", out.enabled);
        s.tick = section.get_duration("tick", s.tick, seconds(1), minutes(15));
        if (minutes(15) % s.tick != milliseconds::zero()) {
            section.fail("tick",
                         "must divide 15 minutes exactly (e.g. 1s, 5s, 10s, 30s, 1m), got " +
                             quote(format_duration(s.tick)));
        }
        s.allocation = section.get_enum("allocation", "priority", {"priority", "pool"}) == "pool"
                           ? accounting::Allocation::pool
                           : accounting::Allocation::priority;
        s.battery_model =
            section.get_enum("battery_model", "well_mixed", {"well_mixed", "fifo"}) == "fifo"
                ? accounting::BatteryModel::fifo
                : accounting::BatteryModel::well_mixed;
        s.grid_cfe_share = section.get_number("grid_cfe_share", s.grid_cfe_share, 0.0, 1.0);
        s.ef_avg_g_per_kwh =
            section.get_number("emission_factor_location", s.ef_avg_g_per_kwh, 0.0, 5000.0);
        s.ef_residual_g_per_kwh =
            section.get_number("emission_factor_residual", s.ef_residual_g_per_kwh, 0.0, 5000.0);
        s.retain_onsite_attributes =
            section.get_bool("retain_onsite_attributes", s.retain_onsite_attributes);
        s.charge_efficiency =
            section.get_number("charge_efficiency", s.charge_efficiency, 0.01, 1.0);
        s.discharge_efficiency =
            section.get_number("discharge_efficiency", s.discharge_efficiency, 0.01, 1.0);
        if (auto capacity = section.optional_number("battery_capacity_wh", 1.0, 1e12)) {
            s.battery_capacity_wh = capacity;
        }
        if (auto power = section.optional_number("battery_max_discharge_w", 0.0, 1e12)) {
            s.battery_max_discharge_w = power;
        }
        s.balance_abs_w = section.get_number("balance_abs_w", s.balance_abs_w, 0.0, 1e9);
        s.balance_rel = section.get_number("balance_rel", s.balance_rel, 0.0, 1.0);
        s.headroom_horizon =
            section.get_duration("headroom_horizon", s.headroom_horizon, minutes(1), hours(48));
        s.infrastructure_fraction =
            section.get_number("infrastructure_fraction", s.infrastructure_fraction, 0.0, 10.0);
        out.max_hold = section.get_duration("max_hold", out.max_hold, seconds(1), minutes(10));
        out.max_span = section.get_duration("max_span", out.max_span, seconds(1), hours(24));
        out.counter_resolution_fraction = section.get_number(
            "counter_resolution_fraction", out.counter_resolution_fraction, 0.0, 1.0);
        out.publish_delay =
            section.get_duration("publish_delay", out.publish_delay, milliseconds(0), minutes(5));
        out.persist_interval =
            section.get_duration("persist_interval", out.persist_interval, seconds(1), hours(1));
        if (out.persist_interval > minutes(1)) {
            section.fail("persist_interval", "must be at most 1m so a crash loses at most a "
                                             "minute of totals, got " +
                                                 quote(format_duration(out.persist_interval)));
        }

        using profiles::DeviceRole;
        out.pv = source_devices(section, "pv", DeviceRole::pv_inverter);
        out.wind = source_devices(section, "wind", DeviceRole::wind_turbine);
        out.battery = source_devices(section, "battery", DeviceRole::battery);
        out.grid = source_devices(section, "grid", DeviceRole::grid_meter);
        out.facility = source_devices(section, "facility", DeviceRole::facility_meter);

        // Metering category (iPUE label): 3 when every rack is measured at PDU outlets.
        bool all_outlets = !config_.racks.empty();
        s.racks.clear();
        for (const auto& rack : config_.racks) {
            s.racks.push_back(accounting::RackSettings{rack.id, rack.tier});
            for (const auto& member : rack.members) {
                all_outlets = all_outlets && !member.outlets.empty();
            }
        }
        s.metering_category = all_outlets ? 3 : 2;
        section.reject_unknown_keys();
    }

    void load_daemon(const TableReader& root) {
        const TableReader daemon = optional_section(root, "daemon");
        check_keys(daemon, {"state_directory", "log_level", "profile_dirs"});
        DaemonConfig& out = config_.daemon;

        const std::string state_directory =
            daemon.get_string("state_directory", out.state_directory.string());
        if (state_directory.empty()) {
            daemon.fail("state_directory", "must not be empty");
        }
        out.state_directory = resolve(state_directory);

        out.log_level =
            daemon.get_enum("log_level", out.log_level,
                            {"trace", "debug", "info", "warn", "error", "critical", "off"});

        out.profile_dirs.clear();
        if (const toml::array* dirs = daemon.optional_array("profile_dirs")) {
            if (dirs->empty()) {
                daemon.fail("profile_dirs", "must list at least one directory");
            }
            std::size_t index = 0;
            for (const toml::node& element : *dirs) {
                const std::string path =
                    daemon.key_path("profile_dirs") + "[" + std::to_string(index++) + "]";
                if (!element.is_string()) {
                    fail_at(element, file_, path,
                            "expected a string, got " +
                                std::string(common::toml_type_name(element)));
                }
                const std::string& dir = element.as_string()->get();
                if (dir.empty()) {
                    fail_at(element, file_, path, "must not be empty");
                }
                out.profile_dirs.push_back(resolve(dir));
            }
        } else {
            out.profile_dirs = {resolve("profiles"), resolve("/usr/share/greenrack/profiles")};
        }
        daemon.reject_unknown_keys();
    }

    void load_mqtt(const TableReader& root) {
        const TableReader mqtt = optional_section(root, "mqtt");
        check_keys(mqtt, {"enabled", "uri", "client_id", "topic_prefix", "qos", "keepalive",
                          "reconnect_min", "reconnect_max", "max_inflight", "username", "password",
                          "password_file", "line_protocol_topic", "ca_file", "cert_file",
                          "key_file", "key_password_file", "verify_hostname"});
        MqttConfig& out = config_.mqtt;

        out.enabled = mqtt.get_bool("enabled", out.enabled);
        out.uri = mqtt.get_string("uri", out.uri);
        // Not echoed: user:password@ would put the password in the error message.
        if (common::url_has_userinfo(out.uri)) {
            mqtt.fail("uri", "credentials in the broker URI are not supported (they would end up "
                             "in logs): use mqtt.username and mqtt.password_file");
        }
        if (auto problem = uri_problem(out.uri)) {
            mqtt.fail("uri", "invalid broker URI " + quote(out.uri) + ": " + *problem);
        }
        out.client_id = mqtt.get_string("client_id", "");
        client_id_explicit_ = !out.client_id.empty();
        if (out.client_id.empty()) {
            out.client_id = "greenrackd-" + config_.site.id;
        } else if (out.client_id.size() > 256 ||
                   out.client_id.find_first_of(" \t\r\n") != std::string::npos) {
            mqtt.fail("client_id",
                      "must be at most 256 characters without spaces, got " + quote(out.client_id));
        }
        out.topic_prefix = mqtt.get_string("topic_prefix", out.topic_prefix);
        if (auto problem = topic_prefix_problem(out.topic_prefix)) {
            mqtt.fail("topic_prefix", *problem);
        }
        out.qos = static_cast<int>(mqtt.get_int("qos", out.qos, 0, 2));

        out.keepalive = mqtt.get_duration("keepalive", out.keepalive, seconds(1), seconds(65535));
        if (out.keepalive.count() % 1000 != 0) {
            mqtt.fail("keepalive", "must be a whole number of seconds, got " +
                                       quote(format_duration(out.keepalive)));
        }
        out.reconnect_min =
            mqtt.get_duration("reconnect_min", out.reconnect_min, milliseconds(100), hours(1));
        out.reconnect_max =
            mqtt.get_duration("reconnect_max", out.reconnect_max, milliseconds(100), hours(1));
        if (out.reconnect_max < out.reconnect_min) {
            mqtt.fail(mqtt.has("reconnect_max") ? "reconnect_max" : "reconnect_min",
                      "reconnect_max (" + format_duration(out.reconnect_max) +
                          ") must not be shorter than reconnect_min (" +
                          format_duration(out.reconnect_min) + ")");
        }
        out.max_inflight =
            static_cast<int>(mqtt.get_int("max_inflight", out.max_inflight, 1, 65'535));

        out.username = mqtt.get_string("username", "");
        const auto password = mqtt.optional_string("password");
        const auto password_file = mqtt.optional_string("password_file");
        if (password && password_file) {
            mqtt.fail("password_file", "set either password or password_file, not both");
        }
        std::string_view password_key = "password";
        if (password) {
            out.password = *password;
        } else if (password_file) {
            password_key = "password_file";
            out.password = read_password_file(mqtt, *password_file);
        }
        if (!out.password.empty() && out.username.empty()) {
            mqtt.fail(password_key, "a password needs a username (mqtt.username)");
        }
        out.line_protocol_topic = mqtt.get_string("line_protocol_topic", "");
        if (!out.line_protocol_topic.empty() &&
            out.line_protocol_topic.find_first_of("+#") != std::string::npos) {
            mqtt.fail("line_protocol_topic", "must not contain the wildcards + or #, got " +
                                                 quote(out.line_protocol_topic));
        }

        // TLS: only with a TLS URI; every file must be readable PEM now, not at the first
        // connect attempt in the background.
        const std::string scheme = out.uri.substr(0, out.uri.find("://"));
        out.tls = scheme == "ssl" || scheme == "mqtts" || scheme == "wss";
        constexpr std::array<std::string_view, 5> tls_keys{"ca_file", "cert_file", "key_file",
                                                           "key_password_file", "verify_hostname"};
        if (!out.tls) {
            for (const std::string_view key : tls_keys) {
                if (mqtt.has(key)) {
                    mqtt.fail(key, "only valid with a TLS broker URI (ssl://, mqtts:// or "
                                   "wss://), but mqtt.uri is " +
                                       quote(out.uri));
                }
            }
        }
        // The file named by `key` (resolved against the config's directory; empty path when
        // the key is absent), checked to be a readable PEM file; its text goes to `text`.
        const auto pem_file = [&](std::string_view key, std::string& text) -> fs::path {
            const auto name = mqtt.optional_string(key);
            if (!name) {
                return {};
            }
            if (name->empty()) {
                mqtt.fail(key, "must not be empty (leave it out instead)");
            }
            const fs::path path = resolve(*name);
            std::error_code ec;
            if (fs::is_directory(path, ec)) {
                mqtt.fail(key, "cannot read " + quote(path.string()) + ": is a directory");
            }
            constexpr std::uintmax_t max_pem_bytes = 1 << 20; // a CA bundle is ~200 kB
            if (const auto status = fs::status(path, ec); !ec) {
                if (!fs::is_regular_file(status)) {
                    mqtt.fail(key, "cannot read " + quote(path.string()) + ": not a regular file");
                }
                if (const auto size = fs::file_size(path, ec); !ec && size > max_pem_bytes) {
                    mqtt.fail(key, "cannot read " + quote(path.string()) + ": larger than " +
                                       std::to_string(max_pem_bytes) + " bytes");
                }
            }
            std::ifstream in(path, std::ios::binary);
            if (!in) {
                const std::error_code error(errno, std::generic_category());
                mqtt.fail(key, "cannot read " + quote(path.string()) + ": " + error.message());
            }
            std::ostringstream buffer;
            buffer << in.rdbuf();
            text = buffer.str();
            if (text.find("-----BEGIN ") == std::string::npos) {
                mqtt.fail(key,
                          quote(path.string()) + " is not a PEM file (no \"-----BEGIN\" line)");
            }
            return path;
        };
        const auto has_key = [](const std::string& pem) {
            return pem.find("PRIVATE KEY-----") != std::string::npos;
        };
        const auto encrypted = [](const std::string& pem) {
            return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos ||
                   pem.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
        };
        std::string ca_pem;
        std::string cert_pem;
        std::string key_pem;
        out.ca_file = pem_file("ca_file", ca_pem);
        if (!ca_pem.empty() && ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
            mqtt.fail("ca_file", quote(out.ca_file.string()) + " holds no certificate");
        }
        out.cert_file = pem_file("cert_file", cert_pem);
        if (!cert_pem.empty() &&
            cert_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
            mqtt.fail("cert_file", quote(out.cert_file.string()) + " holds no certificate");
        }
        out.key_file = pem_file("key_file", key_pem);
        if (!out.key_file.empty() && out.cert_file.empty()) {
            mqtt.fail("key_file", "a client key needs its certificate (mqtt.cert_file)");
        }
        if (!key_pem.empty() && !has_key(key_pem)) {
            mqtt.fail("key_file", quote(out.key_file.string()) + " holds no private key");
        }
        if (!cert_pem.empty() && key_pem.empty() && !has_key(cert_pem)) {
            mqtt.fail("cert_file",
                      quote(out.cert_file.string()) + " holds no private key: set mqtt.key_file");
        }
        const std::string& client_key = key_pem.empty() ? cert_pem : key_pem;
        if (mqtt.has("key_password_file")) {
            if (out.cert_file.empty()) {
                mqtt.fail("key_password_file",
                          "needs a client key (mqtt.cert_file, mqtt.key_file)");
            }
            if (!encrypted(client_key)) {
                mqtt.fail("key_password_file", "the client key is not encrypted");
            }
            out.key_password = read_password_file(
                mqtt, mqtt.optional_string("key_password_file").value_or(""), "key_password_file");
        } else if (encrypted(client_key)) {
            mqtt.fail(key_pem.empty() ? "cert_file" : "key_file",
                      "the client key is encrypted: set mqtt.key_password_file");
        }
        out.verify_hostname = mqtt.get_bool("verify_hostname", out.verify_hostname);
        mqtt.reject_unknown_keys();
    }

    // A secret given inline or in a file (e.g. a systemd credential), not both.
    std::string read_secret(const TableReader& reader, std::string_view key,
                            std::string_view file_key) const {
        const auto inline_value = reader.optional_string(key);
        const auto file = reader.optional_string(file_key);
        if (inline_value && file) {
            reader.fail(file_key, "set either " + std::string(key) + " or " +
                                      std::string(file_key) + ", not both");
        }
        if (file) {
            return read_password_file(reader, *file, file_key);
        }
        return inline_value.value_or("");
    }

    void load_spool(const TableReader& root) {
        const TableReader spool = optional_section(root, "spool");
        check_keys(spool, {"max_size", "max_age", "sync_interval"});
        SpoolConfig& out = config_.spool;
        const std::string size =
            spool.get_string("max_size", common::format_byte_size(out.max_size));
        const auto bytes = common::parse_byte_size(size);
        constexpr std::uint64_t min_size = 64 * 1024;
        if (!bytes) {
            spool.fail("max_size",
                       "expected a size such as \"256MiB\", \"2GiB\" or \"500MB\", got " +
                           quote(size));
        }
        if (*bytes < min_size) {
            spool.fail("max_size", "must be at least 64KiB, got " + quote(size));
        }
        out.max_size = *bytes;
        out.max_age = spool.get_duration("max_age", out.max_age, minutes(1), hours(24 * 366));
        out.sync_interval =
            spool.get_duration("sync_interval", out.sync_interval, milliseconds(0), minutes(1));
        spool.reject_unknown_keys();
    }

    void load_influxdb(const TableReader& root) {
        const TableReader influx = optional_section(root, "influxdb");
        check_keys(influx, {"enabled", "url", "api", "database", "retention_policy", "username",
                            "password", "password_file", "org", "bucket", "token", "token_file",
                            "batch_lines", "flush_interval", "timeout", "retry_min", "retry_max"});
        InfluxConfig& out = config_.influxdb;
        out.enabled = influx.get_bool("enabled", out.enabled);
        out.url = influx.get_string("url", out.url);
        {
            const std::string_view scheme = "http://";
            const auto colon = out.url.rfind(':');
            if (common::url_has_userinfo(out.url)) {
                influx.fail("url", "a user name or password in the URL would end up in logs: "
                                   "use username and password_file (or token_file), got " +
                                       quote(common::redact_url_userinfo(out.url)));
            }
            if (out.url.rfind(scheme, 0) != 0 || colon < scheme.size() ||
                out.url.size() == colon + 1 ||
                out.url.find_first_not_of("0123456789/", colon + 1) != std::string::npos) {
                influx.fail("url", "expected http://host:port, got " + quote(out.url));
            }
        }
        out.api =
            influx.get_enum("api", "v1", {"v1", "v2"}) == "v2" ? InfluxApi::v2 : InfluxApi::v1;
        out.database = influx.get_string("database", out.database);
        out.retention_policy = influx.get_string("retention_policy", "");
        out.username = influx.get_string("username", "");
        out.password = read_secret(influx, "password", "password_file");
        out.org = influx.get_string("org", "");
        out.bucket = influx.get_string("bucket", "");
        out.token = read_secret(influx, "token", "token_file");
        if (out.enabled && out.api == InfluxApi::v1 && out.database.empty()) {
            influx.fail("database", "must not be empty for api = \"v1\"");
        }
        if (out.enabled && out.api == InfluxApi::v2 && (out.org.empty() || out.bucket.empty())) {
            influx.fail(out.org.empty() ? "org" : "bucket", "api = \"v2\" needs org and bucket");
        }
        out.batch_lines = static_cast<std::size_t>(influx.get_int(
            "batch_lines", static_cast<std::int64_t>(out.batch_lines), 1, 1'000'000));
        out.flush_interval = influx.get_duration("flush_interval", out.flush_interval,
                                                 milliseconds(10), minutes(10));
        out.timeout = influx.get_duration("timeout", out.timeout, milliseconds(100), minutes(5));
        out.retry_min = influx.get_duration("retry_min", out.retry_min, milliseconds(10), hours(1));
        out.retry_max = influx.get_duration("retry_max", out.retry_max, milliseconds(10), hours(1));
        if (out.retry_max < out.retry_min) {
            influx.fail("retry_max", "must not be shorter than retry_min");
        }
        influx.reject_unknown_keys();
    }

    void load_prometheus(const TableReader& root) {
        const TableReader prometheus = optional_section(root, "prometheus");
        check_keys(prometheus, {"enabled", "listen"});
        PrometheusConfig& out = config_.prometheus;
        out.enabled = prometheus.get_bool("enabled", out.enabled);
        const std::string listen = prometheus.get_string("listen", "127.0.0.1:9464");
        const auto colon = listen.rfind(':');
        std::int64_t port = -1;
        if (colon != std::string::npos && colon + 1 < listen.size() &&
            listen.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
            listen.size() - colon - 1 <= 5) {
            port = std::stoll(listen.substr(colon + 1));
        }
        if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
            prometheus.fail("listen", "expected address:port such as \"127.0.0.1:9464\", got " +
                                          quote(listen));
        }
        out.listen_address = listen.substr(0, colon);
        if (out.listen_address.size() > 2 && out.listen_address.front() == '[' &&
            out.listen_address.back() == ']') {
            out.listen_address = out.listen_address.substr(1, out.listen_address.size() - 2);
        }
        out.listen_port = static_cast<std::uint16_t>(port);
        prometheus.reject_unknown_keys();
    }

    // The whole file, minus one trailing newline ("\n" or "\r\n").
    std::string read_password_file(const TableReader& mqtt, const std::string& name,
                                   std::string_view key = "password_file") const {
        if (name.empty()) {
            mqtt.fail(key, "must not be empty");
        }
        const fs::path path = resolve(name);
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            mqtt.fail(key, "cannot read " + quote(path.string()) + ": is a directory");
        }
        // Not a device, FIFO or socket (reading /dev/zero would never end), and not a file far
        // too large to be a secret.
        if (const auto status = fs::status(path, ec); !ec) {
            if (!fs::is_regular_file(status)) {
                mqtt.fail(key, "cannot read " + quote(path.string()) + ": not a regular file");
            }
            if (const auto size = fs::file_size(path, ec); !ec && size > max_secret_bytes) {
                mqtt.fail(key, "cannot read " + quote(path.string()) + ": larger than " +
                                   std::to_string(max_secret_bytes) + " bytes, not a secret");
            }
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            const std::error_code error(errno, std::generic_category());
            mqtt.fail(key, "cannot read " + quote(path.string()) + ": " + error.message());
        }
        std::ostringstream buffer;
        buffer << in.rdbuf();
        std::string password = buffer.str();
        if (!password.empty() && password.back() == '\n') {
            password.pop_back();
            if (!password.empty() && password.back() == '\r') {
                password.pop_back();
            }
        }
        if (password.empty()) {
            mqtt.fail(key, quote(path.string()) + " is empty");
        }
        return password;
    }

    void load_buses(const TableReader& root) {
        std::map<std::string, std::string> seen;
        for (const TableReader& bus : table_array(root, "bus")) {
            check_keys(bus, {"id", "type", "host", "port", "device", "baud", "parity", "data_bits",
                             "stop_bits", "rs485", "response_timeout", "connect_delay",
                             "request_gap", "connect_timeout", "reconnect_min", "reconnect_max",
                             "max_consecutive_failures"});
            BusConfig out;
            out.id = read_id(bus, seen, "bus");
            out.type =
                bus.get_enum("type", "tcp", {"tcp", "rtu"}) == "rtu" ? BusType::rtu : BusType::tcp;
            if (out.type == BusType::tcp) {
                for (std::string_view key :
                     {"device", "baud", "parity", "data_bits", "stop_bits", "rs485"}) {
                    if (bus.has(key)) {
                        bus.fail(key, "only valid for an rtu bus (this bus is tcp)");
                    }
                }
                out.host = require_nonempty(bus, "host");
                if (out.host.find_first_of(" \t/") != std::string::npos) {
                    bus.fail("host", "expected a host name or IP address, got " + quote(out.host));
                }
                out.port = static_cast<std::uint16_t>(bus.get_int("port", out.port, 1, 65535));
            } else {
                for (std::string_view key : {"host", "port"}) {
                    if (bus.has(key)) {
                        bus.fail(key, "only valid for a tcp bus (this bus is rtu)");
                    }
                }
                out.device = require_nonempty(bus, "device");
                out.baud = static_cast<int>(bus.get_int("baud", out.baud, 1, 4'000'000));
                if (!is_standard_baud(out.baud)) {
                    bus.fail("baud", "unsupported baud rate " + std::to_string(out.baud) +
                                         " (expected 300, 600, 1200, 2400, 4800, 9600, 19200, "
                                         "38400, 57600, 115200, 230400, 460800 or 921600)");
                }
                out.parity = bus.get_enum("parity", "N", {"N", "E", "O"}).front();
                out.data_bits = static_cast<int>(bus.get_int("data_bits", out.data_bits, 7, 8));
                out.stop_bits = static_cast<int>(bus.get_int("stop_bits", out.stop_bits, 1, 2));
                out.rs485 = bus.get_bool("rs485", out.rs485);
            }
            out.timing = read_timing(bus, out.timing);
            out.connect_timeout = bus.get_duration("connect_timeout", out.connect_timeout,
                                                   milliseconds(100), seconds(60));
            out.reconnect_min =
                bus.get_duration("reconnect_min", out.reconnect_min, milliseconds(100), hours(1));
            out.reconnect_max =
                bus.get_duration("reconnect_max", out.reconnect_max, milliseconds(100), hours(1));
            if (out.reconnect_max < out.reconnect_min) {
                bus.fail(bus.has("reconnect_max") ? "reconnect_max" : "reconnect_min",
                         "reconnect_max (" + format_duration(out.reconnect_max) +
                             ") must not be shorter than reconnect_min (" +
                             format_duration(out.reconnect_min) + ")");
            }
            out.max_consecutive_failures = static_cast<int>(
                bus.get_int("max_consecutive_failures", out.max_consecutive_failures, 1, 100));
            bus.reject_unknown_keys();
            bus_tables_.push_back(bus);
            config_.buses.push_back(std::move(out));
        }
    }

    // response_timeout / connect_delay / request_gap, each defaulting to `defaults`.
    static Timing read_timing(const TableReader& reader, const Timing& defaults) {
        Timing out;
        out.response_timeout = reader.get_duration("response_timeout", defaults.response_timeout,
                                                   response_timeout_min, response_timeout_max);
        out.connect_delay = reader.get_duration("connect_delay", defaults.connect_delay,
                                                milliseconds::zero(), pause_max);
        out.request_gap = reader.get_duration("request_gap", defaults.request_gap,
                                              milliseconds::zero(), pause_max);
        return out;
    }

    // [fleet] role first: the devices need it (every device names its shard in a fleet).
    void load_fleet_role(const TableReader& root) {
        const TableReader fleet = optional_section(root, "fleet");
        const std::string role = fleet.get_string("role", "single");
        if (role == "shard") {
            config_.fleet.role = FleetRole::shard;
        } else if (role == "aggregator") {
            config_.fleet.role = FleetRole::aggregator;
        } else if (role != "single") {
            fleet.fail("role", "unknown role " + quote(role) + " (single, shard or aggregator)");
        }
    }

    void load_fleet(const TableReader& root) {
        const TableReader fleet = optional_section(root, "fleet");
        check_keys(fleet, {"role", "shard", "instance", "deadline", "correction_window",
                           "lease_ttl", "lease_renew"});
        FleetConfig& out = config_.fleet;
        fleet.get_string("role", "single"); // read (and checked) by load_fleet_role
        std::set<std::string> shards;
        for (const DeviceConfig& device : config_.devices) {
            if (!device.shard.empty()) {
                shards.insert(device.shard);
            }
        }
        out.shards.assign(shards.begin(), shards.end());
        const bool fleet_role = out.role != FleetRole::single;
        if (fleet_role && !config_.mqtt.enabled) {
            fleet.fail("role", "a fleet shard or aggregator exchanges the ticks over MQTT: "
                               "mqtt.enabled must be true");
        }
        if (fleet_role && config_.mqtt.qos < 1) {
            fleet.fail("role", "a fleet shard or aggregator needs mqtt.qos = 1 or 2 (the tick "
                               "parts are delivered at least once), got 0");
        }
        if (out.role == FleetRole::aggregator && !fleet.has("instance") && client_id_explicit_) {
            out.instance = config_.mqtt.client_id;
        }
        out.instance = fleet.get_string("instance", out.instance);
        if (!is_id(out.instance, false)) {
            fleet.fail("instance", id_problem(out.instance, false));
        }
        if (fleet.has("instance") && out.role != FleetRole::aggregator) {
            fleet.fail("instance", "only with role = \"aggregator\"");
        }
        if (out.role == FleetRole::shard) {
            out.shard = require_nonempty(fleet, "shard");
            if (shards.count(out.shard) == 0) {
                fleet.fail("shard",
                           "no [[device]] has shard = " + quote(out.shard) +
                               (out.shards.empty() ? std::string()
                                                   : " (known: " + join(out.shards) + ")"));
            }
        } else if (fleet.has("shard")) {
            fleet.fail("shard", "only with role = \"shard\" (a device's shard is set in its "
                                "[[device]])");
        }
        if (out.role == FleetRole::aggregator && !config_.accounting.enabled) {
            fleet.fail("role", "an aggregator runs the accounting: [accounting] enabled must "
                               "not be false");
        }
        out.deadline = fleet.get_duration("deadline", out.deadline, milliseconds(0), minutes(10));
        out.correction_window = fleet.get_duration("correction_window", out.correction_window,
                                                   milliseconds(0), hours(24));
        out.lease_ttl = fleet.get_duration("lease_ttl", out.lease_ttl, seconds(1), minutes(10));
        out.lease_renew =
            fleet.get_duration("lease_renew", out.lease_renew, milliseconds(100), minutes(5));
        if (out.lease_renew * 2 > out.lease_ttl) {
            fleet.fail(fleet.has("lease_renew") ? "lease_renew" : "lease_ttl",
                       "lease_renew (" + format_duration(out.lease_renew) +
                           ") must be at most half of lease_ttl (" +
                           format_duration(out.lease_ttl) +
                           "), or one late renewal hands the site to the standby");
        }
        if (!client_id_explicit_ && out.role == FleetRole::shard) {
            config_.mqtt.client_id = "greenrackd-" + config_.site.id + "-" + out.shard;
        } else if (!client_id_explicit_ && out.role == FleetRole::aggregator) {
            config_.mqtt.client_id = "greenrackd-" + config_.site.id + "-" + out.instance;
        }
        fleet.reject_unknown_keys();
    }

    std::vector<std::string> ids_of_buses() const {
        std::vector<std::string> ids;
        for (const BusConfig& bus : config_.buses) {
            ids.push_back(bus.id);
        }
        return ids;
    }

    void load_devices(const TableReader& root) {
        std::map<std::string, std::string> seen;
        // (bus id, unit id) -> device id
        std::map<std::pair<std::string, int>, std::string> units;
        for (const TableReader& device : table_array(root, "device")) {
            check_keys(device, {"id", "bus", "unit_id", "profile", "role", "invert_power",
                                "poll_interval", "response_timeout", "connect_delay", "request_gap",
                                "max_registers", "max_gap", "shard"});
            DeviceConfig out;
            out.id = read_id(device, seen, "device");

            out.bus = device.require_string("bus");
            const BusConfig* bus = config_.find_bus(out.bus);
            if (bus == nullptr) {
                device.fail("bus",
                            "unknown bus " + quote(out.bus) +
                                (config_.buses.empty() ? std::string(" (no [[bus]] is defined)")
                                                       : " (known: " + join(ids_of_buses()) + ")"));
            }

            const std::int64_t unit_id = device.require_int("unit_id");
            const bool rtu = bus->type == BusType::rtu;
            const std::int64_t unit_min = rtu ? 1 : 0;
            const std::int64_t unit_max = rtu ? 247 : 255;
            if (unit_id < unit_min || unit_id > unit_max) {
                device.fail("unit_id", "must be between " + std::to_string(unit_min) + " and " +
                                           std::to_string(unit_max) + " on " +
                                           (rtu ? "rtu" : "tcp") + " bus " + quote(bus->id) +
                                           ", got " + std::to_string(unit_id));
            }
            out.unit_id = static_cast<int>(unit_id);
            const auto [unit, inserted] = units.emplace(std::pair(bus->id, out.unit_id), out.id);
            if (!inserted) {
                device.fail("unit_id", "unit id " + std::to_string(out.unit_id) +
                                           " is already used on bus " + quote(bus->id) +
                                           " by device " + quote(unit->second));
            }

            out.profile_name = device.require_string("profile");
            out.profile = out.profile_name == sunspec::profile_name ? sunspec_profile(device)
                                                                    : profile(device);
            if (!out.profile->discovered) {
                for (std::string_view key : {"role", "invert_power"}) {
                    if (device.has(key)) {
                        device.fail(key, "only for profile = \"sunspec\" (a profile file sets "
                                         "its device_role, and a point's sign with scale = -1)");
                    }
                }
            } else if (device.has("max_gap")) {
                device.fail("max_gap", "not used with profile = \"sunspec\": each SunSpec model "
                                       "is read in as few requests as max_registers allows");
            }
            out.invert_power = device.get_bool("invert_power", false);
            out.shard = device.get_string("shard", "");
            if (device.has("shard") && !is_id(out.shard, false)) {
                device.fail("shard", id_problem(out.shard, false));
            }
            if (out.shard.empty() && config_.fleet.role != FleetRole::single) {
                device.fail_here("device " + quote(out.id) + " has no shard: with fleet.role = " +
                                 quote(std::string(to_string(config_.fleet.role))) +
                                 " every device needs shard = \"<id>\" (the daemon that polls it)");
            }

            out.poll_interval = device.get_duration("poll_interval", out.poll_interval,
                                                    milliseconds(100), hours(1));
            out.timing = read_timing(device, bus->timing);
            out.max_registers = static_cast<std::uint16_t>(device.get_int(
                "max_registers", out.profile->max_registers, 1, modbus::max_read_registers));
            out.max_gap = static_cast<std::uint16_t>(
                device.get_int("max_gap", out.profile->max_gap, 0, modbus::max_read_registers - 1));
            if (!out.profile->discovered) {
                check_plan(device, out);
            }
            device.reject_unknown_keys();
            config_.devices.push_back(std::move(out));
        }
        if (config_.devices.empty()) {
            root.fail("device", "no devices configured (add at least one [[device]])");
        }
        for (std::size_t i = 0; i < config_.buses.size(); ++i) {
            const std::string& id = config_.buses[i].id;
            const bool used =
                std::any_of(config_.devices.begin(), config_.devices.end(),
                            [&id](const DeviceConfig& device) { return device.bus == id; });
            if (!used) {
                bus_tables_[i].fail_here("no [[device]] uses bus " + quote(id) +
                                         " (remove it or comment it out)");
            }
        }
    }

    // profile = "sunspec": the points of the device's `role`; its register map is discovered
    // on the device at run time (drivers/sunspec/role_binding.hpp).
    std::shared_ptr<const profiles::DeviceProfile> sunspec_profile(const TableReader& device) {
        const std::string text = device.require_string("role");
        const auto role = profiles::parse_device_role(text);
        if (!role || !sunspec::supports_role(*role)) {
            device.fail("role", "unknown role " + quote(text) +
                                    " for a SunSpec device (pv_inverter, wind_turbine, battery, "
                                    "grid_meter or facility_meter)");
        }
        auto& cached = sunspec_profiles_[static_cast<std::size_t>(*role)];
        if (!cached) {
            cached = std::make_shared<const profiles::DeviceProfile>(sunspec::role_profile(*role));
        }
        return cached;
    }

    // Finds and loads the device's profile (each profile file is loaded once).
    std::shared_ptr<const profiles::DeviceProfile> profile(const TableReader& device) {
        const std::string name = device.require_string("profile");
        const bool valid_name =
            !name.empty() &&
            name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
        if (!valid_name) {
            device.fail("profile", "invalid profile name " + quote(name) +
                                       " (the profile file name without .toml: lower-case "
                                       "letters, digits and '_' only)");
        }
        if (auto it = profiles_.find(name); it != profiles_.end()) {
            return it->second;
        }
        const std::string file_name = name + ".toml";
        std::error_code ec;
        const bool found = std::any_of(
            config_.daemon.profile_dirs.begin(), config_.daemon.profile_dirs.end(),
            [&](const fs::path& dir) { return fs::is_regular_file(dir / file_name, ec); });
        if (!found) {
            std::vector<std::string> dirs;
            std::set<std::string> available;
            for (const fs::path& dir : config_.daemon.profile_dirs) {
                dirs.push_back(dir.string());
                for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
                    if (it->path().extension() == ".toml") {
                        available.insert(it->path().stem().string());
                    }
                }
                ec.clear();
            }
            std::string message = "unknown profile " + quote(name) + ": no " + file_name +
                                  " in daemon.profile_dirs (" + join(dirs) + ")";
            if (!available.empty()) {
                message += "; available: " + join({available.begin(), available.end()});
            }
            device.fail("profile", message);
        }
        auto loaded = profiles::find_profile(name, config_.daemon.profile_dirs,
                                             device.location_of_key("profile"));
        profiles_.emplace(name, loaded);
        return loaded;
    }

    // The profile's points must be readable with the device's request limits.
    void check_plan(const TableReader& device, const DeviceConfig& out) const {
        const modbus::PlanOptions options{out.max_registers, out.max_gap,
                                          out.profile->even_alignment};
        const auto plan = modbus::plan_reads(out.profile->points, options);
        if (const auto* error = std::get_if<modbus::PlanError>(&plan)) {
            std::string_view key = device.has("max_registers") ? "max_registers"
                                   : device.has("max_gap")     ? "max_gap"
                                                               : "profile";
            device.fail(key, "profile " + quote(out.profile_name) +
                                 " cannot be read with these request limits: " + error->message);
        }
    }

    // Rack membership bookkeeping (device id -> rack id).
    struct Ownership {
        std::map<std::string, std::string> whole;                  // PDU measured at its inlet
        std::map<std::string, std::string> split;                  // first rack using its outlets
        std::map<std::pair<std::string, int>, std::string> outlet; // (PDU, outlet) -> rack
    };

    std::vector<std::string> rack_pdu_ids() const {
        std::vector<std::string> ids;
        for (const DeviceConfig& device : config_.devices) {
            if (device.profile->device_role == profiles::DeviceRole::rack_pdu) {
                ids.push_back(device.id);
            }
        }
        return ids;
    }

    // The rack_pdu device a rack member names; `node` is the value naming it.
    const DeviceConfig& rack_pdu(const toml::node& node, const std::string& path) const {
        if (!node.is_string()) {
            fail_at(node, file_, path,
                    "expected a device id (string), got " +
                        std::string(common::toml_type_name(node)));
        }
        const std::string& id = node.as_string()->get();
        const DeviceConfig* device = config_.find_device(id);
        if (device == nullptr) {
            const auto pdus = rack_pdu_ids();
            fail_at(node, file_, path,
                    "unknown device " + quote(id) +
                        (pdus.empty() ? std::string(" (no rack_pdu device is configured)")
                                      : " (rack PDUs: " + join(pdus) + ")"));
        }
        if (device->profile->device_role != profiles::DeviceRole::rack_pdu) {
            fail_at(node, file_, path,
                    "device " + quote(id) + " is a " +
                        std::string(profiles::to_string(device->profile->device_role)) +
                        " (profile " + quote(device->profile_name) +
                        "), not a rack_pdu: only rack PDUs can be rack members");
        }
        return *device;
    }

    void load_racks(const TableReader& root) {
        std::map<std::string, std::string> seen;
        Ownership owners;
        for (const TableReader& rack : table_array(root, "rack")) {
            check_keys(rack, {"id", "tier", "pdus", "outlets"});
            RackConfig out;
            out.id = read_id(rack, seen, "rack");
            out.tier = static_cast<int>(rack.get_int("tier", out.tier, 0, 9));

            if (const toml::array* pdus = rack.optional_array("pdus")) {
                std::size_t index = 0;
                for (const toml::node& element : *pdus) {
                    const std::string path =
                        rack.key_path("pdus") + "[" + std::to_string(index++) + "]";
                    const DeviceConfig& pdu = rack_pdu(element, path);
                    if (auto it = owners.whole.find(pdu.id); it != owners.whole.end()) {
                        fail_at(element, file_, path,
                                quote(pdu.id) + " is already assigned to rack " +
                                    quote(it->second));
                    }
                    if (auto it = owners.split.find(pdu.id); it != owners.split.end()) {
                        fail_at(element, file_, path,
                                "outlets of " + quote(pdu.id) + " are already assigned to rack " +
                                    quote(it->second) +
                                    ": a PDU belongs either whole to one rack or by outlets");
                    }
                    owners.whole.emplace(pdu.id, out.id);
                    out.members.push_back(RackMember{pdu.id, {}});
                }
            }

            if (const toml::array* outlets = rack.optional_array("outlets")) {
                std::size_t index = 0;
                for (const toml::node& element : *outlets) {
                    const std::string path =
                        rack.key_path("outlets") + "[" + std::to_string(index++) + "]";
                    if (!element.is_table()) {
                        fail_at(element, file_, path,
                                "expected a table like { device = \"pdu-r08\", from = 1, to = 12 "
                                "}, got " +
                                    std::string(common::toml_type_name(element)));
                    }
                    load_outlet_member(TableReader(*element.as_table(), file_, path), out, owners);
                }
            }

            if (out.members.empty()) {
                rack.fail_here("a rack needs at least one member: list whole PDUs in pdus or "
                               "PDU outlets in outlets");
            }
            rack.reject_unknown_keys();
            config_.racks.push_back(std::move(out));
        }
    }

    // { device = "...", outlets = [1, 2] } or { device = "...", from = 1, to = 12 }
    void load_outlet_member(const TableReader& entry, RackConfig& rack, Ownership& owners) const {
        check_keys(entry, {"device", "outlets", "from", "to"});
        const toml::node* device_node = entry.table().get("device");
        entry.mark_used("device");
        if (device_node == nullptr) {
            entry.fail("device", "required key is missing");
        }
        const DeviceConfig& pdu = rack_pdu(*device_node, entry.key_path("device"));
        const int outlet_count = pdu.profile->max_index("outlet_power");
        if (outlet_count == 0) {
            entry.fail("device", "profile " + quote(pdu.profile_name) + " of " + quote(pdu.id) +
                                     " has no per-outlet power (role outlet_power): list the "
                                     "PDU in pdus instead");
        }
        if (auto it = owners.whole.find(pdu.id); it != owners.whole.end()) {
            entry.fail("device", quote(pdu.id) + " is already assigned whole to rack " +
                                     quote(it->second) +
                                     ": a PDU belongs either whole to one rack or by outlets");
        }
        owners.split.emplace(pdu.id, rack.id);

        // Each outlet with the node naming it (for the error location).
        std::vector<std::pair<int, SourceLocation>> numbers;
        std::vector<std::string> paths;
        const bool has_list = entry.has("outlets");
        const bool has_range = entry.has("from") || entry.has("to");
        if (has_list && has_range) {
            entry.fail(entry.has("from") ? "from" : "to",
                       "use either outlets = [...] or from/to, not both");
        }
        auto check_range = [&](std::int64_t number, const SourceLocation& where,
                               const std::string& path) {
            if (number < 1 || number > outlet_count) {
                throw ConfigError(where, path + ": outlet " + std::to_string(number) +
                                             " is out of range: " + quote(pdu.id) +
                                             " has outlets 1 to " + std::to_string(outlet_count));
            }
        };
        if (has_list) {
            const toml::array* list = entry.optional_array("outlets");
            if (list->empty()) {
                entry.fail("outlets", "must list at least one outlet");
            }
            std::size_t index = 0;
            for (const toml::node& element : *list) {
                const std::string path =
                    entry.key_path("outlets") + "[" + std::to_string(index++) + "]";
                if (!element.is_integer()) {
                    fail_at(element, file_, path,
                            "expected an outlet number, got " +
                                std::string(common::toml_type_name(element)));
                }
                const SourceLocation where = common::location_of(element, file_);
                check_range(element.as_integer()->get(), where, path);
                numbers.emplace_back(static_cast<int>(element.as_integer()->get()), where);
                paths.push_back(path);
            }
        } else if (has_range) {
            if (!entry.has("from") || !entry.has("to")) {
                const std::string_view missing = entry.has("from") ? "to" : "from";
                entry.fail(missing == "to" ? "from" : "to",
                           std::string(missing) + " is missing: an outlet range needs both from "
                                                  "and to");
            }
            const std::int64_t from = entry.require_int("from");
            const std::int64_t to = entry.require_int("to");
            check_range(from, entry.location_of_key("from"), entry.key_path("from"));
            check_range(to, entry.location_of_key("to"), entry.key_path("to"));
            if (from > to) {
                entry.fail("to", "must not be less than from (" + std::to_string(from) + "), got " +
                                     std::to_string(to));
            }
            for (std::int64_t n = from; n <= to; ++n) {
                numbers.emplace_back(static_cast<int>(n), entry.location_of_key("from"));
                paths.push_back(entry.key_path("from"));
            }
        } else {
            entry.fail_here("list the outlets: outlets = [1, 2, 3] or from = 1, to = 12");
        }

        auto member = std::find_if(rack.members.begin(), rack.members.end(),
                                   [&pdu](const RackMember& m) { return m.device == pdu.id; });
        if (member == rack.members.end()) {
            rack.members.push_back(RackMember{pdu.id, {}});
            member = std::prev(rack.members.end());
        }
        for (std::size_t i = 0; i < numbers.size(); ++i) {
            const auto& [number, where] = numbers[i];
            const auto [it, inserted] = owners.outlet.emplace(std::pair(pdu.id, number), rack.id);
            if (!inserted) {
                throw ConfigError(where, paths[i] + ": outlet " + std::to_string(number) + " of " +
                                             quote(pdu.id) + " is already assigned to rack " +
                                             quote(it->second));
            }
            member->outlets.push_back(number);
        }
        std::sort(member->outlets.begin(), member->outlets.end());
        entry.reject_unknown_keys();
    }

    fs::path path_;
    std::string file_;
    fs::path base_dir_;
    toml::table document_;
    toml::table empty_table_;
    Config config_;
    std::vector<TableReader> bus_tables_; // parallel to config_.buses, for located errors
    bool client_id_explicit_ = false;     // mqtt.client_id was set in the file
    std::map<std::string, std::shared_ptr<const profiles::DeviceProfile>, std::less<>> profiles_;
    std::array<std::shared_ptr<const profiles::DeviceProfile>, 6> sunspec_profiles_; // by role
};

} // namespace

Config load_config(const std::filesystem::path& path) {
    return Loader(path).load();
}

} // namespace greenrack::config
