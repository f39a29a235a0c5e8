#pragma once

// Which IT energy each rack drew in one tick, filling unknown racks from a site IT meter
// (green-accounting.md §5):
// * every rack usable: E_IT = sum of the racks (the site IT meter is not needed);
// * some racks unusable and a usable site IT meter: the remainder E_IT_site - sum(known), at
//   least 0, goes to the unknown rack when it is the only one (quality inferred), otherwise to
//   the pseudo-rack "unattributed" (the unknown racks are then invalid: missing, never green);
// * some racks unusable and no site IT meter: the IT remainder cannot be computed; the unknown
//   racks are invalid and E_IT is unknown (rack_attribution.hpp says where L's share goes).
// The pseudo-rack sits in the lowest (first-served) tier of the unknown racks it stands for, so
// a known rack never receives more green energy than it would if the unknown racks were known.

#include "daemon/core/accounting/accounting_types.hpp"

#include <optional>
#include <vector>

namespace greenrack::accounting {

struct ItResolution {
    std::vector<Energy> racks;         // E_i after filling (unusable: the input quality, wh 0)
    bool unattributed = false;         // a pseudo-rack holds energy not given to a rack
    Energy unattributed_it;            // its IT energy (missing when the remainder is unknown)
    int unattributed_tier = 0;         // lowest tier among the unknown racks
    std::optional<double> total_it_wh; // E_IT, when known
    double known_it_wh = 0.0;          // sum of the usable racks (incl. a filled one)
    SourceQuality quality = SourceQuality::ok; // worst over the racks and the site meter used
};

ItResolution resolve_it(const std::vector<RackSettings>& racks, const std::vector<Energy>& rack_it,
                        const std::optional<Energy>& site_it);

} // namespace greenrack::accounting
