#pragma once

#include "daemon/core/accounting/partial_inputs.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace greenrack::fleet {

// A tick put together from the shards' parts.
struct AssembledTick {
    accounting::TickInputs inputs;
    std::vector<std::string> missing; // shards whose part had not arrived by the deadline
};

// A part that arrived after its tick was computed without it: the tick's inputs as computed
// and as they would have been with the part.
struct Correction {
    std::int64_t start_ms = 0;
    std::string shard;
    accounting::TickInputs before;
    accounting::TickInputs after;
};

enum class Offer : std::uint8_t {
    accepted,      // kept for its tick
    duplicate,     // this shard's part of this tick is already in (at-least-once delivery)
    correction,    // late: its tick was computed without it (a Correction is returned)
    too_late,      // its tick was computed, beyond the correction window or before the start
    too_early,     // its tick ends more than two ticks in the future (clock skew?)
    unknown_shard, // not a shard of this site
};
std::string_view to_string(Offer offer);

// Puts the accounting ticks of a fleet together from the parts its shards publish (pure: time
// comes in with every call). A tick [T, T + tau) is assembled once every shard sent its part, or
// at its deadline T + tau + publish_delay + deadline with the missing shards' quantities
// missing (never zero: a rack whose shard is silent is not green). Ticks are assembled in order,
// each once. A part that arrives after its tick was assembled without it yields a Correction
// within the correction window; the tick itself stays as it was computed.
class TickAssembler {
public:
    struct Settings {
        std::int64_t tick_ms = 5'000;
        std::int64_t publish_delay_ms = 2'000; // when the shards publish a tick after its end
        std::int64_t deadline_ms = 3'000; // how long after that the missing ones are waited for
        std::int64_t correction_window_ms = 300'000;
    };

    // `shapes[i]`: any part of shards[i] (which quantities it has devices for).
    TickAssembler(Settings settings, accounting::SourceLayout layout,
                  std::vector<std::string> shards, std::vector<accounting::PartialInputs> shapes);

    // The first tick to assemble, a multiple of tau (parts of earlier ticks are too_late).
    void start_at(std::int64_t first_tick_ms);
    // Drops the ticks before `tick_ms` without assembling them (after a stalled loop).
    void skip_to(std::int64_t tick_ms);

    // `correction` is filled when the result is Offer::correction.
    Offer offer(const std::string& shard, accounting::PartialInputs part, std::int64_t now_ms,
                Correction* correction);

    // The ticks complete, or past their deadline, at now_ms, oldest first.
    std::vector<AssembledTick> take_ready(std::int64_t now_ms);

    std::int64_t next_tick_ms() const { return next_tick_ms_; }
    // When the next tick is assembled at the latest (its deadline).
    std::int64_t next_deadline_ms() const { return deadline_of(next_tick_ms_); }
    std::size_t pending_ticks() const { return pending_.size(); }
    const std::vector<std::string>& shards() const { return shards_; }

private:
    using Parts = std::vector<std::optional<accounting::PartialInputs>>;
    struct Done {
        Parts parts;                   // kept only when some shard was missing
        std::vector<bool> present;     // per shard
        accounting::TickInputs inputs; // as assembled (only when some shard was missing)
    };

    std::int64_t deadline_of(std::int64_t tick_start_ms) const;
    AssembledTick assemble(std::int64_t start_ms, Parts parts);
    accounting::TickInputs merge(std::int64_t start_ms, const Parts& parts) const;
    std::optional<std::size_t> index_of(const std::string& shard) const;

    Settings settings_;
    accounting::SourceLayout layout_;
    std::vector<std::string> shards_;
    std::vector<accounting::PartialInputs> shapes_;
    std::int64_t first_tick_ms_ = 0;
    std::int64_t next_tick_ms_ = 0;
    std::map<std::int64_t, Parts> pending_; // tick start -> part per shard
    std::map<std::int64_t, Done> done_;     // assembled ticks within the correction window
};

} // namespace greenrack::fleet
