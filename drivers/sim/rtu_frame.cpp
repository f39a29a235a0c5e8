#include "drivers/sim/rtu_frame.hpp"

#include <algorithm>

namespace greenrack::sim {

std::uint16_t modbus_crc16(std::span<const std::uint8_t> bytes) {
    std::uint16_t crc = 0xFFFF;
    for (std::uint8_t byte : bytes) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1U) != 0 ? static_cast<std::uint16_t>((crc >> 1U) ^ 0xA001U)
                                  : static_cast<std::uint16_t>(crc >> 1U);
        }
    }
    return crc;
}

std::optional<std::size_t> rtu_request_length(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 2) {
        return std::nullopt;
    }
    switch (bytes[1]) {
    case 0x01: // read coils / discrete inputs / holding / input registers
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05: // write single coil / register
    case 0x06:
        return 8;
    case 0x07: // read exception status, diagnostics counters, report server id
    case 0x0B:
    case 0x0C:
    case 0x11:
        return 4;
    case 0x0F: // write multiple coils / registers: byte count at offset 6
    case 0x10:
        if (bytes.size() < 7) {
            return std::nullopt;
        }
        return 9 + static_cast<std::size_t>(bytes[6]);
    case 0x16: // mask write register
        return 10;
    case 0x17: // read/write multiple registers: write byte count at offset 10
        if (bytes.size() < 11) {
            return std::nullopt;
        }
        return 13 + static_cast<std::size_t>(bytes[10]);
    case 0x2B: // read device identification (MEI 14)
        return 7;
    default:
        return 0;
    }
}

std::optional<RtuRequest> parse_rtu_frame(std::span<const std::uint8_t> frame) {
    if (frame.size() < 4) {
        return std::nullopt;
    }
    const std::size_t body = frame.size() - 2;
    const std::uint16_t crc = modbus_crc16(frame.first(body));
    if (frame[body] != (crc & 0xFFU) || frame[body + 1] != (crc >> 8U)) {
        return std::nullopt;
    }
    return RtuRequest{frame[0], frame.subspan(1, body - 1)};
}

std::size_t build_rtu_frame(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                            std::span<std::uint8_t> out) {
    out[0] = unit;
    std::copy(pdu.begin(), pdu.end(), out.begin() + 1);
    const std::size_t body = pdu.size() + 1;
    const std::uint16_t crc = modbus_crc16(out.first(body));
    out[body] = static_cast<std::uint8_t>(crc & 0xFFU);
    out[body + 1] = static_cast<std::uint8_t>(crc >> 8U);
    return body + 2;
}

} // namespace greenrack::sim
