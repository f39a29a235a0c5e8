#include "drivers/modbus/point.hpp"

namespace greenrack::modbus {

std::string_view to_string(Quality quality) {
    switch (quality) {
    case Quality::ok:
        return "ok";
    case Quality::missing:
        return "missing";
    case Quality::implausible:
        return "implausible";
    case Quality::error:
        return "error";
    }
    return "error";
}

} // namespace greenrack::modbus
