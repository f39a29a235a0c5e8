#include "daemon/core/accounting/engine.hpp"

#include "daemon/core/accounting/input_checks.hpp"
#include "daemon/core/accounting/it_resolution.hpp"
#include "daemon/core/accounting/rack_attribution.hpp"
#include "daemon/core/accounting/settings_checks.hpp"
#include "daemon/core/accounting/site_allocation.hpp"
#include "daemon/core/accounting/totals.hpp"
#include "daemon/core/accounting/units.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>

namespace greenrack::accounting {

namespace {

BatteryParameters battery_parameters(const AccountingSettings& s) {
    check_settings(s);
    BatteryParameters p;
    p.model = s.battery_model;
    p.charge_efficiency = s.charge_efficiency;
    p.discharge_efficiency = s.discharge_efficiency;
    // Unknown origin: as if charged from the grid with no supplier green share.
    p.unknown_location_g_per_wh = grams_per_wh(s.ef_avg_g_per_kwh) / s.charge_efficiency;
    p.unknown_residual_g_per_wh = grams_per_wh(s.ef_residual_g_per_kwh) / s.charge_efficiency;
    return p;
}

RollupParameters rollup_parameters(const AccountingSettings& s) {
    RollupParameters p;
    p.tick_ms = s.tick.count();
    p.grid_cfe_share = s.grid_cfe_share;
    p.retain_onsite_attributes = s.retain_onsite_attributes;
    p.metering_category = s.metering_category;
    p.rack_count = s.racks.size();
    return p;
}

// R inferred from the balance: report the known part of the split, the rest as inferred.
void split_inferred(TickResult& out, const TickInputs& in, double renewable) {
    const auto capped = [renewable](const Energy& known) {
        return known.wh > renewable
                   ? Energy{renewable, worst(known.quality, SourceQuality::inferred)}
                   : known;
    };
    if (in.pv.usable()) {
        out.pv = capped(in.pv);
        out.wind = Energy{renewable - out.pv.wh, SourceQuality::inferred};
    } else if (in.wind.usable()) {
        out.wind = capped(in.wind);
        out.pv = Energy{renewable - out.wind.wh, SourceQuality::inferred};
    }
}

struct Charge {
    double ac_wh = 0.0;
    double green_ac_wh = 0.0;
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
};

} // namespace

Engine::Engine(AccountingSettings settings)
    : settings_(std::move(settings)), store_(battery_parameters(settings_)),
      rollups_(rollup_parameters(settings_)) {
    totals_.racks.resize(settings_.racks.size());
    battery_ = store_.status();
}

TickResult Engine::process(const TickInputs& raw) {
    const std::int64_t tick_ms = settings_.tick.count();
    if (raw.start_ms < 0 || raw.start_ms % tick_ms != 0) {
        throw std::invalid_argument("accounting tick " + std::to_string(raw.start_ms) +
                                    " ms is not a non-negative multiple of tau");
    }
    if (raw.rack_it.size() != settings_.racks.size()) {
        throw std::invalid_argument("accounting tick has " + std::to_string(raw.rack_it.size()) +
                                    " rack energies for " + std::to_string(settings_.racks.size()) +
                                    " racks");
    }
    TickResult out;
    out.start_ms = raw.start_ms;
    out.tau_s = static_cast<double>(tick_ms) / 1000.0;
    if (last_tick_ms_ >= 0 && raw.start_ms <= last_tick_ms_) {
        out.ignored = true;
        out.flags = raw.flags;
        out.racks = invalid_racks(settings_.racks, raw.rack_it);
        out.battery = battery_;
        return out;
    }

    const double tau_ms = static_cast<double>(tick_ms);
    const double g = settings_.grid_cfe_share;
    const double ef_avg = grams_per_wh(settings_.ef_avg_g_per_kwh);
    const double ef_res = grams_per_wh(settings_.ef_residual_g_per_kwh);
    std::uint32_t flags = raw.flags;
    const TickInputs in = checked_inputs(raw, settings_, flags);

    // IT energy and the load (§1, §5).
    const ItResolution it = resolve_it(settings_.racks, in.rack_it, in.site_it);
    Energy load = in.load;
    if (!in.facility_metered) {
        flags |= flag_estimated_load;
        load = it.total_it_wh
                   ? Energy{(1.0 + settings_.infrastructure_fraction) * *it.total_it_wh, it.quality}
                   : Energy{0.0, SourceQuality::missing};
    }
    out.load = load;
    out.pv = in.pv;
    out.wind = in.wind;
    out.discharge = in.discharge;
    out.charge = in.charge;
    out.grid_import = in.grid_import;
    out.grid_export = in.grid_export;
    out.it_wh = it.total_it_wh.value_or(it.known_it_wh);

    // Renewable output, inferred from the balance when missing (§3, §7.2).
    Energy renewable{in.pv.wh + in.wind.wh, worst(in.pv.quality, in.wind.quality)};
    bool valid = load.usable() && in.discharge.usable() && in.charge.usable() &&
                 in.grid_import.usable() && in.grid_export.usable();
    if (valid && !renewable.usable()) {
        if (in.facility_metered) {
            const double inferred =
                load.wh + in.charge.wh + in.grid_export.wh - in.discharge.wh - in.grid_import.wh;
            renewable = Energy{std::max(0.0, inferred), SourceQuality::inferred};
            flags |= flag_inferred_renewable;
            split_inferred(out, in, renewable.wh);
        } else {
            valid = false;
        }
    }
    out.renewable = renewable;

    SourceQuality quality = it.quality;
    for (const Energy* e : std::initializer_list<const Energy*>{
             &load, &renewable, &in.discharge, &in.charge, &in.grid_import, &in.grid_export}) {
        quality = worst(quality, e->quality);
    }
    out.quality = quality;

    // Battery (§4).
    if (in.discharge.wh > 0.0 || in.charge.wh > 0.0 || in.battery_stored_wh ||
        settings_.battery_capacity_wh) {
        store_.mark_known();
    }
    const bool cold_before = store_.cold_start();
    double phi = store_.green_fraction();
    BatteryOutflow outflow;
    TickContribution contribution;

    if (valid) {
        const SiteEnergies e{renewable.wh,      in.discharge.wh,   in.charge.wh,
                             in.grid_import.wh, in.grid_export.wh, load.wh};
        const SiteFlows flows = allocate(settings_.allocation, e);
        GreenSplit split;
        if (settings_.allocation == Allocation::priority) {
            split = green_split(e, flows, phi, g); // the charge does not depend on phi here
            const Charge charge{
                e.charge, split.to_battery, flows.grid_to_battery * ef_avg,
                std::max(0.0, flows.grid_to_battery - g * flows.supplier_basis_battery) * ef_res};
            Battery first_discharge = store_;
            outflow = first_discharge.discharge(e.discharge);
            first_discharge.charge(charge.ac_wh, charge.green_ac_wh, charge.carbon_location_g,
                                   charge.carbon_residual_g);
            if (e.discharge > 0.0 && e.charge > 0.0) {
                Battery first_charge = store_;
                first_charge.charge(charge.ac_wh, charge.green_ac_wh, charge.carbon_location_g,
                                    charge.carbon_residual_g);
                const BatteryOutflow other = first_charge.discharge(e.discharge);
                if (other.green_dc_wh < outflow.green_dc_wh) {
                    first_discharge = std::move(first_charge);
                    outflow = other;
                }
            }
            store_ = std::move(first_discharge);
            if (e.discharge > 0.0) {
                phi = outflow.green_fraction();
            }
            split = green_split(e, flows, phi, g);
        } else {
            outflow = store_.discharge(e.discharge);
            if (e.discharge > 0.0) {
                phi = outflow.green_fraction();
            }
            split = green_split(e, flows, phi, g);
            const double per_ac_location =
                e.discharge > 0.0 ? outflow.carbon_location_g / e.discharge : 0.0;
            const double per_ac_residual =
                e.discharge > 0.0 ? outflow.carbon_residual_g / e.discharge : 0.0;
            store_.charge(
                e.charge, split.to_battery,
                flows.grid_to_battery * ef_avg + flows.battery_to_battery * per_ac_location,
                std::max(0.0, flows.grid_to_battery - g * flows.supplier_basis_battery) * ef_res +
                    flows.battery_to_battery * per_ac_residual);
        }

        out.valid = true;
        out.renewable_to_load_wh = flows.renewable_to_load;
        out.battery_to_load_wh = flows.battery_to_load;
        out.grid_to_load_wh = flows.grid_to_load;
        out.renewable_to_battery_wh = flows.renewable_to_battery;
        out.grid_to_battery_wh = flows.grid_to_battery;
        out.renewable_to_export_wh = flows.renewable_to_export;
        out.green_to_battery_wh = split.to_battery;
        out.green_to_export_wh = split.to_export;
        out.battery_green_fraction = phi;
        out.green_wh = std::clamp(split.to_load, 0.0, load.wh);
        out.nongreen_wh = std::max(0.0, load.wh - out.green_wh);
        out.nongreen_w = watts(out.nongreen_wh, tau_ms);

        // Carbon delivered to load (§5): battery share plus grid share, per scope.
        const double battery_share = e.discharge > 0.0 ? flows.battery_to_load / e.discharge : 0.0;
        out.carbon_location_g =
            battery_share * outflow.carbon_location_g + flows.grid_to_load * ef_avg;
        out.carbon_residual_g =
            battery_share * outflow.carbon_residual_g +
            std::max(0.0, flows.grid_to_load - g * flows.supplier_basis_load) * ef_res;

        const double onsite = std::min(out.green_wh, split.onsite_to_load);
        if (load.wh > 0.0) {
            out.coverage = out.green_wh / load.wh;
            out.onsite_share = onsite / load.wh;
            out.carbon_intensity_location_g_per_kwh = out.carbon_location_g / load.wh * 1000.0;
            out.carbon_intensity_residual_g_per_kwh = out.carbon_residual_g / load.wh * 1000.0;
        }

        // Bus balance (§1).
        out.balance_residual_wh =
            e.renewable + e.discharge + e.grid_import - (e.load + e.charge + e.grid_export);
        out.balance_residual_w = watts(out.balance_residual_wh, tau_ms);
        const double tolerance =
            std::max(watt_hours(settings_.balance_abs_w, tau_ms), settings_.balance_rel * e.load);
        if (std::abs(out.balance_residual_wh) > tolerance) {
            flags |= flag_balance;
        }

        // Headroom (§6).
        const bool available_known = in.renewable_available && in.renewable_available->usable();
        if (available_known) {
            out.curtailed_wh = std::max(0.0, in.renewable_available->wh - e.renewable);
        }
        out.headroom_free_w = watts(flows.renewable_to_export + out.curtailed_wh, tau_ms);
        const double available = available_known ? in.renewable_available->wh : e.renewable;
        out.headroom_total_w = std::max(0.0, watts(available - flows.renewable_to_load, tau_ms));
        out.headroom_total_lower_bound = !available_known;

        // Racks (§5).
        const bool ipue_eligible = in.facility_metered && it.total_it_wh && *it.total_it_wh > 0.0;
        if (ipue_eligible) {
            out.ipue = load.wh / *it.total_it_wh;
        }
        RackAttribution racks =
            attribute_racks(settings_.racks, it,
                            SiteTotalsForRacks{load.wh, out.green_wh, out.nongreen_wh,
                                               out.carbon_location_g, out.carbon_residual_g});
        out.racks = std::move(racks.racks);
        out.unattributed = std::move(racks.unattributed);
        if (it.unattributed || out.unattributed) {
            flags |= flag_unattributed;
        }

        contribution.onsite_green_wh = onsite;
        contribution.supplier_green_wh = out.green_wh - onsite;
        contribution.matching_renewable_wh = split.matching_renewable;
        contribution.matching_battery_nongreen_wh = split.matching_battery_nongreen;
        contribution.ipue_eligible = ipue_eligible;
    } else {
        flags |= flag_data_gap;
        out.battery_green_fraction = phi;
        out.racks = invalid_racks(settings_.racks, it.racks);
        if (it.unattributed) {
            flags |= flag_unattributed;
        }
        if (in.discharge.usable() && in.charge.usable()) {
            outflow = store_.discharge(in.discharge.wh);
            store_.charge(in.charge.wh, 0.0, in.charge.wh * ef_avg, in.charge.wh * ef_res);
        } else if (store_.known()) {
            store_.mark_flows_unknown();
        }
    }
    if (outflow.unknown_dc_wh > 0.0 && store_.synced()) {
        flags |= flag_battery_resync;
    }

    // Stored-energy reading: resync at the end of the tick (§4, §7.7).
    if (in.battery_stored_wh) {
        const bool was_synced = store_.synced();
        const double before = store_.stored_wh();
        const double diff = store_.resync(*in.battery_stored_wh);
        const double tolerance =
            std::max(watt_hours(settings_.balance_abs_w, tau_ms),
                     settings_.balance_rel * std::max(before, *in.battery_stored_wh));
        if (was_synced && std::abs(diff) > tolerance) {
            flags |= flag_battery_resync;
        }
    }
    if (store_.known() && (cold_before || store_.cold_start())) {
        flags |= flag_battery_cold_start;
    }
    battery_ = store_.status();
    out.battery = battery_;

    const std::optional<double> max_discharge_w =
        in.battery_max_discharge_w ? in.battery_max_discharge_w : settings_.battery_max_discharge_w;
    if (max_discharge_w && in.discharge.usable()) {
        out.headroom_storage_w =
            std::max(0.0, std::min(*max_discharge_w - watts(in.discharge.wh, tau_ms),
                                   watts(battery_.deliverable_green_wh,
                                         static_cast<double>(settings_.headroom_horizon.count()))));
    }
    out.flags = flags;

    last_tick_ms_ = out.start_ms;
    add_tick(totals_, out);
    rollups_.add(out, contribution);
    return out;
}

std::vector<Rollup> Engine::take_closed_rollups() {
    return rollups_.take_closed();
}

std::vector<Rollup> Engine::open_rollups() const {
    if (last_tick_ms_ < 0) {
        return {};
    }
    return rollups_.open(last_tick_ms_ + settings_.tick.count());
}

} // namespace greenrack::accounting
