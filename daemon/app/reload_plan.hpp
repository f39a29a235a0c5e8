#pragma once

#include "daemon/config/config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace greenrack::app {

// What a new configuration changes compared with the running one, for a live reload (SIGHUP).
// Pure: compares two loaded configs.
struct ReloadPlan {
    std::vector<std::string> devices_added;
    std::vector<std::string> devices_removed;
    std::vector<std::string> devices_changed; // same id, other settings (bus, unit, profile...)
    std::vector<std::string> buses_changed;   // added, removed or with other settings
    bool mqtt_changed = false;                // [mqtt] or [spool]: the MQTT client restarts
    bool influxdb_changed = false;            // [influxdb] or [spool]: the writer restarts
    bool prometheus_changed = false;          // the /metrics listener moves
    bool alertmanager_changed = false;
    bool log_level_changed = false;

    // "devices +1 -0 ~2, buses ~1, mqtt restarted" or "no changes".
    std::string summary() const;
};

// The settings a device's poll depends on (its bus aside): unit id, profile content, timing,
// request sizes. Poll interval and bus id are compared separately.
bool same_poll_settings(const config::DeviceConfig& a, const config::DeviceConfig& b);

// Why `next` cannot be applied live, or nullopt when it can. These settings identify the state
// greenrackd keeps (totals, battery, alerts, spools): changing them needs a restart.
std::optional<std::string> reload_blocker(const config::Config& running,
                                          const config::Config& next);

ReloadPlan plan_reload(const config::Config& running, const config::Config& next);

} // namespace greenrack::app
