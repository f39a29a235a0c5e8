#include "drivers/sim/bus_balance.hpp"

#include <algorithm>

namespace greenrack::sim {

BusBalance close_balance(double renewable_w, double discharge_w, double load_w, double charge_w) {
    BusBalance b;
    b.renewable_w = renewable_w;
    b.discharge_w = discharge_w;
    b.load_w = load_w;
    b.charge_w = charge_w;
    const double need = load_w + charge_w - renewable_w - discharge_w;
    b.import_w = std::max(0.0, need);
    b.export_w = std::max(0.0, -need);
    return b;
}

} // namespace greenrack::sim
