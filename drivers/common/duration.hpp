#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace greenrack::common {

// Parses a human duration such as "250ms", "5s", "1.5s", "2m", "1h", "1d" or "1m30s".
// Returns nullopt for anything else (including negative values and a bare number).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace greenrack::common
