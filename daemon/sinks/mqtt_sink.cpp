#include "daemon/sinks/mqtt_sink.hpp"

#include "daemon/sinks/mqtt_connect_options.hpp"
#include "daemon/sinks/mqtt_record.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <functional>
#include <mqtt/async_client.h>
#include <mutex>
#include <string_view>
#include <utility>

namespace greenrack::sinks {

namespace {

constexpr const char* status_online = "online";
constexpr const char* status_offline = "offline";

// What a failed connect means, for the log: CONNACK return codes (MQTT 3.1.1) or Paho's.
std::string connect_failure_text(int rc, bool tls) {
    switch (rc) {
    case 1:
        return "broker refused the connection: unacceptable protocol version";
    case 2:
        return "broker refused the connection: client id rejected";
    case 3:
        return "broker refused the connection: server unavailable";
    case 4:
        return "broker refused the connection: bad user name or password (mqtt.username, "
               "mqtt.password_file)";
    case 5: // mosquitto's answer to a wrong password too
        return "broker refused the connection: not authorized (check mqtt.username and "
               "mqtt.password_file, or the client certificate)";
    case MQTTASYNC_FAILURE:
        return tls ? "TCP connect or TLS handshake failed (broker down or unreachable, or it "
                     "refused this client's certificate: see the broker's log)"
                   : "TCP connect failed (broker down or unreachable)";
    default:
        return mqtt::exception::error_str(rc) + " (rc " + std::to_string(rc) + ")";
    }
}

// Paho C 1.3.12 reports TLS problems only in its (process-wide) trace: a failed host name check
// (X509_check_host, then X509_check_ip_asc) and the TLS alerts of the handshake ("SSL alert
// write:fatal:unknown CA"). (Paho C++ 1.2.0 loses ssl_options' error handler when the options
// are copied, so OpenSSL's error queue is not available.) Only these lines are picked from the
// trace and handed to the sink that registered; nothing else (the trace also carries packet
// contents) leaves Paho.
constexpr std::string_view host_check_line = "X509_check_host for hostname";
constexpr std::string_view ip_check_line = "rc from X509_check_ip_asc is ";
constexpr std::string_view alert_line = "SSL alert ";

struct TraceHook {
    std::mutex mutex;
    const void* owner = nullptr;
    std::function<void(std::string)> target;
};

TraceHook& trace_hook() {
    static TraceHook hook;
    return hook;
}

void on_paho_trace(enum MQTTASYNC_TRACE_LEVELS /*level*/, char* message) {
    if (message == nullptr) {
        return;
    }
    const std::string_view text(message);
    const auto at =
        std::min({text.find(host_check_line), text.find(ip_check_line), text.find(alert_line)});
    if (at == std::string_view::npos) {
        return;
    }
    TraceHook& hook = trace_hook();
    const std::lock_guard lock(hook.mutex);
    if (hook.target) {
        hook.target(std::string(text.substr(at)));
    }
}

// Full trace output costs a little per Paho call: only while (re)connecting.
void set_trace_verbose(bool verbose) {
    MQTTAsync_setTraceLevel(verbose ? MQTTASYNC_TRACE_MINIMUM : MQTTASYNC_TRACE_FATAL);
}

} // namespace

// Paho reports the outcome of the first connect attempt on its own thread (Paho C 1.3.12 does
// not report the automatic retries); a failure is posted to the executor like every other
// callback.
class MqttSink::ConnectListener final : public mqtt::iaction_listener {
public:
    ConnectListener(MqttSink* sink, boost::asio::any_io_executor executor,
                    std::shared_ptr<std::atomic<bool>> alive)
        : sink_(sink), executor_(std::move(executor)), alive_(std::move(alive)) {}

    void on_failure(const mqtt::token& token) override {
        if (!*alive_) {
            return;
        }
        const int rc = token.get_return_code();
        boost::asio::post(executor_, [sink = sink_, alive = alive_, rc] {
            if (*alive) {
                sink->on_connect_failure(rc);
            }
        });
    }
    void on_success(const mqtt::token& /*token*/) override {}

private:
    MqttSink* sink_; // only dereferenced on the executor while *alive_
    boost::asio::any_io_executor executor_;
    std::shared_ptr<std::atomic<bool>> alive_;
};

// Paho reports each delivery (PUBACK for QoS 1, sent for QoS 0) on its own threads; the
// sequence number travels as the token's user context.
class MqttSink::DeliveryListener final : public mqtt::iaction_listener {
public:
    explicit DeliveryListener(MqttSink* sink) : sink_(sink) {}
    void on_success(const mqtt::token& token) override { report(token, true); }
    void on_failure(const mqtt::token& token) override { report(token, false); }

private:
    void report(const mqtt::token& token, bool ok) {
        sink_->on_completion(reinterpret_cast<std::uintptr_t>(token.get_user_context()), ok);
    }
    MqttSink* sink_; // the sink outlives its client, and so every token
};

MqttSink::MqttSink(const config::MqttConfig& config, std::string status_topic,
                   std::unique_ptr<Spool> spool, boost::asio::any_io_executor executor,
                   std::shared_ptr<spdlog::logger> logger)
    : config_(config), status_topic_(std::move(status_topic)), executor_(std::move(executor)),
      logger_(std::move(logger)), spool_(std::move(spool)),
      alive_(std::make_shared<std::atomic<bool>>(true)), retry_timer_(executor_) {
    connect_listener_ = std::make_unique<ConnectListener>(this, executor_, alive_);
    delivery_listener_ = std::make_unique<DeliveryListener>(this);
    // Paho keeps nothing while disconnected: the spool does.
    // Paho counts the publishes it has not written to the socket yet against
    // max_buffered_messages (default 100): room for the whole in-flight window.
    auto create = mqtt::create_options_builder()
                      .send_while_disconnected(false)
                      .max_buffered_messages(std::max(config_.max_inflight, 1) + 16)
                      .finalize();
    client_ = std::make_unique<mqtt::async_client>(config_.uri, config_.client_id, create, nullptr);

    auto alive = alive_;
    client_->set_connected_handler([this, alive](const std::string& cause) {
        if (*alive) {
            boost::asio::post(executor_, [this, alive, cause] {
                if (*alive) {
                    on_connected(cause);
                }
            });
        }
    });
    client_->set_connection_lost_handler([this, alive](const std::string& cause) {
        if (*alive) {
            boost::asio::post(executor_, [this, alive, cause] {
                if (*alive) {
                    on_connection_lost(cause);
                }
            });
        }
    });
}

MqttSink::~MqttSink() {
    *alive_ = false;
    {
        TraceHook& hook = trace_hook();
        const std::lock_guard lock(hook.mutex);
        if (hook.owner == this) {
            hook.owner = nullptr;
            hook.target = nullptr;
            set_trace_verbose(false);
        }
    }
    if (client_ && client_->is_connected()) {
        try {
            client_->disconnect(std::chrono::milliseconds(500))->wait_for(std::chrono::seconds(1));
        } catch (const mqtt::exception&) {
            // Shutting down anyway.
        }
    }
    client_.reset(); // no Paho callback after this
    spool_->sync(std::chrono::system_clock::now());
}

void MqttSink::start() {
    auto builder = mqtt::connect_options_builder()
                       .keep_alive_interval(
                           std::chrono::duration_cast<std::chrono::seconds>(config_.keepalive))
                       .clean_session(true)
                       .automatic_reconnect(
                           std::chrono::duration_cast<std::chrono::seconds>(config_.reconnect_min),
                           std::chrono::duration_cast<std::chrono::seconds>(config_.reconnect_max))
                       .connect_timeout(std::chrono::seconds(10))
                       .max_inflight(config_.max_inflight)
                       .will(mqtt::message(status_topic_, status_offline, 1, true));
    apply_auth_and_tls(builder, config_, *logger_, "mqtt");
    if (config_.tls) {
        auto alive = alive_;
        {
            TraceHook& hook = trace_hook();
            const std::lock_guard lock(hook.mutex);
            hook.owner = this;
            hook.target = [this, alive](std::string line) {
                if (*alive) {
                    boost::asio::post(executor_, [this, alive, line = std::move(line)] {
                        if (*alive) {
                            on_tls_trace(line);
                        }
                    });
                }
            };
        }
        MQTTAsync_setTraceCallback(on_paho_trace);
        set_trace_verbose(true);
    }
    logger_->info("mqtt: connecting to {} as {}{}", config_.uri, config_.client_id,
                  config_.username.empty() ? std::string() : " (user " + config_.username + ")");
    try {
        client_->connect(builder.finalize(), nullptr, *connect_listener_);
    } catch (const mqtt::exception& err) {
        // Paho keeps retrying by itself (automatic reconnect); data is buffered meanwhile.
        logger_->warn("mqtt: connect to {} failed: {}; retrying in the background", config_.uri,
                      err.what());
    }
}

void MqttSink::on_connected(const std::string& cause) {
    connected_ = true;
    stats_.connects.fetch_add(1, std::memory_order_relaxed);
    drop_logged_ = false;
    failure_logged_ = false;
    host_check_failed_ = false;
    if (config_.tls) {
        set_trace_verbose(false);
    }
    const std::uint64_t waiting = spool_->stats().pending;
    logger_->info("mqtt: connected to {}{}{}", config_.uri,
                  cause.empty() ? std::string() : " (" + cause + ")",
                  waiting > 0 ? "; sending " + std::to_string(waiting) + " spooled messages"
                              : std::string());
    try {
        // Live state, not spooled: a replayed "online" would be stale.
        client_->publish(mqtt::make_message(status_topic_, status_online, 1, true));
    } catch (const mqtt::exception& err) {
        logger_->debug("mqtt: publishing the status: {}", err.what());
    }
    restart_delivery(std::chrono::milliseconds(0));
}

void MqttSink::on_connection_lost(const std::string& cause) {
    connected_ = false;
    stats_.connection_losses.fetch_add(1, std::memory_order_relaxed);
    if (config_.tls) {
        set_trace_verbose(true);
    }
    logger_->warn("mqtt: connection to {} lost{}; spooling messages to {} while reconnecting",
                  config_.uri, cause.empty() ? std::string() : " (" + cause + ")",
                  spool_->options().directory.string());
    // What was in flight is sent again after the reconnect.
    in_flight_.clear();
    spool_->rewind();
}

void MqttSink::report_connect_problem(const std::string& text) {
    if (!failure_logged_) {
        logger_->warn("mqtt: connect to {} failed: {}; retrying in the background", config_.uri,
                      text);
        failure_logged_ = true;
    } else {
        logger_->debug("mqtt: connect to {} failed: {}", config_.uri, text);
    }
}

void MqttSink::on_tls_trace(const std::string& line) {
    if (line.rfind(alert_line, 0) == 0) {
        // "SSL alert write:fatal:unknown CA": only fatal alerts end an attempt.
        const std::string detail = line.substr(alert_line.size());
        const auto first = detail.find(':');
        const auto second = detail.find(':', first == std::string::npos ? first : first + 1);
        if (first == std::string::npos || second == std::string::npos ||
            detail.compare(first + 1, second - first - 1, "fatal") != 0) {
            return;
        }
        const std::string description = detail.substr(second + 1);
        const bool about_certificates = description.find("certificate") != std::string::npos ||
                                        description.find("CA") != std::string::npos;
        if (detail.compare(0, first, "write") == 0) {
            report_connect_problem("TLS: this client aborted the handshake (" + description + ")" +
                                   (about_certificates
                                        ? ": the broker's certificate is not trusted (mqtt.ca_file)"
                                        : ""));
        } else {
            report_connect_problem("TLS: the broker aborted the handshake (" + description + ")" +
                                   (about_certificates
                                        ? ": it does not accept this client's certificate "
                                          "(mqtt.cert_file, mqtt.key_file)"
                                        : ""));
        }
        return;
    }
    if (line.rfind(host_check_line, 0) == 0) {
        host_check_failed_ = true; // "... for hostname <host> failed, rc 0"
        return;
    }
    // Paho falls back to X509_check_ip_asc after a failed X509_check_host; 1 is a match (the
    // URI's host is an IP address the certificate names), anything else fails the attempt.
    const bool ip_matched = std::atoi(line.c_str() + ip_check_line.size()) == 1;
    if (std::exchange(host_check_failed_, false) && !ip_matched) {
        report_connect_problem(
            "TLS host name verification failed: the broker's certificate is not issued for " +
            uri_host(config_.uri) +
            " (compare its subjectAltName with the host in mqtt.uri; mqtt.verify_hostname)");
    }
}

void MqttSink::on_connect_failure(int rc) {
    // After a TLS error or a failed host name check this only repeats it (debug).
    report_connect_problem(connect_failure_text(rc, config_.tls));
}

bool MqttSink::publish(const std::string& topic, const std::string& payload, bool retained) {
    const std::uint64_t seq =
        spool_->append(encode_mqtt_record(topic, payload, config_.qos, retained),
                       std::chrono::system_clock::now());
    if (seq == 0) {
        stats_.dropped.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    stats_.published.fetch_add(1, std::memory_order_relaxed);
    if (connected_ && !stopping_) {
        pump();
    }
    return true;
}

void MqttSink::on_completion(std::uint64_t seq, bool ok) {
    {
        const std::lock_guard lock(completions_mutex_);
        completions_.emplace_back(seq, ok);
    }
    completions_cv_.notify_all();
    if (*alive_ && !stopping_ && !completions_posted_.exchange(true)) {
        auto alive = alive_;
        boost::asio::post(executor_, [this, alive] {
            if (*alive) {
                completions_posted_ = false; // later acknowledgements post again
                apply_completions();
                pump();
            }
        });
    }
}

void MqttSink::apply_completions() {
    std::vector<std::pair<std::uint64_t, bool>> done;
    {
        const std::lock_guard lock(completions_mutex_);
        done.swap(completions_);
    }
    bool failed = false;
    for (const auto& [seq, ok] : done) {
        auto it = in_flight_.find(seq);
        if (it == in_flight_.end()) {
            continue; // from before a reconnect: it is sent again anyway
        }
        if (ok) {
            it->second = true;
            continue;
        }
        failed = true;
        if (seq == in_flight_.begin()->first) {
            failures_ = failing_seq_ == seq ? failures_ + 1 : 1;
            failing_seq_ = seq;
        }
    }
    std::uint64_t acked = 0;
    std::uint64_t delivered = 0;
    while (!in_flight_.empty() && in_flight_.begin()->second) {
        acked = in_flight_.begin()->first;
        ++delivered;
        in_flight_.erase(in_flight_.begin());
    }
    if (acked != 0) {
        spool_->ack(acked);
        stats_.delivered.fetch_add(delivered, std::memory_order_relaxed);
    }
    if (failed && connected_) {
        constexpr int max_failures = 5;
        if (failures_ >= max_failures && !in_flight_.empty() &&
            in_flight_.begin()->first == failing_seq_) {
            // A message the broker never takes (too large, say) must not block the rest.
            logger_->error("mqtt: message {} of the spool failed {} times in a row; giving it up",
                           failing_seq_, failures_);
            spool_->ack(failing_seq_);
            stats_.refused.fetch_add(1, std::memory_order_relaxed);
            stats_.dropped.fetch_add(1, std::memory_order_relaxed);
            failures_ = 0;
        }
        in_flight_.clear();
        spool_->rewind();
        restart_delivery(std::chrono::seconds(1));
    }
}

void MqttSink::restart_delivery(std::chrono::milliseconds delay) {
    if (delay.count() == 0) {
        pump();
        return;
    }
    if (retry_pending_) {
        return;
    }
    retry_pending_ = true;
    retry_timer_.expires_after(delay);
    auto alive = alive_;
    retry_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (ec || !*alive) {
            return;
        }
        retry_pending_ = false;
        pump();
    });
}

void MqttSink::pump() {
    if (!connected_ || retry_pending_) {
        return;
    }
    const auto window = static_cast<std::size_t>(std::max(config_.max_inflight, 1));
    while (in_flight_.size() < window) {
        auto entries = spool_->read(window - in_flight_.size(), 4U << 20U);
        if (entries.empty()) {
            return;
        }
        for (auto& entry : entries) {
            auto record = decode_mqtt_record(entry.payload);
            if (!record) {
                // Damaged on disk yet passed the checksum: nothing to send.
                in_flight_.emplace(entry.seq, true);
                stats_.dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            in_flight_.emplace(entry.seq, false);
            try {
                auto message = mqtt::make_message(record->topic, std::move(record->payload),
                                                  record->qos, record->retained);
                client_->publish(message, reinterpret_cast<void*>(entry.seq), // NOLINT
                                 *delivery_listener_);
            } catch (const mqtt::exception& err) {
                // Disconnected in the meantime (the lost-connection callback follows), or the
                // client refused: start again from the first unacknowledged message later.
                if (!drop_logged_) {
                    logger_->warn("mqtt: publish failed: {} (rc {}); retrying from the spool",
                                  err.what(), err.get_return_code());
                    drop_logged_ = true;
                }
                in_flight_.clear();
                spool_->rewind();
                restart_delivery(std::chrono::seconds(1));
                return;
            }
        }
        apply_completions();
    }
}

void MqttSink::stop(std::chrono::milliseconds timeout) {
    if (stopping_.exchange(true)) {
        return;
    }
    retry_timer_.cancel();
    retry_pending_ = false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Drain the spool while the time lasts (the executor no longer runs our callbacks).
    while (client_->is_connected() && std::chrono::steady_clock::now() < deadline) {
        apply_completions();
        pump();
        if (in_flight_.empty() && spool_->unread() == 0) {
            break;
        }
        std::unique_lock lock(completions_mutex_);
        completions_cv_.wait_for(lock, std::chrono::milliseconds(20),
                                 [this] { return !completions_.empty(); });
    }
    apply_completions();
    try {
        if (client_->is_connected()) {
            auto token =
                client_->publish(mqtt::make_message(status_topic_, status_offline, 1, true));
            token->wait_for(std::chrono::milliseconds(500));
            client_->disconnect(std::chrono::milliseconds(500))
                ->wait_for(std::chrono::milliseconds(1500));
        } else {
            client_->disconnect(std::chrono::milliseconds(0))->wait_for(timeout);
        }
    } catch (const mqtt::exception& err) {
        logger_->debug("mqtt: disconnect: {}", err.what());
    }
    connected_ = false;
    apply_completions();
    spool_->sync(std::chrono::system_clock::now());
    if (const std::uint64_t left = spool_->stats().pending; left > 0) {
        logger_->info("mqtt: {} messages not delivered yet stay in the spool ({}) for the next "
                      "start",
                      left, spool_->options().directory.string());
    }
}

} // namespace greenrack::sinks
