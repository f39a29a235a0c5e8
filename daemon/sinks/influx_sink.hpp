#pragma once

#include "daemon/config/config.hpp"
#include "daemon/sinks/influx_stats.hpp"
#include "daemon/sinks/line_protocol.hpp"
#include "daemon/sinks/spool.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
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
// * enqueue() only appends the lines to the sink's spool (store and forward: a bounded,
//   crash-safe queue on disk, see spool.hpp); lines are removed from it once InfluxDB has
//   answered for them, so what waits survives an outage and a restart and is written later
//   with its original timestamps. Only the spool's caps drop lines (counted in dropped_lines).
// * A write is sent when batch_lines lines wait, or flush_interval after the first one queued.
//   v1: POST /write?db=&rp=&precision=&u=&p=; v2: POST /api/v2/write?org=&bucket=&precision=
//   with `Authorization: Token`.
// * 2xx: written. Connection errors, timeouts, 5xx (429/503 honouring Retry-After): the batch
//   is kept and retried after a doubling backoff (retry_min .. retry_max).
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
    InfluxSink(const config::InfluxConfig& config, std::unique_ptr<Spool> spool,
               std::shared_ptr<spdlog::logger> logger, Precision precision = Precision::ms);
    ~InfluxSink();
    InfluxSink(const InfluxSink&) = delete;
    InfluxSink& operator=(const InfluxSink&) = delete;

    // Starts the writer thread (lines enqueued before are kept).
    void start();
    // Thread-safe, never blocks on the network: spools every line of `lines`.
    void enqueue(std::string_view lines);
    // Sends what is queued for up to `drain_timeout`, then stops the thread; what is left
    // stays in the spool for the next start (logged). Safe to call more than once.
    void stop(std::chrono::milliseconds drain_timeout);

    const InfluxStats& stats() const { return stats_; }
    const SpoolStats& spool_stats() const { return spool_->stats(); }
    Precision precision() const { return precision_; }

private:
    enum class Outcome : std::uint8_t;

    void run();
    // Waits for a batch to be due; false when the writer must end.
    bool wait_for_batch();
    Outcome send(std::vector<std::string>& batch, std::chrono::milliseconds& retry_after);
    void update_gauge();
    bool wait_backoff(std::chrono::milliseconds delay);

    config::InfluxConfig config_;
    std::shared_ptr<spdlog::logger> logger_;
    Precision precision_;
    std::string target_;      // request target (with the credentials of v1)
    std::string safe_target_; // for log messages: without the password
    InfluxStats stats_;

    std::unique_ptr<Spool> spool_; // one record per line, without '\n'

    std::mutex mutex_;
    std::condition_variable wake_;
    bool waiting_ = false; // lines wait in the spool since first_queued_
    std::chrono::steady_clock::time_point first_queued_{};
    bool stopping_ = false;
    bool finished_ = false; // the writer thread has ended
    std::chrono::steady_clock::time_point drain_deadline_{};

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
