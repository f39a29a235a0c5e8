#include "drivers/sim/request_handler.hpp"

namespace greenrack::sim {

Answer exception_answer(std::uint8_t function, ModbusException code,
                        std::span<std::uint8_t> response) {
    response[0] = static_cast<std::uint8_t>(function | 0x80U);
    response[1] = static_cast<std::uint8_t>(code);
    return {2, code};
}

bool is_write_function(std::uint8_t function) {
    switch (function) {
    case 0x05:
    case 0x06:
    case 0x0F:
    case 0x10:
    case 0x16:
    case 0x17:
        return true;
    default:
        return false;
    }
}

Answer answer_request(const RegisterImage& image, std::span<const std::uint8_t> pdu,
                      std::span<std::uint8_t> response) {
    if (pdu.empty()) {
        return {};
    }
    const std::uint8_t function = pdu[0];
    if (function != 0x03 && function != 0x04) {
        return exception_answer(function, ModbusException::illegal_function, response);
    }
    if (pdu.size() < 5) {
        return exception_answer(function, ModbusException::illegal_data_value, response);
    }
    const auto address = static_cast<std::uint16_t>((pdu[1] << 8U) | pdu[2]);
    const auto count = static_cast<std::uint16_t>((pdu[3] << 8U) | pdu[4]);
    const auto kind =
        function == 0x03 ? modbus::RegisterKind::holding : modbus::RegisterKind::input;
    const ReadResult result = image.read(kind, address, count);
    if (result.exception != ModbusException::none) {
        return exception_answer(function, result.exception, response);
    }
    response[0] = function;
    response[1] = static_cast<std::uint8_t>(2 * result.registers.size());
    std::size_t pos = 2;
    for (std::uint16_t reg : result.registers) {
        response[pos++] = static_cast<std::uint8_t>(reg >> 8U);
        response[pos++] = static_cast<std::uint8_t>(reg & 0xFFU);
    }
    return {pos, ModbusException::none};
}

} // namespace greenrack::sim
