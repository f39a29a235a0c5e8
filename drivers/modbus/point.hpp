#pragma once

#include "drivers/modbus/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace greenrack::modbus {

// One value of a device: where it lives on the wire and how to turn registers into an SI value.
//   value = raw * 10^sf * scale + offset
// where sf is the SunSpec scale factor read from point `scale_factor` (0 when there is none).
struct PointSpec {
    std::string name; // unique in the device, snake_case with SI unit suffix ("power_w")
    RegisterKind function = RegisterKind::holding;
    std::uint16_t address = 0; // 0-based protocol address (what goes on the wire)
    DataType type = DataType::u16;
    WordOrder order = WordOrder::abcd;
    std::uint16_t registers = 1; // register_count(type, string length)
    double scale = 1.0;
    double offset = 0.0;
    // Index (into the same device's point list) of the sunssf point scaling this one.
    std::optional<std::size_t> scale_factor;
    std::string unit; // "W", "Wh", "V", "A", "VA", "%", "Hz", "" ...
    PointKind kind = PointKind::gauge;
    // What the point means to the site model: "ac_power", "outlet_power", "import_energy", ...
    // (the vocabulary is listed in drivers/profiles/roles.hpp). Empty = informational only.
    std::string role;
    int index = 0; // outlet/phase number for repeated points (1-based), 0 = not repeated
    std::optional<double> min; // plausibility range of the final value; outside -> implausible
    std::optional<double> max;
    SentinelPolicy sentinel;

    bool operator==(const PointSpec&) const = default;

    std::uint32_t end() const { return static_cast<std::uint32_t>(address) + registers; }
};

// Quality of one decoded value.
enum class Quality : std::uint8_t {
    ok,          // decoded and plausible
    missing,     // the device said "not implemented" (sentinel / NaN / SF sentinel)
    implausible, // decoded, but outside the point's plausibility range: not used as a number
    error,       // the request carrying it failed (timeout, exception, quarantine, offline)
};

std::string_view to_string(Quality quality);

// A decoded point. `value` is meaningful only when quality == ok (and for implausible values,
// where it carries what was read, for diagnostics); `text` only for string points.
struct PointValue {
    double value = 0.0;
    Quality quality = Quality::error;
    std::string text;
    // Smallest step of `value` as read (scale x 10^sf for integers, the float's ulp at this
    // value for floats); 0 when unknown. Accounting uses it to judge energy counters.
    double resolution = 0.0;
};

} // namespace greenrack::modbus
