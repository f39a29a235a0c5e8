#include "daemon/core/accounting/site_allocation.hpp"

#include <algorithm>

namespace greenrack::accounting {

namespace {

SiteFlows allocate_priority(const SiteEnergies& e) {
    SiteFlows f;
    f.renewable_to_load = std::min(e.renewable, e.load);
    f.battery_to_load = std::min(e.discharge, e.load - f.renewable_to_load);
    f.grid_to_load = std::max(0.0, e.load - f.renewable_to_load - f.battery_to_load);
    const double surplus = e.renewable - f.renewable_to_load;
    f.renewable_to_battery = std::min(surplus, e.charge);
    f.grid_to_battery = std::max(0.0, e.charge - f.renewable_to_battery);
    f.renewable_to_export = std::min(surplus - f.renewable_to_battery, e.grid_export);
    f.battery_to_export =
        std::min(e.discharge - f.battery_to_load, e.grid_export - f.renewable_to_export);
    f.grid_to_export = std::max(0.0, e.grid_export - f.renewable_to_export - f.battery_to_export);
    f.supplier_basis_load = f.grid_to_load;
    f.supplier_basis_battery = f.grid_to_battery;
    f.supplier_basis_export = f.grid_to_export;
    f.matching_renewable_to_load = f.renewable_to_load;
    f.matching_battery_to_load = f.battery_to_load;
    return f;
}

SiteFlows allocate_pool(const SiteEnergies& e) {
    SiteFlows f;
    const double inflow = e.renewable + e.discharge + e.grid_import;
    const double outflow = e.load + e.charge + e.grid_export;
    const double total = std::max(inflow, outflow);
    if (total <= 0.0) {
        return f;
    }
    const double gridlike = e.grid_import + (total - inflow); // I + U
    const auto share = [total](double in, double out) { return in * out / total; };
    f.renewable_to_load = share(e.renewable, e.load);
    f.battery_to_load = share(e.discharge, e.load);
    f.grid_to_load = share(gridlike, e.load);
    f.renewable_to_battery = share(e.renewable, e.charge);
    f.battery_to_battery = share(e.discharge, e.charge);
    f.grid_to_battery = share(gridlike, e.charge);
    f.renewable_to_export = share(e.renewable, e.grid_export);
    f.battery_to_export = share(e.discharge, e.grid_export);
    f.grid_to_export = share(gridlike, e.grid_export);

    const double passthrough = std::min(e.grid_import, e.grid_export); // m
    const double netted = total - passthrough;                         // >= L + C
    if (netted > 0.0) {
        const auto net_share = [netted](double in, double out) { return in * out / netted; };
        const double net_import = e.grid_import - passthrough;
        f.supplier_basis_load = net_share(net_import, e.load);
        f.supplier_basis_battery = net_share(net_import, e.charge);
        f.supplier_basis_export = net_share(net_import, e.grid_export);
        f.matching_renewable_to_load = net_share(e.renewable, e.load);
        f.matching_battery_to_load = net_share(e.discharge, e.load);
    }
    return f;
}

} // namespace

SiteFlows allocate(Allocation mode, const SiteEnergies& energies) {
    return mode == Allocation::pool ? allocate_pool(energies) : allocate_priority(energies);
}

GreenSplit green_split(const SiteEnergies& e, const SiteFlows& f, double phi, double g) {
    GreenSplit s;
    s.onsite_to_load = f.renewable_to_load + phi * f.battery_to_load;
    s.supplier_to_load = g * f.supplier_basis_load;
    s.to_load = std::min(e.load, s.onsite_to_load + s.supplier_to_load);
    s.to_battery = std::min(e.charge, f.renewable_to_battery + phi * f.battery_to_battery +
                                          g * f.supplier_basis_battery);
    s.to_export = std::min(e.grid_export, f.renewable_to_export + phi * f.battery_to_export +
                                              g * f.supplier_basis_export);
    // Renewable not stored: R - r_C with r_C = min(R - r_L, C), i.e. charging is assumed to
    // take renewable energy first (priority: exactly the spec's r_C; pool: at least the pool's
    // own R*C/T), and never less than the renewable share of the load.
    const double renewable_not_stored =
        std::max(f.matching_renewable_to_load, e.renewable - e.charge);
    s.matching_renewable = renewable_not_stored + phi * f.matching_battery_to_load;
    s.matching_battery_nongreen = (1.0 - phi) * f.matching_battery_to_load;
    return s;
}

} // namespace greenrack::accounting
