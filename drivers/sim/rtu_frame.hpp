#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace greenrack::sim {

// Modbus RTU framing (pure): address byte + PDU + CRC-16 (poly 0xA001, init 0xFFFF, low byte
// first on the wire).

std::uint16_t modbus_crc16(std::span<const std::uint8_t> bytes);

// Total length of the request frame at the start of `bytes`, from its function code (and byte
// count for multi-register writes); nullopt when more bytes are needed to tell; 0 when the
// function code is unknown (the caller drops the bytes).
std::optional<std::size_t> rtu_request_length(std::span<const std::uint8_t> bytes);

struct RtuRequest {
    std::uint8_t unit = 0;
    std::span<const std::uint8_t> pdu;
};

// A whole frame with a valid CRC -> its unit and PDU; nullopt otherwise.
std::optional<RtuRequest> parse_rtu_frame(std::span<const std::uint8_t> frame);

// Writes unit + pdu + CRC into out (pdu.size() + 3 bytes); returns the frame length.
std::size_t build_rtu_frame(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                            std::span<std::uint8_t> out);

} // namespace greenrack::sim
