#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/alerts/alert_engine.hpp"
#include "daemon/core/alerts/cause_tracker.hpp"
#include "daemon/core/alerts/counter_window.hpp"
#include "daemon/core/device_reading.hpp"
#include "daemon/sinks/alertmanager_json.hpp"
#include "daemon/sinks/spool.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <spdlog/logger.h>
#include <string>
#include <vector>

namespace greenrack::app {

// Counters of alert transitions, for /metrics.
struct AlertCounters {
    std::map<std::pair<std::string, std::string>, std::uint64_t> transitions; // (rule, to)
};

// Drives the pure alert engine from the event loop: evaluates every rule after each accounting
// tick (or every alerts.device_interval without accounting), tracks the racks behind the
// non-green energy, and delivers every transition: a log line, the retained MQTT state on
// <base>/alerts/<rule>/<subject>, an event on <base>/events, InfluxDB line protocol and
// Prometheus Alertmanager (firing and resolved; pending stays local). The engine state is
// persisted on every transition (atomically) and on stop, so a restart neither loses a firing
// alert nor fires it twice.
class AlertRunner {
public:
    using Publish = std::function<void(const std::string& topic, std::string payload, bool retain)>;
    using EmitLines = std::function<void(std::string lines)>;
    using Notify = std::function<void(sinks::AmAlert alert, bool resolved)>;

    // Throws std::invalid_argument on invalid rules (the config loader reports them first).
    AlertRunner(const config::Config& config, std::string topic_base, Publish publish,
                EmitLines emit_lines, Notify notify, std::shared_ptr<spdlog::logger> logger);

    // Restores the saved state: restored firing alerts are handed to `notify` again (same
    // startsAt), alerts whose rule or subject is gone are resolved.
    void start(std::int64_t now_ms);
    // The sinks' spools, for the site's spool_* outputs (rules spool_dropping, spool_filling).
    // The stats must outlive the runner.
    void watch_spools(std::vector<const sinks::SpoolStats*> spools) { spools_ = std::move(spools); }
    // Every device reading (for the device rules' last good reading).
    void add(const core::DeviceReading& reading);
    // After each accounting tick: racks' non-green energy for the cause, then every rule.
    void on_tick(const accounting::TickResult& tick, const accounting::Rollup* hour_so_far,
                 std::int64_t now_ms);
    // Device rules only (accounting off).
    void on_devices(std::int64_t now_ms);
    // A standby fleet aggregator evaluates the rules too (to take over with the right state) but
    // its transitions are logged at debug level: the active instance logs them.
    void set_standby(bool standby) { standby_ = standby; }
    void stop(); // persists the state

    // Live reload to `next` (which must stay alive from now on): every alert keeps its state
    // (a firing alert stays firing, no new event), rules take their new settings at the next
    // evaluation, and alerts whose rule or subject is gone are resolved. Throws
    // std::invalid_argument, with nothing changed, on invalid rules.
    void reconfigure(const config::Config& next, std::string topic_base, std::int64_t now_ms);

    std::vector<alerts::AlertStatus> statuses() const { return engine_.statuses(); }
    const AlertCounters& counters() const { return counters_; }
    std::filesystem::path state_path() const;

private:
    std::vector<alerts::SubjectValues> device_values(std::int64_t now_ms) const;
    void deliver(const std::vector<alerts::AlertEvent>& events);
    sinks::AmAlert to_alertmanager(const alerts::AlertStatus& status) const;
    void persist();
    alerts::SpoolHealth spool_health(std::int64_t now_ms);

    const config::Config* config_;
    std::string topic_base_;
    Publish publish_;
    EmitLines emit_lines_;
    Notify notify_;
    std::shared_ptr<spdlog::logger> logger_;
    alerts::AlertEngine engine_;
    alerts::CauseTracker causes_;
    std::vector<std::optional<std::int64_t>> last_good_ms_; // per device
    std::vector<bool> last_up_;                             // per device
    AlertCounters counters_;
    std::vector<const sinks::SpoolStats*> spools_;
    alerts::CounterWindow spool_drops_{std::chrono::minutes(10)};
    bool started_ = false;
    bool standby_ = false;
};

} // namespace greenrack::app
