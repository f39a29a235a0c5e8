#include "daemon/app/reload_plan.hpp"

namespace greenrack::app {

namespace {

void append_count(std::string& out, const char* label, std::size_t plus, std::size_t minus,
                  std::size_t changed) {
    if (plus + minus + changed == 0) {
        return;
    }
    out += (out.empty() ? "" : ", ") + std::string(label) + " +" + std::to_string(plus) + " -" +
           std::to_string(minus) + " ~" + std::to_string(changed);
}

void append_flag(std::string& out, bool flag, const char* text) {
    if (flag) {
        out += (out.empty() ? "" : ", ") + std::string(text);
    }
}

} // namespace

std::string ReloadPlan::summary() const {
    std::string out;
    append_count(out, "devices", devices_added.size(), devices_removed.size(),
                 devices_changed.size());
    if (!buses_changed.empty()) {
        out += (out.empty() ? "" : ", ") + std::string("buses reconnected: ");
        for (std::size_t i = 0; i < buses_changed.size(); ++i) {
            out += (i == 0 ? "" : " ") + buses_changed[i];
        }
    }
    append_flag(out, mqtt_changed, "mqtt restarted");
    append_flag(out, influxdb_changed, "influxdb restarted");
    append_flag(out, prometheus_changed, "prometheus listener restarted");
    append_flag(out, alertmanager_changed, "alertmanager restarted");
    append_flag(out, log_level_changed, "log level changed");
    return out.empty() ? "no changes to devices or outputs" : out;
}

bool same_poll_settings(const config::DeviceConfig& a, const config::DeviceConfig& b) {
    const bool same_profile =
        a.profile == b.profile || (a.profile && b.profile && *a.profile == *b.profile);
    return a.id == b.id && a.unit_id == b.unit_id && a.profile_name == b.profile_name &&
           same_profile && a.timing == b.timing && a.max_registers == b.max_registers &&
           a.max_gap == b.max_gap && a.invert_power == b.invert_power;
}

std::optional<std::string> reload_blocker(const config::Config& running,
                                          const config::Config& next) {
    auto refuse = [](const std::string& what, const std::string& from, const std::string& to) {
        return what + " changed from " + from + " to " + to +
               ": this needs a restart (systemctl restart greenrackd); the running "
               "configuration stays in force";
    };
    if (running.fleet.role != config::FleetRole::single ||
        next.fleet.role != config::FleetRole::single) {
        return "a fleet shard or aggregator ([fleet] role) is reconfigured by a restart "
               "(systemctl restart greenrackd; docs/fleet.md): the running configuration stays "
               "in force";
    }
    if (running.site.id != next.site.id) {
        return refuse("site.id", "\"" + running.site.id + "\"", "\"" + next.site.id + "\"");
    }
    if (running.daemon.state_directory != next.daemon.state_directory) {
        return refuse("daemon.state_directory", running.daemon.state_directory.string(),
                      next.daemon.state_directory.string());
    }
    const auto& a = running.accounting.settings;
    const auto& b = next.accounting.settings;
    if (a.tick != b.tick) {
        return refuse("accounting.tick", std::to_string(a.tick.count()) + " ms",
                      std::to_string(b.tick.count()) + " ms");
    }
    if (a.battery_model != b.battery_model) {
        return refuse("accounting.battery_model",
                      "\"" + std::string(accounting::to_string(a.battery_model)) + "\"",
                      "\"" + std::string(accounting::to_string(b.battery_model)) + "\"");
    }
    return std::nullopt;
}

ReloadPlan plan_reload(const config::Config& running, const config::Config& next) {
    ReloadPlan plan;
    for (const auto& device : next.devices) {
        const config::DeviceConfig* before = running.find_device(device.id);
        if (before == nullptr) {
            plan.devices_added.push_back(device.id);
        } else if (!same_poll_settings(*before, device) || before->bus != device.bus ||
                   before->poll_interval != device.poll_interval) {
            plan.devices_changed.push_back(device.id);
        }
    }
    for (const auto& device : running.devices) {
        if (next.find_device(device.id) == nullptr) {
            plan.devices_removed.push_back(device.id);
        }
    }
    for (const auto& bus : next.buses) {
        const config::BusConfig* before = running.find_bus(bus.id);
        if (before == nullptr || !(*before == bus)) {
            plan.buses_changed.push_back(bus.id);
        }
    }
    for (const auto& bus : running.buses) {
        if (next.find_bus(bus.id) == nullptr) {
            plan.buses_changed.push_back(bus.id);
        }
    }
    const bool spool = !(running.spool == next.spool);
    plan.mqtt_changed = !(running.mqtt == next.mqtt) || spool;
    plan.influxdb_changed = !(running.influxdb == next.influxdb) || spool;
    plan.prometheus_changed = !(running.prometheus == next.prometheus);
    plan.alertmanager_changed = !(running.alertmanager == next.alertmanager) ||
                                running.alerts.enabled != next.alerts.enabled;
    plan.log_level_changed = running.daemon.log_level != next.daemon.log_level;
    return plan;
}

} // namespace greenrack::app
