#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/accounting/engine.hpp"
#include "daemon/core/device_reading.hpp"
#include "daemon/core/poll_histograms.hpp"
#include "daemon/core/site_model.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <spdlog/logger.h>
#include <string>

namespace greenrack::app {

// Drives the pure accounting engine from the event loop: feeds it the readings, computes each
// UTC-aligned tick `publish_delay` after it ends, publishes the site, rack and battery states
// and closed roll-ups, and persists the engine state atomically (at least every
// persist_interval, and on stop) so totals survive restarts without double counting.
class AccountingRunner {
public:
    using Publish = std::function<void(const std::string& topic, std::string payload, bool retain)>;
    // Receives InfluxDB line protocol for each tick and closed roll-up (may be empty: no lines).
    using EmitLines = std::function<void(std::string lines)>;

    // external_inputs: the ticks' inputs come from process_inputs() (a fleet aggregator) instead
    // of the readings; there is then no site model and no timer.
    AccountingRunner(const config::Config& config, boost::asio::io_context& io,
                     std::string topic_base, Publish publish, EmitLines emit_lines,
                     std::shared_ptr<spdlog::logger> logger, bool external_inputs = false);
    ~AccountingRunner();

    // Called after each tick is published (the alert engine evaluates there); hour_so_far is the
    // open clock-hour window, may be null.
    using TickObserver = std::function<void(const accounting::TickResult& tick,
                                            const accounting::Rollup* hour_so_far)>;
    void set_tick_observer(TickObserver observer) { observer_ = std::move(observer); }

    void start();
    void add(const core::DeviceReading& reading);
    // external_inputs only: computes and publishes one tick (ignored when it is not after the
    // last one), and persists the state when it is due.
    void process_inputs(const accounting::TickInputs& inputs);
    // The first tick this runner computes (after start()): the one after the tick in progress at
    // start-up, or the one after the last tick of the restored state.
    std::int64_t next_tick_ms() const { return next_tick_ms_; }
    void stop(); // persists the state

    // Live reload to `next` (which must stay alive from now on; same site, tick and battery
    // model, see reload_blocker()): the totals, battery state and open roll-ups carry over
    // (racks matched by id, new racks from zero), and the samples of the tick in progress are
    // kept for every source that did not change. Throws std::invalid_argument, with nothing
    // changed, when the state cannot be carried over.
    void reconfigure(const config::Config& next, std::string topic_base);

    // The last computed tick (for the console summary), or null before the first.
    const accounting::TickResult* last_tick() const;
    const accounting::Engine& engine() const { return engine_; }
    std::filesystem::path state_path() const;
    // Compute time of each tick (the site model's inputs and the engine, without publishing):
    // one histogram (index 0).
    const core::PollHistograms& tick_compute() const { return tick_compute_; }

private:
    void arm();
    void on_timer();
    void process(std::int64_t tick_start_ms);
    void publish_tick(accounting::TickResult tick);
    void persist();
    void restore();

    const config::Config* config_;
    boost::asio::io_context& io_;
    std::string topic_base_;
    Publish publish_;
    EmitLines emit_lines_;
    TickObserver observer_;
    std::shared_ptr<spdlog::logger> logger_;
    accounting::Engine engine_;
    std::optional<core::SiteModel> site_; // none with external inputs
    boost::asio::steady_timer timer_;
    std::int64_t tick_ms_;
    std::int64_t next_tick_ms_ = 0;
    std::optional<accounting::TickResult> last_;
    core::PollHistograms tick_compute_{1, core::default_compute_buckets()};
    std::chrono::steady_clock::time_point last_persist_{};
    bool started_ = false;
    bool external_inputs_ = false;
};

} // namespace greenrack::app
