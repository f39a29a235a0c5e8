#include "daemon/fleet/lease.hpp"

#include <nlohmann/json.hpp>

namespace greenrack::fleet {

std::string encode_lease(const LeaseRecord& record) {
    return nlohmann::json{{"holder", record.holder},
                          {"epoch", record.epoch},
                          {"expires", record.expires_ms},
                          {"last_tick", record.last_tick_ms}}
        .dump();
}

std::optional<LeaseRecord> decode_lease(std::string_view payload) {
    if (payload.empty()) {
        return std::nullopt;
    }
    try {
        const auto in = nlohmann::json::parse(payload);
        LeaseRecord record;
        record.holder = in.at("holder").get<std::string>();
        record.epoch = in.at("epoch").get<std::uint64_t>();
        record.expires_ms = in.at("expires").get<std::int64_t>();
        record.last_tick_ms = in.value("last_tick", std::int64_t{-1});
        if (record.holder.empty()) {
            return std::nullopt;
        }
        return record;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Lease::Lease(std::string instance, std::int64_t ttl_ms, std::int64_t renew_ms,
             std::int64_t settle_ms)
    : instance_(std::move(instance)), ttl_ms_(ttl_ms), renew_ms_(renew_ms), settle_ms_(settle_ms) {}

void Lease::observe(const std::optional<LeaseRecord>& record, std::int64_t now_ms) {
    if (!record) {
        // Cleared by hand (or by an older version): free, keep the epoch count going.
        if (current_) {
            current_->expires_ms = 0;
        }
        return;
    }
    last_published_tick_ms_ = std::max(last_published_tick_ms_, record->last_tick_ms);
    const bool mine = record->holder == instance_;
    if (!current_ || record->epoch > current_->epoch) {
        current_ = record;
        if (mine) {
            confirmed_ms_ = now_ms;
            claimed_at_ms_ = now_ms;
        }
        return;
    }
    if (record->epoch < current_->epoch) {
        return; // stale: an older holder's late message
    }
    // Same epoch: the holder's renewal, or competing claims (the smallest holder wins).
    if (record->holder == current_->holder) {
        current_->expires_ms = record->expires_ms;
        current_->last_tick_ms = record->last_tick_ms;
        if (mine) {
            confirmed_ms_ = now_ms;
        }
        return;
    }
    if (record->holder < current_->holder) {
        current_ = record;
        if (mine) {
            confirmed_ms_ = now_ms;
            claimed_at_ms_ = now_ms;
        }
    }
}

std::optional<LeaseRecord> Lease::poll(std::int64_t now_ms, std::int64_t last_tick_ms) {
    if (held_by_me()) {
        if (current_->expires_ms == 0) {
            return std::nullopt; // released by me
        }
        if (last_sent_ms_ < 0 || now_ms - last_sent_ms_ >= renew_ms_) {
            last_sent_ms_ = now_ms;
            return LeaseRecord{instance_, current_->epoch, now_ms + ttl_ms_, last_tick_ms};
        }
        return std::nullopt;
    }
    const bool free = !current_ || now_ms >= current_->expires_ms;
    if (!free) {
        return std::nullopt;
    }
    const std::uint64_t epoch = current_ ? current_->epoch + 1 : 1;
    if (claim_sent_epoch_ == epoch && now_ms - last_sent_ms_ < renew_ms_) {
        return std::nullopt; // our claim is on its way
    }
    claim_sent_epoch_ = epoch;
    last_sent_ms_ = now_ms;
    return LeaseRecord{instance_, epoch, now_ms + ttl_ms_, last_tick_ms};
}

bool Lease::active(std::int64_t now_ms) const {
    if (!held_by_me() || current_->expires_ms == 0 || confirmed_ms_ < 0) {
        return false;
    }
    if (now_ms - claimed_at_ms_ < settle_ms_) {
        return false;
    }
    return now_ms - confirmed_ms_ < ttl_ms_ - renew_ms_ / 2;
}

std::optional<LeaseRecord> Lease::release(std::int64_t last_tick_ms) {
    if (!held_by_me()) {
        return std::nullopt;
    }
    current_->expires_ms = 0;
    return LeaseRecord{instance_, current_->epoch, 0, last_tick_ms};
}

} // namespace greenrack::fleet
