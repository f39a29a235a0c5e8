#include "drivers/sunspec/decode.hpp"

#include "drivers/modbus/codec.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

namespace greenrack::sunspec {

namespace {

using modbus::DataType;

constexpr std::array<char, 16> hex_digits{'0', '1', '2', '3', '4', '5', '6', '7',
                                          '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};

void append_hex_byte(std::string& text, unsigned byte) {
    text.push_back(hex_digits[(byte >> 4) & 0xFU]);
    text.push_back(hex_digits[byte & 0xFU]);
}

// IPv4 address, first octet in the high byte of the first register; 0 = not implemented.
std::optional<std::string> ipv4_text(std::span<const std::uint16_t> regs) {
    const std::uint64_t bits = modbus::assemble_bits(regs, modbus::WordOrder::abcd);
    if (bits == 0) {
        return std::nullopt;
    }
    std::string text;
    for (int shift = 24; shift >= 0; shift -= 8) {
        if (!text.empty()) {
            text.push_back('.');
        }
        text += std::to_string((bits >> shift) & 0xFFU);
    }
    return text;
}

// IPv6 address as eight groups of four hex digits; all zero = not implemented.
std::optional<std::string> ipv6_text(std::span<const std::uint16_t> regs) {
    if (std::all_of(regs.begin(), regs.end(), [](std::uint16_t reg) { return reg == 0; })) {
        return std::nullopt;
    }
    std::string text;
    for (const std::uint16_t reg : regs) {
        if (!text.empty()) {
            text.push_back(':');
        }
        append_hex_byte(text, reg >> 8U);
        append_hex_byte(text, reg & 0xFFU);
    }
    return text;
}

// EUI-48 in the last six bytes of four registers; FF:FF:FF:FF:FF:FF (SunSpec) or all zero
// (pysunspec2 reads no value from that either) = not implemented.
std::optional<std::string> eui48_text(std::span<const std::uint16_t> regs) {
    std::array<unsigned, 6> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const std::uint16_t reg = regs[1 + i / 2];
        bytes[i] = i % 2 == 0 ? reg >> 8U : reg & 0xFFU;
    }
    const auto all = [&bytes](unsigned value) {
        return std::all_of(bytes.begin(), bytes.end(), [value](unsigned b) { return b == value; });
    };
    if (all(0xFFU) || all(0U)) {
        return std::nullopt;
    }
    std::string text;
    for (const unsigned byte : bytes) {
        if (!text.empty()) {
            text.push_back(':');
        }
        append_hex_byte(text, byte);
    }
    return text;
}

// The register of a fixed exponent, as a device would serve it; out-of-range exponents become
// the sunssf sentinel, so that what they scale is missing like for any other invalid SF.
std::uint16_t fixed_sf_register(int exponent) {
    if (exponent < -10 || exponent > 10) {
        return 0x8000U;
    }
    return static_cast<std::uint16_t>(static_cast<std::int16_t>(exponent));
}

// Decodes the points of one model instance's data registers.
class BlockDecoder {
public:
    BlockDecoder(const ModelDef& model, std::span<const std::uint16_t> data)
        : model_(model), data_(data) {}

    // `def` is one of `scope`, whose registers start at data index `base`.
    DecodedPoint point(const PointDef& def, std::size_t base,
                       std::span<const PointDef> scope) const {
        DecodedPoint out;
        out.def = &def;
        const auto regs = registers(def, base);
        if (regs.empty()) {
            return out; // past the end of the data: missing
        }
        switch (def.type) {
        case PointType::pad:
            return out;
        case PointType::sunssf:
            if (const auto exponent = modbus::decode_scale_factor(regs[0])) {
                out.value = *exponent;
                out.missing = false;
            }
            return out;
        case PointType::ipaddr:
            return with_text(std::move(out), ipv4_text(regs));
        case PointType::ipv6addr:
            return with_text(std::move(out), ipv6_text(regs));
        case PointType::eui48:
            return with_text(std::move(out), eui48_text(regs));
        default:
            break;
        }
        const auto type = codec_type(def.type);
        if (!type) {
            return out;
        }
        modbus::PointSpec spec;
        spec.type = *type;
        spec.registers = def.size;
        spec.order = modbus::WordOrder::abcd;
        std::optional<std::uint16_t> sf_reg;
        if (def.sf.kind != ScaleFactorRef::Kind::none && def.type != PointType::string) {
            sf_reg = scale_factor_register(def.sf, base, scope);
            if (!sf_reg) {
                return out; // its scale factor is not there: the value cannot be scaled
            }
            spec.scale_factor = 0; // decode_point only needs to know there is one
        }
        modbus::PointValue decoded = modbus::decode_point(spec, regs, sf_reg);
        if (decoded.quality != modbus::Quality::ok) {
            return out;
        }
        out.missing = false;
        out.value = decoded.value;
        out.text = std::move(decoded.text);
        out.resolution = decoded.resolution;
        return out;
    }

private:
    // The point's registers, or an empty span when it does not lie wholly inside the data.
    std::span<const std::uint16_t> registers(const PointDef& def, std::size_t base) const {
        const std::size_t start = base + def.offset;
        if (def.size == 0 || start > data_.size() || data_.size() - start < def.size) {
            return {};
        }
        return data_.subspan(start, def.size);
    }

    // The raw register of a point's scale factor: the sunssf point of that name in the
    // point's own scope (its group instance) first, then in the model's fixed block.
    std::optional<std::uint16_t> scale_factor_register(const ScaleFactorRef& ref, std::size_t base,
                                                       std::span<const PointDef> scope) const {
        if (ref.kind == ScaleFactorRef::Kind::fixed) {
            return fixed_sf_register(ref.exponent);
        }
        for (const auto& [points, points_base] :
             {std::pair{scope, base}, std::pair{model_.points, std::size_t{0}}}) {
            for (const PointDef& candidate : points) {
                if (candidate.name != ref.point) {
                    continue;
                }
                const auto regs = registers(candidate, points_base);
                if (candidate.type != PointType::sunssf || regs.size() != 1) {
                    return std::nullopt;
                }
                return regs[0];
            }
        }
        return std::nullopt;
    }

    static DecodedPoint with_text(DecodedPoint out, std::optional<std::string> text) {
        if (text) {
            out.text = std::move(*text);
            out.missing = false;
        }
        return out;
    }

    const ModelDef& model_;
    std::span<const std::uint16_t> data_;
};

const DecodedPoint* find_in(const std::vector<DecodedPoint>& points, std::string_view name) {
    for (const DecodedPoint& point : points) {
        if (point.def != nullptr && point.def->name == name) {
            return &point;
        }
    }
    return nullptr;
}

} // namespace

const DecodedPoint* DecodedModel::find(std::string_view point_name) const {
    return find_in(points, point_name);
}

const DecodedPoint* DecodedModel::find(std::string_view group_name, std::size_t index,
                                       std::string_view point_name) const {
    for (const DecodedGroup& group : groups) {
        if (group.def != nullptr && group.def->name == group_name) {
            return index < group.instances.size() ? find_in(group.instances[index], point_name)
                                                  : nullptr;
        }
    }
    return nullptr;
}

DecodedModel decode(const ModelDef& model, std::span<const std::uint16_t> data) {
    const BlockDecoder block(model, data);
    DecodedModel result;
    result.def = &model;
    result.points.reserve(model.points.size());
    for (const PointDef& def : model.points) {
        result.points.push_back(block.point(def, 0, model.points));
    }
    std::size_t position = model.length; // first register after the fixed block
    for (const GroupDef& group : model.groups) {
        DecodedGroup decoded;
        decoded.def = &group;
        std::size_t count = group.count;
        if (count == 0 && group.length > 0 && data.size() > position) {
            count = (data.size() - position) / group.length;
        }
        decoded.instances.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t base = position + i * group.length;
            std::vector<DecodedPoint> instance;
            instance.reserve(group.points.size());
            for (const PointDef& def : group.points) {
                instance.push_back(block.point(def, base, group.points));
            }
            decoded.instances.push_back(std::move(instance));
        }
        position += count * group.length;
        result.groups.push_back(std::move(decoded));
    }
    result.truncated = data.size() < position;
    result.trailing_registers = data.size() > position ? data.size() - position : 0;
    return result;
}

} // namespace greenrack::sunspec
