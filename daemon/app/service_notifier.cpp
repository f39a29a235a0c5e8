#include "daemon/app/service_notifier.hpp"

#include <cstdint>
#include <cstdlib>
#include <systemd/sd-daemon.h>

namespace greenrack::app {

ServiceNotifier::ServiceNotifier(boost::asio::any_io_executor executor, Status status,
                                 std::shared_ptr<spdlog::logger> logger,
                                 std::chrono::milliseconds status_interval)
    : timer_(std::move(executor)), status_(std::move(status)), logger_(std::move(logger)),
      status_interval_(status_interval), enabled_(std::getenv("NOTIFY_SOCKET") != nullptr) {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        period_ = std::chrono::microseconds(usec / 2);
    }
}

void ServiceNotifier::ready() {
    send("READY=1");
    if (period_.count() > 0) {
        logger_->info("systemd watchdog: pinging every {} ms", period_.count() / 1000);
    }
    schedule();
}

void ServiceNotifier::reloading(const std::string& what) {
    send("RELOADING=1", "reloading " + what);
}

void ServiceNotifier::reloaded(const std::string& outcome) {
    note_ = outcome;
    send("READY=1");
}

void ServiceNotifier::stopping() {
    stopped_ = true;
    timer_.cancel();
    send("STOPPING=1");
}

void ServiceNotifier::schedule() {
    if (stopped_ || !enabled_) { // not started by systemd: no wake-ups for nobody
        return;
    }
    if (period_.count() > 0) {
        timer_.expires_after(period_);
    } else {
        timer_.expires_after(status_interval_);
    }
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) {
            return;
        }
        send(period_.count() > 0 ? "WATCHDOG=1" : "");
        schedule();
    });
}

void ServiceNotifier::send(const std::string& state, const std::string& status) {
    if (!enabled_) {
        return;
    }
    std::string message = state;
    if (!message.empty()) {
        message += '\n';
    }
    if (!status.empty()) {
        message += "STATUS=" + status;
    } else {
        message += "STATUS=" + status_() + (note_.empty() ? "" : "; " + note_);
    }
    const int rc = sd_notify(0, message.c_str());
    if (rc < 0 && !warned_) {
        warned_ = true; // once: a socket that went away is not worth a line per ping
        logger_->warn("sd_notify failed ({}): systemd does not hear from greenrackd", -rc);
    }
}

} // namespace greenrack::app
