#pragma once

#include <atomic>
#include <cstdint>

namespace greenrack::sinks {

// Counters of the Alertmanager sink, readable from any thread (for /metrics). Counts are per
// POST or per alert in a POST, summed over every configured URL (an HA pair of two counts each
// alert twice).
struct AlertmanagerStats {
    std::atomic<std::uint64_t> posts_ok{0};         // POSTs answered 2xx
    std::atomic<std::uint64_t> posts_failed{0};     // POSTs not answered 2xx (retried or not)
    std::atomic<std::uint64_t> alerts_sent{0};      // alerts (firing or resolved) in 2xx POSTs
    std::atomic<std::uint64_t> alerts_rejected{0};  // alerts in POSTs refused with 4xx: dropped
    std::atomic<std::uint64_t> resolves_dropped{0}; // undelivered resolves dropped (queue full)
    std::atomic<std::uint64_t> firing{0};           // alerts in the firing set now (gauge)
};

} // namespace greenrack::sinks
