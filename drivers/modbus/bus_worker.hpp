#pragma once

#include "drivers/modbus/point.hpp"
#include "drivers/modbus/read_planner.hpp"
#include "drivers/modbus/transport.hpp"
#include "drivers/profiles/profile.hpp"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <spdlog/logger.h>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace greenrack::modbus {

struct BusSettings {
    std::string id;
    Endpoint endpoint;
    std::chrono::milliseconds connect_timeout{2'000};
    std::chrono::milliseconds reconnect_min{1'000};
    std::chrono::milliseconds reconnect_max{60'000};
    int max_consecutive_failures = 3;
    // A request answered with an exception is skipped for this long (doubling up to the max)
    // before it is tried again; the device's other requests keep being read meanwhile.
    std::chrono::milliseconds quarantine_min{30'000};
    std::chrono::milliseconds quarantine_max{600'000};
};

struct DeviceSettings {
    std::string id;
    int unit_id = 1;
    std::shared_ptr<const profiles::DeviceProfile> profile;
    ReadPlan plan;
    std::chrono::milliseconds response_timeout{500};
    std::chrono::milliseconds connect_delay{0};
    std::chrono::milliseconds request_gap{0};
};

// Outcome of polling one device once.
struct PollResult {
    std::size_t device = 0;                             // index into the worker's device list
    std::chrono::system_clock::time_point completed_at; // UTC, taken when the poll completed
    std::chrono::microseconds duration{0};
    std::vector<PointValue> values; // one per profile point, in profile order
    std::uint32_t requests_ok = 0;
    std::uint32_t requests_failed = 0;
    std::uint32_t requests_quarantined = 0; // skipped because quarantined
    std::error_code error;                  // first error of this poll, if any

    bool answered() const { return requests_ok > 0; }
};

// Counters of one bus, readable from any thread.
struct BusStats {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> requests_failed{0};
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<std::uint64_t> exceptions{0};
    std::atomic<std::uint64_t> link_errors{0};
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::uint64_t> connect_failures{0};
    std::atomic<std::uint64_t> overruns{0}; // poll requested while the previous one still ran
};

// One worker thread per TCP connection or serial line. It owns the ModbusLink (libmodbus
// contexts are neither thread-safe nor non-blocking), so a slow or dead device only ever
// delays devices on the same link, never the event loop or other buses.
//
// request_poll() is called from the event loop; the poll runs on the worker thread and the
// result is handed to `on_result` on the worker thread (the caller posts it back to its own
// executor).
class BusWorker {
public:
    using ResultHandler = std::function<void(PollResult&&)>;

    BusWorker(BusSettings settings, std::vector<DeviceSettings> devices,
              std::shared_ptr<spdlog::logger> logger, ResultHandler on_result);
    ~BusWorker();
    BusWorker(const BusWorker&) = delete;
    BusWorker& operator=(const BusWorker&) = delete;

    void start();
    void stop(); // finishes the poll in progress, then joins the thread

    // Queues one poll of device `index`. Returns false (and counts an overrun) when the previous
    // poll of that device has not finished yet: polls never pile up behind a slow device.
    bool request_poll(std::size_t index);

    const BusSettings& settings() const { return settings_; }
    const std::vector<DeviceSettings>& devices() const { return devices_; }
    const BusStats& stats() const { return stats_; }

private:
    struct RequestState {
        int failures = 0; // consecutive exception replies
        std::chrono::steady_clock::time_point retry_at{};
    };
    struct DeviceState {
        std::vector<RequestState> requests;
        bool online = true; // for logging state changes only
    };

    void poll(std::size_t index);
    bool ensure_open();
    void note_link_failure(const std::error_code& ec);
    void pause(std::chrono::milliseconds duration);

    BusSettings settings_;
    std::vector<DeviceSettings> devices_;
    std::shared_ptr<spdlog::logger> logger_;
    ResultHandler on_result_;
    BusStats stats_;

    // Touched only on the worker thread.
    ModbusLink link_;
    std::vector<DeviceState> device_states_;
    int consecutive_failures_ = 0;
    std::chrono::milliseconds backoff_{0};
    std::chrono::steady_clock::time_point next_connect_{};
    bool fresh_connection_ = false;
    bool first_request_on_link_ = true;
    // For logging state changes only, never one line per poll or per retry: the first failure
    // of a kind is a warning, repeats are debug lines on each doubling of their count.
    unsigned failed_connects_ = 0;     // connection attempts failed in a row
    unsigned resets_since_answer_ = 0; // links closed after failures since a request succeeded

    std::unique_ptr<std::atomic<bool>[]> busy_;
    std::atomic<bool> stopping_{false};
    boost::asio::io_context context_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

} // namespace greenrack::modbus
