#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace greenrack::fleet {

// What the aggregator did with one shard's parts (event loop only).
struct ShardPartStats {
    std::string shard;
    std::uint64_t accepted = 0;
    std::uint64_t duplicate = 0;     // dropped: already had it (at-least-once delivery)
    std::uint64_t correction = 0;    // late, after its tick was computed without it
    std::uint64_t too_late = 0;      // beyond the correction window
    std::uint64_t too_early = 0;     // more than two ticks in the future
    std::uint64_t malformed = 0;     // not decodable, or for another site
    std::uint64_t missing_ticks = 0; // ticks computed without this shard's part
    std::int64_t last_tick_ms = -1;  // the newest tick it sent a part of
};

// The fleet counters behind greenrack_fleet_* on /metrics (event loop only).
struct FleetStats {
    // shard
    std::uint64_t parts_published = 0;
    std::int64_t last_tick_ms = -1; // the newest tick published
    // aggregator
    std::vector<ShardPartStats> shards;
    std::uint64_t ticks_complete = 0; // every shard's part in
    std::uint64_t ticks_partial = 0;  // computed at the deadline with shards missing
    std::uint64_t corrections = 0;    // correction records published (or, as standby, computed)
    std::uint64_t takeovers = 0;      // times this instance became the active aggregator
    std::uint64_t lease_epoch = 0;
    bool active = false;
};

} // namespace greenrack::fleet
