#pragma once

// JSON forms of the accounting records that are persisted (engine state, §4/§6). Named
// functions rather than nlohmann ADL hooks, so sinks stay free to publish these types in their
// own format. Readers throw nlohmann::json exceptions (or std::invalid_argument for unknown
// names) on malformed input.

#include "daemon/core/accounting/accounting_types.hpp"

#include <nlohmann/json.hpp>

namespace greenrack::accounting {

nlohmann::json rack_totals_to_json(const RackTotals& totals);
RackTotals rack_totals_from_json(const nlohmann::json& json);

nlohmann::json totals_to_json(const Totals& totals);
Totals totals_from_json(const nlohmann::json& json);

nlohmann::json rollup_to_json(const Rollup& rollup);
Rollup rollup_from_json(const nlohmann::json& json);

SourceQuality source_quality_from_string(std::string_view name);
Window window_from_string(std::string_view name);

} // namespace greenrack::accounting
