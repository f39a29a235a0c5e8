#pragma once

#include "daemon/config/config.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <spdlog/logger.h>
#include <string>

namespace greenrack::sinks {

struct PrometheusServerSettings {
    std::string address = "127.0.0.1";          // an IP address (v4 or v6)
    std::uint16_t port = 9464;                  // 0: any free port (see PrometheusServer::port())
    std::size_t max_connections = 16;           // more are closed right after accept
    std::uint32_t max_request_bytes = 8 * 1024; // request line + headers, and the body
    std::chrono::milliseconds read_timeout{5'000}; // a whole request, and an idle keep-alive
    std::chrono::milliseconds write_timeout{10'000};
    std::chrono::milliseconds lag_probe_interval{500}; // event-loop lag probe timer
    std::chrono::milliseconds max_lag{2'000};          // /healthz is 503 above this...
    std::chrono::milliseconds lag_memory{30'000};      // ...for this long after it was seen
};

PrometheusServerSettings make_server_settings(const config::PrometheusConfig& config);

struct PrometheusServerState; // the implementation, shared with the open connections

// HTTP/1.1 server (Boost.Beast) for Prometheus, entirely on the caller's event loop:
//   GET /metrics  200, text/plain; version=0.0.4; charset=utf-8, body = render_metrics()
//   GET /healthz  200 "ok", or 503 with the reason: health_problem() (e.g. no device answered)
//                 and the event loop's own lag (a probe timer firing late by more than max_lag
//                 within the last lag_memory)
//   other paths 404, other methods on these paths 405 (Allow: GET); query strings are ignored.
// Accept, read and write are asynchronous with timeouts and size limits, and the number of
// connections is capped, so a slow or hostile client never stalls the loop or the polling.
// No exception leaves a handler: a throwing callback answers 500. Both callbacks are called on
// the event loop only, and never after stop().
class PrometheusServer {
public:
    using RenderMetrics = std::function<std::string()>;
    using HealthProblem = std::function<std::string()>; // "" when healthy

    PrometheusServer(boost::asio::io_context& io, PrometheusServerSettings settings,
                     RenderMetrics render_metrics, HealthProblem health_problem,
                     std::shared_ptr<spdlog::logger> logger);
    ~PrometheusServer(); // stop()
    PrometheusServer(const PrometheusServer&) = delete;
    PrometheusServer& operator=(const PrometheusServer&) = delete;

    // Binds and starts accepting. A bind failure is logged as an error and returns false; the
    // daemon keeps running without the endpoint. Call on the event loop's thread (or before
    // it runs).
    bool start();
    // Stops accepting and closes every connection. Call on the event loop's thread.
    void stop();

    // Readable from any thread.
    std::uint16_t port() const;                 // the bound port, 0 when not listening
    std::size_t connections() const;            // open connections now
    std::chrono::milliseconds last_lag() const; // lateness of the last lag probe

private:
    std::shared_ptr<PrometheusServerState> state_;
};

} // namespace greenrack::sinks
