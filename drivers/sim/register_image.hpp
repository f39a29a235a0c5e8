#pragma once

#include "drivers/profiles/profile.hpp"
#include "drivers/sim/device_readings.hpp"
#include "drivers/sim/modbus_exception.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace greenrack::sim {

// What a read request gets: registers, or an exception code.
struct ReadResult {
    ModbusException exception = ModbusException::none;
    std::span<const std::uint16_t> registers; // valid until the next update()
};

// The holding and input registers one device serves, built from its profile. Pure.
//  - each point shows its value (see point_values.hpp) encoded with the project codec;
//    points listed as unimplemented show their type's sentinel;
//  - every SunSpec scale factor is re-chosen on each update: the smallest exponent at which all
//    the points it scales fit their type (scale_factors.hpp);
//  - constant blocks (SunSpec marker, model headers, end model) are served verbatim;
//  - counters of integer types without a scale factor wrap like the real register.
// Reads, checked in this order:
//  - quantity 0 or > 125 -> exception 03 (the protocol limit);
//  - quantity > the profile's max_registers -> 03 (the device's own limit, e.g. 80);
//  - with the profile's even_alignment: an odd start address -> 02, an odd quantity -> 03;
//  - any register outside the map -> 02, where the map is the registers of points and constants
//    (holes = exception) or everything between the lowest and highest of them, holes reading 0
//    (holes = zero).
class RegisterImage {
public:
    explicit RegisterImage(std::shared_ptr<const profiles::DeviceProfile> profile,
                           std::vector<std::string> unimplemented = {},
                           std::map<std::string, double> fixed_values = {});

    // Re-encodes every point from the readings (one consistent snapshot of values and SFs).
    void update(const DeviceReadings& readings);

    ReadResult read(modbus::RegisterKind kind, std::uint16_t address, std::uint16_t count) const;

    // The registers of one point of this profile, as served (for the snapshot).
    std::span<const std::uint16_t> point_registers(const modbus::PointSpec& point) const;

    const profiles::DeviceProfile& profile() const { return *profile_; }

private:
    struct Table {
        std::uint32_t first = 0; // lowest mapped address
        std::vector<std::uint16_t> values;
        std::vector<std::uint8_t> mapped; // 1 = a point or constant lives here
        bool empty() const { return values.empty(); }
    };

    Table& table(modbus::RegisterKind kind);
    const Table& table(modbus::RegisterKind kind) const;
    std::span<std::uint16_t> span_of(modbus::RegisterKind kind, std::uint32_t address,
                                     std::size_t count);
    void encode_point(const modbus::PointSpec& point, double value, int sf,
                      const DeviceReadings& readings);

    std::shared_ptr<const profiles::DeviceProfile> profile_;
    std::vector<bool> unimplemented_; // by point index
    std::map<std::string, double> fixed_values_;
    Table holding_;
    Table input_;
};

} // namespace greenrack::sim
