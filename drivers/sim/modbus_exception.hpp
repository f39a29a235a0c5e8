#pragma once

#include <cstdint>

namespace greenrack::sim {

// Modbus exception codes the simulator answers with.
enum class ModbusException : std::uint8_t {
    none = 0,
    illegal_function = 0x01,
    illegal_data_address = 0x02,
    illegal_data_value = 0x03,
    gateway_target_failed = 0x0B, // unknown unit id on a listener
};

} // namespace greenrack::sim
