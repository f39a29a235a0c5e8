#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <spdlog/logger.h>
#include <string>

namespace greenrack::app {

// Tells systemd (sd_notify, Type=notify) how the service is, from the event loop itself: a
// loop that is stuck stops the pings and the watchdog restarts the service.
// * ready(): READY=1 with the first STATUS=.
// * With WatchdogSec= set (WATCHDOG_USEC in the environment), WATCHDOG=1 every half period,
//   each with a fresh STATUS= line; without it, STATUS= alone every `status_interval`.
// * stopping(): STOPPING=1.
// Without NOTIFY_SOCKET (not started by systemd) every call is a no-op and no timer runs.
class ServiceNotifier {
public:
    using Status = std::function<std::string()>; // one line, e.g. "polling 14 devices: ..."

    ServiceNotifier(boost::asio::any_io_executor executor, Status status,
                    std::shared_ptr<spdlog::logger> logger,
                    std::chrono::milliseconds status_interval = std::chrono::seconds(10));

    void ready();
    void stopping();
    // The ping period (half of WatchdogSec), zero when no watchdog is asked for.
    std::chrono::microseconds watchdog_period() const { return period_; }

private:
    void schedule();
    void send(const std::string& state);

    boost::asio::steady_timer timer_;
    Status status_;
    std::shared_ptr<spdlog::logger> logger_;
    std::chrono::microseconds period_{0};
    std::chrono::milliseconds status_interval_;
    bool enabled_; // NOTIFY_SOCKET is set
    bool stopped_ = false;
    bool warned_ = false;
};

} // namespace greenrack::app
