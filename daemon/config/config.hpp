#pragma once

#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/alerts/alert_types.hpp"
#include "drivers/profiles/profile.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace greenrack::config {

using std::chrono::milliseconds;

struct SiteConfig {
    std::string id;   // [a-z0-9_-]+, used in MQTT topics
    std::string name; // free text, for humans
};

struct DaemonConfig {
    std::filesystem::path state_directory = "/var/lib/greenrack";
    std::string log_level = "info";                  // trace|debug|info|warn|error|critical|off
    std::vector<std::filesystem::path> profile_dirs; // searched in order for "<name>.toml"
};

struct MqttConfig {
    bool enabled = true;
    std::string uri = "tcp://127.0.0.1:1883";
    std::string client_id; // default "greenrackd-<site>"
    std::string topic_prefix = "greenrack/v1";
    int qos = 1;
    milliseconds keepalive{30'000};
    milliseconds reconnect_min{1'000};
    milliseconds reconnect_max{30'000};
    int max_inflight = 256; // messages sent and not yet acknowledged by the broker
    std::string username;
    std::string password; // resolved from password or password_file
    // When not empty: also publish every batch of InfluxDB line protocol to this topic (for
    // Telegraf's mqtt_consumer with data_format = "influx").
    std::string line_protocol_topic;
    // TLS: set for ssl://, mqtts:// and wss:// URIs (the options below need one of them).
    bool tls = false;
    std::filesystem::path ca_file;   // PEM CA certificates; empty: the system trust store
    std::filesystem::path cert_file; // PEM client certificate (chain); empty: no client cert
    std::filesystem::path key_file;  // PEM private key; empty: the key is in cert_file
    std::string key_password;        // resolved from key_password_file (encrypted key)
    bool verify_hostname = true;     // the broker certificate must name the URI's host

    bool operator==(const MqttConfig&) const = default;
};

enum class InfluxApi : std::uint8_t { v1, v2 };

// [influxdb]: direct writes of line protocol over HTTP.
struct InfluxConfig {
    bool enabled = false;
    std::string url = "http://127.0.0.1:8086"; // http://host:port (no TLS yet)
    InfluxApi api = InfluxApi::v1;
    // v1: POST /write?db=&rp=&precision=ms (&u=&p=)
    std::string database = "greenrack";
    std::string retention_policy; // empty: the database's default
    std::string username;
    std::string password; // resolved from password or password_file
    // v2: POST /api/v2/write?org=&bucket=&precision=ms, Authorization: Token
    std::string org;
    std::string bucket;
    std::string token;                  // resolved from token or token_file
    std::size_t batch_lines = 5'000;    // a write is sent when this many lines wait...
    milliseconds flush_interval{1'000}; // ...or this long after the first one queued
    milliseconds timeout{5'000};        // per HTTP request
    milliseconds retry_min{1'000};      // backoff after a failed write (doubling)
    milliseconds retry_max{60'000};

    bool operator==(const InfluxConfig&) const = default;
};

// [spool]: the store-and-forward queue on disk of the MQTT and InfluxDB sinks, one per sink in
// <state_directory>/spool/<sink>/; each has these caps.
struct SpoolConfig {
    std::uint64_t max_size = 256ULL * 1024 * 1024;    // bytes on disk per sink
    milliseconds max_age{std::chrono::hours(24 * 7)}; // older undelivered data is dropped
    milliseconds sync_interval{1'000};                // fdatasync + delivery cursor

    bool operator==(const SpoolConfig&) const = default;
};

// [prometheus]: the /metrics and /healthz endpoint.
struct PrometheusConfig {
    bool enabled = true;
    std::string listen_address = "127.0.0.1"; // loopback by default
    std::uint16_t listen_port = 9464;

    bool operator==(const PrometheusConfig&) const = default;
};

// [alerts], [alerts.builtin.<name>] and [[alert]]: the rules of the alert engine.
struct AlertsConfig {
    bool enabled = true;
    // The built-in rules (as tuned by [alerts.builtin.<name>], disabled ones included) followed
    // by the [[alert]] rules in file order.
    std::vector<alerts::RuleSpec> rules;
    milliseconds cause_window{900'000}; // racks' non-green energy summed over this window
    std::size_t cause_racks = 3;        // racks named as the cause
    // Evaluation period when accounting is off (device rules only); with accounting the rules
    // are evaluated once per accounting tick.
    milliseconds device_interval{5'000};
};

// [alertmanager]: Prometheus Alertmanager API v2 (POST /api/v2/alerts).
struct AlertmanagerConfig {
    bool enabled = false;
    // Every firing alert and every resolve goes to each of these (an HA pair gets both).
    std::vector<std::string> urls{"http://127.0.0.1:9093"}; // http://host:port[/prefix]
    milliseconds resend_interval{60'000}; // firing alerts are POSTed again this often
    milliseconds timeout{5'000};          // per HTTP request
    milliseconds retry_min{1'000};        // backoff after a failed POST (doubling)
    milliseconds retry_max{60'000};
    std::string generator_url;                 // sent as generatorURL when not empty
    std::size_t max_pending_resolves = 10'000; // undelivered resolves kept (oldest dropped)

    bool operator==(const AlertmanagerConfig&) const = default;
};

enum class BusType : std::uint8_t { tcp, rtu };

// Timing knobs shared by a bus and its devices (a device inherits its bus's values).
struct Timing {
    milliseconds response_timeout{500};
    milliseconds connect_delay{0}; // wait after (re)connecting before the first request
    milliseconds request_gap{0};   // pause between two requests on the link

    bool operator==(const Timing&) const = default;
};

struct BusConfig {
    std::string id;
    BusType type = BusType::tcp;
    // tcp
    std::string host;
    std::uint16_t port = 502;
    // rtu
    std::string device; // serial device path
    int baud = 19200;
    char parity = 'N'; // 'N' | 'E' | 'O'
    int data_bits = 8;
    int stop_bits = 1;
    bool rs485 = false;

    Timing timing;
    milliseconds connect_timeout{2'000};
    milliseconds reconnect_min{1'000};
    milliseconds reconnect_max{60'000};
    int max_consecutive_failures = 3; // then the link is closed and reopened

    bool operator==(const BusConfig&) const = default;
};

struct DeviceConfig {
    std::string id;
    std::string bus; // BusConfig::id
    int unit_id = 1;
    std::string profile_name;
    std::shared_ptr<const profiles::DeviceProfile> profile; // resolved at load
    milliseconds poll_interval{1'000};
    Timing timing;                                            // bus values unless overridden
    std::uint16_t max_registers = modbus::max_read_registers; // profile value unless overridden
    std::uint16_t max_gap = 0;                                // profile value unless overridden
    // profile = "sunspec" only: flip the sign of the power read (meter W, battery W).
    bool invert_power = false;
    // [fleet]: the shard that polls this device (empty: none; every device needs one when
    // fleet.role is shard or aggregator, docs/fleet.md).
    std::string shard;
};

// Which PDU inlets / outlets make up a rack.
struct RackMember {
    std::string device;       // a rack_pdu device id
    std::vector<int> outlets; // empty = the whole PDU (its inlet); else sorted, 1-based
};

struct RackConfig {
    std::string id;
    int tier = 0;
    std::vector<RackMember> members;
};

// [accounting]: the site model and the options of green-accounting.md. Racks come from
// [[rack]]; sources default to every device of the matching role.
struct AccountingConfig {
    bool enabled = true;
    // tick, allocation, battery model, g, emission factors, efficiencies, ... (racks are filled
    // from Config::racks by the daemon)
    accounting::AccountingSettings settings;
    milliseconds max_hold{60'000}; // H = min(3 x the device's poll interval, max_hold)
    milliseconds max_span{300'000};
    double counter_resolution_fraction = 0.01;
    milliseconds publish_delay{2'000};    // a tick is computed this long after it ends
    milliseconds persist_interval{5'000}; // state written at least this often
    std::vector<std::string> pv;          // device ids; default: every pv_inverter
    std::vector<std::string> wind;        // default: every wind_turbine
    std::vector<std::string> battery;     // default: every battery
    std::vector<std::string> grid;        // default: every grid_meter
    std::vector<std::string> facility;    // default: every facility_meter
};

struct Config;

// [fleet]: one daemon for the whole site (single), or a site split over several daemons: shards
// that each poll their own devices and publish their part of every accounting tick, and an
// aggregator (plus standbys) that merges the parts and runs the accounting and alerts
// (docs/fleet.md).
enum class FleetRole : std::uint8_t { single, shard, aggregator };
std::string_view to_string(FleetRole role);

struct FleetConfig {
    FleetRole role = FleetRole::single;
    std::string shard;               // role = shard: the shard this daemon is
    std::vector<std::string> shards; // every shard of the site (from the devices), sorted
    // aggregator: this instance's name in the lease (two aggregators need two names)
    std::string instance = "aggregator";
    // aggregator: a tick is computed when every shard sent its part, or this long after the
    // tick is due (publish_delay after its end) with the missing shards' quantities missing.
    milliseconds deadline{3'000};
    // aggregator: parts arriving after their tick was computed are reported as a correction
    // when they arrive within this long of the tick's end (later ones are only counted).
    milliseconds correction_window{300'000};
    // aggregator: the lease on the retained topic <prefix>/<site>/fleet/lease; the active
    // instance renews it every lease_renew, a standby takes over once it is lease_ttl old.
    milliseconds lease_ttl{6'000};
    milliseconds lease_renew{2'000};
    // The whole site as loaded (every device, rack and source); the daemon's own Config is the
    // view of its role (role_view). Null for role = single.
    std::shared_ptr<const Config> site;
};

struct Config {
    std::filesystem::path source; // the file it was loaded from
    SiteConfig site;
    DaemonConfig daemon;
    MqttConfig mqtt;
    std::vector<BusConfig> buses;
    std::vector<DeviceConfig> devices;
    std::vector<RackConfig> racks;
    AccountingConfig accounting;
    InfluxConfig influxdb;
    SpoolConfig spool;
    PrometheusConfig prometheus;
    AlertsConfig alerts;
    AlertmanagerConfig alertmanager;
    FleetConfig fleet;

    const BusConfig* find_bus(std::string_view id) const;
    const DeviceConfig* find_device(std::string_view id) const;
    const RackConfig* find_rack(std::string_view id) const;
};

// Loads and validates a config file. Throws common::ConfigError ("file:line:column: message")
// on the first problem; nothing is started before this returns.
Config load_config(const std::filesystem::path& path);

} // namespace greenrack::config
