#include "daemon/core/accounting/rack_attribution.hpp"

#include "daemon/core/accounting/units.hpp"

#include <algorithm>
#include <map>

namespace greenrack::accounting {

namespace {

// Fills tiers in ascending order; inside a tier proportionally to demand.
void fill_tiers(std::vector<RackTick*>& entries, double pool) {
    std::map<int, std::vector<RackTick*>> tiers;
    for (RackTick* entry : entries) {
        tiers[entry->tier].push_back(entry);
    }
    double remaining = pool;
    for (auto& [tier, members] : tiers) {
        double demand = 0.0;
        for (const RackTick* m : members) {
            demand += m->burdened_wh;
        }
        if (demand <= 0.0) {
            continue;
        }
        const double share = std::clamp(remaining / demand, 0.0, 1.0);
        for (RackTick* m : members) {
            m->green_wh = share * m->burdened_wh;
        }
        remaining = std::max(0.0, remaining - share * demand);
    }
    for (RackTick* entry : entries) {
        entry->nongreen_wh = std::max(0.0, entry->burdened_wh - entry->green_wh);
    }
}

void share_carbon(std::vector<RackTick*>& entries, const SiteTotalsForRacks& site) {
    double basis_total = site.nongreen_wh;
    bool by_nongreen = site.nongreen_wh > negligible_wh;
    if (!by_nongreen) {
        basis_total = 0.0;
        for (const RackTick* e : entries) {
            basis_total += e->burdened_wh;
        }
    }
    if (basis_total <= 0.0) {
        return;
    }
    for (RackTick* e : entries) {
        const double share = (by_nongreen ? e->nongreen_wh : e->burdened_wh) / basis_total;
        e->carbon_location_g = share * site.carbon_location_g;
        e->carbon_residual_g = share * site.carbon_residual_g;
    }
}

} // namespace

std::vector<RackTick> invalid_racks(const std::vector<RackSettings>& racks,
                                    const std::vector<Energy>& rack_it) {
    std::vector<RackTick> out;
    out.reserve(racks.size());
    for (std::size_t i = 0; i < racks.size(); ++i) {
        RackTick r;
        r.id = racks[i].id;
        r.tier = racks[i].tier;
        if (i < rack_it.size()) {
            r.it = rack_it[i];
        }
        out.push_back(r);
    }
    return out;
}

RackAttribution attribute_racks(const std::vector<RackSettings>& racks, const ItResolution& it,
                                const SiteTotalsForRacks& site) {
    RackAttribution out;
    out.racks = invalid_racks(racks, it.racks);
    if (racks.empty()) {
        return out;
    }
    const double load = site.load_wh;
    const double coverage = load > 0.0 ? std::clamp(site.green_wh / load, 0.0, 1.0) : 0.0;

    double k = 0.0;
    double unattributed_burden = 0.0;
    bool unattributed = it.unattributed;
    if (it.total_it_wh) {
        const double total_it = *it.total_it_wh;
        if (total_it > 0.0) {
            k = load / total_it;
            unattributed_burden = it.unattributed ? k * it.unattributed_it.wh : 0.0;
        } else if (load > 0.0) {
            unattributed = true;
            unattributed_burden = load;
        }
    } else {
        k = it.known_it_wh > load ? load / it.known_it_wh : 1.0;
        unattributed_burden = std::max(0.0, load - k * it.known_it_wh);
    }

    std::vector<RackTick*> entries;
    for (RackTick& rack : out.racks) {
        if (!rack.it.usable()) {
            continue;
        }
        rack.valid = true;
        rack.burdened_wh = k * rack.it.wh;
        rack.green_it_wh = coverage * rack.it.wh;
        rack.nongreen_it_wh = std::max(0.0, rack.it.wh - rack.green_it_wh);
        entries.push_back(&rack);
    }
    if (unattributed) {
        RackTick pseudo;
        pseudo.id = unattributed_rack_id;
        pseudo.tier = it.unattributed ? it.unattributed_tier : 0;
        pseudo.it = it.unattributed ? it.unattributed_it : Energy{0.0, SourceQuality::ok};
        pseudo.valid = true;
        pseudo.burdened_wh = unattributed_burden;
        if (pseudo.it.usable()) {
            pseudo.green_it_wh = coverage * pseudo.it.wh;
            pseudo.nongreen_it_wh = std::max(0.0, pseudo.it.wh - pseudo.green_it_wh);
        }
        out.unattributed = pseudo;
        entries.push_back(&*out.unattributed);
    }
    fill_tiers(entries, site.green_wh);
    share_carbon(entries, site);
    return out;
}

} // namespace greenrack::accounting
