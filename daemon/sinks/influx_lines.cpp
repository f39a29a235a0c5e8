#include "daemon/sinks/influx_lines.hpp"

#include <algorithm>
#include <string>

namespace greenrack::sinks {

namespace {

using accounting::Energy;
using accounting::TickResult;

// Average power over the tick from its energy: W = Wh * 3600 / tau_s (as the JSON payloads).
double watts(double wh, double tau_s) {
    return tau_s > 0.0 ? wh * 3600.0 / tau_s : 0.0;
}

void energy_w(LineBuilder& out, std::string_view key, const Energy& energy, double tau_s) {
    if (energy.usable()) {
        out.field_float(key, watts(energy.wh, tau_s));
    }
}

void optional_float(LineBuilder& out, std::string_view key, const std::optional<double>& value) {
    if (value) {
        out.field_float(key, *value);
    }
}

std::chrono::system_clock::time_point tick_end(const TickResult& tick) {
    const auto tick_ms = static_cast<std::int64_t>(tick.tau_s * 1000.0 + 0.5);
    return from_unix_ms(tick.start_ms + tick_ms);
}

enum class RackView { it, burdened };

void append_rack_view(LineBuilder& out, std::string_view site, const TickResult& tick,
                      const accounting::RackTick& rack, const accounting::RackTotals& totals,
                      RackView view) {
    const double tau = tick.tau_s;
    const bool valid = tick.valid && rack.valid;
    const bool it_view = view == RackView::it;
    out.begin("rack")
        .tag("site", site)
        .tag("rack", rack.id)
        .tag("tier", std::to_string(rack.tier))
        .tag("view", it_view ? "it" : "burdened")
        .tag("quality", accounting::to_string(rack.it.quality));
    energy_w(out, "it_w", rack.it, tau);
    if (valid) {
        const double green_wh = it_view ? rack.green_it_wh : rack.green_wh;
        const double nongreen_wh = it_view ? rack.nongreen_it_wh : rack.nongreen_wh;
        const double basis_wh = it_view ? rack.it.wh : rack.burdened_wh;
        out.field_float("green_w", watts(green_wh, tau));
        out.field_float("nongreen_w", watts(nongreen_wh, tau));
        if (basis_wh > 0.0) {
            out.field_float("coverage_ratio", green_wh / basis_wh);
        }
        if (!it_view) {
            out.field_float("carbon_location_g", rack.carbon_location_g);
            out.field_float("carbon_residual_g", rack.carbon_residual_g);
        }
    }
    out.field_float("green_energy_wh_total", it_view ? totals.green_it_wh : totals.green_wh);
    out.field_float("nongreen_energy_wh_total",
                    it_view ? totals.nongreen_it_wh : totals.nongreen_wh);
    out.end(tick_end(tick));
}

} // namespace

std::chrono::system_clock::time_point from_unix_ms(std::int64_t ms) {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

void append_device_line(LineBuilder& out, std::string_view site, std::string_view device_id,
                        const profiles::DeviceProfile& profile,
                        const core::DeviceReading& reading) {
    out.begin("device")
        .tag("site", site)
        .tag("device", device_id)
        .tag("profile", profile.name)
        .tag("role", profiles::to_string(profile.device_role))
        .tag("quality", core::to_string(core::reading_quality(reading)));
    const std::size_t count = std::min(profile.points.size(), reading.values.size());
    for (std::size_t i = 0; i < count; ++i) {
        const auto& point = profile.points[i];
        const auto& value = reading.values[i];
        if (value.quality != modbus::Quality::ok || point.type == modbus::DataType::string) {
            continue;
        }
        // Same text as the JSON payload: an unscaled f32 register at float precision.
        if (point.type == modbus::DataType::f32 && point.scale == 1.0 && point.offset == 0.0) {
            out.field_float32(point.name, static_cast<float>(value.value));
        } else {
            out.field_float(point.name, value.value);
        }
    }
    out.field_float("poll_ms", static_cast<double>(reading.duration.count()) / 1000.0);
    out.field_int("seq", static_cast<std::int64_t>(reading.seq));
    out.field_int("requests_failed", static_cast<std::int64_t>(reading.requests_failed));
    out.end(reading.ts);
}

void append_site_line(LineBuilder& out, std::string_view site, const TickResult& tick,
                      const accounting::Totals& totals, const accounting::Rollup* hour_so_far) {
    const double tau = tick.tau_s;
    out.begin("site").tag("site", site).tag("quality", accounting::to_string(tick.quality));
    out.field_bool("valid", tick.valid);
    energy_w(out, "load_w", tick.load, tau);
    out.field_float("it_w", watts(tick.it_wh, tau));
    energy_w(out, "renewable_w", tick.renewable, tau);
    energy_w(out, "pv_w", tick.pv, tau);
    energy_w(out, "wind_w", tick.wind, tau);
    energy_w(out, "battery_discharge_w", tick.discharge, tau);
    energy_w(out, "battery_charge_w", tick.charge, tau);
    energy_w(out, "grid_import_w", tick.grid_import, tau);
    energy_w(out, "grid_export_w", tick.grid_export, tau);
    if (tick.valid) {
        out.field_float("green_w", watts(tick.green_wh, tau));
        out.field_float("nongreen_w", watts(tick.nongreen_wh, tau));
        optional_float(out, "coverage_ratio", tick.coverage);
        optional_float(out, "onsite_share_ratio", tick.onsite_share);
        out.field_float("battery_green_fraction_ratio", tick.battery_green_fraction);
        out.field_float("renewable_to_load_w", watts(tick.renewable_to_load_wh, tau));
        out.field_float("battery_to_load_w", watts(tick.battery_to_load_wh, tau));
        out.field_float("grid_to_load_w", watts(tick.grid_to_load_wh, tau));
        out.field_float("renewable_to_battery_w", watts(tick.renewable_to_battery_wh, tau));
        out.field_float("grid_to_battery_w", watts(tick.grid_to_battery_wh, tau));
        out.field_float("renewable_to_export_w", watts(tick.renewable_to_export_wh, tau));
        out.field_float("curtailed_w", watts(tick.curtailed_wh, tau));
        out.field_float("balance_residual_w", watts(tick.balance_residual_wh, tau));
        out.field_float("carbon_location_g", tick.carbon_location_g);
        out.field_float("carbon_residual_g", tick.carbon_residual_g);
        if (tick.load.usable() && tick.load.wh > 0.0) {
            out.field_float("intensity_location_g_per_kwh",
                            tick.carbon_location_g / (tick.load.wh / 1000.0));
        }
        out.field_float("headroom_free_w", tick.headroom_free_w);
        out.field_float("headroom_total_w", tick.headroom_total_w);
        out.field_float("headroom_storage_w", tick.headroom_storage_w);
        optional_float(out, "ipue_ratio", tick.ipue);
        if (hour_so_far != nullptr) {
            optional_float(out, "hour_cfe_interval_ratio", hour_so_far->cfe_interval);
            optional_float(out, "hour_cfe_hourly_ratio", hour_so_far->cfe_hourly);
        }
    }
    out.field_float("load_energy_wh_total", totals.load_wh);
    out.field_float("green_energy_wh_total", totals.green_wh);
    out.field_float("nongreen_energy_wh_total", totals.nongreen_wh);
    out.field_float("carbon_location_g_total", totals.carbon_location_g);
    out.field_float("carbon_residual_g_total", totals.carbon_residual_g);
    out.end(tick_end(tick));
}

void append_rack_lines(LineBuilder& out, std::string_view site, const TickResult& tick,
                       const accounting::Totals& totals) {
    const accounting::RackTotals no_totals{};
    for (std::size_t i = 0; i < tick.racks.size(); ++i) {
        const auto& rack_totals = i < totals.racks.size() ? totals.racks[i] : no_totals;
        append_rack_view(out, site, tick, tick.racks[i], rack_totals, RackView::it);
        append_rack_view(out, site, tick, tick.racks[i], rack_totals, RackView::burdened);
    }
    if (tick.unattributed) {
        append_rack_view(out, site, tick, *tick.unattributed, totals.unattributed, RackView::it);
        append_rack_view(out, site, tick, *tick.unattributed, totals.unattributed,
                         RackView::burdened);
    }
}

void append_battery_line(LineBuilder& out, std::string_view site, const TickResult& tick) {
    const auto& battery = tick.battery;
    if (!battery.known) {
        return;
    }
    out.begin("battery")
        .tag("site", site)
        .tag("quality",
             accounting::to_string(accounting::worst(tick.discharge.quality, tick.charge.quality)));
    energy_w(out, "discharge_w", tick.discharge, tick.tau_s);
    energy_w(out, "charge_w", tick.charge, tick.tau_s);
    out.field_float("stored_wh", battery.stored_wh);
    out.field_float("green_wh", battery.green_wh);
    out.field_float("green_fraction_ratio", battery.green_fraction);
    out.field_float("deliverable_green_wh", battery.deliverable_green_wh);
    out.field_float("carbon_g", battery.carbon_g);
    out.field_float("losses_wh", battery.losses_wh);
    out.field_bool("cold_start", battery.cold_start);
    out.end(tick_end(tick));
}

void append_tick_lines(LineBuilder& out, std::string_view site, const TickResult& tick,
                       const accounting::Totals& totals, const accounting::Rollup* hour_so_far) {
    if (tick.ignored) {
        return;
    }
    append_site_line(out, site, tick, totals, hour_so_far);
    append_rack_lines(out, site, tick, totals);
    append_battery_line(out, site, tick);
}

void append_rollup_line(LineBuilder& out, std::string_view site, const accounting::Rollup& rollup) {
    out.begin("rollup")
        .tag("site", site)
        .tag("window", accounting::to_string(rollup.window))
        .tag("quality", accounting::to_string(rollup.quality));
    out.field_float("load_wh", rollup.load_wh);
    out.field_float("green_wh", rollup.green_wh);
    out.field_float("nongreen_wh", rollup.nongreen_wh);
    out.field_float("renewable_wh", rollup.renewable_wh);
    out.field_float("it_wh", rollup.it_wh);
    out.field_float("grid_import_wh", rollup.import_wh);
    out.field_float("grid_export_wh", rollup.export_wh);
    optional_float(out, "cfe_interval_ratio", rollup.cfe_interval);
    optional_float(out, "cfe_hourly_ratio", rollup.cfe_hourly);
    optional_float(out, "ref_ratio", rollup.ref);
    optional_float(out, "ipue_ratio", rollup.ipue);
    out.field_float("carbon_location_g", rollup.carbon_location_g);
    out.field_float("carbon_residual_g", rollup.carbon_residual_g);
    out.field_float("data_coverage_ratio", rollup.data_coverage);
    out.end(from_unix_ms(rollup.end_ms));
}

void append_self_lines(LineBuilder& out, std::string_view site,
                       std::span<const SelfBusCounters> buses, const SelfSiteCounters& counters,
                       std::chrono::system_clock::time_point ts) {
    for (const auto& bus : buses) {
        out.begin("greenrack_self").tag("site", site).tag("bus", bus.bus);
        out.field_count("modbus_requests_total", bus.requests);
        out.field_count("modbus_errors_total", bus.errors);
        out.field_count("modbus_timeouts_total", bus.timeouts);
        out.field_count("modbus_exceptions_total", bus.exceptions);
        out.field_count("poll_overruns_total", bus.overruns);
        out.end(ts);
    }
    out.begin("greenrack_self").tag("site", site);
    out.field_count("devices_stale", counters.devices_stale);
    out.field_count("mqtt_published_total", counters.mqtt_published);
    out.field_count("mqtt_dropped_total", counters.mqtt_dropped);
    out.field_count("influx_queue_lines", counters.influx_queue_lines);
    out.field_count("influx_dropped_lines_total", counters.influx_dropped_lines);
    out.end(ts);
}

} // namespace greenrack::sinks
