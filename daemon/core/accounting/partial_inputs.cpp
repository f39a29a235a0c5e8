#include "daemon/core/accounting/partial_inputs.hpp"

#include "daemon/core/accounting/time_base.hpp"

#include <stdexcept>
#include <string>

namespace greenrack::accounting {

namespace {

std::optional<Energy> missing_if(const std::optional<Energy>& present) {
    if (!present) {
        return std::nullopt;
    }
    return Energy{0.0, SourceQuality::missing};
}

// The sum of the parts that have the quantity (missing when none has it).
template <typename Field>
Energy sum_of(const std::vector<const PartialInputs*>& parts, Field field) {
    std::vector<Energy> present;
    present.reserve(parts.size());
    for (const PartialInputs* part : parts) {
        if (const std::optional<Energy>& energy = field(*part)) {
            present.push_back(*energy);
        }
    }
    return sum_energies(present);
}

} // namespace

PartialInputs missing_part(const PartialInputs& shape, std::int64_t start_ms) {
    PartialInputs out;
    out.start_ms = start_ms;
    out.pv = missing_if(shape.pv);
    out.wind = missing_if(shape.wind);
    out.discharge = missing_if(shape.discharge);
    out.charge = missing_if(shape.charge);
    out.grid_import = missing_if(shape.grid_import);
    out.grid_export = missing_if(shape.grid_export);
    out.load = missing_if(shape.load);
    out.rack_it.reserve(shape.rack_it.size());
    for (const auto& rack : shape.rack_it) {
        out.rack_it.push_back(missing_if(rack));
    }
    out.has_battery = shape.has_battery;
    return out;
}

TickInputs merge_parts(const SourceLayout& layout, std::int64_t start_ms,
                       const std::vector<const PartialInputs*>& parts) {
    for (const PartialInputs* part : parts) {
        if (part->rack_it.size() != layout.racks) {
            throw std::invalid_argument("merge_parts: a part has " +
                                        std::to_string(part->rack_it.size()) + " racks, the site " +
                                        std::to_string(layout.racks));
        }
    }
    TickInputs in;
    in.start_ms = start_ms;
    in.pv = sum_of(
        parts, [](const PartialInputs& p) -> const auto& { return p.pv; });
    in.wind = sum_of(
        parts, [](const PartialInputs& p) -> const auto& { return p.wind; });
    if (!layout.has_pv && !layout.has_wind) {
        in.pv = Energy{0.0, SourceQuality::ok}; // no on-site renewables
        in.wind = Energy{0.0, SourceQuality::ok};
    } else if (!layout.has_pv) {
        in.pv = Energy{0.0, in.wind.quality};
    } else if (!layout.has_wind) {
        in.wind = Energy{0.0, in.pv.quality};
    }
    if (!layout.has_battery) {
        in.discharge = Energy{0.0, SourceQuality::ok};
        in.charge = Energy{0.0, SourceQuality::ok};
    } else {
        in.discharge = sum_of(
            parts, [](const PartialInputs& p) -> const auto& { return p.discharge; });
        in.charge = sum_of(
            parts, [](const PartialInputs& p) -> const auto& { return p.charge; });
    }
    in.grid_import = sum_of(
        parts, [](const PartialInputs& p) -> const auto& { return p.grid_import; });
    in.grid_export = sum_of(
        parts, [](const PartialInputs& p) -> const auto& { return p.grid_export; });
    in.facility_metered = layout.facility_metered;
    if (layout.facility_metered) {
        in.load = sum_of(
            parts, [](const PartialInputs& p) -> const auto& { return p.load; });
    }
    in.rack_it.reserve(layout.racks);
    for (std::size_t r = 0; r < layout.racks; ++r) {
        in.rack_it.push_back(sum_of(
            parts, [r](const PartialInputs& p) -> const auto& { return p.rack_it[r]; }));
    }

    bool stored_known = layout.has_battery;
    bool max_known = layout.has_battery;
    double stored = 0.0;
    double max_discharge = 0.0;
    bool any_battery = false;
    std::uint32_t flags = 0;
    for (const PartialInputs* part : parts) {
        flags |= part->flags;
        if (!part->has_battery) {
            continue;
        }
        any_battery = true;
        stored_known = stored_known && part->battery_stored_wh.has_value();
        max_known = max_known && part->battery_max_discharge_w.has_value();
        stored += part->battery_stored_wh.value_or(0.0);
        max_discharge += part->battery_max_discharge_w.value_or(0.0);
    }
    if (stored_known && any_battery) {
        in.battery_stored_wh = stored;
    }
    if (max_known && any_battery) {
        in.battery_max_discharge_w = max_discharge;
    }
    in.flags = flags;
    return in;
}

} // namespace greenrack::accounting
