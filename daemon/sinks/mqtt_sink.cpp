#include "daemon/sinks/mqtt_sink.hpp"

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

// The host of a broker URI ("ssl://[::1]:8883" -> "::1"), for messages.
std::string uri_host(const std::string& uri) {
    auto start = uri.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    std::string rest = uri.substr(start, uri.find('/', start) - start);
    if (!rest.empty() && rest.front() == '[') {
        return rest.substr(1, rest.find(']') - 1);
    }
    return rest.substr(0, rest.rfind(':'));
}

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

MqttSink::MqttSink(const config::MqttConfig& config, std::string status_topic,
                   boost::asio::any_io_executor executor, std::shared_ptr<spdlog::logger> logger)
    : config_(config), status_topic_(std::move(status_topic)), executor_(std::move(executor)),
      logger_(std::move(logger)), alive_(std::make_shared<std::atomic<bool>>(true)) {
    connect_listener_ = std::make_unique<ConnectListener>(this, executor_, alive_);
    auto create = mqtt::create_options_builder()
                      .send_while_disconnected(true, true)
                      .max_buffered_messages(config_.max_buffered_messages)
                      .delete_oldest_messages(false)
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
                       .will(mqtt::message(status_topic_, status_offline, 1, true));
    if (!config_.username.empty()) {
        builder.user_name(config_.username);
        builder.password(config_.password);
        if (!config_.tls && !config_.password.empty()) {
            logger_->warn("mqtt: the password for user {} goes to {} unencrypted; use an ssl:// "
                          "or mqtts:// broker URI (see [mqtt] in the reference config)",
                          config_.username, config_.uri);
        }
    }
    if (config_.tls) {
        auto ssl = mqtt::ssl_options_builder();
        // Paho's default trust store is the system one (SSL_CTX_set_default_verify_paths).
        if (!config_.ca_file.empty()) {
            ssl.trust_store(config_.ca_file.string());
        }
        if (!config_.cert_file.empty()) {
            ssl.key_store(config_.cert_file.string());
        }
        if (!config_.key_file.empty()) {
            ssl.private_key(config_.key_file.string());
        }
        if (!config_.key_password.empty()) {
            ssl.private_keypassword(config_.key_password);
        }
        // The chain is always verified; `verify` adds Paho's post-handshake check that the
        // certificate names the URI's host (X509_check_host, then X509_check_ip_asc).
        ssl.enable_server_cert_auth(true);
        ssl.verify(config_.verify_hostname);
        builder.ssl(ssl.finalize());
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
        if (!config_.verify_hostname) {
            logger_->warn("mqtt: INSECURE: TLS host name verification is off "
                          "(mqtt.verify_hostname = false): any certificate the CA signed is "
                          "accepted for {}, so anyone holding one can impersonate the broker",
                          uri_host(config_.uri));
        }
        logger_->info("mqtt: TLS with {}{}, host name verification {}",
                      config_.ca_file.empty() ? std::string("the system trust store")
                                              : "CA file " + config_.ca_file.string(),
                      config_.cert_file.empty()
                          ? std::string(", no client certificate")
                          : ", client certificate " + config_.cert_file.string(),
                      config_.verify_hostname ? "on" : "OFF");
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
    logger_->info("mqtt: connected to {}{}", config_.uri,
                  cause.empty() ? std::string() : " (" + cause + ")");
    publish(status_topic_, status_online, true);
}

void MqttSink::on_connection_lost(const std::string& cause) {
    connected_ = false;
    stats_.connection_losses.fetch_add(1, std::memory_order_relaxed);
    if (config_.tls) {
        set_trace_verbose(true);
    }
    logger_->warn("mqtt: connection to {} lost{}; buffering up to {} messages while reconnecting",
                  config_.uri, cause.empty() ? std::string() : " (" + cause + ")",
                  config_.max_buffered_messages);
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

bool MqttSink::publish(const std::string& topic, std::string payload, bool retained) {
    try {
        auto message = mqtt::make_message(topic, std::move(payload), config_.qos, retained);
        client_->publish(message);
        stats_.published.fetch_add(1, std::memory_order_relaxed);
        return true;
    } catch (const mqtt::exception& err) {
        stats_.dropped.fetch_add(1, std::memory_order_relaxed);
        if (!drop_logged_) {
            logger_->error("mqtt: dropping messages: {} (rc {})", err.what(),
                           err.get_return_code());
            drop_logged_ = true;
        }
        return false;
    }
}

void MqttSink::stop(std::chrono::milliseconds timeout) {
    if (stopping_.exchange(true)) {
        return;
    }
    try {
        if (client_->is_connected()) {
            auto token =
                client_->publish(mqtt::make_message(status_topic_, status_offline, 1, true));
            token->wait_for(timeout);
            client_->disconnect(timeout)->wait_for(timeout + std::chrono::seconds(1));
        } else {
            client_->disconnect(std::chrono::milliseconds(0))->wait_for(timeout);
        }
    } catch (const mqtt::exception& err) {
        logger_->debug("mqtt: disconnect: {}", err.what());
    }
    connected_ = false;
}

} // namespace greenrack::sinks
