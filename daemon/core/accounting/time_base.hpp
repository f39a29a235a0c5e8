#pragma once

// From polled samples to per-tick energies (green-accounting.md §2). Pure: time is an input.

#include "daemon/core/accounting/accounting_types.hpp"

#include "daemon/core/accounting/front_queue.hpp"
#include <cstddef>
#include <cstdint>

#include <optional>

namespace greenrack::accounting {

struct SeriesSettings {
    std::int64_t tick_ms = 5'000;
    // H: a power sample holds until the next one, at most this long (3 x poll period, <= 60 s).
    std::int64_t max_hold_ms = 3'000;
    // Counter spans longer than this are gaps: never interpolated across.
    std::int64_t max_span_ms = 300'000;
    // A counter span is used only when the counter's resolution is at most this fraction of
    // the energy the power samples say flowed in the span; otherwise (a 1 Wh counter over a
    // one-second span) the power is integrated instead. Over a span integrated from power, the
    // total is the power integral, not the counter delta.
    double counter_resolution_fraction = 0.01;
};

// What one tick is made of (for diagnostics and tests); tick_energy() is `energy` of this.
struct TickBreakdown {
    Energy energy;               // wh and quality as tick_energy() returns them
    double counter_wh = 0.0;     // counter deltas apportioned to the tick (whatever the coverage)
    double power_wh = 0.0;       // power integrated where no used counter span covers the tick
    std::int64_t covered_ms = 0; // ms of the tick covered by used counter spans or held power
    std::uint32_t flags = 0;     // flag_counter_reset when a reset span touched the tick
};

// One physical quantity of one device: power samples (zero-order hold) and, optionally, an
// energy counter (preferred over the power when its resolution allows, §2).
//
// Rules (choices where §2 leaves one are marked "choice"):
// * Power: a sample p at t holds on [t, min(t_next, t + H)), t_next being the next accepted
//   sample of any kind; a failed read (power nullopt) therefore ends the hold at its time.
//   Choice: a negative or non-finite power is a failed read (signed quantities are split by
//   the caller, §1); H is capped at 60 s.
// * Counter spans join successive ok counter readings (a failed read in between does not break
//   the span: the register is cumulative). A span [t_a, t_b) with dQ = Q_b - Q_a is
//   - a reset when dQ < 0 and no plausible wrap explains it: dropped, flag_counter_reset on
//     every tick it touches, power used instead. Choice: a wrap is plausible when the wrapped
//     delta is at most half the wrap width and, if power covers the whole span, at most twice
//     the power integral plus two counter steps. A decrease is flagged even over a gap.
//   - a gap when t_b - t_a > max_span_ms: power used where it covers, else missing.
//   - used when the power does not cover the whole span, or when the counter's step (the
//     larger of the two readings' resolution_wh) is at most counter_resolution_fraction x the
//     power integral over the span; otherwise the power is integrated for the span. Example:
//     a 1 Wh counter read every second on an 8 kW rack moves 2.2 Wh per span (+-45 %
//     quantisation), so its power is used; a 0.001 Wh counter is used. A resolution of 0
//     (the default) means exact: the counter is always used.
//   A used span's dQ is spread over ticks in proportion to the overlap of [t_a, t_b) with each.
// * Quality of a tick: missing when the series had no ok value before the tick's end; stale
//   (wh = 0, never a partial energy) when any instant is covered by neither a used counter span
//   nor held power; otherwise ok when a sample with an ok value (power or counter) lies in the
//   tick, else held. Choice: a tick covered only by a counter span whose readings lie outside
//   it is held (the conservative of the two).
// * Samples at or before the newest accepted one are ignored (choice: late samples are
//   dropped, not merged; a correction would need the caller to rebuild the series).
class SourceSeries {
public:
    // Throws std::invalid_argument unless tick_ms > 0 divides 900 s, max_hold_ms >= 0,
    // max_span_ms > 0 and counter_resolution_fraction >= 0. max_hold_ms above 60 s is capped.
    explicit SourceSeries(SeriesSettings settings);

    // One poll at ts_ms: power (W, nullopt when not read ok) and counter (Wh, nullopt when not
    // read ok). resolution_wh: the counter's step; wrap_wh: the value at which it wraps to 0
    // (nullopt when unknown: any decrease is then a reset). Samples arrive in time order.
    void add(std::int64_t ts_ms, std::optional<double> power_w, std::optional<double> counter_wh,
             double resolution_wh = 0.0, std::optional<double> wrap_wh = std::nullopt);

    // Energy in [tick_start_ms, tick_start_ms + tick_ms) with its quality; raises
    // flag_counter_reset in *flags when a reset span touched the tick.
    Energy tick_energy(std::int64_t tick_start_ms, std::uint32_t* flags = nullptr) const;

    // The same tick with the counter and power parts and the covered time.
    TickBreakdown tick_breakdown(std::int64_t tick_start_ms) const;

    // Drops what no tick at or after `ms` needs: results for such ticks are unchanged. Keeps the
    // last sample before `ms` (its hold may reach past it) and the spans ending after `ms`.
    void forget_before(std::int64_t ms);

    bool has_data() const;

    // Samples and counter spans held in memory (bounded when forget_before() follows the ticks).
    std::size_t retained() const { return samples_.size() + spans_.size(); }

private:
    struct Sample {
        std::int64_t ts_ms;
        std::optional<double> power_w; // valid power, else nullopt
        bool any_ok;                   // power or counter read ok
    };
    struct CounterReading {
        std::int64_t ts_ms;
        double counter_wh;
        double resolution_wh;
        std::optional<double> wrap_wh;
    };
    enum class SpanKind : std::uint8_t { counter, power, gap, reset };
    struct CounterSpan {
        std::int64_t start_ms;
        std::int64_t end_ms;
        double delta_wh; // used spans only
        SpanKind kind;
    };

    CounterSpan classify(const CounterReading& a, const CounterReading& b) const;

    SeriesSettings settings_;
    FrontQueue<Sample> samples_;    // accepted samples, oldest first (the newest always kept)
    FrontQueue<CounterSpan> spans_; // contiguous counter spans, oldest first
    std::optional<CounterReading> last_counter_;
    // Power integral and coverage over [last_counter_->ts_ms, newest sample): classify() needs
    // them when the next counter reading arrives, without keeping the samples.
    double pending_power_wh_ = 0.0;
    bool pending_power_covered_ = true;
    std::optional<std::int64_t> newest_ms_;
    std::optional<std::int64_t> first_ok_ms_;
};

// Sums of several series (e.g. the PV inverters, the PDUs of a rack): energy = sum, quality =
// worst of the parts; empty -> missing. Choice: when the worst part is not usable (stale or
// missing) wh is 0, as for a single stale series: a partial sum is never reported.
Energy sum_energies(const std::vector<Energy>& parts);

// Start of the tick containing ts_ms (UTC-aligned: a multiple of tick_ms since the epoch);
// floors towards minus infinity for negative times. Throws std::invalid_argument if tick_ms <= 0.
std::int64_t tick_floor(std::int64_t ts_ms, std::int64_t tick_ms);

} // namespace greenrack::accounting
