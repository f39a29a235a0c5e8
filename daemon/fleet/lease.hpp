#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenrack::fleet {

// The aggregator lease as held on the retained topic <prefix>/<site>/fleet/lease.
struct LeaseRecord {
    std::string holder;             // the aggregator instance
    std::uint64_t epoch = 0;        // +1 on every takeover
    std::int64_t expires_ms = 0;    // UTC; 0: released (a clean stop)
    std::int64_t last_tick_ms = -1; // the last tick the holder published (-1: none yet)

    bool operator==(const LeaseRecord&) const = default;
};

std::string encode_lease(const LeaseRecord& record);
// nullopt for an empty payload (the retained lease cleared) or a malformed one.
std::optional<LeaseRecord> decode_lease(std::string_view payload);

// Who of several aggregator instances publishes the site (pure: time comes in with each call).
// Every instance computes every tick; only the holder of an unexpired lease publishes.
// * Taking over: when the lease is free (never held, released, or expired by the local clock)
//   an instance claims epoch + 1. Every instance sees every claim on the one retained topic;
//   among claims of the same epoch the smallest holder name wins, so all agree whatever order
//   they see them in. A claimer becomes active only `settle` after it saw its own claim come
//   back and no smaller claim of that epoch.
// * Holding: the holder renews every `renew` (expiry now + ttl) and counts as active only while
//   its last renewal it saw come back is younger than ttl - renew/2, so a holder cut off from the
//   broker stops publishing before a standby may take over.
// * Stepping down: a record of a higher epoch (or a smaller claimer of the same epoch) makes
//   the instance a standby at once. release() on a clean stop hands over without waiting.
class Lease {
public:
    Lease(std::string instance, std::int64_t ttl_ms, std::int64_t renew_ms, std::int64_t settle_ms);

    // A record seen on the lease topic (nullopt: the topic was cleared).
    void observe(const std::optional<LeaseRecord>& record, std::int64_t now_ms);

    // The record to publish now (a claim or a renewal), if any. `last_tick_ms`: the last tick
    // this instance published.
    std::optional<LeaseRecord> poll(std::int64_t now_ms, std::int64_t last_tick_ms);

    bool active(std::int64_t now_ms) const;
    // The record to publish on a clean stop when this instance holds the lease.
    std::optional<LeaseRecord> release(std::int64_t last_tick_ms);

    const std::optional<LeaseRecord>& current() const { return current_; }
    const std::string& instance() const { return instance_; }
    // The last tick the previous holders published, as far as the lease records tell.
    std::int64_t last_published_tick_ms() const { return last_published_tick_ms_; }

private:
    bool held_by_me() const { return current_ && current_->holder == instance_; }

    std::string instance_;
    std::int64_t ttl_ms_;
    std::int64_t renew_ms_;
    std::int64_t settle_ms_;
    std::optional<LeaseRecord> current_; // the winning record of the highest epoch seen
    std::int64_t confirmed_ms_ = -1;     // when my current record was seen coming back
    std::int64_t claimed_at_ms_ = -1;    // when my claim of current_->epoch was first seen
    std::int64_t last_sent_ms_ = -1;
    std::optional<std::uint64_t> claim_sent_epoch_; // a claim sent, not yet seen
    std::int64_t last_published_tick_ms_ = -1;
};

} // namespace greenrack::fleet
