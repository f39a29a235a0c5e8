#include "drivers/sim/meter_models.hpp"

#include <cmath>

namespace greenrack::sim {

namespace {

constexpr double meter_power_factor = 0.98;
constexpr double phase_voltage_v = 230.0;

void fill_electrical(DeviceReadings& out, double power_w) {
    const double apparent = std::abs(power_w) / meter_power_factor;
    out.set("apparent_power", apparent);
    out.set("power_factor", meter_power_factor);
    out.set("current", apparent / phase_voltage_v);
}

} // namespace

GridMeterModel::GridMeterModel(double initial_energy_wh)
    : import_wh_(initial_energy_wh), export_wh_(initial_energy_wh) {}

void GridMeterModel::step(double dt_s, const BusBalance& balance) {
    import_w_ = balance.import_w;
    export_w_ = balance.export_w;
    import_wh_ += import_w_ * dt_s / 3600.0;
    export_wh_ += export_w_ * dt_s / 3600.0;
}

void GridMeterModel::fill(DeviceReadings& out) const {
    out.set("import_power", import_w_);
    out.set("export_power", export_w_);
    out.set("import_energy", import_wh_);
    out.set("export_energy", export_wh_);
    out.set("net_power", import_w_ - export_w_);
    fill_electrical(out, import_w_ - export_w_);
}

FacilityMeterModel::FacilityMeterModel(double initial_energy_wh)
    : load_wh_(initial_energy_wh), export_wh_(initial_energy_wh) {}

void FacilityMeterModel::step(double dt_s, double load_w) {
    load_w_ = load_w;
    load_wh_ += load_w_ * dt_s / 3600.0;
}

void FacilityMeterModel::fill(DeviceReadings& out) const {
    out.set("load_power", load_w_);
    out.set("load_energy", load_wh_);
    out.set("import_power", load_w_);
    out.set("import_energy", load_wh_);
    out.set("export_power", 0.0);
    out.set("export_energy", export_wh_);
    out.set("net_power", load_w_);
    fill_electrical(out, load_w_);
}

} // namespace greenrack::sim
