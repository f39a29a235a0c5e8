#include "daemon/app/shard_publisher.hpp"

#include "daemon/core/accounting/time_base.hpp"
#include "daemon/fleet/partial_codec.hpp"

#include <chrono>

namespace greenrack::app {

namespace {

constexpr std::int64_t max_catch_up_ticks = 12;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

ShardPublisher::ShardPublisher(const config::Config& config, boost::asio::io_context& io,
                               std::string topic_base, Publish publish, fleet::FleetStats& stats,
                               std::shared_ptr<spdlog::logger> logger)
    : config_(&config), io_(io), topic_(topic_base + "/fleet/part/" + config.fleet.shard),
      publish_(std::move(publish)), stats_(stats), logger_(std::move(logger)), site_(config),
      timer_(io), tick_ms_(config.accounting.settings.tick.count()) {
    for (const auto& rack : config.racks) {
        rack_ids_.push_back(rack.id);
    }
}

ShardPublisher::~ShardPublisher() {
    timer_.cancel();
}

void ShardPublisher::start() {
    // The tick in progress started before us and is partly uncovered: begin with the next one.
    next_tick_ms_ = accounting::tick_floor(now_ms(), tick_ms_) + tick_ms_;
    logger_->info("fleet: shard {} publishes its part of every {} ms tick on {} (first tick {})",
                  config_->fleet.shard, tick_ms_, topic_, next_tick_ms_);
    arm();
}

void ShardPublisher::stop() {
    timer_.cancel();
}

void ShardPublisher::arm() {
    const std::int64_t due = next_tick_ms_ + tick_ms_ + config_->accounting.publish_delay.count();
    timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, due - now_ms())));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            on_timer();
        }
    });
}

void ShardPublisher::on_timer() {
    const std::int64_t now = now_ms();
    const std::int64_t delay = config_->accounting.publish_delay.count();
    const std::int64_t ready = (now - delay - next_tick_ms_) / tick_ms_;
    if (ready > max_catch_up_ticks) {
        logger_->warn("fleet: {} ticks behind (clock jump or stalled loop); skipping to the latest",
                      ready);
        next_tick_ms_ += (ready - 1) * tick_ms_;
    }
    while (next_tick_ms_ + tick_ms_ + delay <= now) {
        fleet::PartMessage message;
        message.site = config_->site.id;
        message.shard = config_->fleet.shard;
        message.seq = static_cast<std::uint64_t>(next_tick_ms_ / tick_ms_);
        message.tick_ms = tick_ms_;
        message.sent_ms = now;
        const auto compute_start = std::chrono::steady_clock::now();
        message.part = site_.partial_inputs(next_tick_ms_);
        tick_compute_.observe(0, std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - compute_start));
        publish_(topic_, fleet::encode_part(message, rack_ids_), false);
        ++stats_.parts_published;
        stats_.last_tick_ms = next_tick_ms_;
        next_tick_ms_ += tick_ms_;
    }
    site_.forget_before(next_tick_ms_);
    arm();
}

} // namespace greenrack::app
