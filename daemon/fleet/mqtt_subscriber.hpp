#pragma once

#include "daemon/config/config.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <spdlog/logger.h>
#include <string>
#include <string_view>
#include <vector>

namespace mqtt {
class async_client;
} // namespace mqtt

namespace greenrack::fleet {

// True when `filter` is a valid MQTT topic filter: not empty, no NUL, at most 65535 bytes, and
// each wildcard alone in its level ("+" anywhere, "#" only as the last level).
bool valid_topic_filter(std::string_view filter);

// True when the topic name `topic` matches the topic filter `filter` (MQTT 3.1.1, 4.7): "+"
// matches exactly one level (an empty one too), "#" the rest including the parent level
// ("a/#" matches "a"), and a wildcard in the first level never matches a topic that starts
// with '$' ("$SYS/..."). False when the filter is invalid (valid_topic_filter) or the topic is
// not a valid topic name (empty, or holding a wildcard or NUL).
bool topic_matches(std::string_view filter, std::string_view topic);

// True when every topic that `specific` matches is matched by `general` too ("a/#" covers
// "a/+/c", "a" and "a/#"; "a/+" covers "a/b" but not "a/#"). False when either is invalid.
bool filter_covers(std::string_view general, std::string_view specific);

struct InboundMessage {
    std::string topic;
    std::string payload;
    bool retained = false;
    bool duplicate = false; // the broker's DUP flag
};

struct SubscriberStats {
    std::atomic<std::uint64_t> received{0};          // messages from the broker
    std::atomic<std::uint64_t> connects{0};          // connected and subscribed
    std::atomic<std::uint64_t> connection_losses{0}; // established connections lost
    std::atomic<std::uint64_t> published{0};         // publish_now calls Paho accepted
};

// Subscribes to topic filters on one broker (Paho async client), reconnecting in the background
// (capped exponential backoff from MqttConfig reconnect_min/max) and re-subscribing after every
// connect. Every message and event is handed to `executor` (Paho's threads never call user
// code). persistent_session = true connects with clean_session(false) so the broker keeps QoS 1
// messages for this client id while it is away (at-least-once: duplicates possible).
// * MQTT 3.1.1. Paho acknowledges a QoS 1 message (PUBACK) once it is posted to the executor,
//   before the handler runs: a message received but not handled when the process dies is lost.
//   Messages received before stop() are still handed to their handlers.
// * Paho's reconnect intervals are whole seconds: reconnect_min is raised to at least 1 s.
//   Paho C shares its threads between the clients of a process: while another one is
//   connected (an MqttSink, say), a connect takes about 2 s more.
// * A filter the broker refuses (SUBACK 0x80) is logged (error); the others work and the
//   connection counts as up. (mosquitto 2.0 grants filters its ACL denies, and then delivers
//   nothing for them.)
// * Overlapping filters: a message goes to every handler whose filter matches. The broker is
//   sent only the filters that no other one covers (filter_covers; with the highest qos asked
//   for what they cover), since it sends a retained message once per matching subscription.
//   Filters that overlap without one covering the other ("a/+/c", "a/b/+") can still bring a
//   retained message twice (and each copy goes to both handlers).
// * Handlers run in arrival order when the executor runs one handler at a time (a strand or an
//   io_context run by one thread).
// * TLS (ssl://, mqtts://, wss://) and user name/password as for MqttSink; the password is
//   never logged.
// * subscribe() and on_connection(): before the first start(), on the thread that calls it.
//   start(), stop(), publish_now(), connected(), stats(): from any thread. Destroy the
//   subscriber on the executor or once the executor no longer runs handlers.
class MqttSubscriber {
public:
    using Handler = std::function<void(const InboundMessage&)>;
    MqttSubscriber(const config::MqttConfig& config, std::string client_id, bool persistent_session,
                   boost::asio::any_io_executor executor, std::shared_ptr<spdlog::logger> logger);
    ~MqttSubscriber(); // stops
    MqttSubscriber(const MqttSubscriber&) = delete;
    MqttSubscriber& operator=(const MqttSubscriber&) = delete;

    // Before start(): filter (may hold + and #), qos 0..1, handler run on the executor for
    // each message whose topic matches the filter (a message matching several filters goes to
    // each). An invalid filter or qos, or a call after start(), is logged (error) and ignored.
    void subscribe(std::string filter, int qos, Handler handler);
    // Optional: called on the executor after each successful connect + subscribe (true) and
    // each lost connection (false; only after a true). stop() reports nothing.
    void on_connection(std::function<void(bool connected)> handler);
    // Connects in the background (never blocks on the network). After stop(), start() connects
    // again (with the same client id: a persistent session resumes).
    void start();
    // Publishes directly, not spooled (for short-lived control messages such as a lease):
    // returns false when not connected or Paho refuses (or qos is not 0..2, or the topic is not
    // a valid topic name); never blocks more than a few ms. True means handed to Paho, not
    // acknowledged by the broker.
    bool publish_now(const std::string& topic, const std::string& payload, int qos, bool retained);
    // Stops reconnecting, disconnects (waits at most `timeout`). Safe to call twice.
    void stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));
    // Connected and subscribed (on_connection(true) has been or is about to be called).
    bool connected() const { return connected_.load(); }
    const SubscriberStats& stats() const { return stats_; }

private:
    class ConnectListener;
    class SubscribeListener;

    struct Subscription {
        std::string filter;
        int qos = 0;
        Handler handler;
    };

    // Executor only, below.
    void on_connected();
    void send_subscribe();
    void on_subscribed(std::uint64_t epoch, bool ok, int rc, std::vector<int> granted);
    void on_connection_lost(const std::string& cause);
    void on_connect_failure(int rc);
    void dispatch(const InboundMessage& message);
    void set_ready();
    // warn the first time after start or a successful connect, debug after that
    void report_problem(const std::string& text);

    config::MqttConfig config_;
    std::string client_id_;
    bool persistent_session_;
    boost::asio::any_io_executor executor_;
    std::shared_ptr<spdlog::logger> logger_;
    std::vector<Subscription> subscriptions_; // fixed once started
    std::vector<std::string> filters_;        // what is sent to the broker: uncovered filters...
    std::vector<int> filter_qos_;             // ...with the highest qos asked for what they cover
    std::function<void(bool)> connection_handler_;
    std::shared_ptr<std::atomic<bool>> alive_;          // guards posted callbacks after destruction
    std::unique_ptr<ConnectListener> connect_listener_; // outlives client_
    std::unique_ptr<SubscribeListener> subscribe_listener_; // outlives client_
    std::unique_ptr<mqtt::async_client> client_;
    std::atomic<bool> started_{false};        // start() was called once: subscriptions fixed
    std::atomic<bool> running_{false};        // between start() and stop()
    std::atomic<bool> connected_{false};      // connected and subscribed
    std::atomic<bool> problem_logged_{false}; // since start or the last successful connect
    // Bumped by every connect and stop(): tags subscribe requests, so that the answer to one
    // sent on an earlier connection is ignored.
    std::atomic<std::uint64_t> epoch_{0};
    // Executor only:
    bool ready_ = false; // on_connection(true) reported for the current connection
    boost::asio::steady_timer resubscribe_timer_;
    SubscriberStats stats_;
};

} // namespace greenrack::fleet
