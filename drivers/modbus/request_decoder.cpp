#include "drivers/modbus/request_decoder.hpp"

#include "drivers/modbus/codec.hpp"

#include <optional>

namespace greenrack::modbus {

void decode_request(std::span<const PointSpec> points, const ReadRequest& request,
                    std::span<const std::uint16_t> registers, std::vector<PointValue>& values) {
    for (std::size_t index : request.points) {
        const PointSpec& point = points[index];
        auto regs = registers.subspan(point.address - request.start, point.registers);
        std::optional<std::uint16_t> sf;
        if (point.scale_factor) {
            const PointSpec& sf_point = points[*point.scale_factor];
            if (sf_point.address >= request.start &&
                sf_point.end() <= static_cast<std::uint32_t>(request.start) + request.count) {
                sf = registers[sf_point.address - request.start];
            }
        }
        values[index] = decode_point(point, regs, sf);
    }
}

} // namespace greenrack::modbus
