#include "drivers/sim/scenario.hpp"

namespace greenrack::sim {

std::string_view to_string(LoadPattern pattern) {
    switch (pattern) {
    case LoadPattern::constant:
        return "constant";
    case LoadPattern::diurnal:
        return "diurnal";
    case LoadPattern::random_walk:
        return "random_walk";
    }
    return "?";
}

std::string_view to_string(EventKind kind) {
    switch (kind) {
    case EventKind::cloud:
        return "cloud";
    case EventKind::rack_load:
        return "rack_load";
    case EventKind::device_offline:
        return "device_offline";
    case EventKind::wind_calm:
        return "wind_calm";
    case EventKind::battery_limit:
        return "battery_limit";
    }
    return "?";
}

} // namespace greenrack::sim
