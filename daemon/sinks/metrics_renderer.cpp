#include "daemon/sinks/metrics_renderer.hpp"

#include "daemon/sinks/prometheus_exposition.hpp"

#include <stdexcept>
#include <string>

namespace greenrack::sinks {

namespace {

using accounting::Energy;
using accounting::RackTick;
using accounting::TickResult;

constexpr double joules_per_wh = 3600.0;

// Average power over the tick from its energy: W = Wh * 3600 / tau_s (as accounting_json.cpp).
double watts(double wh, double tau_s) {
    return tau_s > 0.0 ? wh * 3600.0 / tau_s : 0.0;
}

double seconds_since_epoch(std::chrono::system_clock::time_point ts) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count();
    return static_cast<double>(ms) / 1000.0;
}

double as_double(const std::atomic<std::uint64_t>& counter) {
    return static_cast<double>(counter.load(std::memory_order_relaxed));
}

// Metric names of docs/output-schema.md.
constexpr std::string_view site_power = "greenrack_site_power_watts";
constexpr std::string_view site_coverage = "greenrack_site_coverage_ratio";
constexpr std::string_view site_onsite_share = "greenrack_site_onsite_share_ratio";
constexpr std::string_view site_ipue = "greenrack_site_ipue_ratio";
constexpr std::string_view site_headroom = "greenrack_site_headroom_watts";
constexpr std::string_view site_balance = "greenrack_site_balance_residual_watts";
constexpr std::string_view site_intensity = "greenrack_site_carbon_intensity_grams_per_kwh";
constexpr std::string_view site_cfe = "greenrack_site_cfe_ratio";
constexpr std::string_view site_tick_valid = "greenrack_site_tick_valid";
constexpr std::string_view site_energy = "greenrack_site_energy_joules_total";
constexpr std::string_view site_carbon = "greenrack_site_carbon_grams_total";
constexpr std::string_view rack_power = "greenrack_rack_power_watts";
constexpr std::string_view rack_energy = "greenrack_rack_energy_joules_total";
constexpr std::string_view battery_energy = "greenrack_battery_energy_joules";
constexpr std::string_view battery_fraction = "greenrack_battery_green_fraction_ratio";
constexpr std::string_view device_up_name = "greenrack_device_up";
constexpr std::string_view device_value = "greenrack_device_value";
constexpr std::string_view device_last_poll = "greenrack_device_last_poll_timestamp_seconds";
constexpr std::string_view poll_duration = "greenrack_self_poll_duration_seconds";
constexpr std::string_view accounting_tick = "greenrack_self_accounting_tick_seconds";
constexpr std::string_view modbus_requests = "greenrack_self_modbus_requests_total";
constexpr std::string_view modbus_errors = "greenrack_self_modbus_errors_total";
constexpr std::string_view poll_overruns = "greenrack_self_poll_overruns_total";
constexpr std::string_view stale_devices_name = "greenrack_self_stale_devices";
constexpr std::string_view mqtt_connected = "greenrack_self_mqtt_connected";
constexpr std::string_view mqtt_messages = "greenrack_self_mqtt_messages_total";
constexpr std::string_view influx_queue = "greenrack_self_influx_queue_lines";
constexpr std::string_view influx_lines = "greenrack_self_influx_lines_total";
constexpr std::string_view spool_pending = "greenrack_self_spool_pending_records";
constexpr std::string_view spool_bytes = "greenrack_self_spool_bytes";
constexpr std::string_view spool_max_bytes = "greenrack_self_spool_max_bytes";
constexpr std::string_view spool_oldest = "greenrack_self_spool_oldest_pending_timestamp_seconds";
constexpr std::string_view spool_records = "greenrack_self_spool_records_total";
constexpr std::string_view spool_dropped = "greenrack_self_spool_dropped_total";
constexpr std::string_view build_info = "greenrack_self_build_info";
constexpr std::string_view alerts_name = "greenrack_alerts";
constexpr std::string_view alert_transitions = "greenrack_alert_transitions_total";
constexpr std::string_view am_posts = "greenrack_self_alertmanager_posts_total";
constexpr std::string_view am_alerts = "greenrack_self_alertmanager_alerts_total";
constexpr std::string_view am_firing = "greenrack_self_alertmanager_firing";
constexpr std::string_view fleet_parts_published = "greenrack_fleet_parts_published_total";
constexpr std::string_view fleet_parts = "greenrack_fleet_parts_total";
constexpr std::string_view fleet_shard_missing = "greenrack_fleet_shard_missing_ticks_total";
constexpr std::string_view fleet_shard_last = "greenrack_fleet_shard_last_tick_timestamp_seconds";
constexpr std::string_view fleet_ticks = "greenrack_fleet_ticks_total";
constexpr std::string_view fleet_corrections = "greenrack_fleet_corrections_total";
constexpr std::string_view fleet_active = "greenrack_fleet_aggregator_active";
constexpr std::string_view fleet_takeovers = "greenrack_fleet_takeovers_total";
constexpr std::string_view fleet_epoch = "greenrack_fleet_lease_epoch";

void declare_all(ExpositionWriter& out) {
    using T = MetricType;
    out.declare(site_power, T::gauge,
                "Site power flows averaged over the last accounting tick (W); green and nongreen "
                "only when the tick is valid.");
    out.declare(site_coverage, T::gauge,
                "Share of the load covered by green energy in the last valid tick (G_L / L).");
    out.declare(site_onsite_share, T::gauge,
                "Share of the load supplied by on-site renewables, directly or through the "
                "battery, in the last valid tick.");
    out.declare(site_ipue, T::gauge, "Facility load over IT load in the last tick (iPUE).");
    out.declare(site_headroom, T::gauge,
                "Clean power headroom after the last valid tick (W): free, total, storage.");
    out.declare(site_balance, T::gauge,
                "Energy balance residual R + D + I - L - C - X of the last valid tick (W).");
    out.declare(site_intensity, T::gauge,
                "Carbon intensity of the energy delivered to the load in the last valid tick "
                "(g CO2eq per kWh).");
    out.declare(site_cfe, T::gauge,
                "Carbon-free energy score of the current clock hour so far (0..1).");
    out.declare(site_tick_valid, T::gauge,
                "1 when the last accounting tick had green figures, 0 on a data gap.");
    out.declare(site_energy, T::counter,
                "Energy delivered to the load since the accounting state was created (J).");
    out.declare(site_carbon, T::counter,
                "Carbon delivered to the load since the accounting state was created (g CO2eq).");
    out.declare(rack_power, T::gauge,
                "Rack power in the last tick (W): it, and green/nongreen when valid, in the "
                "IT-only and facility-burdened views.");
    out.declare(rack_energy, T::counter,
                "Green and non-green energy of a rack since the accounting state was created (J).");
    out.declare(battery_energy, T::gauge,
                "Battery energy after the last tick (J): stored, green, deliverable green.");
    out.declare(battery_fraction, T::gauge, "Green fraction of the battery's content (0..1).");
    out.declare(device_up_name, T::gauge,
                "1 when the device answered its last poll within 3 poll intervals.");
    out.declare(device_value, T::gauge,
                "Last value of a device point in its unit (points with quality ok only).");
    out.declare(device_last_poll, T::gauge,
                "When the device's last poll completed (Unix time, seconds).");
    out.declare(poll_duration, T::histogram, "Time one poll of a device took on its bus (s).");
    out.declare(accounting_tick, T::histogram,
                "Compute time of one accounting tick: site inputs and engine (s).");
    out.declare(modbus_requests, T::counter, "Modbus requests sent on a bus.");
    out.declare(modbus_errors, T::counter, "Failed Modbus requests and connects on a bus.");
    out.declare(poll_overruns, T::counter,
                "Polls skipped because the device's previous poll was still running.");
    out.declare(stale_devices_name, T::gauge,
                "Devices without an answered poll within their last 3 poll intervals.");
    out.declare(mqtt_connected, T::gauge, "1 when the MQTT client is connected to the broker.");
    out.declare(mqtt_messages, T::counter,
                "MQTT messages published (spooled), delivered (acknowledged) or dropped.");
    out.declare(influx_queue, T::gauge, "Line-protocol lines waiting to be written to InfluxDB.");
    out.declare(influx_lines, T::counter,
                "Line-protocol lines written, rejected (4xx) or dropped (queue full).");
    out.declare(spool_pending, T::gauge,
                "Records (MQTT messages, InfluxDB lines) in a sink's spool not yet delivered.");
    out.declare(spool_bytes, T::gauge, "Bytes a sink's spool takes on disk.");
    out.declare(spool_max_bytes, T::gauge,
                "A sink spool's size cap (spool.max_size): beyond it the oldest records go.");
    out.declare(spool_oldest, T::gauge,
                "When the oldest undelivered record of a sink's segment was spooled (Unix time, "
                "s); 0 when nothing waits.");
    out.declare(spool_records, T::counter, "Records appended to and delivered from a spool.");
    out.declare(
        spool_dropped, T::counter,
        "Undelivered records a spool lost: size or age cap, a write error, or damaged on disk.");
    out.declare(build_info, T::gauge, "Always 1; the greenrackd version as a label.");
    out.declare(alerts_name, T::gauge,
                "1 for every pending or firing alert (like Prometheus' ALERTS), by rule "
                "(alertname), subject and state (alertstate).");
    out.declare(alert_transitions, T::counter,
                "Alert transitions since start-up by rule and the state entered.");
    out.declare(am_posts, T::counter, "POSTs to Alertmanager by result (ok, failed).");
    out.declare(am_alerts, T::counter,
                "Alerts delivered to Alertmanager (sent), refused with 4xx (rejected) or dropped "
                "from a full resolve queue (dropped).");
    out.declare(am_firing, T::gauge, "Firing alerts being re-sent to Alertmanager.");
    out.declare(fleet_parts_published, T::counter,
                "Fleet shard: tick parts handed to the MQTT sink for the aggregator.");
    out.declare(fleet_parts, T::counter,
                "Fleet aggregator: tick parts received, by shard and what became of them "
                "(accepted, duplicate, correction, too_late, too_early, malformed).");
    out.declare(fleet_shard_missing, T::counter,
                "Fleet aggregator: ticks computed without this shard's part (its racks and "
                "sources missing).");
    out.declare(fleet_shard_last, T::gauge,
                "Fleet aggregator: start of the newest tick this shard sent a part of.");
    out.declare(fleet_ticks, T::counter,
                "Fleet aggregator: ticks assembled, complete (every shard) or partial (at the "
                "deadline with shards missing).");
    out.declare(fleet_corrections, T::counter,
                "Fleet aggregator: late parts that produced a correction record.");
    out.declare(fleet_active, T::gauge,
                "Fleet aggregator: 1 while this instance holds the lease and publishes the site.");
    out.declare(fleet_takeovers, T::counter,
                "Fleet aggregator: times this instance became the active aggregator.");
    out.declare(fleet_epoch, T::gauge, "Fleet aggregator: epoch of the lease as last seen.");
}

class Renderer {
public:
    explicit Renderer(const MetricsInput& input) : in_(input), site_(input.config->site.id) {
        declare_all(out_);
    }

    std::string run() {
        if (in_.last_tick != nullptr) {
            site_tick(*in_.last_tick);
            racks(*in_.last_tick);
        }
        if (in_.open_hour != nullptr) {
            hour(*in_.open_hour);
        }
        if (in_.totals != nullptr) {
            totals(*in_.totals);
        }
        if (in_.battery != nullptr && in_.battery->known) {
            battery(*in_.battery);
        }
        if (in_.samples != nullptr) {
            devices();
        }
        if (in_.alerts != nullptr) {
            alerts(*in_.alerts);
        }
        if (in_.accounting_tick != nullptr && in_.accounting_tick->size() > 0) {
            const auto& h = in_.accounting_tick->device(0);
            out_.histogram(accounting_tick, labels(), in_.accounting_tick->bounds(), h.counts,
                           h.sum_s);
        }
        self();
        return out_.text();
    }

private:
    Labels labels(std::initializer_list<Label> extra = {}) const {
        Labels result{{"site", site_}};
        result.insert(result.end(), extra.begin(), extra.end());
        return result;
    }

    void add(std::string_view name, std::initializer_list<Label> extra, double value) {
        out_.sample(name, labels(extra), value);
    }

    void flow(const std::string& name, const Energy& energy, double tau_s) {
        if (energy.usable()) {
            add(site_power, {{"flow", name}}, watts(energy.wh, tau_s));
        }
    }

    void site_tick(const TickResult& tick) {
        const double tau = tick.tau_s;
        const bool valid = tick.valid;
        flow("load", tick.load, tau);
        add(site_power, {{"flow", "it"}}, watts(tick.it_wh, tau));
        flow("renewable", tick.renewable, tau);
        flow("pv", tick.pv, tau);
        flow("wind", tick.wind, tau);
        flow("battery_discharge", tick.discharge, tau);
        flow("battery_charge", tick.charge, tau);
        flow("grid_import", tick.grid_import, tau);
        flow("grid_export", tick.grid_export, tau);
        if (valid) {
            add(site_power, {{"flow", "green"}}, watts(tick.green_wh, tau));
            add(site_power, {{"flow", "nongreen"}}, watts(tick.nongreen_wh, tau));
            if (tick.coverage) {
                add(site_coverage, {}, *tick.coverage);
            }
            if (tick.onsite_share) {
                add(site_onsite_share, {}, *tick.onsite_share);
            }
            add(site_headroom, {{"kind", "free"}}, tick.headroom_free_w);
            add(site_headroom, {{"kind", "total"}}, tick.headroom_total_w);
            add(site_headroom, {{"kind", "storage"}}, tick.headroom_storage_w);
            add(site_balance, {}, watts(tick.balance_residual_wh, tau));
            if (tick.load.usable() && tick.load.wh > 0.0) {
                const double load_kwh = tick.load.wh / 1000.0;
                add(site_intensity, {{"scope", "location"}}, tick.carbon_location_g / load_kwh);
                add(site_intensity, {{"scope", "residual"}}, tick.carbon_residual_g / load_kwh);
            }
        }
        if (tick.ipue) {
            add(site_ipue, {}, *tick.ipue);
        }
        add(site_tick_valid, {}, valid ? 1.0 : 0.0);
    }

    void rack(const RackTick& rack, bool tick_valid, double tau) {
        const bool valid = tick_valid && rack.valid;
        const std::string tier = std::to_string(rack.tier);
        const auto power = [&](const char* view, const char* kind, double wh) {
            add(rack_power, {{"rack", rack.id}, {"tier", tier}, {"view", view}, {"kind", kind}},
                watts(wh, tau));
        };
        for (const char* view : {"it", "burdened"}) {
            if (rack.it.usable()) {
                power(view, "it", rack.it.wh);
            }
        }
        if (valid) {
            power("it", "green", rack.green_it_wh);
            power("it", "nongreen", rack.nongreen_it_wh);
            power("burdened", "green", rack.green_wh);
            power("burdened", "nongreen", rack.nongreen_wh);
        }
    }

    void racks(const TickResult& tick) {
        for (const auto& r : tick.racks) {
            rack(r, tick.valid, tick.tau_s);
        }
        if (tick.unattributed) {
            rack(*tick.unattributed, tick.valid, tick.tau_s);
        }
    }

    void hour(const accounting::Rollup& hour) {
        if (hour.cfe_interval) {
            add(site_cfe, {{"window", "hour"}, {"method", "interval"}}, *hour.cfe_interval);
        }
        if (hour.cfe_hourly) {
            add(site_cfe, {{"window", "hour"}, {"method", "hourly"}}, *hour.cfe_hourly);
        }
    }

    void rack_totals(const std::string& id, const accounting::RackTotals& t) {
        const auto energy = [&](const char* view, const char* kind, double wh) {
            add(rack_energy, {{"rack", id}, {"view", view}, {"kind", kind}}, wh * joules_per_wh);
        };
        energy("it", "green", t.green_it_wh);
        energy("it", "nongreen", t.nongreen_it_wh);
        energy("burdened", "green", t.green_wh);
        energy("burdened", "nongreen", t.nongreen_wh);
    }

    void totals(const accounting::Totals& t) {
        add(site_energy, {{"kind", "load"}}, t.load_wh * joules_per_wh);
        add(site_energy, {{"kind", "green"}}, t.green_wh * joules_per_wh);
        add(site_energy, {{"kind", "nongreen"}}, t.nongreen_wh * joules_per_wh);
        add(site_carbon, {{"scope", "location"}}, t.carbon_location_g);
        add(site_carbon, {{"scope", "residual"}}, t.carbon_residual_g);
        const auto& racks = in_.config->racks;
        for (std::size_t i = 0; i < t.racks.size() && i < racks.size(); ++i) {
            rack_totals(racks[i].id, t.racks[i]);
        }
        const auto& u = t.unattributed;
        if (u.it_wh != 0.0 || u.green_wh != 0.0 || u.nongreen_wh != 0.0) {
            rack_totals("unattributed", u);
        }
    }

    void battery(const accounting::BatteryStatus& b) {
        add(battery_energy, {{"kind", "stored"}}, b.stored_wh * joules_per_wh);
        add(battery_energy, {{"kind", "green"}}, b.green_wh * joules_per_wh);
        add(battery_energy, {{"kind", "deliverable_green"}},
            b.deliverable_green_wh * joules_per_wh);
        add(battery_fraction, {}, b.green_fraction);
    }

    void devices() {
        const auto& devices = in_.config->devices;
        for (std::size_t d = 0; d < devices.size(); ++d) {
            const auto& device = devices[d];
            const core::DeviceReading* reading = in_.samples->latest(d);
            add(device_up_name, {{"device", device.id}, {"profile", device.profile_name}},
                device_up(device, reading, in_.now) ? 1.0 : 0.0);
            if (reading != nullptr) {
                add(device_last_poll, {{"device", device.id}}, seconds_since_epoch(reading->ts));
                if (device_fresh(device, reading, in_.now) && device.profile) {
                    values(device, *reading);
                }
            }
            if (in_.poll_histograms != nullptr && d < in_.poll_histograms->size()) {
                const auto& h = in_.poll_histograms->device(d);
                out_.histogram(poll_duration, labels({{"device", device.id}}),
                               in_.poll_histograms->bounds(), h.counts, h.sum_s);
            }
        }
        add(stale_devices_name, {},
            static_cast<double>(stale_devices(*in_.config, *in_.samples, in_.now)));
    }

    void values(const config::DeviceConfig& device, const core::DeviceReading& reading) {
        const auto& points = device.profile->points;
        for (std::size_t i = 0; i < points.size() && i < reading.values.size(); ++i) {
            const auto& point = points[i];
            const auto& value = reading.values[i];
            if (value.quality != modbus::Quality::ok || point.type == modbus::DataType::string) {
                continue;
            }
            add(device_value, {{"device", device.id}, {"point", point.name}, {"unit", point.unit}},
                value.value);
        }
    }

    void alerts(const std::vector<alerts::AlertStatus>& statuses) {
        for (const auto& status : statuses) {
            if (status.state != alerts::AlertState::pending &&
                status.state != alerts::AlertState::firing) {
                continue;
            }
            add(alerts_name,
                {{"alertname", status.rule},
                 {"scope", std::string(alerts::to_string(status.scope))},
                 {"subject", status.subject},
                 {"severity", status.severity},
                 {"alertstate", std::string(alerts::to_string(status.state))}},
                1.0);
        }
        if (in_.alert_transitions != nullptr) {
            for (const auto& [key, count] : *in_.alert_transitions) {
                add(alert_transitions, {{"alertname", key.first}, {"to", key.second}},
                    static_cast<double>(count));
            }
        }
    }

    void self() {
        for (const auto& bus : in_.buses) {
            if (bus.stats == nullptr) {
                continue;
            }
            const std::string id(bus.bus);
            const auto& s = *bus.stats;
            add(modbus_requests, {{"bus", id}}, as_double(s.requests));
            add(modbus_errors, {{"bus", id}, {"kind", "timeout"}}, as_double(s.timeouts));
            add(modbus_errors, {{"bus", id}, {"kind", "exception"}}, as_double(s.exceptions));
            add(modbus_errors, {{"bus", id}, {"kind", "link"}}, as_double(s.link_errors));
            add(modbus_errors, {{"bus", id}, {"kind", "connect"}}, as_double(s.connect_failures));
            add(poll_overruns, {{"bus", id}}, as_double(s.overruns));
        }
        if (in_.mqtt != nullptr) {
            add(mqtt_connected, {}, in_.mqtt_connected ? 1.0 : 0.0);
            add(mqtt_messages, {{"result", "published"}}, as_double(in_.mqtt->published));
            add(mqtt_messages, {{"result", "delivered"}}, as_double(in_.mqtt->delivered));
            add(mqtt_messages, {{"result", "dropped"}}, as_double(in_.mqtt->dropped));
        }
        for (const auto& [sink, spool] : in_.spools) {
            const std::string& name = sink;
            add(spool_pending, {{"sink", name}}, as_double(spool->pending));
            add(spool_bytes, {{"sink", name}}, as_double(spool->bytes));
            add(spool_max_bytes, {{"sink", name}}, as_double(spool->max_bytes));
            add(spool_oldest, {{"sink", name}},
                static_cast<double>(spool->oldest_pending_ms.load()) / 1000.0);
            add(spool_records, {{"sink", name}, {"result", "appended"}},
                as_double(spool->appended));
            add(spool_records, {{"sink", name}, {"result", "delivered"}}, as_double(spool->acked));
            const std::uint64_t by_age = spool->dropped_age.load();
            add(spool_dropped, {{"sink", name}, {"reason", "size"}},
                static_cast<double>(spool->dropped.load() -
                                    std::min(spool->dropped.load(), by_age)));
            add(spool_dropped, {{"sink", name}, {"reason", "age"}}, static_cast<double>(by_age));
            add(spool_dropped, {{"sink", name}, {"reason", "write_error"}},
                as_double(spool->write_errors));
            add(spool_dropped, {{"sink", name}, {"reason", "corrupt"}}, as_double(spool->corrupt));
        }
        if (in_.influx != nullptr) {
            add(influx_queue, {}, as_double(in_.influx->queue_lines));
            add(influx_lines, {{"result", "written"}}, as_double(in_.influx->written_lines));
            add(influx_lines, {{"result", "rejected"}}, as_double(in_.influx->rejected_lines));
            add(influx_lines, {{"result", "dropped"}}, as_double(in_.influx->dropped_lines));
        }
        if (in_.alertmanager != nullptr) {
            const auto& am = *in_.alertmanager;
            add(am_posts, {{"result", "ok"}}, as_double(am.posts_ok));
            add(am_posts, {{"result", "failed"}}, as_double(am.posts_failed));
            add(am_alerts, {{"result", "sent"}}, as_double(am.alerts_sent));
            add(am_alerts, {{"result", "rejected"}}, as_double(am.alerts_rejected));
            add(am_alerts, {{"result", "dropped"}}, as_double(am.resolves_dropped));
            add(am_firing, {}, as_double(am.firing));
        }
        fleet();
        add(build_info, {{"version", std::string(in_.version)}}, 1.0);
    }

    void fleet() {
        if (in_.fleet == nullptr || in_.config == nullptr) {
            return;
        }
        const auto& f = *in_.fleet;
        const auto& fleet_config = in_.config->fleet;
        if (fleet_config.role == config::FleetRole::shard) {
            add(fleet_parts_published, {{"shard", fleet_config.shard}},
                as_double(f.parts_published));
            return;
        }
        if (fleet_config.role != config::FleetRole::aggregator) {
            return;
        }
        for (const auto& shard : f.shards) {
            const std::pair<std::string_view, std::uint64_t> results[] = {
                {"accepted", shard.accepted},     {"duplicate", shard.duplicate},
                {"correction", shard.correction}, {"too_late", shard.too_late},
                {"too_early", shard.too_early},   {"malformed", shard.malformed}};
            for (const auto& [result, count] : results) {
                add(fleet_parts, {{"shard", shard.shard}, {"result", std::string(result)}},
                    as_double(count));
            }
            add(fleet_shard_missing, {{"shard", shard.shard}}, as_double(shard.missing_ticks));
            if (shard.last_tick_ms >= 0) {
                add(fleet_shard_last, {{"shard", shard.shard}},
                    static_cast<double>(shard.last_tick_ms) / 1000.0);
            }
        }
        const std::string instance = fleet_config.instance;
        add(fleet_ticks, {{"result", "complete"}}, as_double(f.ticks_complete));
        add(fleet_ticks, {{"result", "partial"}}, as_double(f.ticks_partial));
        add(fleet_corrections, {}, as_double(f.corrections));
        add(fleet_active, {{"instance", instance}}, f.active ? 1.0 : 0.0);
        add(fleet_takeovers, {{"instance", instance}}, as_double(f.takeovers));
        add(fleet_epoch, {}, as_double(f.lease_epoch));
    }

    const MetricsInput& in_;
    std::string site_;
    ExpositionWriter out_;
};

} // namespace

bool device_fresh(const config::DeviceConfig& device, const core::DeviceReading* reading,
                  std::chrono::system_clock::time_point now) {
    return reading != nullptr && now - reading->ts <= 3 * device.poll_interval;
}

bool device_up(const config::DeviceConfig& device, const core::DeviceReading* reading,
               std::chrono::system_clock::time_point now) {
    return device_fresh(device, reading, now) &&
           core::reading_quality(*reading) != core::ReadingQuality::offline;
}

std::size_t stale_devices(const config::Config& config, const core::SampleStore& samples,
                          std::chrono::system_clock::time_point now) {
    std::size_t stale = 0;
    for (std::size_t d = 0; d < config.devices.size(); ++d) {
        if (!device_up(config.devices[d], samples.latest(d), now)) {
            ++stale;
        }
    }
    return stale;
}

std::string device_health_problem(const config::Config& config, const core::SampleStore& samples,
                                  std::chrono::system_clock::time_point now) {
    const std::size_t devices = config.devices.size();
    if (devices == 0 || stale_devices(config, samples, now) < devices) {
        return {};
    }
    return "no device answered in its last 3 poll intervals (" + std::to_string(devices) +
           " configured)";
}

std::string render_metrics(const MetricsInput& input) {
    if (input.config == nullptr) {
        throw std::invalid_argument("render_metrics: MetricsInput::config is required");
    }
    return Renderer(input).run();
}

} // namespace greenrack::sinks
