#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenrack::common {

// Parses a size such as "512KiB", "256MiB", "1GiB", "64kB", "10MB" or "4096B": a whole number
// and a unit (B; binary KiB, MiB, GiB, TiB; decimal kB, MB, GB, TB). Returns nullopt for
// anything else, including a bare number and an overflow.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// The shortest exact form: "256MiB", "1000kB", "100B".
std::string format_byte_size(std::uint64_t bytes);

} // namespace greenrack::common
