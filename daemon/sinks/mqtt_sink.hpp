#pragma once

#include "daemon/config/config.hpp"
#include "daemon/sinks/spool.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <spdlog/logger.h>
#include <string>
#include <vector>

namespace mqtt {
class async_client;
} // namespace mqtt

namespace greenrack::sinks {

struct MqttStats {
    std::atomic<std::uint64_t> published{0}; // stored in the spool for delivery
    std::atomic<std::uint64_t> delivered{0}; // acknowledged by the broker (QoS 0: sent)
    std::atomic<std::uint64_t> dropped{0};   // lost: spool cap or write error, or refused
    std::atomic<std::uint64_t> refused{0};   // ... of them: failed 5 times in a row, given up
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::uint64_t> connection_losses{0};
};

// Publishes to one MQTT broker through Paho MQTT C++ (async client).
// * Store and forward: publish() appends the message to the sink's spool (a bounded,
//   crash-safe queue on disk, see spool.hpp) and returns. While connected, messages go out in
//   order, up to max_inflight unacknowledged at a time; a message leaves the spool once the
//   broker acknowledged it (PUBACK for QoS 1). After a lost connection or a restart, delivery
//   resumes with the first unacknowledged message (at least once: duplicates possible, gaps
//   not). Only the spool's caps drop messages, oldest first (counted, logged).
// * Start-up never waits for the broker: the client connects and reconnects in the background
//   (capped exponential backoff).
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
             std::unique_ptr<Spool> spool, boost::asio::any_io_executor executor,
             std::shared_ptr<spdlog::logger> logger);
    ~MqttSink();
    MqttSink(const MqttSink&) = delete;
    MqttSink& operator=(const MqttSink&) = delete;

    void start();
    // Spools the message (never waits for the network); false when it could not be stored
    // (counted). Call on the executor.
    bool publish(const std::string& topic, const std::string& payload, bool retained);
    // Sends what is spooled for up to `timeout` (what is left stays in the spool for the next
    // start), publishes "offline", disconnects. Call on the executor or after it stopped.
    void stop(std::chrono::milliseconds timeout);

    bool connected() const { return connected_.load(); }
    const MqttStats& stats() const { return stats_; }
    const SpoolStats& spool_stats() const { return spool_->stats(); }

private:
    class ConnectListener;
    class DeliveryListener;

    // Hands spooled messages to Paho while connected, up to max_inflight.
    void pump();
    // Applies the acknowledgements Paho reported (on its threads) and acks the spool.
    void apply_completions();
    void restart_delivery(std::chrono::milliseconds delay);
    void on_completion(std::uint64_t seq, bool ok);
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
    std::unique_ptr<Spool> spool_;
    std::unique_ptr<ConnectListener> connect_listener_;   // outlives client_
    std::unique_ptr<DeliveryListener> delivery_listener_; // outlives client_
    std::unique_ptr<mqtt::async_client> client_;
    std::atomic<bool> connected_{false};
    std::atomic<bool> stopping_{false};
    std::shared_ptr<std::atomic<bool>> alive_; // guards posted callbacks after destruction
    // Delivery state (executor only): seq -> acknowledged, for the messages handed to Paho.
    std::map<std::uint64_t, bool> in_flight_;
    std::uint64_t failing_seq_ = 0; // the oldest message whose delivery failed...
    int failures_ = 0;              // ...this many times in a row
    boost::asio::steady_timer retry_timer_;
    bool retry_pending_ = false;
    // Completions reported by Paho's threads, applied on the executor (or by stop()).
    std::mutex completions_mutex_;
    // A handler that applies the completions is posted to the executor and has not run yet:
    // acknowledgements arriving meanwhile join it instead of posting one handler each.
    std::atomic<bool> completions_posted_{false};
    std::condition_variable completions_cv_;
    std::vector<std::pair<std::uint64_t, bool>> completions_;
    bool drop_logged_ = false;
    bool failure_logged_ = false;    // since the last successful connect (executor only)
    bool host_check_failed_ = false; // Paho's X509_check_host failed in the current attempt
    MqttStats stats_;
};

} // namespace greenrack::sinks
