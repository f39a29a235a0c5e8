#pragma once

// Site allocation of one tick (green-accounting.md §3): which inflow (renewable R, battery
// discharge D, grid import I) feeds which outflow (load L, battery charge C, export X). The
// flows do not depend on the battery's green fraction phi; green_split() applies it.
//
// priority ("self-consumption first") follows the spec's formulas. The residual grid -> load
// i_L = L - r_L - d_L is grid energy by definition (also when I is metered lower; the balance
// flag then shows the disagreement), and gets the supplier share g as the spec says.
//
// pool (proportional sharing) -- conservative readings (never over-claim green energy):
// * The bus total is T = max(F, L + C + X) with F = R + D + I. When the metered outflows exceed
//   the metered inflows, the unexplained inflow U = T - F is treated as grid energy for carbon
//   but gets no supplier green share (it is not metered import).
// * Each outflow k gets R*k/T renewable and D*k/T battery energy (gross registers, §7.4).
// * The supplier green share g applies to the import net of same-tick export,
//   g * (I - m) * k / (T - m) with m = min(I, X): import passed straight through to export
//   (phase imbalance) must not dilute the pool towards g. This is never more than the gross
//   g * I * k / T, so export never raises coverage, CFE or REF. With m = 0 and U = 0 it is the
//   spec's gamma = (R + phi*D + g*I) / F exactly.
// * For hourly matching (§6) the renewable and battery shares to load are taken on the netted
//   bus (T - m), so pass-through export cannot change them either. Limit: an export reading
//   with no matching inflow (unbalanced data; flagged by the balance check when material)
//   changes T - m and can move the pool-mode hourly score either way. Coverage, interval CFE
//   and REF never rise with export in either mode.

#include "daemon/core/accounting/accounting_types.hpp"

namespace greenrack::accounting {

// Metered (or inferred) energies of one tick, Wh, all >= 0.
struct SiteEnergies {
    double renewable = 0.0;   // R
    double discharge = 0.0;   // D
    double charge = 0.0;      // C
    double grid_import = 0.0; // I
    double grid_export = 0.0; // X
    double load = 0.0;        // L
};

struct SiteFlows {
    double renewable_to_load = 0.0;    // r_L
    double battery_to_load = 0.0;      // d_L
    double grid_to_load = 0.0;         // i_L (grid-like, incl. unexplained inflow)
    double renewable_to_battery = 0.0; // r_C
    double battery_to_battery = 0.0;   // d_C (pool only)
    double grid_to_battery = 0.0;      // i_C
    double renewable_to_export = 0.0;  // r_X
    double battery_to_export = 0.0;    // d_X
    double grid_to_export = 0.0;       // i_X
    // Grid energy eligible for the supplier green share g, per outflow.
    double supplier_basis_load = 0.0;
    double supplier_basis_battery = 0.0;
    double supplier_basis_export = 0.0;
    // Renewable and battery energy to load as seen by hourly matching.
    double matching_renewable_to_load = 0.0;
    double matching_battery_to_load = 0.0;
};

SiteFlows allocate(Allocation mode, const SiteEnergies& energies);

// Green energy per outflow for a battery green fraction phi (applied to this tick's discharge)
// and supplier green share g.
struct GreenSplit {
    double onsite_to_load = 0.0;   // r_L + phi * d_L
    double supplier_to_load = 0.0; // g * supplier basis
    double to_load = 0.0;          // G_L = min(L, onsite + supplier)
    double to_battery = 0.0;       // green part of C (AC side)
    double to_export = 0.0;        // green part of X
    // Hourly matching contributions (§6): Rnet += renewable_matching, B += battery_nongreen.
    double matching_renewable = 0.0;
    double matching_battery_nongreen = 0.0;
};

GreenSplit green_split(const SiteEnergies& energies, const SiteFlows& flows, double phi,
                       double grid_cfe_share);

} // namespace greenrack::accounting
