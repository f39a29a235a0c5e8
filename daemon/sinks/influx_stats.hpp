#pragma once

#include <atomic>
#include <cstdint>

namespace greenrack::sinks {

// Counters of the InfluxDB sink, readable from any thread (for /metrics and greenrack_self).
struct InfluxStats {
    std::atomic<std::uint64_t> queue_lines{0};     // lines waiting now (gauge)
    std::atomic<std::uint64_t> written_lines{0};   // accepted by the server
    std::atomic<std::uint64_t> rejected_lines{0};  // refused with 4xx (bad lines): not retried
    std::atomic<std::uint64_t> dropped_lines{0};   // dropped because the queue was full
    std::atomic<std::uint64_t> failed_requests{0}; // timeouts, connection errors, 5xx
    std::atomic<bool> healthy{true};               // last write succeeded
};

} // namespace greenrack::sinks
