#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/device_reading.hpp"
#include "drivers/modbus/bus_worker.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <spdlog/logger.h>
#include <string>
#include <thread>
#include <vector>

namespace greenrack::app {

// Plans every device's reads, runs one BusWorker per bus, and schedules each device on its own
// poll interval with Asio timers on a scheduling thread of its own, so that work on the event
// loop (an accounting tick publishing every rack, a /metrics render) never delays a poll.
// Timers only *request* polls; the blocking Modbus exchanges run on the bus workers, and
// finished readings are posted back to the executor, where `on_reading` is called.
class Poller {
public:
    using ReadingHandler = std::function<void(core::DeviceReading&&)>;

    // `config` must stay alive until reconfigure() hands over to another one, or until the
    // poller is destroyed.
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

    // Live reload (after start()): switches to `next` (which must stay alive from now on).
    // * A device that keeps its id and poll interval keeps its timer (same phase) and its
    //   reading sequence: it is polled on the same schedule, without a gap.
    // * A bus whose settings and devices are unchanged keeps its worker and connection. Any
    //   other bus gets a new worker, started only once the old one has finished its poll in
    //   progress (on a helper thread, so the event loop never waits): the two never share a
    //   serial line. Its devices' polls queue meanwhile and run as soon as it starts.
    // * Removed devices stop; added ones start aligned to their interval.
    // Returns the number of buses whose worker was kept.
    std::size_t reconfigure(const config::Config& next);

    std::size_t device_count() const { return slots_.size(); }
    // Every device's read plan, for the log and --check-config --plan: a head line per device
    // ("device pv-1 (unit 1 on plant, profile pv_sunspec_103): 1 requests, 110 registers"),
    // then its requests (read_planner.hpp describe()).
    static std::vector<std::string> describe_plans(const config::Config& config);
    const std::vector<std::unique_ptr<modbus::BusWorker>>& workers() const { return workers_; }
    std::uint64_t late_polls() const { return late_polls_.load(); }

private:
    // Maps a worker's local device indexes to the config's device indexes. When the worker is
    // retired by a reload its indexes are moved to the new config (retired_device for a device
    // that is gone or changed); it is dead once the poller stops (results are then dropped).
    struct Route {
        std::vector<std::size_t> globals;
        bool alive = true;
    };
    static constexpr std::size_t retired_device = static_cast<std::size_t>(-1);
    struct Slot {
        std::string id;
        std::size_t device = 0;              // index in the current config's devices
        modbus::BusWorker* worker = nullptr; // the worker polling it now
        std::size_t local = 0;               // index in that worker's device list
        std::chrono::milliseconds interval{1000};
        boost::asio::steady_timer timer;
        std::chrono::steady_clock::time_point next{};
        std::uint64_t seq = 0;

        explicit Slot(boost::asio::any_io_executor executor) : timer(std::move(executor)) {}
    };
    // One bus as the config describes it: what a worker for it would be built from.
    struct BusPlan {
        modbus::BusSettings settings;
        std::vector<modbus::DeviceSettings> devices;
        std::vector<std::size_t> globals;
        std::vector<std::string> notes; // logged when a worker is made from the plan
    };

    static std::vector<BusPlan> plan_buses(const config::Config& config);
    std::unique_ptr<modbus::BusWorker> make_worker(BusPlan plan, std::shared_ptr<Route> route);
    void assign_slots(std::size_t worker);
    void schedule(const std::shared_ptr<Slot>& slot);
    void align(Slot& slot);
    void on_result(const Route& route, modbus::PollResult&& result);
    static void retire_route(Route& route, const config::Config& running,
                             const config::Config& next);

    const config::Config* config_;
    boost::asio::any_io_executor executor_;
    std::shared_ptr<spdlog::logger> logger_;
    ReadingHandler on_reading_;
    // The slots' timers run here (declared before slots_: it outlives their timers). A slot's
    // timer, `next` and `interval` are touched only on this thread once started; its `worker`
    // and `local` change under slots_mutex_ (reconfigure()), which the timer handler holds while
    // it requests a poll, so a retired worker is never asked for one.
    boost::asio::io_context timer_io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> timer_work_{
        timer_io_.get_executor()};
    std::thread timer_thread_;
    std::mutex slots_mutex_;
    std::vector<std::unique_ptr<modbus::BusWorker>> workers_;
    std::vector<std::shared_ptr<Route>> routes_; // parallel to workers_
    // Routes of workers retired by reloads: alive until the poller stops, so that a retired
    // worker's last result still finds its device (a few small vectors per reload).
    std::vector<std::shared_ptr<Route>> retired_routes_;
    std::vector<std::shared_ptr<Slot>> slots_; // index = config device index
    std::vector<std::thread> retiring_;        // workers being stopped after a reload
    std::atomic<bool> started_{false};
    std::atomic<std::uint64_t> late_polls_{0};
};

} // namespace greenrack::app
