#include "daemon/fleet/tick_assembler.hpp"

#include "daemon/core/accounting/time_base.hpp"

#include <algorithm>
#include <stdexcept>

namespace greenrack::fleet {

std::string_view to_string(Offer offer) {
    switch (offer) {
    case Offer::accepted:
        return "accepted";
    case Offer::duplicate:
        return "duplicate";
    case Offer::correction:
        return "correction";
    case Offer::too_late:
        return "too_late";
    case Offer::too_early:
        return "too_early";
    case Offer::unknown_shard:
        return "unknown_shard";
    }
    return "?";
}

TickAssembler::TickAssembler(Settings settings, accounting::SourceLayout layout,
                             std::vector<std::string> shards,
                             std::vector<accounting::PartialInputs> shapes)
    : settings_(settings), layout_(layout), shards_(std::move(shards)), shapes_(std::move(shapes)) {
    if (settings_.tick_ms <= 0 || shapes_.size() != shards_.size()) {
        throw std::invalid_argument("TickAssembler: tick must be > 0 and one shape per shard");
    }
}

void TickAssembler::start_at(std::int64_t first_tick_ms) {
    first_tick_ms_ = accounting::tick_floor(first_tick_ms, settings_.tick_ms);
    next_tick_ms_ = first_tick_ms_;
    pending_.erase(pending_.begin(), pending_.lower_bound(next_tick_ms_));
}

void TickAssembler::skip_to(std::int64_t tick_ms) {
    tick_ms = accounting::tick_floor(tick_ms, settings_.tick_ms);
    if (tick_ms <= next_tick_ms_) {
        return;
    }
    next_tick_ms_ = tick_ms;
    pending_.erase(pending_.begin(), pending_.lower_bound(next_tick_ms_));
}

std::int64_t TickAssembler::deadline_of(std::int64_t tick_start_ms) const {
    return tick_start_ms + settings_.tick_ms + settings_.publish_delay_ms + settings_.deadline_ms;
}

std::optional<std::size_t> TickAssembler::index_of(const std::string& shard) const {
    auto it = std::find(shards_.begin(), shards_.end(), shard);
    if (it == shards_.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(it - shards_.begin());
}

accounting::TickInputs TickAssembler::merge(std::int64_t start_ms, const Parts& parts) const {
    std::vector<accounting::PartialInputs> stand_ins;
    stand_ins.reserve(parts.size());
    std::vector<const accounting::PartialInputs*> pointers;
    pointers.reserve(parts.size());
    for (std::size_t s = 0; s < parts.size(); ++s) {
        if (parts[s]) {
            pointers.push_back(&*parts[s]);
        } else {
            stand_ins.push_back(accounting::missing_part(shapes_[s], start_ms));
        }
    }
    for (const auto& stand_in : stand_ins) {
        pointers.push_back(&stand_in);
    }
    return accounting::merge_parts(layout_, start_ms, pointers);
}

Offer TickAssembler::offer(const std::string& shard, accounting::PartialInputs part,
                           std::int64_t now_ms, Correction* correction) {
    const auto index = index_of(shard);
    if (!index) {
        return Offer::unknown_shard;
    }
    const std::int64_t start = part.start_ms;
    if (start + settings_.tick_ms > now_ms + 2 * settings_.tick_ms) {
        return Offer::too_early;
    }
    if (start >= next_tick_ms_) {
        Parts& parts = pending_[start];
        parts.resize(shards_.size());
        if (parts[*index]) {
            return Offer::duplicate;
        }
        parts[*index] = std::move(part);
        return Offer::accepted;
    }
    if (start < first_tick_ms_) {
        return Offer::too_late;
    }
    auto done = done_.find(start);
    if (done == done_.end()) {
        return Offer::too_late; // beyond the correction window, or skipped
    }
    if (done->second.present[*index]) {
        return Offer::duplicate;
    }
    if (now_ms > start + settings_.tick_ms + settings_.correction_window_ms) {
        return Offer::too_late;
    }
    Done& entry = done->second;
    entry.parts[*index] = std::move(part);
    entry.present[*index] = true;
    accounting::TickInputs after = merge(start, entry.parts);
    if (correction != nullptr) {
        correction->start_ms = start;
        correction->shard = shard;
        correction->before = entry.inputs;
        correction->after = after;
    }
    entry.inputs = std::move(after); // a second late shard corrects the corrected tick
    return Offer::correction;
}

AssembledTick TickAssembler::assemble(std::int64_t start_ms, Parts parts) {
    parts.resize(shards_.size());
    AssembledTick out;
    Done done;
    done.present.resize(shards_.size());
    for (std::size_t s = 0; s < shards_.size(); ++s) {
        done.present[s] = parts[s].has_value();
        if (!parts[s]) {
            out.missing.push_back(shards_[s]);
        }
    }
    out.inputs = merge(start_ms, parts);
    if (!out.missing.empty()) {
        done.parts = std::move(parts);
        done.inputs = out.inputs;
    }
    done_[start_ms] = std::move(done);
    return out;
}

std::vector<AssembledTick> TickAssembler::take_ready(std::int64_t now_ms) {
    std::vector<AssembledTick> ready;
    while (true) {
        auto it = pending_.find(next_tick_ms_);
        const bool complete = it != pending_.end() &&
                              std::all_of(it->second.begin(), it->second.end(),
                                          [](const auto& part) { return part.has_value(); }) &&
                              it->second.size() == shards_.size();
        if (!complete && now_ms < deadline_of(next_tick_ms_)) {
            break;
        }
        Parts parts;
        if (it != pending_.end()) {
            parts = std::move(it->second);
            pending_.erase(it);
        }
        ready.push_back(assemble(next_tick_ms_, std::move(parts)));
        next_tick_ms_ += settings_.tick_ms;
    }
    // Forget what is beyond the correction window.
    const std::int64_t horizon = now_ms - settings_.correction_window_ms - settings_.tick_ms;
    done_.erase(done_.begin(), done_.lower_bound(horizon));
    return ready;
}

} // namespace greenrack::fleet
