#include "daemon/core/alerts/observations.hpp"

#include <algorithm>
#include <cmath>

namespace greenrack::alerts {

namespace {

const std::vector<OutputInfo> site_outputs{
    {"load_w", "facility load L"},
    {"it_w", "IT load (sum of the racks)"},
    {"renewable_w", "on-site renewable output R"},
    {"pv_w", "PV output"},
    {"wind_w", "wind output"},
    {"discharge_w", "battery discharge D"},
    {"charge_w", "battery charge C"},
    {"import_w", "grid import I"},
    {"export_w", "grid export X"},
    {"green_w", "green power delivered to the load G_L"},
    {"nongreen_w", "non-green power delivered to the load N_L"},
    {"grid_to_load_w", "grid import delivered to the load i_L"},
    {"battery_to_load_w", "battery discharge delivered to the load d_L"},
    {"battery_nongreen_to_load_w", "non-green part of the battery discharge to the load"},
    {"coverage", "clean coverage G_L / L"},
    {"onsite_share", "on-site renewable share of the load"},
    {"balance_residual_w", "bus balance residual"},
    {"balance_residual_ratio", "|balance residual| / L"},
    {"data_gap", "1 when green figures cannot be computed this tick"},
    {"headroom_free_w", "clean power exported or curtailed now"},
    {"headroom_total_w", "clean power not used by the load"},
    {"headroom_storage_w", "green power the battery could add"},
    {"carbon_intensity_g_per_kwh", "location-based carbon intensity of the load"},
    {"ipue", "load / IT"},
    {"hour_cfe", "hourly-matched CFE of the clock hour so far"},
    {"devices_stale", "devices without a recent good reading"},
    {"spool_dropped_recent",
     "records the sinks' spools lost (cap, write error, damaged) in the last 10 min"},
    {"spool_fill", "fill of the fullest sink spool (bytes / spool.max_size), 0..1"},
    {"spool_backlog_s", "age of the oldest record waiting in a sink spool (0: none waits)"},
};
const std::vector<OutputInfo> rack_outputs{
    {"it_w", "rack IT power E_i"},
    {"burdened_w", "rack power with its share of the facility overhead"},
    {"green_w", "green power, burdened view G_i*"},
    {"nongreen_w", "non-green power, burdened view N_i*"},
    {"green_it_w", "green power, IT view G_i"},
    {"nongreen_it_w", "non-green power, IT view N_i"},
    {"coverage", "green share of the rack's power"},
    {"tier", "the rack's tier"},
    {"headroom_free_w", "site: clean power exported or curtailed now"},
    {"headroom_total_w", "site: clean power not used by the load"},
    {"headroom_storage_w", "site: green power the battery could add"},
};
const std::vector<OutputInfo> battery_outputs{
    {"green_fraction", "green share of the stored energy phi"},
    {"discharge_w", "discharge D"},
    {"charge_w", "charge C"},
    {"stored_wh", "stored energy E_b"},
    {"green_wh", "stored green energy E_g"},
    {"nongreen_to_load_w", "non-green part of the discharge to the load"},
};
const std::vector<OutputInfo> device_outputs{
    {"stale", "1 when there is no good reading within 3 poll intervals"},
    {"up", "1 when the last poll got an answer"},
    {"age_s", "seconds since the last good reading"},
};

double watts(double wh, double tau_s) {
    return tau_s > 0.0 ? wh * 3600.0 / tau_s : 0.0;
}

void put_usable(Values& values, std::string_view name, const accounting::Energy& energy,
                double tau_s) {
    if (energy.usable()) {
        values.emplace(name, watts(energy.wh, tau_s));
    }
}

void put_optional(Values& values, std::string_view name, const std::optional<double>& value) {
    if (value && std::isfinite(*value)) {
        values.emplace(name, *value);
    }
}

} // namespace

const std::vector<OutputInfo>& outputs_of(Scope scope) {
    switch (scope) {
    case Scope::site:
        return site_outputs;
    case Scope::rack:
        return rack_outputs;
    case Scope::battery:
        return battery_outputs;
    case Scope::device:
        return device_outputs;
    }
    return site_outputs;
}

bool is_output_of(Scope scope, std::string_view name) {
    const auto& outputs = outputs_of(scope);
    return std::any_of(outputs.begin(), outputs.end(),
                       [&](const OutputInfo& info) { return info.name == name; });
}

SubjectValues site_values(std::string site_id, const accounting::TickResult& tick,
                          const accounting::Rollup* hour_so_far, int devices_stale) {
    SubjectValues out{std::move(site_id), {}};
    Values& v = out.values;
    const double tau = tick.tau_s;
    put_usable(v, "load_w", tick.load, tau);
    put_usable(v, "renewable_w", tick.renewable, tau);
    put_usable(v, "pv_w", tick.pv, tau);
    put_usable(v, "wind_w", tick.wind, tau);
    put_usable(v, "discharge_w", tick.discharge, tau);
    put_usable(v, "charge_w", tick.charge, tau);
    put_usable(v, "import_w", tick.grid_import, tau);
    put_usable(v, "export_w", tick.grid_export, tau);
    v.emplace("data_gap", tick.valid ? 0.0 : 1.0);
    v.emplace("devices_stale", static_cast<double>(devices_stale));
    if (tick.valid) {
        v.emplace("it_w", watts(tick.it_wh, tau));
        v.emplace("green_w", watts(tick.green_wh, tau));
        v.emplace("nongreen_w", watts(tick.nongreen_wh, tau));
        v.emplace("grid_to_load_w", watts(tick.grid_to_load_wh, tau));
        v.emplace("battery_to_load_w", watts(tick.battery_to_load_wh, tau));
        v.emplace("battery_nongreen_to_load_w",
                  watts((1.0 - tick.battery_green_fraction) * tick.battery_to_load_wh, tau));
        put_optional(v, "coverage", tick.coverage);
        put_optional(v, "onsite_share", tick.onsite_share);
        v.emplace("balance_residual_w", tick.balance_residual_w);
        if (tick.load.usable() && tick.load.wh > 0.0) {
            v.emplace("balance_residual_ratio", std::abs(tick.balance_residual_wh) / tick.load.wh);
        }
        v.emplace("headroom_free_w", tick.headroom_free_w);
        v.emplace("headroom_total_w", tick.headroom_total_w);
        v.emplace("headroom_storage_w", tick.headroom_storage_w);
        put_optional(v, "carbon_intensity_g_per_kwh", tick.carbon_intensity_location_g_per_kwh);
        put_optional(v, "ipue", tick.ipue);
    }
    if (hour_so_far != nullptr) {
        put_optional(v, "hour_cfe", hour_so_far->cfe_hourly);
    }
    return out;
}

SubjectValues rack_values(const accounting::TickResult& tick, const accounting::RackTick& rack) {
    SubjectValues out{rack.id, {}};
    Values& v = out.values;
    const double tau = tick.tau_s;
    v.emplace("tier", static_cast<double>(rack.tier));
    put_usable(v, "it_w", rack.it, tau);
    if (rack.valid) {
        v.emplace("burdened_w", watts(rack.burdened_wh, tau));
        v.emplace("green_w", watts(rack.green_wh, tau));
        v.emplace("nongreen_w", watts(rack.nongreen_wh, tau));
        v.emplace("green_it_w", watts(rack.green_it_wh, tau));
        v.emplace("nongreen_it_w", watts(rack.nongreen_it_wh, tau));
        const double basis = rack.green_wh + rack.nongreen_wh;
        if (basis > 0.0) {
            v.emplace("coverage", rack.green_wh / basis);
        }
    }
    if (tick.valid) {
        v.emplace("headroom_free_w", tick.headroom_free_w);
        v.emplace("headroom_total_w", tick.headroom_total_w);
        v.emplace("headroom_storage_w", tick.headroom_storage_w);
    }
    return out;
}

SubjectValues battery_values(const accounting::TickResult& tick) {
    SubjectValues out{"battery", {}};
    Values& v = out.values;
    const double tau = tick.tau_s;
    put_usable(v, "discharge_w", tick.discharge, tau);
    put_usable(v, "charge_w", tick.charge, tau);
    v.emplace("green_fraction", tick.battery.green_fraction);
    v.emplace("stored_wh", tick.battery.stored_wh);
    v.emplace("green_wh", tick.battery.green_wh);
    if (tick.valid) {
        v.emplace("nongreen_to_load_w",
                  watts((1.0 - tick.battery_green_fraction) * tick.battery_to_load_wh, tau));
    }
    return out;
}

void put_spool_values(Values& values, const SpoolHealth& health, std::int64_t now_ms) {
    values.insert_or_assign("spool_dropped_recent", static_cast<double>(health.dropped_recent));
    values.insert_or_assign("spool_fill", health.fill);
    const std::int64_t backlog_ms =
        health.oldest_pending_ms ? std::max<std::int64_t>(0, now_ms - *health.oldest_pending_ms)
                                 : 0;
    values.insert_or_assign("spool_backlog_s", static_cast<double>(backlog_ms) / 1000.0);
}

SubjectValues device_values(const DeviceHealth& health, std::int64_t now_ms) {
    SubjectValues out{health.id, {}};
    Values& v = out.values;
    v.emplace("up", health.up ? 1.0 : 0.0);
    bool stale = true;
    if (health.last_good_ms) {
        const std::int64_t age = std::max<std::int64_t>(0, now_ms - *health.last_good_ms);
        v.emplace("age_s", static_cast<double>(age) / 1000.0);
        stale = age > health.stale_after_ms;
    }
    v.emplace("stale", stale ? 1.0 : 0.0);
    return out;
}

} // namespace greenrack::alerts
