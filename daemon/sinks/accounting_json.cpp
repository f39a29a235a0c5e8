#include "daemon/sinks/accounting_json.hpp"

#include "daemon/sinks/json_writer.hpp"

namespace greenrack::sinks {

namespace {

using accounting::SourceQuality;

void number(JsonWriter& json, std::string_view key, double value) {
    json.key(key);
    json.value(value);
}

// A value that is only meaningful when `valid`; null otherwise.
void green(JsonWriter& json, std::string_view key, bool valid, double value) {
    json.key(key);
    if (valid) {
        json.value(value);
    } else {
        json.null();
    }
}

void optional(JsonWriter& json, std::string_view key, const std::optional<double>& value) {
    json.key(key);
    if (value) {
        json.value(*value);
    } else {
        json.null();
    }
}

// Average power over the tick from its energy: W = Wh * 3600 / tau_s.
double watts(double wh, double tau_s) {
    return tau_s > 0.0 ? wh * 3600.0 / tau_s : 0.0;
}

void energy_w(JsonWriter& json, std::string_view key, const accounting::Energy& e, double tau_s) {
    json.key(key);
    if (e.usable()) {
        json.value(watts(e.wh, tau_s));
    } else {
        json.null();
    }
}

void header(JsonWriter& json, const accounting::TickResult& tick) {
    const auto tick_ms = static_cast<std::int64_t>(tick.tau_s * 1000.0 + 0.5);
    json.key("ts");
    json.value(tick.start_ms + tick_ms);
    json.key("tick_start");
    json.value(tick.start_ms);
    json.key("tick_s");
    json.value(tick.tau_s);
    json.key("seq");
    json.value(tick_ms > 0 ? tick.start_ms / tick_ms : std::int64_t{0});
}

void flags(JsonWriter& json, std::uint32_t bits) {
    json.key("flags");
    json.begin_array();
    for (auto name : accounting::flag_names(bits)) {
        json.value(name);
    }
    json.end_array();
}

void rack_totals(JsonWriter& json, const accounting::RackTotals& t) {
    json.begin_object();
    number(json, "it_wh", t.it_wh);
    number(json, "green_wh", t.green_wh);
    number(json, "nongreen_wh", t.nongreen_wh);
    number(json, "green_it_wh", t.green_it_wh);
    number(json, "nongreen_it_wh", t.nongreen_it_wh);
    number(json, "carbon_location_g", t.carbon_location_g);
    number(json, "carbon_residual_g", t.carbon_residual_g);
    json.end_object();
}

} // namespace

std::string encode_site_state(const accounting::TickResult& tick, const SiteContext& context) {
    const double tau = tick.tau_s;
    const bool valid = tick.valid;
    JsonWriter json;
    json.begin_object();
    header(json, tick);
    json.key("quality");
    json.value(accounting::to_string(tick.quality));
    json.key("valid");
    json.value(valid);
    flags(json, tick.flags);
    if (context.settings != nullptr) {
        json.key("allocation");
        json.value(accounting::to_string(context.settings->allocation));
        json.key("battery_model");
        json.value(accounting::to_string(context.settings->battery_model));
        number(json, "grid_cfe_share", context.settings->grid_cfe_share);
    }

    energy_w(json, "load_w", tick.load, tau);
    number(json, "it_w", watts(tick.it_wh, tau));
    energy_w(json, "renewable_w", tick.renewable, tau);
    energy_w(json, "pv_w", tick.pv, tau);
    energy_w(json, "wind_w", tick.wind, tau);
    energy_w(json, "battery_discharge_w", tick.discharge, tau);
    energy_w(json, "battery_charge_w", tick.charge, tau);
    energy_w(json, "grid_import_w", tick.grid_import, tau);
    energy_w(json, "grid_export_w", tick.grid_export, tau);
    json.key("sources");
    json.begin_object();
    const std::pair<const char*, const accounting::Energy*> sources[] = {
        {"load", &tick.load},
        {"pv", &tick.pv},
        {"wind", &tick.wind},
        {"battery_discharge", &tick.discharge},
        {"battery_charge", &tick.charge},
        {"grid_import", &tick.grid_import},
        {"grid_export", &tick.grid_export}};
    for (const auto& [name, energy] : sources) {
        json.key(name);
        json.value(accounting::to_string(energy->quality));
    }
    json.end_object();

    green(json, "green_w", valid, watts(tick.green_wh, tau));
    green(json, "nongreen_w", valid, watts(tick.nongreen_wh, tau));
    optional(json, "coverage", valid ? tick.coverage : std::nullopt);
    optional(json, "onsite_share", valid ? tick.onsite_share : std::nullopt);
    green(json, "renewable_to_load_w", valid, watts(tick.renewable_to_load_wh, tau));
    green(json, "battery_to_load_w", valid, watts(tick.battery_to_load_wh, tau));
    green(json, "grid_to_load_w", valid, watts(tick.grid_to_load_wh, tau));
    green(json, "renewable_to_battery_w", valid, watts(tick.renewable_to_battery_wh, tau));
    green(json, "grid_to_battery_w", valid, watts(tick.grid_to_battery_wh, tau));
    green(json, "renewable_to_export_w", valid, watts(tick.renewable_to_export_wh, tau));
    green(json, "curtailed_w", valid, watts(tick.curtailed_wh, tau));
    green(json, "battery_green_fraction", valid, tick.battery_green_fraction);
    green(json, "balance_residual_w", valid, watts(tick.balance_residual_wh, tau));
    green(json, "carbon_location_g", valid, tick.carbon_location_g);
    green(json, "carbon_residual_g", valid, tick.carbon_residual_g);
    const bool has_load = valid && tick.load.usable() && tick.load.wh > 0.0;
    green(json, "intensity_location_g_per_kwh", has_load,
          has_load ? tick.carbon_location_g / (tick.load.wh / 1000.0) : 0.0);
    green(json, "intensity_residual_g_per_kwh", has_load,
          has_load ? tick.carbon_residual_g / (tick.load.wh / 1000.0) : 0.0);
    green(json, "headroom_free_w", valid, tick.headroom_free_w);
    green(json, "headroom_total_w", valid, tick.headroom_total_w);
    json.key("headroom_total_lower_bound");
    json.value(tick.headroom_total_lower_bound);
    green(json, "headroom_storage_w", valid, tick.headroom_storage_w);
    optional(json, "ipue", tick.ipue);
    if (context.settings != nullptr) {
        json.key("metering_category");
        json.value(context.settings->metering_category);
    }

    if (context.hour_so_far != nullptr) {
        const auto& hour = *context.hour_so_far;
        json.key("hour");
        json.begin_object();
        json.key("start");
        json.value(hour.start_ms);
        optional(json, "cfe_interval", hour.cfe_interval);
        optional(json, "cfe_hourly", hour.cfe_hourly);
        number(json, "data_coverage", hour.data_coverage);
        number(json, "load_wh", hour.load_wh);
        number(json, "green_wh", hour.green_wh);
        json.end_object();
    }
    if (context.totals != nullptr) {
        const auto& t = *context.totals;
        json.key("totals");
        json.begin_object();
        number(json, "load_wh", t.load_wh);
        number(json, "green_wh", t.green_wh);
        number(json, "nongreen_wh", t.nongreen_wh);
        number(json, "renewable_wh", t.renewable_wh);
        number(json, "pv_wh", t.pv_wh);
        number(json, "wind_wh", t.wind_wh);
        number(json, "battery_discharge_wh", t.discharge_wh);
        number(json, "battery_charge_wh", t.charge_wh);
        number(json, "grid_import_wh", t.import_wh);
        number(json, "grid_export_wh", t.export_wh);
        number(json, "it_wh", t.it_wh);
        number(json, "carbon_location_g", t.carbon_location_g);
        number(json, "carbon_residual_g", t.carbon_residual_g);
        json.key("ticks");
        json.value(static_cast<std::uint64_t>(t.ticks));
        json.key("ticks_valid");
        json.value(static_cast<std::uint64_t>(t.ticks_valid));
        json.end_object();
    }
    json.end_object();
    return json.take();
}

std::string encode_rack_state(const accounting::TickResult& tick, const accounting::RackTick& rack,
                              const accounting::RackTotals& totals) {
    const double tau = tick.tau_s;
    const bool valid = tick.valid && rack.valid;
    JsonWriter json;
    json.begin_object();
    header(json, tick);
    json.key("rack");
    json.value(rack.id);
    json.key("tier");
    json.value(rack.tier);
    json.key("quality");
    json.value(accounting::to_string(rack.it.quality));
    json.key("valid");
    json.value(valid);
    energy_w(json, "it_w", rack.it, tau);
    green(json, "burdened_w", valid, watts(rack.burdened_wh, tau));
    green(json, "green_w", valid, watts(rack.green_wh, tau));
    green(json, "nongreen_w", valid, watts(rack.nongreen_wh, tau));
    green(json, "green_it_w", valid, watts(rack.green_it_wh, tau));
    green(json, "nongreen_it_w", valid, watts(rack.nongreen_it_wh, tau));
    green(json, "coverage", valid && rack.burdened_wh > 0.0,
          rack.burdened_wh > 0.0 ? rack.green_wh / rack.burdened_wh : 0.0);
    green(json, "carbon_location_g", valid, rack.carbon_location_g);
    green(json, "carbon_residual_g", valid, rack.carbon_residual_g);
    json.key("totals");
    rack_totals(json, totals);
    json.end_object();
    return json.take();
}

std::string encode_battery_state(const accounting::TickResult& tick,
                                 const accounting::AccountingSettings& settings) {
    const auto& b = tick.battery;
    JsonWriter json;
    json.begin_object();
    header(json, tick);
    json.key("quality");
    json.value(
        accounting::to_string(accounting::worst(tick.discharge.quality, tick.charge.quality)));
    json.key("model");
    json.value(accounting::to_string(settings.battery_model));
    energy_w(json, "discharge_w", tick.discharge, tick.tau_s);
    energy_w(json, "charge_w", tick.charge, tick.tau_s);
    number(json, "stored_wh", b.stored_wh);
    number(json, "green_wh", b.green_wh);
    number(json, "green_fraction", b.green_fraction);
    number(json, "deliverable_green_wh", b.deliverable_green_wh);
    number(json, "carbon_g", b.carbon_g);
    number(json, "losses_wh", b.losses_wh);
    json.key("cold_start");
    json.value(b.cold_start);
    json.end_object();
    return json.take();
}

std::string encode_rollup(const accounting::Rollup& r,
                          const accounting::AccountingSettings& settings) {
    JsonWriter json;
    json.begin_object();
    json.key("ts");
    json.value(r.end_ms);
    json.key("window");
    json.value(accounting::to_string(r.window));
    json.key("start");
    json.value(r.start_ms);
    json.key("end");
    json.value(r.end_ms);
    json.key("seq");
    json.value(static_cast<std::uint64_t>(r.seq));
    json.key("quality");
    json.value(accounting::to_string(r.quality));
    number(json, "data_coverage", r.data_coverage);
    json.key("ticks");
    json.value(static_cast<std::uint64_t>(r.ticks));
    json.key("ticks_expected");
    json.value(static_cast<std::uint64_t>(r.ticks_expected));
    json.key("allocation");
    json.value(accounting::to_string(settings.allocation));
    json.key("battery_model");
    json.value(accounting::to_string(settings.battery_model));
    number(json, "load_wh", r.load_wh);
    number(json, "green_wh", r.green_wh);
    number(json, "nongreen_wh", r.nongreen_wh);
    number(json, "renewable_wh", r.renewable_wh);
    number(json, "it_wh", r.it_wh);
    number(json, "grid_import_wh", r.import_wh);
    number(json, "grid_export_wh", r.export_wh);
    optional(json, "cfe_interval", r.cfe_interval);
    optional(json, "cfe_hourly", r.cfe_hourly);
    optional(json, "ref", r.ref);
    json.key("ref_trailing_12_months");
    json.value(false);
    optional(json, "ipue", r.ipue);
    json.key("metering_category");
    json.value(r.metering_category);
    number(json, "carbon_location_g", r.carbon_location_g);
    number(json, "carbon_residual_g", r.carbon_residual_g);
    optional(json, "cue_location_kg_per_kwh", r.cue_location_kg_per_kwh);
    json.key("racks");
    json.begin_object();
    for (std::size_t i = 0; i < r.racks.size() && i < settings.racks.size(); ++i) {
        json.key(settings.racks[i].id);
        rack_totals(json, r.racks[i]);
    }
    json.end_object();
    json.end_object();
    return json.take();
}

} // namespace greenrack::sinks
