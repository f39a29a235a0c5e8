#include "daemon/core/accounting/time_base.hpp"

#include "daemon/core/accounting/units.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

namespace greenrack::accounting {

namespace {

constexpr std::int64_t max_hold_limit_ms = 60'000; // §2: H is at most 60 s

// Local so that the time base does not depend on accounting_types.cpp.
SourceQuality worse(SourceQuality a, SourceQuality b) {
    return a < b ? b : a;
}

std::optional<double> non_negative(std::optional<double> value) {
    if (value && std::isfinite(*value) && *value >= 0.0) {
        return value;
    }
    return std::nullopt;
}

std::int64_t overlap(std::int64_t a0, std::int64_t a1, std::int64_t b0, std::int64_t b1) {
    return std::max<std::int64_t>(0, std::min(a1, b1) - std::max(a0, b0));
}

double power_energy_wh(double power_w, std::int64_t ms) {
    return watt_hours(power_w, static_cast<double>(ms));
}

} // namespace

SourceSeries::SourceSeries(SeriesSettings settings) : settings_(settings) {
    if (settings_.tick_ms <= 0 || ms_per_quarter_hour % settings_.tick_ms != 0) {
        throw std::invalid_argument("time base: the tick must divide 900 s");
    }
    if (settings_.max_hold_ms < 0) {
        throw std::invalid_argument("time base: max_hold_ms must be >= 0");
    }
    if (settings_.max_span_ms <= 0) {
        throw std::invalid_argument("time base: max_span_ms must be > 0");
    }
    if (!std::isfinite(settings_.counter_resolution_fraction) ||
        settings_.counter_resolution_fraction < 0.0) {
        throw std::invalid_argument("time base: counter_resolution_fraction must be >= 0");
    }
    settings_.max_hold_ms = std::min(settings_.max_hold_ms, max_hold_limit_ms);
}

void SourceSeries::add(std::int64_t ts_ms, std::optional<double> power_w,
                       std::optional<double> counter_wh, double resolution_wh,
                       std::optional<double> wrap_wh) {
    if (newest_ms_ && ts_ms <= *newest_ms_) {
        return; // late or duplicate: ignored (documented in the header)
    }
    power_w = non_negative(power_w);
    counter_wh = non_negative(counter_wh);
    if (!std::isfinite(resolution_wh) || resolution_wh < 0.0) {
        resolution_wh = 0.0;
    }
    if (wrap_wh && !(std::isfinite(*wrap_wh) && *wrap_wh > 0.0)) {
        wrap_wh.reset();
    }

    // The previous sample's hold ends now (or at its limit H).
    if (!samples_.empty()) {
        const Sample& prev = samples_.back();
        const std::int64_t elapsed = ts_ms - prev.ts_ms;
        const std::int64_t held = prev.power_w ? std::min(elapsed, settings_.max_hold_ms) : 0;
        if (prev.power_w) {
            pending_power_wh_ += power_energy_wh(*prev.power_w, held);
        }
        if (held < elapsed) {
            pending_power_covered_ = false;
        }
    }

    if (counter_wh) {
        const CounterReading reading{ts_ms, *counter_wh, resolution_wh, wrap_wh};
        if (last_counter_) {
            spans_.push_back(classify(*last_counter_, reading));
        }
        last_counter_ = reading;
        pending_power_wh_ = 0.0;
        pending_power_covered_ = true;
    }

    const bool any_ok = power_w.has_value() || counter_wh.has_value();
    samples_.push_back(Sample{ts_ms, power_w, any_ok});
    newest_ms_ = ts_ms;
    if (any_ok && !first_ok_ms_) {
        first_ok_ms_ = ts_ms;
    }
}

SourceSeries::CounterSpan SourceSeries::classify(const CounterReading& a,
                                                 const CounterReading& b) const {
    CounterSpan span{a.ts_ms, b.ts_ms, 0.0, SpanKind::counter};
    const std::optional<double> power_wh =
        pending_power_covered_ ? std::optional<double>(pending_power_wh_) : std::nullopt;
    const double resolution = std::max(a.resolution_wh, b.resolution_wh);

    double delta = b.counter_wh - a.counter_wh;
    if (delta < 0.0) {
        const std::optional<double> wrap = b.wrap_wh ? b.wrap_wh : a.wrap_wh;
        const double wrapped = wrap ? delta + *wrap : -1.0;
        const bool plausible = wrap && wrapped >= 0.0 && wrapped <= *wrap / 2.0 &&
                               (!power_wh || wrapped <= 2.0 * *power_wh + 2.0 * resolution);
        if (!plausible) {
            span.kind = SpanKind::reset;
            return span;
        }
        delta = wrapped;
    }
    if (b.ts_ms - a.ts_ms > settings_.max_span_ms) {
        span.kind = SpanKind::gap;
        return span;
    }
    if (power_wh && !(resolution <= settings_.counter_resolution_fraction * *power_wh)) {
        span.kind = SpanKind::power;
        return span;
    }
    span.delta_wh = delta;
    return span;
}

TickBreakdown SourceSeries::tick_breakdown(std::int64_t tick_start_ms) const {
    const std::int64_t start = tick_start_ms;
    const std::int64_t end = tick_start_ms + settings_.tick_ms;
    TickBreakdown out;

    // Counter spans touching the tick: [first_span, end of the queue) while start_ms < end.
    const auto first_span =
        std::partition_point(spans_.begin(), spans_.end(),
                             [&](const CounterSpan& span) { return span.end_ms <= start; });
    for (auto it = first_span; it != spans_.end() && it->start_ms < end; ++it) {
        if (it->kind == SpanKind::reset) {
            out.flags |= flag_counter_reset;
        }
        if (it->kind == SpanKind::counter) {
            const std::int64_t shared = overlap(it->start_ms, it->end_ms, start, end);
            out.counter_wh += it->delta_wh * static_cast<double>(shared) /
                              static_cast<double>(it->end_ms - it->start_ms);
            out.covered_ms += shared;
        }
    }

    // Power holds, where no used counter span covers. Holds and spans are both in time order, so
    // `next_span` only moves forward.
    auto next_span = first_span;
    const auto first_sample =
        std::partition_point(samples_.begin(), samples_.end(),
                             [&](const Sample& sample) { return sample.ts_ms <= start; });
    auto it = first_sample == samples_.begin() ? first_sample : std::prev(first_sample);
    bool sample_inside = false;
    for (; it != samples_.end() && it->ts_ms < end; ++it) {
        if (it->any_ok && it->ts_ms >= start) {
            sample_inside = true;
        }
        if (!it->power_w) {
            continue;
        }
        std::int64_t hold_end = it->ts_ms + settings_.max_hold_ms;
        if (std::next(it) != samples_.end()) {
            hold_end = std::min(hold_end, std::next(it)->ts_ms);
        }
        const std::int64_t from = std::max(it->ts_ms, start);
        const std::int64_t to = std::min(hold_end, end);
        if (from >= to) {
            continue;
        }
        while (next_span != spans_.end() && next_span->end_ms <= from) {
            ++next_span;
        }
        std::int64_t free_ms = to - from;
        for (auto span = next_span; span != spans_.end() && span->start_ms < to; ++span) {
            if (span->kind == SpanKind::counter) {
                free_ms -= overlap(span->start_ms, span->end_ms, from, to);
            }
        }
        out.power_wh += power_energy_wh(*it->power_w, free_ms);
        out.covered_ms += free_ms;
    }

    if (!first_ok_ms_ || end <= *first_ok_ms_) {
        out.energy = Energy{0.0, SourceQuality::missing};
    } else if (out.covered_ms < settings_.tick_ms) {
        out.energy = Energy{0.0, SourceQuality::stale};
    } else {
        out.energy = Energy{out.counter_wh + out.power_wh,
                            sample_inside ? SourceQuality::ok : SourceQuality::held};
    }
    return out;
}

Energy SourceSeries::tick_energy(std::int64_t tick_start_ms, std::uint32_t* flags) const {
    const TickBreakdown breakdown = tick_breakdown(tick_start_ms);
    if (flags != nullptr) {
        *flags |= breakdown.flags;
    }
    return breakdown.energy;
}

void SourceSeries::forget_before(std::int64_t ms) {
    // A sample is dropped once a later sample lies at or before `ms`: its hold ends there.
    while (samples_.size() >= 2 && samples_[1].ts_ms <= ms) {
        samples_.pop_front();
    }
    while (!spans_.empty() && spans_.front().end_ms <= ms) {
        spans_.pop_front();
    }
}

bool SourceSeries::has_data() const {
    return first_ok_ms_.has_value();
}

Energy sum_energies(const std::vector<Energy>& parts) {
    if (parts.empty()) {
        return Energy{0.0, SourceQuality::missing};
    }
    Energy total{0.0, SourceQuality::ok};
    for (const Energy& part : parts) {
        total.wh += part.wh;
        total.quality = worse(total.quality, part.quality);
    }
    if (!usable(total.quality)) {
        total.wh = 0.0;
    }
    return total;
}

std::int64_t tick_floor(std::int64_t ts_ms, std::int64_t tick_ms) {
    if (tick_ms <= 0) {
        throw std::invalid_argument("tick_floor: tick_ms must be > 0");
    }
    std::int64_t rest = ts_ms % tick_ms;
    if (rest < 0) {
        rest += tick_ms;
    }
    return ts_ms - rest;
}

} // namespace greenrack::accounting
