#include "daemon/sinks/alertmanager_sink.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
// g++ 12 with -fsanitize reports a false -Wmaybe-uninitialized in Beast 1.74's response parser
// (boost::optional content length).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#pragma GCC diagnostic pop
#include <cctype>
#include <charconv>
#include <deque>
#include <exception>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <utility>

namespace greenrack::sinks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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

struct HttpResult {
    beast::error_code error; // no response
    unsigned status = 0;
    std::string message; // the server's error text (non-2xx)
};

// One keep-alive HTTP/1.1 connection, used only from its sender thread. Operations are Asio
// async operations run to completion on a private io_context, so every step has a deadline
// (beast::tcp_stream timeouts) and cancel() can cut a request from another thread.
class HttpConnection {
public:
    explicit HttpConnection(AlertmanagerEndpoint endpoint)
        : endpoint_(std::move(endpoint)), resolver_(io_), stream_(io_) {}

    HttpResult post(const std::string& body, Clock::time_point deadline) {
        const bool reused = connected_;
        HttpResult result = attempt(body, deadline);
        // A kept-alive connection the server closed meanwhile fails before any answer: try
        // once more on a fresh connection.
        if (result.error && reused && !answered_ && Clock::now() < deadline) {
            result = attempt(body, deadline);
        }
        return result;
    }

    // Thread-safe: aborts the operation in progress (or the next one).
    void cancel() {
        asio::post(io_, [this] { stream_.cancel(); });
    }

private:
    template <typename Initiate> beast::error_code run(Initiate&& initiate) {
        beast::error_code result = asio::error::operation_aborted;
        initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
        io_.restart();
        io_.run();
        return result;
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        stream_.close();
        buffer_.clear();
        connected_ = false;
    }

    beast::error_code connect(Clock::time_point deadline) {
        asio::ip::tcp::resolver::results_type endpoints;
        beast::error_code ec = asio::error::operation_aborted;
        resolver_.async_resolve(endpoint_.host, endpoint_.port,
                                [&](beast::error_code e, asio::ip::tcp::resolver::results_type r) {
                                    ec = e;
                                    endpoints = std::move(r);
                                });
        io_.restart();
        io_.run();
        if (ec) {
            return ec;
        }
        stream_.expires_at(deadline);
        ec = run([&](auto handler) { stream_.async_connect(endpoints, std::move(handler)); });
        if (ec) {
            close();
            return ec;
        }
        beast::error_code ignored;
        stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
        connected_ = true;
        return {};
    }

    HttpResult attempt(const std::string& body, Clock::time_point deadline) {
        HttpResult result;
        answered_ = false;
        if (!connected_) {
            if (auto ec = connect(deadline)) {
                result.error = ec;
                return result;
            }
        }
        http::request<http::string_body> request{http::verb::post, endpoint_.target, 11};
        request.set(http::field::host, endpoint_.authority);
        request.set(http::field::user_agent, "greenrackd");
        request.set(http::field::content_type, "application/json");
        request.keep_alive(true);
        request.body() = body;
        request.prepare_payload();

        stream_.expires_at(deadline);
        result.error =
            run([&](auto handler) { http::async_write(stream_, request, std::move(handler)); });
        if (result.error) {
            close();
            return result;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(1U << 20U);
        stream_.expires_at(deadline);
        result.error = run(
            [&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
        answered_ = parser.got_some();
        if (result.error) {
            close();
            return result;
        }
        const auto& response = parser.get();
        result.status = response.result_int();
        if (result.status / 100 != 2) {
            result.message = error_text(response.body());
        }
        if (!response.keep_alive()) {
            close();
        }
        return result;
    }

    AlertmanagerEndpoint endpoint_;
    asio::io_context io_;
    asio::ip::tcp::resolver resolver_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bool connected_ = false;
    bool answered_ = false;
};

bool valid_port(std::string_view port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return !port.empty() && ec == std::errc() && end == port.data() + port.size() && value >= 1 &&
           value <= 65535;
}

} // namespace

AlertmanagerEndpoint parse_alertmanager_url(std::string_view url) {
    auto lower_starts_with = [&](std::string_view prefix) {
        if (url.size() < prefix.size()) {
            return false;
        }
        return std::equal(prefix.begin(), prefix.end(), url.begin(), [](char a, char b) {
            return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
        });
    };
    if (lower_starts_with("https://")) {
        throw bad_url(url, "https is not supported yet (TLS is a later issue): use http://, or a "
                           "local TLS-terminating proxy");
    }
    if (!lower_starts_with("http://")) {
        throw bad_url(url, "must start with http://");
    }
    for (char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7F) {
            throw bad_url(url, "spaces, control and non-ASCII characters are not allowed");
        }
    }
    std::string_view rest = url.substr(7);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        throw bad_url(url, "a query string or fragment is not allowed");
    }
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    std::string_view path =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos) {
        throw bad_url(url, "credentials in the URL are not supported");
    }
    AlertmanagerEndpoint endpoint;
    endpoint.authority = std::string(authority);
    std::string_view host = authority;
    std::string_view port = "80";
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            throw bad_url(url, "unterminated IPv6 address");
        }
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) {
                throw bad_url(url, "unexpected text after the IPv6 address");
            }
            port = after.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) {
        throw bad_url(url, "no host");
    }
    if (!valid_port(port)) {
        throw bad_url(url, "the port must be a number from 1 to 65535");
    }
    while (path.ends_with('/')) {
        path.remove_suffix(1);
    }
    endpoint.host = std::string(host);
    endpoint.port = std::string(port);
    endpoint.target = std::string(path) + "/api/v2/alerts";
    return endpoint;
}

struct AlertmanagerSink::Target {
    struct Resolve {
        std::uint64_t sequence = 0;
        AmAlert alert;
    };

    Target(std::string url_, AlertmanagerEndpoint endpoint, milliseconds retry_min)
        : url(std::move(url_)), connection(std::move(endpoint)), backoff(retry_min) {}

    const std::string url;
    HttpConnection connection; // used by the sender thread only (and cancel())
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
            HttpResult result;
            if (!batch.alerts.empty()) {
                auto deadline = batch.started + config_.timeout;
                {
                    std::lock_guard lock(mutex_);
                    if (stopping_) {
                        deadline = std::min(deadline, drain_deadline_);
                    }
                }
                result = target.connection.post(encode_alertmanager_alerts(batch.alerts), deadline);
                const unsigned status = result.status;
                if (result.error || status / 100 == 5 || status == 429) {
                    outcome = Outcome::retry;
                } else if (status / 100 != 2) {
                    outcome = Outcome::rejected;
                }
            }
            const std::size_t count = batch.alerts.size();
            const std::string reason =
                result.error ? result.error.message()
                             : "HTTP " + std::to_string(result.status) +
                                   (result.message.empty() ? "" : ": " + result.message);

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
