#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/device_reading.hpp"
#include "daemon/core/poll_histograms.hpp"
#include "daemon/core/site_model.hpp"
#include "daemon/fleet/fleet_stats.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <spdlog/logger.h>
#include <string>
#include <vector>

namespace greenrack::app {

// The accounting side of a fleet shard (docs/fleet.md): turns the readings of the shard's own
// devices into its part of every UTC-aligned tick and publishes it `publish_delay` after the
// tick ends on <prefix>/<site>/fleet/part/<shard> (QoS 1 through the MQTT spool, so a broker
// outage delays the parts but loses none). The shard computes no green figures itself.
class ShardPublisher {
public:
    using Publish = std::function<void(const std::string& topic, std::string payload, bool retain)>;

    // `config` is the shard's view (config::role_view) and must outlive the publisher.
    ShardPublisher(const config::Config& config, boost::asio::io_context& io,
                   std::string topic_base, Publish publish, fleet::FleetStats& stats,
                   std::shared_ptr<spdlog::logger> logger);
    ~ShardPublisher();

    void start();
    void add(const core::DeviceReading& reading) { site_.add(reading); }
    void stop();
    // Compute time of each tick's part (the site model's sums over the shard's series): one
    // histogram (index 0), as AccountingRunner::tick_compute().
    const core::PollHistograms& tick_compute() const { return tick_compute_; }

private:
    void arm();
    void on_timer();

    const config::Config* config_;
    boost::asio::io_context& io_;
    std::string topic_;
    Publish publish_;
    fleet::FleetStats& stats_;
    std::shared_ptr<spdlog::logger> logger_;
    core::SiteModel site_;
    std::vector<std::string> rack_ids_;
    boost::asio::steady_timer timer_;
    std::int64_t tick_ms_;
    std::int64_t next_tick_ms_ = 0;
    core::PollHistograms tick_compute_{1, core::default_compute_buckets()};
};

} // namespace greenrack::app
