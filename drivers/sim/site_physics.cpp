#include "drivers/sim/site_physics.hpp"

#include <cmath>

namespace greenrack::sim {

namespace {

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

constexpr double nominal_voltage_v = 230.0;
constexpr double nominal_frequency_hz = 50.0;

// Ornstein-Uhlenbeck update with stationary standard deviation sd.
double ou_step(double x, double dt_s, double tau_s, double sd, Rng& rng) {
    const double decay = std::exp(-dt_s / tau_s);
    return x * decay + sd * std::sqrt(1.0 - decay * decay) * rng.normal();
}

} // namespace

SitePhysics::SitePhysics(const Scenario& scenario, SimTime start)
    : scenario_(scenario), events_(scenario.events, scenario.sim.start.value_or(start)),
      grid_rng_(derive_seed(scenario.sim.seed, "site/grid")),
      now_(scenario.sim.start.value_or(start)) {
    const std::uint64_t seed = scenario.sim.seed;
    for (const DeviceSpec& d : scenario.devices) {
        const std::uint64_t s = derive_seed(seed, d.id);
        std::visit(
            Overloaded{
                [&](const PduParams& p) {
                    models_.emplace_back(std::in_place_type<PduModel>, p,
                                         d.profile->max_index("outlet_power"), d.initial_energy_wh,
                                         s);
                },
                [&](const PvParams& p) {
                    models_.emplace_back(std::in_place_type<PvModel>, p, d.initial_energy_wh, s);
                },
                [&](const WindParams& p) {
                    models_.emplace_back(std::in_place_type<WindModel>, p, d.initial_energy_wh, s);
                },
                [&](const BatteryParams& p) {
                    models_.emplace_back(std::in_place_type<BatteryModel>, p, d.initial_energy_wh);
                },
                [&](const FacilityMeterParams& p) {
                    cooling_fraction_ = p.cooling_fraction;
                    cooling_fixed_w_ = p.cooling_fixed_w;
                    models_.emplace_back(std::in_place_type<FacilityMeterModel>,
                                         d.initial_energy_wh);
                },
                [&](const GridMeterParams&) {
                    models_.emplace_back(std::in_place_type<GridMeterModel>, d.initial_energy_wh);
                },
            },
            d.params);
    }
    advance(0.0);
}

void SitePhysics::step(SimDuration dt) {
    now_ += dt;
    advance(to_seconds(dt));
}

void SitePhysics::advance(double dt_s) {
    const SimTime t = now_;
    voltage_walk_ = ou_step(voltage_walk_, dt_s, 60.0, 1.5, grid_rng_);
    frequency_walk_ = ou_step(frequency_walk_, dt_s, 10.0, 0.02, grid_rng_);

    double it_w = 0.0;
    double renewable_w = 0.0;
    for (std::size_t i = 0; i < models_.size(); ++i) {
        const std::string& id = scenario_.devices[i].id;
        if (auto* pdu = std::get_if<PduModel>(&models_[i])) {
            pdu->step(dt_s, t, scenario_.site.longitude_deg, events_);
            it_w += pdu->inlet_power_w();
        } else if (auto* pv = std::get_if<PvModel>(&models_[i])) {
            pv->step(dt_s, t, scenario_.site, events_.cloud_factor(id, t));
            renewable_w += pv->power_w();
        } else if (auto* wind = std::get_if<WindModel>(&models_[i])) {
            wind->step(dt_s, events_.wind_calm(id, t));
            renewable_w += wind->power_w();
        }
    }
    const double cooling_w = cooling_fraction_ * it_w + cooling_fixed_w_;
    const double load_w = it_w + cooling_w;

    double request_w = load_w - renewable_w; // + = deficit the batteries may cover
    double discharge_w = 0.0;
    double charge_w = 0.0;
    for (std::size_t i = 0; i < models_.size(); ++i) {
        if (auto* battery = std::get_if<BatteryModel>(&models_[i])) {
            const double p = battery->dispatch(dt_s, request_w,
                                               events_.battery_limits(scenario_.devices[i].id, t));
            request_w -= p;
            discharge_w += std::max(p, 0.0);
            charge_w += std::max(-p, 0.0);
        }
    }
    balance_ = close_balance(renewable_w, discharge_w, load_w, charge_w);
    balance_.it_w = it_w;
    balance_.cooling_w = cooling_w;

    for (auto& model : models_) {
        if (auto* grid = std::get_if<GridMeterModel>(&model)) {
            grid->step(dt_s, balance_);
        } else if (auto* facility = std::get_if<FacilityMeterModel>(&model)) {
            facility->step(dt_s, load_w);
        }
    }
}

DeviceReadings SitePhysics::readings(std::size_t index) const {
    DeviceReadings out;
    // Site-wide AC conditions first; device models override what they measure themselves.
    out.set("voltage", nominal_voltage_v + voltage_walk_);
    out.set("frequency", nominal_frequency_hz + frequency_walk_);
    out.set("temperature", 30.0);
    std::visit([&](const auto& model) { model.fill(out); }, models_[index]);
    for (const auto& [role, text] : scenario_.devices[index].identity) {
        out.set_text(role, text);
    }
    return out;
}

} // namespace greenrack::sim
