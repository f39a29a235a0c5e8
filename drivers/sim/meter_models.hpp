#pragma once

#include "drivers/sim/bus_balance.hpp"
#include "drivers/sim/device_readings.hpp"

namespace greenrack::sim {

// The grid meter at the point of common coupling: import/export powers from the closed bus
// balance and their energy counters (net power + = import).
class GridMeterModel {
public:
    explicit GridMeterModel(double initial_energy_wh);
    void step(double dt_s, const BusBalance& balance);
    void fill(DeviceReadings& out) const;

private:
    double import_w_ = 0.0;
    double export_w_ = 0.0;
    double import_wh_;
    double export_wh_;
};

// The facility meter on the load feeder: L = IT + cooling (import direction only).
class FacilityMeterModel {
public:
    explicit FacilityMeterModel(double initial_energy_wh);
    void step(double dt_s, double load_w);
    void fill(DeviceReadings& out) const;

private:
    double load_w_ = 0.0;
    double load_wh_;
    double export_wh_; // stays at its start value: the load never feeds back
};

} // namespace greenrack::sim
