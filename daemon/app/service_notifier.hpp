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
// * reloading() / reloaded(): RELOADING=1, then READY=1 (systemd's Type=notify reload).
// * stopping(): STOPPING=1.
// Without NOTIFY_SOCKET (not started by systemd) every call is a no-op and no timer runs.
class ServiceNotifier {
public:
    using Status = std::function<std::string()>; // one line, e.g. "polling 14 devices: ..."

    ServiceNotifier(boost::asio::any_io_executor executor, Status status,
                    std::shared_ptr<spdlog::logger> logger,
                    std::chrono::milliseconds status_interval = std::chrono::seconds(10));

    void ready();
    // Around a live reload (SIGHUP): RELOADING=1 with STATUS=reloading <what>, then READY=1
    // whose STATUS= carries the outcome ("reloaded: ..." or "reload rejected: ...") from then
    // on, until the next reload.
    void reloading(const std::string& what);
    void reloaded(const std::string& outcome);
    void stopping();
    // The ping period (half of WatchdogSec), zero when no watchdog is asked for.
    std::chrono::microseconds watchdog_period() const { return period_; }

private:
    void schedule();
    // Sends `state` with STATUS=`status`, or the live status line when `status` is empty.
    void send(const std::string& state, const std::string& status = {});

    boost::asio::steady_timer timer_;
    Status status_;
    std::shared_ptr<spdlog::logger> logger_;
    std::chrono::microseconds period_{0};
    std::chrono::milliseconds status_interval_;
    bool enabled_; // NOTIFY_SOCKET is set
    bool stopped_ = false;
    bool warned_ = false;
    std::string note_; // outcome of the last reload
};

} // namespace greenrack::app
