#include "daemon/sinks/influx_sink.hpp"

#include "daemon/sinks/http_connection.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

namespace greenrack::sinks {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto reject_log_interval = std::chrono::seconds(30);
constexpr auto max_retry_after = std::chrono::hours(1);
constexpr std::size_t max_batch_bytes = 16U << 20U; // body of one write

// "http://host:port[/]" (validated by the config loader); IPv6 hosts in brackets. Lenient on
// purpose, unlike parse_http_url(): the sink refuses no URL the config loader accepted.
HttpEndpoint parse_url(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.starts_with(scheme)) {
        url.remove_prefix(scheme.size());
    }
    while (url.ends_with('/')) {
        url.remove_suffix(1);
    }
    HttpEndpoint endpoint{std::string(url), "8086", std::string(url), ""};
    const auto colon = url.rfind(':');
    if (colon != std::string_view::npos && url.find(']', colon) == std::string_view::npos) {
        endpoint.host = std::string(url.substr(0, colon));
        endpoint.port = std::string(url.substr(colon + 1));
    } else {
        endpoint.authority += ":8086";
    }
    if (endpoint.host.size() >= 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
        endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
    }
    return endpoint;
}

std::size_t count_occurrences(std::string_view text, std::string_view pattern) {
    std::size_t count = 0;
    for (auto at = text.find(pattern); at != std::string_view::npos;
         at = text.find(pattern, at + pattern.size())) {
        ++count;
    }
    return count;
}

// The N of "dropped=N" in a v1 partial-write message (0 when absent).
std::size_t dropped_count(std::string_view message) {
    constexpr std::string_view key = "dropped=";
    const auto at = message.rfind(key);
    if (at == std::string_view::npos) {
        return 0;
    }
    std::size_t value = 0;
    const char* first = message.data() + at + key.size();
    std::from_chars(first, message.data() + message.size(), value);
    return value;
}

// The server's explanation: the X-Influxdb-Error header, else "error" (v1) or "message" (v2)
// of a JSON body, else the body itself.
std::string error_text(std::string_view header, const std::string& body) {
    if (!header.empty()) {
        return std::string(header);
    }
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object()) {
        for (const char* key : {"error", "message"}) {
            if (auto it = json.find(key); it != json.end() && it->is_string()) {
                return it->get<std::string>();
            }
        }
    }
    std::string text = body.substr(0, 2000);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

// Retry-After in seconds (the HTTP-date form is not used by InfluxDB); 0 when absent.
milliseconds parse_retry_after(std::string_view value) {
    long long seconds = 0;
    auto result = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (result.ec != std::errc() || seconds <= 0) {
        return milliseconds(0);
    }
    return std::min<milliseconds>(std::chrono::seconds(seconds), max_retry_after);
}

} // namespace

enum class InfluxSink::Outcome : std::uint8_t {
    done,         // written or refused for good: the batch is finished
    resend,       // some lines were refused, the rest (left in the batch) must be sent again
    retry,        // transient failure: keep the batch, back off
    config_error, // keep the batch, back off to retry_max
};

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
            (byte >= '0' && byte <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4U];
            out += hex[byte & 0x0FU];
        }
    }
    return out;
}

std::string influx_write_target(const config::InfluxConfig& config, Precision precision,
                                bool with_password) {
    std::string target;
    if (config.api == config::InfluxApi::v2) {
        target = "/api/v2/write?org=" + url_encode(config.org) +
                 "&bucket=" + url_encode(config.bucket) + "&precision=";
        target += v2_precision(precision);
        return target;
    }
    target = "/write?db=" + url_encode(config.database);
    if (!config.retention_policy.empty()) {
        target += "&rp=" + url_encode(config.retention_policy);
    }
    target += "&precision=";
    target += v1_precision(precision);
    if (!config.username.empty()) {
        target += "&u=" + url_encode(config.username);
        target += "&p=" + (with_password ? url_encode(config.password) : std::string("***"));
    }
    return target;
}

InfluxSink::InfluxSink(const config::InfluxConfig& config, std::unique_ptr<Spool> spool,
                       std::shared_ptr<spdlog::logger> logger, Precision precision)
    : config_(config), logger_(std::move(logger)), precision_(precision),
      target_(influx_write_target(config, precision, true)),
      safe_target_(influx_write_target(config, precision, false)), spool_(std::move(spool)),
      connection_(std::make_unique<HttpConnection>(parse_url(config.url))) {
    config_.batch_lines = std::max<std::size_t>(config_.batch_lines, 1);
    if (spool_->unread() > 0) {
        // Lines from before a restart (or an earlier outage) go out at once.
        waiting_ = true;
        first_queued_ = Clock::now() - config_.flush_interval;
    }
    update_gauge();
}

InfluxSink::~InfluxSink() {
    stop(milliseconds(0));
}

void InfluxSink::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable() || stopping_) {
        return;
    }
    logger_->info("InfluxDB: writing to {}{} (batch {} lines, flush {} ms, spool {})", config_.url,
                  safe_target_, config_.batch_lines, config_.flush_interval.count(),
                  spool_->options().directory.string());
    thread_ = std::thread([this] { run(); });
}

void InfluxSink::enqueue(std::string_view lines) {
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    while (start < lines.size()) {
        std::size_t end = lines.find('\n', start);
        if (end == std::string_view::npos) {
            end = lines.size();
        }
        if (end > start) {
            pieces.push_back(lines.substr(start, end - start));
        }
        start = end + 1;
    }
    if (pieces.empty()) {
        return;
    }
    {
        // Appended under the lock: the writer must never see the new lines before it sees when
        // the first of them was queued (it would send them at once, ignoring flush_interval).
        std::lock_guard lock(mutex_);
        spool_->append(pieces, std::chrono::system_clock::now());
        if (!waiting_) {
            waiting_ = true;
            first_queued_ = Clock::now();
        }
    }
    update_gauge();
    wake_.notify_all();
}

void InfluxSink::stop(milliseconds drain_timeout) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        drain_deadline_ = Clock::now() + drain_timeout;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        {
            // A request begun before stop() may outlast the drain deadline: cut it there.
            std::unique_lock lock(mutex_);
            if (!wake_.wait_until(lock, drain_deadline_, [this] { return finished_; })) {
                connection_->cancel();
            }
        }
        thread_.join();
    }
    spool_->sync(std::chrono::system_clock::now());
    update_gauge();
    if (const std::uint64_t left = spool_->stats().pending; left > 0) {
        logger_->info("InfluxDB: {} lines not written yet stay in the spool ({}) for the next "
                      "start",
                      left, spool_->options().directory.string());
    }
}

void InfluxSink::update_gauge() {
    const SpoolStats& spool = spool_->stats();
    stats_.queue_lines = spool.pending.load();
    stats_.dropped_lines = spool.dropped.load() + spool.write_errors.load();
}

bool InfluxSink::wait_backoff(milliseconds delay) {
    std::unique_lock lock(mutex_);
    const bool was_stopping = stopping_;
    auto until = Clock::now() + delay;
    if (stopping_) {
        until = std::min(until, drain_deadline_);
    }
    // Wakes early only when stop() is called (to drain at once).
    wake_.wait_until(lock, until, [&] { return stopping_ != was_stopping; });
    return !stopping_ || Clock::now() < drain_deadline_;
}

bool InfluxSink::wait_for_batch() {
    std::unique_lock lock(mutex_);
    while (true) {
        const auto now = Clock::now();
        const std::uint64_t unread = spool_->unread();
        if (unread == 0) {
            waiting_ = false;
        }
        if (stopping_ && (unread == 0 || now >= drain_deadline_)) {
            return false;
        }
        if (unread > 0 && (stopping_ || unread >= config_.batch_lines ||
                           now >= first_queued_ + config_.flush_interval)) {
            return true;
        }
        if (unread == 0) {
            wake_.wait(lock);
        } else {
            wake_.wait_until(lock, first_queued_ + config_.flush_interval);
        }
    }
}

void InfluxSink::run() {
    try {
        milliseconds backoff = config_.retry_min;
        std::vector<std::string> batch;
        std::uint64_t batch_last_seq = 0;
        while (true) {
            if (batch.empty()) {
                if (!wait_for_batch()) {
                    break;
                }
                auto entries = spool_->read(config_.batch_lines, max_batch_bytes);
                if (entries.empty()) {
                    continue;
                }
                batch_last_seq = entries.back().seq;
                batch.reserve(entries.size());
                for (auto& entry : entries) {
                    batch.push_back(std::move(entry.payload));
                }
                std::lock_guard lock(mutex_);
                // What is left waits no longer than this batch did.
                first_queued_ = Clock::now() - config_.flush_interval;
            }
            milliseconds retry_after{0};
            const Outcome outcome = send(batch, retry_after);
            if (outcome == Outcome::done) {
                batch.clear();
                spool_->ack(batch_last_seq);
                update_gauge();
                backoff = config_.retry_min;
                continue;
            }
            if (outcome == Outcome::resend) {
                continue;
            }
            const milliseconds delay = outcome == Outcome::config_error
                                           ? config_.retry_max
                                           : std::max(backoff, retry_after);
            backoff = std::min(backoff * 2, config_.retry_max);
            if (!wait_backoff(delay)) {
                break;
            }
        }
    } catch (const std::exception& e) {
        logger_->critical("InfluxDB writer stopped: {}", e.what());
    } catch (...) {
        logger_->critical("InfluxDB writer stopped: unknown exception");
    }
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
    }
    wake_.notify_all();
}

InfluxSink::Outcome InfluxSink::send(std::vector<std::string>& batch, milliseconds& retry_after) {
    std::string body;
    std::size_t size = 0;
    for (const auto& line : batch) {
        size += line.size() + 1;
    }
    body.reserve(size);
    for (const auto& line : batch) {
        body += line;
        body += '\n';
    }
    auto deadline = Clock::now() + config_.timeout;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            deadline = std::min(deadline, drain_deadline_);
        }
    }
    std::vector<HttpField> fields{{"Content-Type", "text/plain; charset=utf-8"}};
    std::string authorization;
    if (config_.api == config::InfluxApi::v2) {
        authorization = "Token " + config_.token;
        fields.push_back({"Authorization", authorization});
    }
    // A 400 echoes the refused lines: allow for a body larger than the request.
    const std::uint64_t body_limit =
        std::max<std::uint64_t>(8U << 20U, 2 * body.size() + (64U << 10U));
    const HttpResponse response =
        connection_->post(target_, std::move(body), fields, body_limit, deadline);
    const std::size_t lines = batch.size();

    auto failed = [&](const std::string& reason, bool config_error) {
        ++stats_.failed_requests;
        const bool was_healthy = stats_.healthy.exchange(false);
        if (config_error) {
            logger_->error("InfluxDB: {} (POST {}{}): check [influxdb] in the config; {} lines "
                           "kept, retrying in {} ms",
                           reason, config_.url, safe_target_, stats_.queue_lines.load(),
                           config_.retry_max.count());
        } else if (was_healthy) {
            logger_->warn("InfluxDB: write failed: {}; {} lines kept, retrying with backoff",
                          reason, stats_.queue_lines.load());
        } else {
            logger_->debug("InfluxDB: write failed again: {}", reason);
        }
    };

    if (response.error) {
        failed(response.error.message(), false);
        return Outcome::retry;
    }
    const unsigned status = response.status;
    std::string message; // the server's error text (non-2xx)
    if (status / 100 != 2) {
        message = error_text(response.field("X-Influxdb-Error"), response.body);
    }
    const std::string reason =
        "HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message);
    if (status / 100 == 2) {
        stats_.written_lines += lines;
        if (!stats_.healthy.exchange(true)) {
            logger_->info("InfluxDB: writes succeed again");
        }
        return Outcome::done;
    }
    const bool missing_rp = message.find("retention policy not found") != std::string::npos;
    if (status == 401 || status == 403 || status == 404 || (status == 500 && missing_rp) ||
        status / 100 == 3 || status / 100 == 1) {
        failed(reason, true);
        return Outcome::config_error;
    }
    if (status >= 500 || status == 429) {
        retry_after = parse_retry_after(response.field("Retry-After"));
        failed(reason, false);
        return Outcome::retry;
    }

    // Any other 4xx: the server refused (some of) these lines; never send them again.
    std::size_t rejected = lines;
    Outcome outcome = Outcome::done;
    if (config_.api == config::InfluxApi::v1) {
        if (message.find("partial write") != std::string::npos) {
            rejected = std::min(lines, count_occurrences(message, "unable to parse '") +
                                           dropped_count(message));
        }
    } else {
        // v2 refuses the whole batch and names the bad line(s): drop those, resend the rest.
        std::vector<std::string> keep;
        for (auto& line : batch) {
            if (message.find("'" + line + "'") == std::string::npos) {
                keep.push_back(std::move(line));
            }
        }
        if (!keep.empty() && keep.size() < lines) {
            rejected = lines - keep.size();
            batch = std::move(keep);
            outcome = Outcome::resend;
        }
    }
    stats_.rejected_lines += rejected;
    if (outcome == Outcome::done) {
        stats_.written_lines += lines - rejected;
        batch.clear();
    }
    stats_.healthy = true;
    const auto now = Clock::now();
    if (last_reject_log_ == Clock::time_point{} || now - last_reject_log_ >= reject_log_interval) {
        logger_->warn("InfluxDB refused {} of {} lines (not retried{}): {}", rejected, lines,
                      rejects_not_logged_ > 0 ? ", " + std::to_string(rejects_not_logged_) +
                                                    " more refused lines since the last message"
                                              : std::string(),
                      reason);
        last_reject_log_ = now;
        rejects_not_logged_ = 0;
    } else {
        rejects_not_logged_ += rejected;
        logger_->debug("InfluxDB refused {} of {} lines: {}", rejected, lines, reason);
    }
    return outcome;
}

} // namespace greenrack::sinks
