#include "daemon/sinks/alertmanager_sink.hpp"

#include "daemon/sinks/http_connection.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <utility>

namespace greenrack::sinks {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// fire()/resolve() wake the senders, which wait this long to put a burst in one POST.
constexpr milliseconds coalesce_delay{100};

std::int64_t now_unix_ms() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::invalid_argument bad_url(std::string_view url, const std::string& why) {
    return std::invalid_argument("Alertmanager URL \"" + std::string(url) + "\": " + why);
}

// The server's explanation: Alertmanager answers a JSON string ("start time must be before end
// time") or {"code":..,"message":".."}; anything else is shown as it is (shortened).
std::string error_text(const std::string& body) {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_string()) {
        return json.get<std::string>();
    }
    if (json.is_object()) {
        if (auto it = json.find("message"); it != json.end() && it->is_string()) {
            return it->get<std::string>();
        }
    }
    std::string text = body.substr(0, 2000);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

} // namespace

AlertmanagerEndpoint parse_alertmanager_url(std::string_view url) {
    auto parsed = parse_http_url(url, "80");
    if (const auto* why = std::get_if<std::string>(&parsed)) {
        throw bad_url(url, *why);
    }
    AlertmanagerEndpoint endpoint{std::move(std::get<HttpEndpoint>(parsed)), {}};
    endpoint.target = endpoint.path_prefix + "/api/v2/alerts";
    return endpoint;
}

struct AlertmanagerSink::Target {
    struct Resolve {
        std::uint64_t sequence = 0;
        AmAlert alert;
    };

    Target(std::string url_, AlertmanagerEndpoint endpoint, milliseconds retry_min)
        : url(std::move(url_)), request_target(endpoint.target), connection(std::move(endpoint)),
          backoff(retry_min) {}

    const std::string url;
    const std::string request_target; // [/prefix]/api/v2/alerts
    HttpConnection connection;        // used by the sender thread only (and cancel())
    std::thread thread;

    // Guarded by the sink's mutex_:
    std::map<std::string, std::uint64_t> dirty; // key -> version fired but not delivered here
    std::deque<Resolve> resolves;               // oldest first
    Clock::time_point work_since{};             // when dirty/resolves became non-empty
    Clock::time_point next_full{};              // resend of the whole firing set due
    Clock::time_point retry_at{};               // no request before (backoff)
    milliseconds backoff;
    bool healthy = true;
    bool overflowing = false; // a resolve drop was logged; reset when delivered
    bool finished = false;    // the sender thread has ended
};

struct AlertmanagerSink::Batch {
    std::vector<AmAlert> alerts;
    std::vector<std::pair<std::string, std::uint64_t>> fired; // dirty entries included
    std::size_t resolves = 0;
    std::uint64_t last_resolve = 0; // sequence of the last resolve included
    bool full = false;              // the whole firing set (resend)
    Clock::time_point started{};
};

AlertmanagerSink::AlertmanagerSink(const config::AlertmanagerConfig& config,
                                   std::shared_ptr<spdlog::logger> logger)
    : config_(config), logger_(std::move(logger)) {
    config_.max_pending_resolves = std::max<std::size_t>(config_.max_pending_resolves, 1);
    config_.retry_min = std::max(config_.retry_min, milliseconds(1));
    config_.retry_max = std::max(config_.retry_max, config_.retry_min);
    config_.resend_interval = std::max(config_.resend_interval, milliseconds(1));
    if (config_.urls.empty()) {
        throw std::invalid_argument("Alertmanager: no URL configured");
    }
    for (const auto& url : config_.urls) {
        targets_.push_back(
            std::make_unique<Target>(url, parse_alertmanager_url(url), config_.retry_min));
    }
}

AlertmanagerSink::~AlertmanagerSink() {
    stop(milliseconds(0));
}

void AlertmanagerSink::start() {
    std::lock_guard lock(mutex_);
    if (started_ || stopping_) {
        return;
    }
    started_ = true;
    for (auto& target : targets_) {
        logger_->info("Alertmanager: sending alerts to {} (resend every {} ms)", target->url,
                      config_.resend_interval.count());
        target->thread = std::thread([this, &target = *target] { run(target); });
    }
}

void AlertmanagerSink::mark_work(Target& target, Clock::time_point now) {
    if (target.dirty.empty() && target.resolves.empty()) {
        target.work_since = now;
    }
}

void AlertmanagerSink::fire(AmAlert alert) {
    if (alert.starts_at_ms == 0) {
        alert.starts_at_ms = now_unix_ms();
    }
    alert.ends_at_ms.reset();
    if (alert.generator_url.empty()) {
        alert.generator_url = config_.generator_url;
    }
    std::string key = alert_key(alert);
    if (key.empty()) {
        ++stats_.alerts_rejected;
        logger_->error("Alertmanager: an alert without labels cannot be sent (annotations: {})",
                       encode_alertmanager_alerts({alert}));
        return;
    }
    const auto now = Clock::now();
    {
        std::lock_guard lock(mutex_);
        auto [it, inserted] = firing_.try_emplace(std::move(key));
        if (!inserted) {
            const AmAlert& old = it->second.alert;
            alert.starts_at_ms = std::min(alert.starts_at_ms, old.starts_at_ms);
            if (alert.starts_at_ms == old.starts_at_ms && alert.annotations == old.annotations &&
                alert.generator_url == old.generator_url && alert.labels == old.labels) {
                return; // unchanged: the resend keeps it active
            }
        }
        it->second = Firing{std::move(alert), ++next_version_};
        for (auto& target : targets_) {
            mark_work(*target, now);
            target->dirty[it->first] = it->second.version;
        }
        stats_.firing = firing_.size();
    }
    wake_.notify_all();
}

void AlertmanagerSink::resolve(AmAlert alert) {
    if (!alert.ends_at_ms) {
        alert.ends_at_ms = now_unix_ms();
    }
    const std::string key = alert_key(alert);
    if (key.empty()) {
        ++stats_.alerts_rejected;
        logger_->error("Alertmanager: an alert without labels cannot be resolved");
        return;
    }
    const auto now = Clock::now();
    std::vector<std::string> overflowing;
    {
        std::lock_guard lock(mutex_);
        if (auto it = firing_.find(key); it != firing_.end()) {
            const AmAlert& old = it->second.alert;
            if (alert.starts_at_ms == 0) {
                alert.starts_at_ms = old.starts_at_ms;
            }
            if (alert.annotations.empty()) {
                alert.annotations = old.annotations;
            }
            if (alert.generator_url.empty()) {
                alert.generator_url = old.generator_url;
            }
            firing_.erase(it);
            stats_.firing = firing_.size();
        }
        if (alert.generator_url.empty()) {
            alert.generator_url = config_.generator_url;
        }
        if (alert.starts_at_ms == 0) {
            alert.starts_at_ms = *alert.ends_at_ms;
        }
        // Alertmanager refuses an alert that ends before it starts.
        alert.ends_at_ms = std::max(*alert.ends_at_ms, alert.starts_at_ms);
        const std::uint64_t sequence = ++next_resolve_;
        for (auto& target : targets_) {
            mark_work(*target, now);
            target->dirty.erase(key);
            target->resolves.push_back({sequence, alert});
            while (target->resolves.size() > config_.max_pending_resolves) {
                target->resolves.pop_front();
                ++stats_.resolves_dropped;
                if (!target->overflowing) {
                    target->overflowing = true;
                    overflowing.push_back(target->url);
                }
            }
        }
    }
    wake_.notify_all();
    for (const auto& url : overflowing) {
        logger_->warn("Alertmanager {}: {} resolves wait for delivery, dropping the oldest", url,
                      config_.max_pending_resolves);
    }
}

void AlertmanagerSink::stop(milliseconds drain_timeout) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        drain_deadline_ = Clock::now() + drain_timeout;
    }
    wake_.notify_all();
    {
        // A request begun before stop() may outlast the drain deadline: cut it there.
        std::unique_lock lock(mutex_);
        auto all_finished = [this] {
            return std::all_of(targets_.begin(), targets_.end(), [](const auto& target) {
                return target->finished || !target->thread.joinable();
            });
        };
        if (!wake_.wait_until(lock, drain_deadline_, all_finished)) {
            for (auto& target : targets_) {
                target->connection.cancel();
            }
        }
    }
    for (auto& target : targets_) {
        if (target->thread.joinable()) {
            target->thread.join();
        }
    }
}

bool AlertmanagerSink::wait_for_work(Target& target, std::unique_lock<std::mutex>& lock) {
    while (true) {
        const auto now = Clock::now();
        const bool urgent = !target.dirty.empty() || !target.resolves.empty();
        if (stopping_ && (!urgent || now >= drain_deadline_)) {
            return false;
        }
        auto wake_at = Clock::time_point::max();
        if (now >= target.retry_at) {
            if (urgent && (stopping_ || now >= target.work_since + coalesce_delay)) {
                return true;
            }
            if (!firing_.empty() && now >= target.next_full) {
                return true;
            }
            if (urgent) {
                wake_at = target.work_since + coalesce_delay;
            }
            if (!firing_.empty()) {
                wake_at = std::min(wake_at, target.next_full);
            }
        } else if (urgent || !firing_.empty()) {
            wake_at = target.retry_at;
        }
        if (stopping_) {
            wake_at = std::min(wake_at, drain_deadline_);
        }
        if (wake_at == Clock::time_point::max()) {
            wake_.wait(lock);
        } else {
            wake_.wait_until(lock, wake_at);
        }
    }
}

AlertmanagerSink::Batch AlertmanagerSink::take_batch(Target& target) {
    Batch batch;
    batch.started = Clock::now();
    batch.full = !firing_.empty() && batch.started >= target.next_full;
    // Resolves first: a resolve and a new firing of the same labels in one array must reach
    // Alertmanager in that order.
    for (const auto& resolve : target.resolves) {
        batch.alerts.push_back(resolve.alert);
        batch.last_resolve = resolve.sequence;
    }
    batch.resolves = target.resolves.size();
    if (batch.full) {
        for (const auto& [key, firing] : firing_) {
            batch.alerts.push_back(firing.alert);
        }
        batch.fired.assign(target.dirty.begin(), target.dirty.end());
    } else {
        for (const auto& [key, version] : target.dirty) {
            if (auto it = firing_.find(key); it != firing_.end()) {
                batch.alerts.push_back(it->second.alert);
            }
            batch.fired.emplace_back(key, version);
        }
    }
    return batch;
}

void AlertmanagerSink::run(Target& target) {
    enum class Outcome : std::uint8_t { delivered, retry, rejected };
    try {
        while (true) {
            Batch batch;
            {
                std::unique_lock lock(mutex_);
                if (!wait_for_work(target, lock)) {
                    break;
                }
                batch = take_batch(target);
            }
            Outcome outcome = Outcome::delivered;
            HttpResponse result;
            std::string message; // the server's error text (non-2xx)
            if (!batch.alerts.empty()) {
                auto deadline = batch.started + config_.timeout;
                {
                    std::lock_guard lock(mutex_);
                    if (stopping_) {
                        deadline = std::min(deadline, drain_deadline_);
                    }
                }
                constexpr HttpField content_type{"Content-Type", "application/json"};
                result = target.connection.post(target.request_target,
                                                encode_alertmanager_alerts(batch.alerts),
                                                {&content_type, 1}, 1U << 20U, deadline);
                const unsigned status = result.status;
                if (!result.error && status / 100 != 2) {
                    message = error_text(result.body);
                }
                if (result.error || status / 100 == 5 || status == 429) {
                    outcome = Outcome::retry;
                } else if (status / 100 != 2) {
                    outcome = Outcome::rejected;
                }
            }
            const std::size_t count = batch.alerts.size();
            const std::string reason = result.error ? result.error.message()
                                                    : "HTTP " + std::to_string(result.status) +
                                                          (message.empty() ? "" : ": " + message);

            bool was_healthy = true;
            milliseconds delay{0};
            bool overflow_delivered = false;
            {
                std::lock_guard lock(mutex_);
                was_healthy = target.healthy;
                const auto now = Clock::now();
                if (outcome == Outcome::retry) {
                    delay = target.backoff;
                    target.retry_at = now + delay;
                    target.backoff = std::min(target.backoff * 2, config_.retry_max);
                    target.next_full = Clock::time_point{}; // everything again once back
                    target.healthy = false;
                } else {
                    for (const auto& [key, version] : batch.fired) {
                        if (auto it = target.dirty.find(key);
                            it != target.dirty.end() && it->second == version) {
                            target.dirty.erase(it);
                        }
                    }
                    while (!target.resolves.empty() &&
                           target.resolves.front().sequence <= batch.last_resolve) {
                        target.resolves.pop_front();
                    }
                    if (batch.full) {
                        target.next_full = batch.started + config_.resend_interval;
                    }
                    target.retry_at = Clock::time_point{};
                    target.backoff = config_.retry_min;
                    target.healthy = true;
                    if (target.overflowing && target.resolves.empty()) {
                        target.overflowing = false;
                        overflow_delivered = true;
                    }
                }
            }
            if (count == 0) {
                continue;
            }
            switch (outcome) {
            case Outcome::delivered:
                ++stats_.posts_ok;
                stats_.alerts_sent += count;
                if (!was_healthy) {
                    logger_->info("Alertmanager {}: delivering again ({} alerts sent)", target.url,
                                  count);
                }
                logger_->debug("Alertmanager {}: sent {} alerts ({} resolved{})", target.url, count,
                               batch.resolves, batch.full ? ", full resend" : "");
                break;
            case Outcome::retry:
                ++stats_.posts_failed;
                if (was_healthy) {
                    logger_->warn("Alertmanager {}: POST failed: {}; {} alerts kept, retrying "
                                  "with backoff",
                                  target.url, reason, count);
                } else {
                    logger_->debug("Alertmanager {}: POST failed again: {}; next try in {} ms",
                                   target.url, reason, delay.count());
                }
                break;
            case Outcome::rejected:
                ++stats_.posts_failed;
                stats_.alerts_rejected += count;
                logger_->error("Alertmanager {}: refused {} alerts (not retried): {}", target.url,
                               count, reason);
                break;
            }
            if (overflow_delivered) {
                logger_->info("Alertmanager {}: the pending resolves are delivered again",
                              target.url);
            }
        }
    } catch (const std::exception& e) {
        logger_->critical("Alertmanager {}: sender stopped: {}", target.url, e.what());
    } catch (...) {
        logger_->critical("Alertmanager {}: sender stopped: unknown exception", target.url);
    }
    std::size_t dirty = 0;
    std::size_t resolves = 0;
    {
        std::lock_guard lock(mutex_);
        target.finished = true;
        dirty = target.dirty.size();
        resolves = target.resolves.size();
    }
    wake_.notify_all();
    if (dirty + resolves > 0) {
        logger_->warn("Alertmanager {}: stopped with {} firing alerts and {} resolves not sent",
                      target.url, dirty, resolves);
    }
}

} // namespace greenrack::sinks
