#pragma once

#include "daemon/core/accounting/accounting_types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace greenrack::accounting {

// One part of a tick's inputs: what the devices of one shard (a daemon polling part of the site,
// docs/fleet.md) measured in [start_ms, start_ms + tau). A quantity is present when the part has
// at least one device feeding it, and absent (nullopt) when none of its devices does. Energies
// add up across parts (wh summed, quality the worst), so the parts of all shards merged give
// exactly the inputs one daemon polling every device computes.
struct PartialInputs {
    std::int64_t start_ms = 0;
    std::optional<Energy> pv;
    std::optional<Energy> wind;
    std::optional<Energy> discharge;
    std::optional<Energy> charge;
    std::optional<Energy> grid_import;
    std::optional<Energy> grid_export;
    std::optional<Energy> load;
    std::vector<std::optional<Energy>> rack_it; // one per site rack, in the site's rack order
    // Batteries: has_battery when the part has one; the values when known for all of its
    // batteries (summed over them).
    bool has_battery = false;
    std::optional<double> battery_stored_wh;
    std::optional<double> battery_max_discharge_w;
    std::uint32_t flags = 0; // TickFlag bits raised by the part's time base

    bool operator==(const PartialInputs&) const = default;
};

// Which sources the whole site has devices for (the defaults a site without them gets).
struct SourceLayout {
    bool has_pv = false;
    bool has_wind = false;
    bool has_battery = false;
    bool facility_metered = false;
    std::size_t racks = 0;

    bool operator==(const SourceLayout&) const = default;
};

// What a part that did not report contributes: every quantity it has devices for is missing,
// the battery values unknown, no flags. `shape` is any PartialInputs of that part (only which
// quantities are present matters).
PartialInputs missing_part(const PartialInputs& shape, std::int64_t start_ms);

// The tick's inputs from its parts (pure). A quantity no part has is missing, except the
// defaults of a site without it: no PV and no wind: both {0, ok}; only one of them: the other
// is 0 with the first one's quality; no battery: D = C = {0, ok}; no facility meter: L is
// missing and facility_metered false. The battery's stored energy and maximum discharge power
// are known only when every part with a battery knows them. Throws std::invalid_argument when
// a part has another number of racks than the layout (a programming error).
TickInputs merge_parts(const SourceLayout& layout, std::int64_t start_ms,
                       const std::vector<const PartialInputs*>& parts);

} // namespace greenrack::accounting
