#pragma once

#include "daemon/config/config.hpp"
#include "daemon/sinks/influx_stats.hpp"
#include "daemon/sinks/line_protocol.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <spdlog/logger.h>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace greenrack::sinks {

class HttpConnection;

// Writes line protocol to InfluxDB over HTTP/1.1 (Boost.Beast, keep-alive) from its own
// thread, so the caller never waits for the network.
// * enqueue() only appends to a bounded queue (max_queue_lines; beyond it the oldest lines are
//   dropped and counted in dropped_lines).
// * A write is sent when batch_lines lines wait, or flush_interval after the first one queued.
//   v1: POST /write?db=&rp=&precision=&u=&p=; v2: POST /api/v2/write?org=&bucket=&precision=
//   with `Authorization: Token`.
// * 2xx: written. Connection errors, timeouts, 5xx (429/503 honouring Retry-After): the batch
//   stays queued and is retried after a doubling backoff (retry_min .. retry_max).
// * Other 4xx: the server refused lines (syntax, field type conflict). They are counted in
//   rejected_lines, logged (rate-limited) with the server's message, and never retried. On a
//   v1 partial write the other lines of the batch were stored; on v2 (which refuses the whole
//   batch) the lines the server names are removed and the rest is sent again.
// * 401/403/404 (and v1's "retention policy not found" 500) are configuration errors: logged
//   as errors, retried every retry_max, the data stays queued.
// Writes are idempotent on the server (same series + timestamp overwrite), so a batch sent
// twice after a lost response does no harm.
class InfluxSink {
public:
    InfluxSink(const config::InfluxConfig& config, std::shared_ptr<spdlog::logger> logger,
               Precision precision = Precision::ms);
    ~InfluxSink();
    InfluxSink(const InfluxSink&) = delete;
    InfluxSink& operator=(const InfluxSink&) = delete;

    // Starts the writer thread (lines enqueued before are kept).
    void start();
    // Thread-safe, never blocks on the network: queues every line of `lines`.
    void enqueue(std::string lines);
    // Sends what is queued for up to `drain_timeout`, then stops the thread; what is left
    // is lost (logged). Safe to call more than once.
    void stop(std::chrono::milliseconds drain_timeout);

    const InfluxStats& stats() const { return stats_; }
    Precision precision() const { return precision_; }

private:
    enum class Outcome : std::uint8_t;

    void run();
    std::vector<std::string> take_batch();
    void requeue(std::vector<std::string>&& batch);
    Outcome send(std::vector<std::string>& batch, std::chrono::milliseconds& retry_after);
    void update_gauge();
    bool wait_backoff(std::chrono::milliseconds delay);

    config::InfluxConfig config_;
    std::shared_ptr<spdlog::logger> logger_;
    Precision precision_;
    std::string target_;      // request target (with the credentials of v1)
    std::string safe_target_; // for log messages: without the password
    InfluxStats stats_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::string> queue_; // one line each, without '\n'
    std::size_t in_flight_ = 0;     // lines taken by the writer for the current request
    std::chrono::steady_clock::time_point first_queued_{};
    bool stopping_ = false;
    bool finished_ = false; // the writer thread has ended
    std::chrono::steady_clock::time_point drain_deadline_{};
    bool dropping_ = false; // a drop was logged; reset when the queue has room again
    std::uint64_t dropped_since_log_ = 0;

    std::unique_ptr<HttpConnection> connection_;
    std::thread thread_;
    std::chrono::steady_clock::time_point last_reject_log_{};
    std::uint64_t rejects_not_logged_ = 0;
};

// Request target of a write for this configuration (pure; exposed for tests).
std::string influx_write_target(const config::InfluxConfig& config, Precision precision,
                                bool with_password = true);
// Percent-encoding of a query parameter value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view text);

} // namespace greenrack::sinks
