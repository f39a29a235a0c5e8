#pragma once

// The open roll-up windows (15 min, 1 h, 1 day; UTC-aligned) and the closed ones not yet taken.
// A window closes when a tick at or after its end is processed (the engine has no clock). Each
// closed window gets the next sequence number of its kind; the numbers are persisted, so they
// keep increasing across restarts. Windows in which no tick was processed at all (inside a long
// outage) are not emitted: they would carry no figures.

#include "daemon/core/accounting/rollup_accumulator.hpp"

#include <array>
#include <optional>
#include <vector>

namespace greenrack::accounting {

class RollupBook {
public:
    explicit RollupBook(RollupParameters parameters);

    void add(const TickResult& tick, const TickContribution& contribution);

    // Closed windows, oldest first (by end, then 15m < 1h < 1d); each returned once.
    std::vector<Rollup> take_closed();

    // The open windows, figures up to covered_until_ms (the end of the last processed tick).
    std::vector<Rollup> open(std::int64_t covered_until_ms) const;

    nlohmann::json to_json() const;
    void load_json(const nlohmann::json& state); // throws on malformed input

private:
    static constexpr std::size_t kinds = 3;

    RollupParameters parameters_;
    std::array<std::optional<RollupAccumulator>, kinds> open_;
    std::array<std::uint64_t, kinds> next_seq_{1, 1, 1};
    std::vector<Rollup> closed_;
};

} // namespace greenrack::accounting
