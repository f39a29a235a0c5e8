#pragma once

#include "daemon/config/config.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <spdlog/logger.h>
#include <string>

namespace mqtt {
class async_client;
} // namespace mqtt

namespace greenrack::sinks {

struct MqttStats {
    std::atomic<std::uint64_t> published{0}; // accepted by the client (sent or buffered)
    std::atomic<std::uint64_t> dropped{0};   // refused: offline buffer full or client error
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::uint64_t> connection_losses{0};
};

// Publishes to one MQTT broker through Paho MQTT C++ (async client).
// * Start-up never waits for the broker: the client connects and reconnects in the background
//   (capped exponential backoff) and buffers up to max_buffered_messages while disconnected.
// * `<prefix>/<site>/status` is "online" (retained, re-published after every reconnect) and
//   the broker publishes the retained last will "offline" if the daemon dies; stop() publishes
//   "offline" itself.
// * TLS (ssl://, mqtts://, wss://): the broker certificate is always verified against
//   ca_file (or the system trust store), and its name against the URI's host unless
//   verify_hostname is off; a client certificate is presented when configured. A failed
//   attempt is logged (warn, with the TLS cause when known) once until the next successful
//   connect, later ones at debug level.
// * Secrets (password, key password) are never logged.
// * Paho calls back on its own threads; everything it reports is posted to `executor`.
class MqttSink {
public:
    MqttSink(const config::MqttConfig& config, std::string status_topic,
             boost::asio::any_io_executor executor, std::shared_ptr<spdlog::logger> logger);
    ~MqttSink();
    MqttSink(const MqttSink&) = delete;
    MqttSink& operator=(const MqttSink&) = delete;

    void start();
    // Non-blocking; false when the message was dropped (counted).
    bool publish(const std::string& topic, std::string payload, bool retained);
    // Publishes "offline", waits up to `timeout` for queued messages to go out, disconnects.
    void stop(std::chrono::milliseconds timeout);

    bool connected() const { return connected_.load(); }
    const MqttStats& stats() const { return stats_; }

private:
    class ConnectListener;

    void on_connected(const std::string& cause);
    void on_connection_lost(const std::string& cause);
    void on_connect_failure(int rc);
    void on_tls_trace(const std::string& line);
    // warn the first time after start or a successful connect, debug after that
    void report_connect_problem(const std::string& text);

    config::MqttConfig config_;
    std::string status_topic_;
    boost::asio::any_io_executor executor_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<ConnectListener> connect_listener_; // outlives client_
    std::unique_ptr<mqtt::async_client> client_;
    std::atomic<bool> connected_{false};
    std::atomic<bool> stopping_{false};
    std::shared_ptr<std::atomic<bool>> alive_; // guards posted callbacks after destruction
    bool drop_logged_ = false;
    bool failure_logged_ = false;    // since the last successful connect (executor only)
    bool host_check_failed_ = false; // Paho's X509_check_host failed in the current attempt
    MqttStats stats_;
};

} // namespace greenrack::sinks
