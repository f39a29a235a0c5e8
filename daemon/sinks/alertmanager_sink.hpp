#pragma once

#include "daemon/config/config.hpp"
#include "daemon/sinks/alertmanager_json.hpp"
#include "daemon/sinks/alertmanager_stats.hpp"
#include "daemon/sinks/http_connection.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <spdlog/logger.h>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::sinks {

// Sends alerts to Prometheus Alertmanager (API v2, POST <url>/api/v2/alerts, a JSON array)
// over HTTP/1.1 (Boost.Beast, keep-alive), one thread per configured URL, so the caller never
// waits for the network.
// * fire() puts an alert in the firing set (keyed by alert_key(), i.e. its labels; a second
//   fire() of the same labels replaces the annotations and keeps the earliest startsAt, and is
//   a no-op when nothing changed, so it may be called on every evaluation). A new or changed
//   alert is POSTed within ~100 ms (fire() wakes the senders, which wait briefly to batch a
//   burst). Every alert of the firing set is POSTed again every resend_interval (one timer per
//   URL) without endsAt, so Alertmanager keeps it active; resend_interval must stay well
//   below Alertmanager's resolve_timeout (5 min by default), after which it resolves alerts
//   nobody re-sends (also what happens when greenrackd stops for good).
// * resolve() removes the alert from the firing set and queues a resolve (endsAt set) for
//   every URL, POSTed until delivered. Each URL keeps at most max_pending_resolves of them;
//   beyond that the oldest is dropped and counted in resolves_dropped (Alertmanager then ends
//   the alert itself after resolve_timeout).
// * One POST per URL per cycle carries everything due for that URL: the pending resolves
//   first, then the new/changed firing alerts (or the whole firing set when its resend is due).
// * Each URL has its own delivery state: a member of an HA pair that is down does not hold up
//   the other. 2xx: delivered. Connection errors, timeouts, 5xx and 429: nothing is lost, the
//   URL is retried after a doubling backoff (retry_min .. retry_max), and the first successful
//   POST after a failure carries the whole firing set and every pending resolve (a restarted
//   Alertmanager has forgotten its alerts).
// * Other answers (4xx, 3xx): the request is refused for good: logged as an error with the
//   server's message, its alerts counted in alerts_rejected and not retried (firing alerts are
//   still re-sent with the next resend). Alertmanager stores the valid alerts of a refused
//   array anyway and refuses only the invalid ones (e.g. bad label names, endsAt before
//   startsAt; resolve() moves endsAt up to startsAt to avoid the latter).
// Posting the same alert twice does no harm (Alertmanager merges by label set).
class AlertmanagerSink {
public:
    // Throws std::invalid_argument for a URL it cannot use (https, credentials, no URL...).
    AlertmanagerSink(const config::AlertmanagerConfig& config,
                     std::shared_ptr<spdlog::logger> logger);
    ~AlertmanagerSink();
    AlertmanagerSink(const AlertmanagerSink&) = delete;
    AlertmanagerSink& operator=(const AlertmanagerSink&) = delete;

    // Starts one sender thread per URL (alerts fired before are kept).
    void start();
    // Thread-safe, never blocks on the network. starts_at_ms 0 means now; ends_at_ms is
    // ignored; an empty generator_url becomes the configured one. An alert without any
    // non-empty label is refused (logged, counted in alerts_rejected).
    void fire(AmAlert alert);
    // Thread-safe, never blocks on the network. Labels identify the alert; ends_at_ms unset
    // means now; starts_at_ms 0, empty annotations and generator_url are taken from the firing
    // alert when there is one. An alert that was not firing (e.g. before a restart) is
    // resolved all the same.
    void resolve(AmAlert alert);
    // Sends what is pending (resolves, new alerts) for up to `drain_timeout`, then stops the
    // threads; what is left is lost (logged). Firing alerts are not resolved: Alertmanager
    // ends them after its resolve_timeout. Safe to call more than once.
    void stop(std::chrono::milliseconds drain_timeout);

    const AlertmanagerStats& stats() const { return stats_; }

private:
    struct Target;
    struct Batch;
    struct Firing {
        AmAlert alert;
        std::uint64_t version = 0;
    };

    void run(Target& target);
    bool wait_for_work(Target& target, std::unique_lock<std::mutex>& lock);
    Batch take_batch(Target& target);
    void mark_work(Target& target, std::chrono::steady_clock::time_point now);

    config::AlertmanagerConfig config_;
    std::shared_ptr<spdlog::logger> logger_;
    AlertmanagerStats stats_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, Firing> firing_; // by alert_key()
    std::uint64_t next_version_ = 0;
    std::uint64_t next_resolve_ = 0;
    bool started_ = false;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point drain_deadline_{};
    std::vector<std::unique_ptr<Target>> targets_; // one per URL
};

// Where to POST for one configured URL (pure; exposed for tests).
// host, port ("80" when the URL has none), authority (Host header) and path_prefix.
struct AlertmanagerEndpoint : HttpEndpoint {
    std::string target; // request target: [/prefix]/api/v2/alerts
};
// "http://host[:port][/prefix][/]". Throws std::invalid_argument naming the URL for https
// (TLS is not supported yet), other schemes, credentials, query strings, bad ports.
AlertmanagerEndpoint parse_alertmanager_url(std::string_view url);

} // namespace greenrack::sinks
