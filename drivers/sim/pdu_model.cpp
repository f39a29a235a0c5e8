#include "drivers/sim/pdu_model.hpp"

#include "drivers/sim/solar_position.hpp"

#include <cmath>

namespace greenrack::sim {

namespace {

constexpr double voltage_sd_v = 1.5;
constexpr double voltage_time_constant_s = 60.0;

} // namespace

PduModel::PduModel(const PduParams& params, int outlet_count, double initial_energy_wh,
                   std::uint64_t seed)
    : outlets_(static_cast<std::size_t>(outlet_count)), nominal_voltage_v_(params.voltage_v),
      voltage_v_(params.voltage_v), rng_(seed) {
    double total_weight = 0.0;
    for (std::size_t r = 0; r < params.racks.size(); ++r) {
        const RackSpec& rack = params.racks[r];
        racks_.emplace_back(rack, derive_seed(seed, "rack/" + rack.name));
        rack_power_w_.push_back(0.0);
        if (outlets_.empty()) {
            // No metered outlets: the rack is one feeder of the inlet, not reported on its own.
            Outlet feeder;
            feeder.rack = static_cast<int>(r);
            feeder.share = 1.0;
            feeder.power_factor = rng_.uniform(0.95, 0.99);
            feeders_.push_back(feeder);
            total_weight += rack.base_load_w;
            continue;
        }
        double rack_weight = 0.0;
        const auto first = static_cast<std::size_t>(rack.first_outlet - 1);
        const auto count = static_cast<std::size_t>(rack.outlet_count);
        for (std::size_t k = first; k < first + count; ++k) {
            outlets_[k].rack = static_cast<int>(r);
            outlets_[k].share = rng_.uniform(0.6, 1.4); // servers differ in size
            outlets_[k].power_factor = rng_.uniform(0.95, 0.99);
            rack_weight += outlets_[k].share;
        }
        for (std::size_t k = first; k < first + count; ++k) {
            outlets_[k].share /= rack_weight;
            total_weight += rack.base_load_w * outlets_[k].share;
        }
    }
    // Counters start at initial_energy_wh on the inlet, split over the used outlets in
    // proportion to their base load, so inlet energy = sum of outlet energies from the start.
    double assigned = 0.0;
    for (auto& outlet : all_outlets()) {
        if (outlet.rack < 0) {
            continue;
        }
        const double base = params.racks[static_cast<std::size_t>(outlet.rack)].base_load_w;
        outlet.energy_wh =
            total_weight > 0.0 ? initial_energy_wh * base * outlet.share / total_weight : 0.0;
        assigned += outlet.energy_wh;
    }
    inlet_energy_wh_ = assigned;
}

void PduModel::step(double dt_s, SimTime t, double longitude_deg, const EventTimeline& events) {
    const double local_hours = local_solar_hours(longitude_deg, t);
    for (std::size_t r = 0; r < racks_.size(); ++r) {
        rack_power_w_[r] =
            racks_[r].step(dt_s, local_hours, events.rack_load(racks_[r].spec().name, t));
    }
    const double decay = std::exp(-dt_s / voltage_time_constant_s);
    voltage_walk_ =
        voltage_walk_ * decay + voltage_sd_v * std::sqrt(1.0 - decay * decay) * rng_.normal();
    voltage_v_ = nominal_voltage_v_ + voltage_walk_;

    const double dt_h = dt_s / 3600.0;
    inlet_power_w_ = 0.0;
    for (auto& outlet : all_outlets()) {
        outlet.power_w = outlet.rack < 0
                             ? 0.0
                             : rack_power_w_[static_cast<std::size_t>(outlet.rack)] * outlet.share;
        outlet.energy_wh += outlet.power_w * dt_h;
        inlet_power_w_ += outlet.power_w;
    }
    inlet_energy_wh_ += inlet_power_w_ * dt_h;
}

void PduModel::fill(DeviceReadings& out) const {
    double inlet_va = 0.0;
    double inlet_a = 0.0;
    for (std::size_t k = 0; k < outlets_.size(); ++k) {
        const Outlet& o = outlets_[k];
        const int index = static_cast<int>(k) + 1;
        const double va = o.power_factor > 0.0 ? o.power_w / o.power_factor : 0.0;
        const double amps = va / voltage_v_;
        inlet_va += va;
        inlet_a += amps;
        out.set("outlet_power", o.power_w, index);
        out.set("outlet_energy", o.energy_wh, index);
        out.set("outlet_voltage", voltage_v_, index);
        out.set("outlet_current", amps, index);
        out.set("outlet_apparent_power", va, index);
        out.set("outlet_power_factor", o.power_w > 0.0 ? o.power_factor : 0.0, index);
    }
    for (const Outlet& feeder : feeders_) {
        const double va = feeder.power_w / feeder.power_factor;
        inlet_va += va;
        inlet_a += va / voltage_v_;
    }
    const double pf = inlet_va > 0.0 ? inlet_power_w_ / inlet_va : 0.0;
    out.set("inlet_power", inlet_power_w_);
    out.set("inlet_energy", inlet_energy_wh_);
    out.set("inlet_voltage", voltage_v_);
    out.set("inlet_current", inlet_a);
    out.set("inlet_apparent_power", inlet_va);
    out.set("inlet_power_factor", pf);
    out.set("voltage", voltage_v_);
    out.set("current", inlet_a);
    out.set("apparent_power", inlet_va);
    out.set("power_factor", pf);
}

} // namespace greenrack::sim
