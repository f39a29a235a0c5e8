#pragma once

#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/accounting/battery.hpp"
#include "daemon/core/accounting/rollup_book.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace greenrack::accounting {

// The green-accounting engine: pure (no I/O, no clock; time comes in with every tick) and
// deterministic. Feed it ticks in increasing start_ms order; a tick that is not the next one
// after the last processed tick is still accepted (the gap counts as missing ticks in roll-ups).
// A tick at or before last_tick_ms() is ignored (TickResult::ignored): it was accounted already,
// e.g. before a restore, and counting it again would double count.
//
// Input contract (besides accounting_types.hpp): a quantity the site has no device for (no wind
// turbine, no battery) comes as {0, ok}; `missing` means a device exists but gave no data. A
// tick's start_ms is a non-negative multiple of tau and rack_it has one entry per rack; the
// engine throws std::invalid_argument otherwise (a programming error, not bad data).
//
// Conservative choices made here (never over-claim green energy); see also battery.hpp,
// site_allocation.hpp, it_resolution.hpp, rack_attribution.hpp, rollup_accumulator.hpp,
// input_checks.hpp and totals.hpp:
// * A tick has green figures (valid) only when L, D, C, I and X are usable and R is usable or
//   can be inferred. R is inferred (R = max(0, L + C + X - D - I)) only from a facility-metered
//   L, never from an estimated one. Otherwise: data_gap, green outputs missing; zero import is
//   never assumed. A facility meter that is configured but missing is not replaced by the rack
//   estimate (an estimate missing its overhead would raise coverage).
// * Inferred R with one of pv/wind known: the known one is reported (capped at R) and the other
//   gets the rest, quality inferred; with neither known the split is missing.
// * Charge and discharge in the same tick (priority mode): of the two orders the one that
//   delivers less green energy from the battery is taken. Pool mode discharges first (the
//   battery's inflow to the bus is its content at the start of the tick).
// * A tick without green figures still moves the battery when D and C are known; the charge is
//   then taken as non-green with grid carbon. When D or C is unknown the next stored-energy
//   reading's gain is of unknown origin (non-green).
// * The battery resync (a stored-energy reading, applied at the end of the tick) is flagged
//   when it moves E_b by more than max(balance_abs_w x tau, balance_rel x E_b); smaller moves
//   are metering noise, still booked into the losses. The first reading is the cold start, not
//   a resync. A discharge beyond the modelled content also raises flag_battery_resync.
// * flag_battery_cold_start is raised on every tick while the battery is known and its history
//   is unknown (BatteryStatus::cold_start, see battery.hpp).
// * Headroom: negative values are 0; storage headroom is 0 when no maximum discharge power is
//   known (settings or inputs), and total headroom without R_avail is the lower bound R - r_L.
// * iPUE per tick and per window only with a facility meter (never from the estimate).
// * TickResult::quality is the worst over the site sources used and every rack: a rack that is
//   unknown (or filled from the site IT meter, `inferred`) keeps the tick out of data_coverage.
class Engine {
public:
    explicit Engine(AccountingSettings settings); // throws std::invalid_argument on bad settings

    const AccountingSettings& settings() const { return settings_; }

    // Computes one tick (§3-§6) and advances the state: battery, totals, open roll-ups.
    TickResult process(const TickInputs& inputs);

    // Roll-up windows closed by the ticks processed so far, oldest first; each returned once.
    std::vector<Rollup> take_closed_rollups();

    // The windows still open (for live "hour so far" figures), one per Window kind; empty
    // before the first tick. Expected ticks count up to the end of the last processed tick.
    std::vector<Rollup> open_rollups() const;

    const Totals& totals() const { return totals_; }
    const BatteryStatus& battery() const { return battery_; }
    std::int64_t last_tick_ms() const { return last_tick_ms_; } // -1 before the first tick

    // Persistence (pure: the caller does the file I/O). The state holds the totals, the battery
    // (with its fifo slices), the open roll-ups, the closed ones not yet taken, the sequence
    // numbers, the last tick, and the settings it depends on (tick, rack ids in order, battery
    // model). restore_state() throws std::invalid_argument on a state that does not match these
    // settings or is malformed, and leaves the engine unchanged then.
    nlohmann::json save_state() const;
    void restore_state(const nlohmann::json& state);

private:
    AccountingSettings settings_;
    Totals totals_;
    BatteryStatus battery_;
    std::int64_t last_tick_ms_ = -1;
    Battery store_;
    RollupBook rollups_;
};

// Rewrites a saved engine state for another list of racks (added, removed or reordered in the
// config): racks that keep their id keep their totals and open roll-up figures, new racks
// start at zero, removed racks' figures are dropped (their ids are appended to `dropped`; the
// site totals still hold their energy). A state already for `rack_ids`, or a malformed one, is
// returned unchanged (restore_state() then judges it). Pure.
nlohmann::json remap_state_racks(nlohmann::json state, const std::vector<std::string>& rack_ids,
                                 std::vector<std::string>* dropped = nullptr);

} // namespace greenrack::accounting
