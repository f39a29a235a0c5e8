#pragma once

// Rack attribution of one valid tick (green-accounting.md §5).
//
// * c = G_L / L (0 when L = 0; the tick's coverage is then missing).
// * IT-only view: G_i = c * E_i, N_i = E_i - G_i.
// * Burdened view: k = L / E_IT, E_i* = k * E_i. The green pool G_L fills the tiers in ascending
//   order of tier, proportionally to E_i* inside a tier (one tier: G_i* = c * E_i*), so
//   sum G_i* = G_L and sum N_i* = N_L. The pseudo-rack takes part like a rack.
// * E_IT unknown (unknown racks, no site IT meter): k cannot be computed. The known racks get
//   the smallest burden a facility meter allows, k = min(1, L / sum(known E_i)) -- no overhead,
//   so no rack is credited with more green energy than its own IT energy can carry -- and the
//   rest of L (the unknown racks plus all the overhead) goes to "unattributed" (its IT energy
//   is missing). Totals stay conserved.
// * E_IT = 0 while L > 0 (racks idle or unmetered): all of L goes to "unattributed".
// * Carbon: M_i* = (N_i* / N_L) * M_L per scope. When N_L = 0 but M_L > 0 (location-based
//   carbon of certified grid energy), M_L is shared pro rata to E_i* instead.

#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/accounting/it_resolution.hpp"

#include <optional>
#include <vector>

namespace greenrack::accounting {

struct SiteTotalsForRacks {
    double load_wh = 0.0;     // L
    double green_wh = 0.0;    // G_L
    double nongreen_wh = 0.0; // N_L
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
};

struct RackAttribution {
    std::vector<RackTick> racks;
    std::optional<RackTick> unattributed;
};

inline constexpr const char* unattributed_rack_id = "unattributed";

RackAttribution attribute_racks(const std::vector<RackSettings>& racks, const ItResolution& it,
                                const SiteTotalsForRacks& site);

// The racks of a tick without green figures: ids, tiers and IT energies, all invalid.
std::vector<RackTick> invalid_racks(const std::vector<RackSettings>& racks,
                                    const std::vector<Energy>& rack_it);

} // namespace greenrack::accounting
