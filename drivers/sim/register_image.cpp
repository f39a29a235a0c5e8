#include "drivers/sim/register_image.hpp"

#include "drivers/modbus/codec.hpp"
#include "drivers/sim/point_values.hpp"
#include "drivers/sim/scale_factors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace greenrack::sim {

namespace {

using modbus::DataType;
using modbus::PointSpec;
using modbus::RegisterKind;

struct Extent {
    std::uint32_t low = std::numeric_limits<std::uint32_t>::max();
    std::uint32_t high = 0; // one past the last register
    void add(std::uint32_t begin, std::uint32_t end) {
        low = std::min(low, begin);
        high = std::max(high, end);
    }
};

bool wraps(const PointSpec& point) {
    return point.kind == modbus::PointKind::counter && !point.scale_factor &&
           !modbus::is_float(point.type) && !modbus::is_signed(point.type) &&
           point.type != DataType::string && point.type != DataType::sunssf;
}

} // namespace

RegisterImage::RegisterImage(std::shared_ptr<const profiles::DeviceProfile> profile,
                             std::vector<std::string> unimplemented,
                             std::map<std::string, double> fixed_values)
    : profile_(std::move(profile)), unimplemented_(profile_->points.size(), false),
      fixed_values_(std::move(fixed_values)) {
    for (const std::string& name : unimplemented) {
        if (auto index = profile_->find(name)) {
            unimplemented_[*index] = true;
        }
    }
    Extent holding;
    Extent input;
    auto extent = [&](RegisterKind kind) -> Extent& {
        return kind == RegisterKind::holding ? holding : input;
    };
    for (const PointSpec& p : profile_->points) {
        extent(p.function).add(p.address, p.end());
    }
    for (const auto& block : profile_->constants) {
        extent(block.function)
            .add(block.address, block.address + static_cast<std::uint32_t>(block.values.size()));
    }
    for (RegisterKind kind : {RegisterKind::holding, RegisterKind::input}) {
        const Extent& e = extent(kind);
        if (e.high <= e.low) {
            continue;
        }
        Table& t = table(kind);
        t.first = e.low;
        t.values.assign(e.high - e.low, 0);
        t.mapped.assign(e.high - e.low, 0);
    }
    for (const PointSpec& p : profile_->points) {
        Table& t = table(p.function);
        std::fill_n(t.mapped.begin() + (p.address - t.first), p.registers, 1);
    }
    for (const auto& block : profile_->constants) {
        Table& t = table(block.function);
        std::copy(block.values.begin(), block.values.end(),
                  t.values.begin() + (block.address - t.first));
        std::fill_n(t.mapped.begin() + (block.address - t.first), block.values.size(), 1);
    }
    update(DeviceReadings{});
}

RegisterImage::Table& RegisterImage::table(RegisterKind kind) {
    return kind == RegisterKind::holding ? holding_ : input_;
}

const RegisterImage::Table& RegisterImage::table(RegisterKind kind) const {
    return kind == RegisterKind::holding ? holding_ : input_;
}

std::span<std::uint16_t> RegisterImage::span_of(RegisterKind kind, std::uint32_t address,
                                                std::size_t count) {
    Table& t = table(kind);
    return std::span<std::uint16_t>(t.values).subspan(address - t.first, count);
}

void RegisterImage::update(const DeviceReadings& readings) {
    const auto& points = profile_->points;
    std::vector<double> values(points.size(), 0.0);
    for (std::size_t i = 0; i < points.size(); ++i) {
        auto fixed = fixed_values_.find(points[i].name);
        if (fixed != fixed_values_.end()) {
            values[i] = fixed->second;
        } else if (points[i].type != DataType::string && points[i].type != DataType::sunssf) {
            values[i] = resolve_point_value(points[i], *profile_, readings);
        }
    }
    // Scale factors first: each one from the values of the points it scales.
    std::vector<int> scale_factor(points.size(), 0);
    for (std::size_t s = 0; s < points.size(); ++s) {
        if (points[s].type != DataType::sunssf) {
            continue;
        }
        if (fixed_values_.count(points[s].name) != 0) {
            scale_factor[s] = static_cast<int>(std::lround(values[s]));
            continue;
        }
        std::vector<ScaledValue> scaled;
        for (std::size_t j = 0; j < points.size(); ++j) {
            if (points[j].scale_factor == s && !unimplemented_[j]) {
                scaled.push_back({&points[j], values[j]});
            }
        }
        scale_factor[s] = scaled.empty() ? 0 : choose_scale_factor(scaled);
        values[s] = scale_factor[s];
    }
    for (std::size_t i = 0; i < points.size(); ++i) {
        const int sf = points[i].scale_factor ? scale_factor[*points[i].scale_factor] : 0;
        encode_point(points[i], values[i], sf, readings);
    }
}

void RegisterImage::encode_point(const PointSpec& point, double value, int sf,
                                 const DeviceReadings& readings) {
    const std::size_t index = static_cast<std::size_t>(&point - profile_->points.data());
    auto out = span_of(point.function, point.address, point.registers);
    if (unimplemented_[index]) {
        if (point.sentinel.mode == modbus::SentinelPolicy::Mode::custom) {
            modbus::spread_bits(point.sentinel.raw, point.order, out);
        } else {
            modbus::encode_sentinel(point.type, point.order, out);
        }
        return;
    }
    if (point.type == DataType::string) {
        modbus::encode_string(readings.text(point.role).value_or(""), point.order, out);
        return;
    }
    double raw = point.type == DataType::sunssf ? value : modbus::to_raw(point, value, sf);
    if (wraps(point)) {
        const double modulus = std::ldexp(1.0, 16 * point.registers);
        raw = std::fmod(std::nearbyint(raw), modulus);
        if (raw < 0.0) {
            raw += modulus;
        }
    }
    modbus::encode_raw(raw, point.type, point.order, out);
}

ReadResult RegisterImage::read(RegisterKind kind, std::uint16_t address,
                               std::uint16_t count) const {
    if (count == 0 || count > modbus::max_read_registers) {
        return {ModbusException::illegal_data_value, {}};
    }
    // The device's own request limits (device-register-maps.md §6.5, §6.8: e.g. an Eastron
    // SDM630 reads at most 80 registers per request, in pairs).
    if (count > profile_->max_registers) {
        return {ModbusException::illegal_data_value, {}};
    }
    if (profile_->even_alignment) {
        if (address % 2 != 0) {
            return {ModbusException::illegal_data_address, {}};
        }
        if (count % 2 != 0) {
            return {ModbusException::illegal_data_value, {}};
        }
    }
    const Table& t = table(kind);
    const std::uint32_t begin = address;
    const std::uint32_t end = begin + count;
    if (t.empty() || begin < t.first || end > t.first + t.values.size()) {
        return {ModbusException::illegal_data_address, {}};
    }
    const std::size_t offset = begin - t.first;
    if (profile_->holes == profiles::HolePolicy::exception) {
        const auto first = t.mapped.begin() + static_cast<std::ptrdiff_t>(offset);
        if (std::find(first, first + count, 0) != first + count) {
            return {ModbusException::illegal_data_address, {}};
        }
    }
    return {ModbusException::none, std::span<const std::uint16_t>(t.values).subspan(offset, count)};
}

std::span<const std::uint16_t> RegisterImage::point_registers(const PointSpec& point) const {
    const Table& t = table(point.function);
    return std::span<const std::uint16_t>(t.values).subspan(point.address - t.first,
                                                            point.registers);
}

} // namespace greenrack::sim
