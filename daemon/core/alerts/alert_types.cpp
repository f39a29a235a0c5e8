#include "daemon/core/alerts/alert_types.hpp"

#include <array>
#include <utility>

namespace greenrack::alerts {

namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> parse_from(const std::array<std::pair<std::string_view, Enum>, N>& table,
                               std::string_view text) {
    for (const auto& [name, value] : table) {
        if (name == text) {
            return value;
        }
    }
    return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, Scope>, 4> scopes{{
    {"site", Scope::site},
    {"rack", Scope::rack},
    {"battery", Scope::battery},
    {"device", Scope::device},
}};
constexpr std::array<std::pair<std::string_view, Comparator>, 4> comparators{{
    {">", Comparator::gt},
    {">=", Comparator::ge},
    {"<", Comparator::lt},
    {"<=", Comparator::le},
}};
constexpr std::array<std::pair<std::string_view, MissingPolicy>, 3> policies{{
    {"keep", MissingPolicy::keep},
    {"ok", MissingPolicy::ok},
    {"alerting", MissingPolicy::alerting},
}};
constexpr std::array<std::pair<std::string_view, AlertState>, 4> states{{
    {"inactive", AlertState::inactive},
    {"pending", AlertState::pending},
    {"firing", AlertState::firing},
    {"resolved", AlertState::resolved},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, Enum>, N>& table,
                         Enum value) {
    for (const auto& [name, entry] : table) {
        if (entry == value) {
            return name;
        }
    }
    return "?";
}

} // namespace

std::string_view to_string(Scope scope) {
    return name_of(scopes, scope);
}
std::string_view to_string(Comparator op) {
    return name_of(comparators, op);
}
std::string_view to_string(MissingPolicy policy) {
    return name_of(policies, policy);
}
std::string_view to_string(AlertState state) {
    return name_of(states, state);
}
std::optional<Scope> parse_scope(std::string_view text) {
    return parse_from(scopes, text);
}
std::optional<Comparator> parse_comparator(std::string_view text) {
    return parse_from(comparators, text);
}
std::optional<MissingPolicy> parse_missing_policy(std::string_view text) {
    return parse_from(policies, text);
}
std::optional<AlertState> parse_alert_state(std::string_view text) {
    return parse_from(states, text);
}

bool compare(double value, Comparator op, double threshold) {
    switch (op) {
    case Comparator::gt:
        return value > threshold;
    case Comparator::ge:
        return value >= threshold;
    case Comparator::lt:
        return value < threshold;
    case Comparator::le:
        return value <= threshold;
    }
    return false;
}

} // namespace greenrack::alerts
