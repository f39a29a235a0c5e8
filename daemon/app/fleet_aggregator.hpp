#pragma once

#include "daemon/app/accounting_runner.hpp"
#include "daemon/config/config.hpp"
#include "daemon/fleet/fleet_stats.hpp"
#include "daemon/fleet/lease.hpp"
#include "daemon/fleet/mqtt_subscriber.hpp"
#include "daemon/fleet/tick_assembler.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <spdlog/logger.h>
#include <string>

namespace greenrack::app {

// The fleet aggregator (docs/fleet.md): subscribes to the parts every shard of the site
// publishes, assembles each tick once all shards sent theirs or its deadline passed (the silent
// shards' racks and sources missing, never green), and runs the site's accounting and alerts on
// it through `runner` exactly as a single daemon does. Late parts become correction records on
// <prefix>/<site>/site/correction; duplicates are dropped by sequence number.
//
// Several aggregators may run: each computes every tick, and only the holder of the lease on
// the retained <prefix>/<site>/fleet/lease publishes (fleet/lease.hpp). What a standby computes
// is held back; when it takes over it publishes the held ticks the previous holder had not
// published (it follows the lease records and the site state topic), so a takeover neither
// repeats a tick nor leaves one out.
class FleetAggregator {
public:
    using Publish = std::function<void(const std::string& topic, std::string payload, bool retain)>;

    // `config` is the aggregator's view (config::role_view, with fleet.site) and must outlive
    // this; `runner` must have been built with external inputs.
    FleetAggregator(const config::Config& config, boost::asio::io_context& io,
                    std::string topic_base, AccountingRunner& runner, Publish publish,
                    fleet::FleetStats& stats, std::shared_ptr<spdlog::logger> logger,
                    std::shared_ptr<spdlog::logger> mqtt_logger);
    ~FleetAggregator();

    void start(); // after runner.start()
    void stop();  // hands the lease over when holding it

    // A publication of the tick being computed (MQTT states, alerts, InfluxDB lines): done now
    // when this instance is the active aggregator, else held for a takeover.
    void gated(std::function<void()> action);
    bool active() const { return active_; }
    // Called on the event loop whenever this instance becomes active (true) or standby (false).
    void on_active_change(std::function<void(bool active)> handler) {
        active_handler_ = std::move(handler);
    }

private:
    void on_part(const fleet::InboundMessage& message);
    void on_lease(const fleet::InboundMessage& message);
    void on_site_state(const fleet::InboundMessage& message);
    void arm();
    void on_timer();
    void assemble_ready(std::int64_t now_ms);
    void compute(fleet::AssembledTick tick);
    void correct(const fleet::Correction& correction);
    void update_lease(std::int64_t now_ms);
    fleet::ShardPartStats& shard_stats(const std::string& shard);

    struct Held {
        std::int64_t tick_ms;
        std::function<void()> action;
    };

    const config::Config* config_;
    boost::asio::io_context& io_;
    std::string topic_base_;
    AccountingRunner& runner_;
    Publish publish_;
    fleet::FleetStats& stats_;
    std::shared_ptr<spdlog::logger> logger_;
    std::vector<std::string> rack_ids_;
    fleet::TickAssembler assembler_;
    fleet::Lease lease_;
    fleet::MqttSubscriber subscriber_;
    boost::asio::steady_timer timer_;
    std::int64_t tick_ms_;
    bool active_ = false;
    std::function<void(bool)> active_handler_;
    bool started_ = false;
    std::int64_t current_tick_ms_ = -1;        // the tick whose publications run now
    std::int64_t last_published_tick_ms_ = -1; // by this or another aggregator
    std::deque<Held> held_;
    // The engine before each tick computed with shards missing (for corrections).
    std::map<std::int64_t, accounting::Engine> snapshots_;
    std::map<std::string, bool> shard_missing_; // for logging outages once
};

} // namespace greenrack::app
