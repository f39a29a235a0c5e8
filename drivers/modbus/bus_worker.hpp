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

// Where a device whose register map is found on the device itself (SunSpec) keeps the points
// of its `profile`: what to read, and which output value each point read delivers.
struct ReadMap {
    std::shared_ptr<const profiles::DeviceProfile> profile; // the points read, with addresses
    ReadPlan plan;
    // Per profile point: index into the device's output values (DeviceSettings::profile
    // points), or no_output (a helper such as a scale factor).
    std::vector<std::size_t> output;
    std::string description; // for the log: where the map came from, what it reads

    static constexpr std::size_t no_output = static_cast<std::size_t>(-1);
};

struct DeviceSettings;

// The outcome of finding a device's register map over its link.
struct Resolution {
    std::shared_ptr<const ReadMap> map; // null when it failed
    // Why it failed: a timeout or link error (tried again after the link recovers), or
    // ModbusErrc::no_register_map (the device answered, but not with a usable map).
    std::error_code error;
    std::string message; // what was found or what went wrong, for the log
};

// Runs on the worker thread with the open link (used by this thread only during the call).
using Resolver = std::function<Resolution(ModbusLink& link, const DeviceSettings& device)>;

struct DeviceSettings {
    std::string id;
    int unit_id = 1;
    // The device's points, in the order of PollResult::values.
    std::shared_ptr<const profiles::DeviceProfile> profile;
    ReadPlan plan; // reads `profile`'s points (empty when `resolve` is set)
    std::chrono::milliseconds response_timeout{500};
    std::chrono::milliseconds connect_delay{0};
    std::chrono::milliseconds request_gap{0};
    // Set for a device whose register map is found on the device: the worker calls it before
    // the device's first poll on every new connection (a firmware update may move registers),
    // and again after resolve_retry_min (doubling up to resolve_retry_max) while it fails. Until
    // it succeeds `map` is used when set (e.g. a map cached from an earlier run), otherwise the
    // poll fails with the resolution's error. Points of `profile` the map does not deliver read
    // as missing.
    Resolver resolve;
    std::shared_ptr<const ReadMap> map;
    std::chrono::milliseconds resolve_retry_min{10'000};
    std::chrono::milliseconds resolve_retry_max{600'000};
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
        // Devices with a resolver: the map in use, the connection it was checked on, and the
        // backoff after a failed resolution.
        std::shared_ptr<const ReadMap> map;
        std::uint64_t resolved_on = 0; // connections_ when the map was last confirmed; 0: never
        int resolve_failures = 0;
        std::chrono::steady_clock::time_point resolve_at{};
    };

    void poll(std::size_t index);
    // Devices with a resolver: finds or confirms the map when due. False when the device cannot
    // be polled now (result.error says why).
    bool resolve(std::size_t index, PollResult& result);
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
    std::uint64_t connections_ = 0; // links opened so far
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
