#include "daemon/core/accounting/it_resolution.hpp"

#include <algorithm>
#include <climits>

namespace greenrack::accounting {

ItResolution resolve_it(const std::vector<RackSettings>& racks, const std::vector<Energy>& rack_it,
                        const std::optional<Energy>& site_it) {
    ItResolution out;
    out.racks = rack_it;
    std::vector<std::size_t> unknown;
    double known = 0.0;
    for (std::size_t i = 0; i < out.racks.size(); ++i) {
        out.quality = worst(out.quality, out.racks[i].quality);
        if (out.racks[i].usable()) {
            known += out.racks[i].wh;
        } else {
            out.racks[i].wh = 0.0;
            unknown.push_back(i);
        }
    }
    if (racks.empty()) {
        // No racks configured: only a site IT meter tells the IT energy.
        if (site_it && site_it->usable()) {
            out.total_it_wh = site_it->wh;
            out.known_it_wh = site_it->wh;
            out.quality = site_it->quality;
        }
        return out;
    }
    if (unknown.empty()) {
        out.known_it_wh = known;
        out.total_it_wh = known;
        return out;
    }

    int tier = INT_MAX;
    for (std::size_t i : unknown) {
        tier = std::min(tier, racks[i].tier);
    }
    if (site_it && site_it->usable()) {
        const double remainder = std::max(0.0, site_it->wh - known);
        const SourceQuality quality = worst(site_it->quality, SourceQuality::inferred);
        // The unknown racks are now covered by the site meter: recompute the quality.
        out.quality = quality;
        for (std::size_t i = 0; i < out.racks.size(); ++i) {
            if (out.racks[i].usable()) {
                out.quality = worst(out.quality, out.racks[i].quality);
            }
        }
        if (unknown.size() == 1) {
            out.racks[unknown.front()] = Energy{remainder, quality};
            out.known_it_wh = known + remainder;
        } else {
            out.unattributed = true;
            out.unattributed_it = Energy{remainder, quality};
            out.unattributed_tier = tier;
            out.known_it_wh = known;
        }
        out.total_it_wh = known + remainder;
        return out;
    }

    out.unattributed = true;
    out.unattributed_it = Energy{0.0, SourceQuality::missing};
    out.unattributed_tier = tier;
    out.known_it_wh = known;
    return out;
}

} // namespace greenrack::accounting
