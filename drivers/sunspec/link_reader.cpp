#include "drivers/sunspec/link_reader.hpp"

#include <vector>

namespace greenrack::sunspec {

ReadError to_read_error(const std::error_code& ec) {
    ReadError error;
    error.detail = ec.message();
    if (modbus::is_exception(ec)) {
        error.kind = ReadError::Kind::exception;
        error.exception_code = static_cast<std::uint8_t>(ec.value());
    } else if (ec == modbus::make_error_code(modbus::ModbusErrc::timeout)) {
        error.kind = ReadError::Kind::timeout;
    } else {
        error.kind = ReadError::Kind::link;
    }
    return error;
}

ReadFunction make_link_reader(modbus::ModbusLink& link, int unit_id,
                              std::chrono::milliseconds response_timeout,
                              std::error_code* last_error) {
    return [&link, unit_id, response_timeout, last_error](std::uint16_t address,
                                                          std::uint16_t count) -> ReadResult {
        std::vector<std::uint16_t> registers(count);
        const std::error_code ec =
            link.read(unit_id, modbus::RegisterKind::holding, address, registers, response_timeout);
        if (!ec) {
            return registers;
        }
        if (last_error != nullptr) {
            *last_error = ec;
        }
        if (ec == modbus::make_error_code(modbus::ModbusErrc::timeout)) {
            link.flush();
        }
        return to_read_error(ec);
    };
}

} // namespace greenrack::sunspec
