#include "drivers/common/duration.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace greenrack::common {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    double total_ms = 0.0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) {
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
        std::string number(text.substr(start, i - start));
        char* end = nullptr;
        double value = std::strtod(number.c_str(), &end);
        if (end != number.c_str() + number.size()) {
            return std::nullopt;
        }
        std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0) {
            ++i;
        }
        std::string_view unit = text.substr(unit_start, i - unit_start);
        double factor = 0.0;
        if (unit == "ms") {
            factor = 1.0;
        } else if (unit == "s") {
            factor = 1000.0;
        } else if (unit == "m" || unit == "min") {
            factor = 60'000.0;
        } else if (unit == "h") {
            factor = 3'600'000.0;
        } else if (unit == "d") {
            factor = 86'400'000.0;
        } else {
            return std::nullopt;
        }
        total_ms += value * factor;
    }
    if (!std::isfinite(total_ms) || total_ms > 1e15) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<long long>(std::llround(total_ms)));
}

} // namespace greenrack::common
