#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/device_reading.hpp"
#include "drivers/modbus/bus_worker.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <spdlog/logger.h>
#include <vector>

namespace greenrack::app {

// Plans every device's reads, runs one BusWorker per bus, and schedules each device on its own
// poll interval with Asio timers on the event loop. Timers only *request* polls; the blocking
// Modbus exchanges run on the bus workers, and finished readings are posted back to the
// executor, where `on_reading` is called.
class Poller {
public:
    using ReadingHandler = std::function<void(core::DeviceReading&&)>;

    Poller(const config::Config& config, boost::asio::any_io_executor executor,
           std::shared_ptr<spdlog::logger> logger, ReadingHandler on_reading);
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    // Starts the workers and the per-device timers (first polls aligned to the interval).
    void start();
    // Starts the workers and polls every device exactly once (for --once).
    void poll_each_once();
    // Stops the timers and joins the workers (the poll in progress on each bus finishes).
    void stop();

    std::size_t device_count() const { return slots_.size(); }
    // Human description of every device's read plan, for the start-up log.
    std::vector<std::string> describe_plans() const;
    const std::vector<std::unique_ptr<modbus::BusWorker>>& workers() const { return workers_; }
    std::uint64_t late_polls() const { return late_polls_; }

private:
    struct Slot {
        std::size_t worker = 0;
        std::size_t local = 0; // index in that worker's device list
        std::chrono::milliseconds interval{1000};
        std::unique_ptr<boost::asio::steady_timer> timer;
        std::chrono::steady_clock::time_point next{};
        std::uint64_t seq = 0;
    };

    void schedule(std::size_t device);
    void on_result(std::size_t worker, modbus::PollResult&& result);

    const config::Config& config_;
    boost::asio::any_io_executor executor_;
    std::shared_ptr<spdlog::logger> logger_;
    ReadingHandler on_reading_;
    std::vector<std::unique_ptr<modbus::BusWorker>> workers_;
    std::vector<std::vector<std::size_t>> global_index_; // [worker][local] -> device index
    std::vector<Slot> slots_;
    std::shared_ptr<bool> alive_;
    bool started_ = false;
    std::uint64_t late_polls_ = 0;
};

} // namespace greenrack::app
