#include "drivers/common/byte_size.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace greenrack::common {

namespace {

constexpr std::uint64_t kib = 1024;
constexpr std::array<std::pair<std::string_view, std::uint64_t>, 9> units{{
    {"TiB", kib* kib* kib* kib},
    {"GiB", kib* kib* kib},
    {"MiB", kib* kib},
    {"KiB", kib},
    {"TB", 1'000'000'000'000},
    {"GB", 1'000'000'000},
    {"MB", 1'000'000},
    {"kB", 1'000},
    {"B", 1},
}};

} // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    std::uint64_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data()) {
        return std::nullopt;
    }
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    for (const auto& [name, factor] : units) {
        if (unit == name) {
            if (number > UINT64_MAX / factor) {
                return std::nullopt;
            }
            return number * factor;
        }
    }
    return std::nullopt;
}

std::string format_byte_size(std::uint64_t bytes) {
    for (const auto& [name, factor] : units) {
        if (bytes != 0 && bytes % factor == 0) {
            return std::to_string(bytes / factor) + std::string(name);
        }
    }
    return std::to_string(bytes) + "B";
}

} // namespace greenrack::common
