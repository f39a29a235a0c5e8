#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/alerts/alert_types.hpp"
#include "daemon/core/poll_histograms.hpp"
#include "daemon/core/sample_store.hpp"
#include "daemon/fleet/fleet_stats.hpp"
#include "daemon/sinks/alertmanager_stats.hpp"
#include "daemon/sinks/influx_stats.hpp"
#include "daemon/sinks/mqtt_sink.hpp"
#include "drivers/modbus/bus_worker.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::sinks {

// The counters of one Modbus bus (BusWorker::settings().id and BusWorker::stats()).
struct BusMetrics {
    std::string_view bus;
    const modbus::BusStats* stats = nullptr;
};

// Everything /metrics exposes, borrowed for one render on the event loop. Pointers that may be
// null are marked; a null one leaves its metrics out.
struct MetricsInput {
    const config::Config* config = nullptr;             // required: site id, devices, racks
    const core::SampleStore* samples = nullptr;         // latest reading per device
    const accounting::TickResult* last_tick = nullptr;  // null before the first tick
    const accounting::Totals* totals = nullptr;         // null without accounting
    const accounting::Rollup* open_hour = nullptr;      // the clock hour so far, may be null
    const accounting::BatteryStatus* battery = nullptr; // null or !known: no battery metrics
    std::vector<BusMetrics> buses;
    const MqttStats* mqtt = nullptr; // null when MQTT is disabled
    bool mqtt_connected = false;
    const InfluxStats* influx = nullptr; // null when InfluxDB is disabled
    // The store-and-forward spool of each enabled sink ("mqtt", "influxdb").
    std::vector<std::pair<std::string, const SpoolStats*>> spools;
    const core::PollHistograms* poll_histograms = nullptr;
    const core::PollHistograms* accounting_tick = nullptr; // index 0; null without accounting
    // Alerts: every (rule, subject) the engine tracks (pending and firing become
    // greenrack_alerts samples) and the transitions so far by (rule, new state); null without
    // alerting.
    const std::vector<alerts::AlertStatus>* alerts = nullptr;
    const std::map<std::pair<std::string, std::string>, std::uint64_t>* alert_transitions = nullptr;
    const AlertmanagerStats* alertmanager = nullptr; // null when Alertmanager is disabled
    const fleet::FleetStats* fleet = nullptr;        // null for a single daemon
    std::string_view version;                        // greenrack::version_string
    std::chrono::system_clock::time_point now;
};

// The metrics of docs/output-schema.md in text format 0.0.4, every sample labelled `site`.
// Pure: no I/O, the time is `input.now`. Semantics shared with the JSON and InfluxDB outputs:
// * power = tick energy / tick (W = Wh x 3600 / tau_s); a flow whose source is not usable
//   (stale/missing) has no sample;
// * green figures (green/nongreen power, coverage, onsite share, headroom, balance residual,
//   carbon intensity, rack green/nongreen) only when the tick (and the rack) is valid: no
//   number is published that is not one; greenrack_site_tick_valid says which;
// * counters (energy, carbon) from the persisted totals, in joules (Wh x 3600), always;
// * device values only for numeric points whose quality is ok, of a reading that is fresh
//   (see device_fresh); greenrack_device_up is 1 for a fresh reading that is not offline.
std::string render_metrics(const MetricsInput& input);

// A reading is fresh while it is at most 3 poll intervals old.
bool device_fresh(const config::DeviceConfig& device, const core::DeviceReading* reading,
                  std::chrono::system_clock::time_point now);
// Fresh and at least one request answered (greenrack_device_up).
bool device_up(const config::DeviceConfig& device, const core::DeviceReading* reading,
               std::chrono::system_clock::time_point now);
// Devices that are not up (greenrack_self_stale_devices).
std::size_t stale_devices(const config::Config& config, const core::SampleStore& samples,
                          std::chrono::system_clock::time_point now);

// Why the daemon is unhealthy for /healthz, or "" when healthy: unhealthy when devices are
// configured and none of them answered within its last 3 poll intervals.
std::string device_health_problem(const config::Config& config, const core::SampleStore& samples,
                                  std::chrono::system_clock::time_point now);

} // namespace greenrack::sinks
