#include "daemon/app/fleet_aggregator.hpp"

#include "daemon/config/fleet_view.hpp"
#include "daemon/core/accounting/time_base.hpp"
#include "daemon/core/site_model.hpp"
#include "daemon/fleet/partial_codec.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace greenrack::app {

namespace {

constexpr std::int64_t max_catch_up_ticks = 12;
constexpr std::size_t max_snapshots = 64;
constexpr std::chrono::milliseconds timer_period{200};

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string joined(const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) {
        out += (out.empty() ? "" : ", ") + id;
    }
    return out;
}

accounting::SourceLayout site_layout(const config::Config& site) {
    return core::SiteModel(site).layout();
}

std::vector<accounting::PartialInputs> shard_shapes(const config::Config& site) {
    std::vector<accounting::PartialInputs> shapes;
    for (const auto& shard : site.fleet.shards) {
        const config::Config view = config::shard_view(site, shard);
        shapes.push_back(core::SiteModel(view).partial_inputs(0));
    }
    return shapes;
}

fleet::TickAssembler::Settings assembler_settings(const config::Config& config) {
    fleet::TickAssembler::Settings settings;
    settings.tick_ms = config.accounting.settings.tick.count();
    settings.publish_delay_ms = config.accounting.publish_delay.count();
    settings.deadline_ms = config.fleet.deadline.count();
    settings.correction_window_ms = config.fleet.correction_window.count();
    return settings;
}

nlohmann::json tick_summary(const accounting::TickResult& tick) {
    auto optional = [](const std::optional<double>& value) {
        return value ? nlohmann::json(*value) : nlohmann::json();
    };
    return nlohmann::json{{"valid", tick.valid},
                          {"quality", accounting::to_string(tick.quality)},
                          {"load_wh", tick.load.wh},
                          {"it_wh", tick.it_wh},
                          {"green_wh", tick.green_wh},
                          {"nongreen_wh", tick.nongreen_wh},
                          {"coverage", optional(tick.coverage)},
                          {"carbon_location_g", tick.carbon_location_g}};
}

} // namespace

FleetAggregator::FleetAggregator(const config::Config& config, boost::asio::io_context& io,
                                 std::string topic_base, AccountingRunner& runner, Publish publish,
                                 fleet::FleetStats& stats, std::shared_ptr<spdlog::logger> logger,
                                 std::shared_ptr<spdlog::logger> mqtt_logger)
    : config_(&config), io_(io), topic_base_(std::move(topic_base)), runner_(runner),
      publish_(std::move(publish)), stats_(stats), logger_(std::move(logger)),
      assembler_(assembler_settings(config), site_layout(*config.fleet.site), config.fleet.shards,
                 shard_shapes(*config.fleet.site)),
      lease_(config.fleet.instance, config.fleet.lease_ttl.count(),
             config.fleet.lease_renew.count(),
             std::min<std::int64_t>(1'000, config.fleet.lease_renew.count())),
      subscriber_(config.mqtt, config.mqtt.client_id + "-in", true, io.get_executor(),
                  std::move(mqtt_logger)),
      timer_(io), tick_ms_(config.accounting.settings.tick.count()) {
    for (const auto& rack : config.racks) {
        rack_ids_.push_back(rack.id);
    }
    for (const auto& shard : config.fleet.shards) {
        stats_.shards.push_back(fleet::ShardPartStats{shard});
    }
}

FleetAggregator::~FleetAggregator() {
    timer_.cancel();
}

fleet::ShardPartStats& FleetAggregator::shard_stats(const std::string& shard) {
    for (auto& entry : stats_.shards) {
        if (entry.shard == shard) {
            return entry;
        }
    }
    stats_.shards.push_back(fleet::ShardPartStats{shard});
    return stats_.shards.back();
}

void FleetAggregator::start() {
    assembler_.start_at(runner_.next_tick_ms());
    subscriber_.subscribe(topic_base_ + "/fleet/part/+", 1,
                          [this](const fleet::InboundMessage& m) { on_part(m); });
    subscriber_.subscribe(topic_base_ + "/fleet/lease", 1,
                          [this](const fleet::InboundMessage& m) { on_lease(m); });
    subscriber_.subscribe(topic_base_ + "/site/state", 0,
                          [this](const fleet::InboundMessage& m) { on_site_state(m); });
    subscriber_.start();
    started_ = true;
    logger_->info("fleet: aggregator {} merges shards {} from {}/fleet/part/+ (deadline {} ms "
                  "after a tick is due; first tick {})",
                  config_->fleet.instance, joined(config_->fleet.shards), topic_base_,
                  config_->fleet.deadline.count(), assembler_.next_tick_ms());
    arm();
}

void FleetAggregator::stop() {
    if (!started_) {
        return;
    }
    started_ = false;
    timer_.cancel();
    if (auto release = lease_.release(last_published_tick_ms_)) {
        if (subscriber_.publish_now(topic_base_ + "/fleet/lease", fleet::encode_lease(*release), 1,
                                    true)) {
            logger_->info("fleet: lease released (last tick {})", last_published_tick_ms_);
        }
    }
    active_ = false;
    stats_.active = false;
    if (active_handler_) {
        active_handler_(false);
    }
    subscriber_.stop(std::chrono::milliseconds(1000));
}

void FleetAggregator::gated(std::function<void()> action) {
    if (active_) {
        action();
        last_published_tick_ms_ = std::max(last_published_tick_ms_, current_tick_ms_);
        return;
    }
    held_.push_back(Held{current_tick_ms_, std::move(action)});
}

void FleetAggregator::arm() {
    timer_.expires_after(timer_period);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            on_timer();
        }
    });
}

void FleetAggregator::on_timer() {
    const std::int64_t now = now_ms();
    update_lease(now);
    assemble_ready(now);
    arm();
}

void FleetAggregator::on_part(const fleet::InboundMessage& message) {
    const std::int64_t now = now_ms();
    const std::string shard = message.topic.substr(message.topic.rfind('/') + 1);
    auto decoded = fleet::decode_part(message.payload, rack_ids_);
    if (!decoded.message || decoded.message->site != config_->site.id ||
        decoded.message->shard != shard ||
        decoded.message->tick_ms != config_->accounting.settings.tick.count()) {
        ++shard_stats(shard).malformed;
        logger_->warn("fleet: part on {} refused: {}", message.topic,
                      decoded.message ? "site, shard or tick does not match this site's"
                                      : decoded.error);
        return;
    }
    auto& counters = shard_stats(shard);
    counters.last_tick_ms = std::max(counters.last_tick_ms, decoded.message->part.start_ms);
    fleet::Correction correction;
    const fleet::Offer result =
        assembler_.offer(shard, std::move(decoded.message->part), now, &correction);
    switch (result) {
    case fleet::Offer::accepted:
        ++counters.accepted;
        assemble_ready(now); // the tick may be complete now
        break;
    case fleet::Offer::duplicate:
        ++counters.duplicate;
        break;
    case fleet::Offer::correction:
        ++counters.correction;
        correct(correction);
        break;
    case fleet::Offer::too_late:
        ++counters.too_late;
        logger_->debug("fleet: part of tick {} from {} arrived too late", correction.start_ms,
                       shard);
        break;
    case fleet::Offer::too_early:
        ++counters.too_early;
        logger_->warn("fleet: part from {} is for a tick in the future (seq {}): clocks apart?",
                      shard, decoded.message->seq);
        break;
    case fleet::Offer::unknown_shard:
        ++counters.malformed;
        logger_->warn("fleet: part from {}, which is not a shard of site {} (known: {})", shard,
                      config_->site.id, joined(config_->fleet.shards));
        break;
    }
}

void FleetAggregator::assemble_ready(std::int64_t now) {
    const std::int64_t behind = (now - assembler_.next_deadline_ms()) / tick_ms_;
    if (behind > max_catch_up_ticks) {
        logger_->warn("fleet: {} ticks behind (clock jump or stalled loop); skipping to the "
                      "latest",
                      behind);
        assembler_.skip_to(assembler_.next_tick_ms() + (behind - 1) * tick_ms_);
    }
    for (auto& tick : assembler_.take_ready(now)) {
        compute(std::move(tick));
    }
}

void FleetAggregator::compute(fleet::AssembledTick tick) {
    const std::int64_t start = tick.inputs.start_ms;
    for (const auto& shard : config_->fleet.shards) {
        const bool missing =
            std::find(tick.missing.begin(), tick.missing.end(), shard) != tick.missing.end();
        bool& was_missing = shard_missing_[shard];
        if (missing && !was_missing) {
            logger_->warn("fleet: no part from shard {} for tick {} by its deadline: its racks and "
                          "sources are missing until it reports again",
                          shard, start);
        } else if (!missing && was_missing) {
            logger_->info("fleet: shard {} reports again (tick {})", shard, start);
        }
        was_missing = missing;
        if (missing) {
            ++shard_stats(shard).missing_ticks;
        }
    }
    if (tick.missing.empty()) {
        ++stats_.ticks_complete;
    } else {
        ++stats_.ticks_partial;
        if (runner_.engine().last_tick_ms() < start) {
            snapshots_.insert_or_assign(start, runner_.engine());
        }
        while (snapshots_.size() > max_snapshots) {
            snapshots_.erase(snapshots_.begin());
        }
    }
    const std::int64_t horizon = start - config_->fleet.correction_window.count() - tick_ms_;
    snapshots_.erase(snapshots_.begin(), snapshots_.lower_bound(horizon));

    current_tick_ms_ = start;
    runner_.process_inputs(tick.inputs);
    // Held publications beyond what a takeover could need are dropped.
    const std::int64_t keep_ms = config_->fleet.lease_ttl.count() +
                                 config_->accounting.publish_delay.count() +
                                 config_->fleet.deadline.count() + 3 * tick_ms_;
    while (!held_.empty() && held_.front().tick_ms < start - keep_ms) {
        held_.pop_front();
    }
}

void FleetAggregator::correct(const fleet::Correction& correction) {
    auto snapshot = snapshots_.find(correction.start_ms);
    ++stats_.corrections;
    nlohmann::json record{
        {"tick_start", correction.start_ms}, {"shard", correction.shard}, {"received", now_ms()}};
    if (snapshot == snapshots_.end()) {
        logger_->warn("fleet: late part of tick {} from {}: no engine state kept for it, the "
                      "correction carries no figures",
                      correction.start_ms, correction.shard);
    } else {
        accounting::Engine before_engine = snapshot->second;
        accounting::Engine after_engine = snapshot->second;
        const accounting::TickResult before = before_engine.process(correction.before);
        const accounting::TickResult after = after_engine.process(correction.after);
        record["before"] = tick_summary(before);
        record["after"] = tick_summary(after);
        nlohmann::json racks = nlohmann::json::array();
        for (std::size_t r = 0; r < before.racks.size() && r < after.racks.size(); ++r) {
            const auto& b = before.racks[r];
            const auto& a = after.racks[r];
            if (b.valid == a.valid && b.it.wh == a.it.wh && b.nongreen_wh == a.nongreen_wh &&
                b.it.quality == a.it.quality) {
                continue;
            }
            racks.push_back(
                {{"id", a.id},
                 {"it_wh", {b.it.wh, a.it.wh}},
                 {"quality",
                  {accounting::to_string(b.it.quality), accounting::to_string(a.it.quality)}},
                 {"valid", {b.valid, a.valid}},
                 {"green_wh", {b.green_wh, a.green_wh}},
                 {"nongreen_wh", {b.nongreen_wh, a.nongreen_wh}}});
        }
        record["racks"] = std::move(racks);
    }
    logger_->info("fleet: late part of tick {} from {}: correction published (the totals keep "
                  "the tick as computed)",
                  correction.start_ms, correction.shard);
    if (active_) {
        publish_(topic_base_ + "/site/correction", record.dump(), false);
    }
}

void FleetAggregator::on_lease(const fleet::InboundMessage& message) {
    const std::int64_t now = now_ms();
    lease_.observe(fleet::decode_lease(message.payload), now);
    last_published_tick_ms_ = std::max(last_published_tick_ms_, lease_.last_published_tick_ms());
    update_lease(now);
}

void FleetAggregator::on_site_state(const fleet::InboundMessage& message) {
    try {
        const auto state = nlohmann::json::parse(message.payload);
        last_published_tick_ms_ =
            std::max(last_published_tick_ms_, state.value("tick_start", std::int64_t{-1}));
    } catch (const std::exception&) {
        // Not ours to judge; the lease records still tell the last tick.
    }
}

void FleetAggregator::update_lease(std::int64_t now) {
    if (!started_) {
        return;
    }
    if (subscriber_.connected()) {
        if (auto record = lease_.poll(now, last_published_tick_ms_)) {
            subscriber_.publish_now(topic_base_ + "/fleet/lease", fleet::encode_lease(*record), 1,
                                    true);
        }
    }
    const bool active = lease_.active(now);
    if (lease_.current()) {
        stats_.lease_epoch = lease_.current()->epoch;
    }
    if (active == active_) {
        return;
    }
    active_ = active;
    stats_.active = active;
    if (active_handler_) {
        active_handler_(active);
    }
    if (!active) {
        logger_->warn("fleet: {} is standby now (lease held by {})", config_->fleet.instance,
                      lease_.current() ? lease_.current()->holder : std::string("nobody"));
        return;
    }
    ++stats_.takeovers;
    // Publish what this instance computed and nobody published yet, in order.
    const std::int64_t after = last_published_tick_ms_;
    std::size_t released = 0;
    const std::int64_t tick_now = current_tick_ms_;
    while (!held_.empty()) {
        Held held = std::move(held_.front());
        held_.pop_front();
        if (held.tick_ms > after) {
            current_tick_ms_ = held.tick_ms;
            held.action();
            last_published_tick_ms_ = std::max(last_published_tick_ms_, held.tick_ms);
            ++released;
        }
    }
    current_tick_ms_ = tick_now;
    logger_->info("fleet: {} is the active aggregator (lease epoch {}); published {} held "
                  "publications after tick {}",
                  config_->fleet.instance, stats_.lease_epoch, released, after);
}

} // namespace greenrack::app
