#pragma once

#include "drivers/sim/modbus_exception.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace greenrack::sim {

// Counters of the requests the simulator saw (printed on exit and with --stats).
class RequestStats {
public:
    void count_request(std::uint8_t function) { ++by_function_[function]; }
    void count_exception(ModbusException code) { ++by_exception_[static_cast<std::uint8_t>(code)]; }
    void count_write_rejected() { ++writes_rejected_; }
    void count_unanswered() { ++unanswered_; } // device offline, or RTU frame for another unit

    std::uint64_t total() const;
    std::uint64_t by_function(std::uint8_t function) const { return by_function_[function]; }
    std::uint64_t by_exception(ModbusException code) const {
        return by_exception_[static_cast<std::uint8_t>(code)];
    }
    std::uint64_t writes_rejected() const { return writes_rejected_; }
    std::uint64_t unanswered() const { return unanswered_; }

    // "requests=120 fc03=100 fc04=20 exceptions: 02=3 writes_rejected=0 unanswered=0"
    std::string summary() const;

private:
    std::array<std::uint64_t, 256> by_function_{};
    std::array<std::uint64_t, 256> by_exception_{};
    std::uint64_t writes_rejected_ = 0;
    std::uint64_t unanswered_ = 0;
};

} // namespace greenrack::sim
