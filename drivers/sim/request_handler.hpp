#pragma once

#include "drivers/sim/modbus_exception.hpp"
#include "drivers/sim/register_image.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace greenrack::sim {

// Largest response PDU (function code + data): 1 + 1 + 2 * 125 bytes.
inline constexpr std::size_t max_response_pdu = 253;

struct Answer {
    std::size_t length = 0; // bytes of the response PDU written (0 = no answer)
    ModbusException exception = ModbusException::none;
};

// Answers one request PDU (function code + data, without the MBAP header) from a device's
// register image, into `response` (at least max_response_pdu bytes). Pure.
//   FC03 / FC04: registers, or exception 02/03 per RegisterImage::read (the protocol's and the
//                profile's request limits, then the map; 03 also for a truncated request);
//   writes (05, 06, 0F, 10, 16, 17) and every other function: exception 01.
Answer answer_request(const RegisterImage& image, std::span<const std::uint8_t> pdu,
                      std::span<std::uint8_t> response);

// Writes an exception response for `function` (function | 0x80, code) into response.
Answer exception_answer(std::uint8_t function, ModbusException code,
                        std::span<std::uint8_t> response);

// True for the Modbus write function codes.
bool is_write_function(std::uint8_t function);

} // namespace greenrack::sim
