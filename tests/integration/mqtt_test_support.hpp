#pragma once
// Helpers shared by the MQTT security tests (mqtt_tls_test, secrets_test): the harness config
// with another [mqtt] broker, a TLS (or password) subscriber, and a /metrics scrape.

#include "tests/integration/site_harness.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_broker.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mqtt/async_client.h>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenrack::test {

// Writes the harness's daemon config with `mqtt_lines` in place of the [mqtt] uri line (the
// section keeps reconnect_max = "2s") and /metrics on 127.0.0.1:`metrics_port`; `extra` is
// appended like SiteHarness::write_config's.
inline void write_daemon_config(SiteHarness& site, const std::string& mqtt_lines,
                                std::uint16_t metrics_port, const std::string& extra = "") {
    site.write_config(
        extra + "\n[prometheus]\nlisten = \"127.0.0.1:" + std::to_string(metrics_port) + "\"\n");
    std::string text = read_file(site.config_path());
    const std::string uri_line = "uri = \"" + site.broker().uri() + "\"\n";
    const auto at = text.find(uri_line);
    if (at == std::string::npos) {
        throw std::runtime_error("harness config has no line " + uri_line);
    }
    text.replace(at, uri_line.size(), mqtt_lines);
    write_file(site.config_path(), text);
}

// The value of a metric with a single series (whatever its labels, e.g. site) on the daemon's
// /metrics; nullopt when unreachable or absent.
inline std::optional<double> scrape_metric(std::uint16_t port, const std::string& name) {
    const RunResult result = run_program(
        find_program("curl"),
        {"-s", "--max-time", "2", "http://127.0.0.1:" + std::to_string(port) + "/metrics"},
        std::chrono::seconds(5));
    if (result.status != 0) {
        return std::nullopt;
    }
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(name, 0) == 0 && line.size() > name.size() &&
            (line[name.size()] == ' ' || line[name.size()] == '{')) {
            return std::stod(line.substr(line.rfind(' ') + 1));
        }
    }
    return std::nullopt;
}

// How a test subscriber authenticates: TLS (CA, optional client certificate) and/or a
// user name and password.
struct SubscriberAuth {
    std::filesystem::path ca_file; // empty: plain TCP
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
    bool verify_hostname = true;
    std::string username;
    std::string password;
};

// Subscribes to `topic_filter` and keeps every message by topic (like MqttRecorder, with TLS
// and credentials). Throws when the broker refuses the connection or the subscription.
class SecureSubscriber {
public:
    SecureSubscriber(const std::string& uri, const std::string& topic_filter,
                     const SubscriberAuth& auth, const std::string& client_id = "test-subscriber")
        : client_(uri, client_id) {
        auto options = mqtt::connect_options_builder().clean_session(true);
        if (!auth.ca_file.empty()) {
            auto ssl = mqtt::ssl_options_builder()
                           .trust_store(auth.ca_file.string())
                           .enable_server_cert_auth(true)
                           .verify(auth.verify_hostname);
            if (!auth.cert_file.empty()) {
                ssl.key_store(auth.cert_file.string()).private_key(auth.key_file.string());
            }
            options.ssl(ssl.finalize());
        }
        if (!auth.username.empty()) {
            options.user_name(auth.username).password(auth.password);
        }
        client_.start_consuming();
        auto connect = client_.connect(options.finalize());
        if (!connect->wait_for(std::chrono::seconds(10)) || !client_.is_connected()) {
            throw std::runtime_error("test subscriber could not connect to " + uri);
        }
        auto subscribe = client_.subscribe(topic_filter, 1);
        if (!subscribe->wait_for(std::chrono::seconds(5))) {
            throw std::runtime_error("test subscriber could not subscribe to " + topic_filter);
        }
    }
    ~SecureSubscriber() {
        try {
            client_.stop_consuming();
            client_.disconnect()->wait_for(std::chrono::seconds(2));
        } catch (const mqtt::exception&) {
            // The broker may already be gone.
        }
    }
    SecureSubscriber(const SecureSubscriber&) = delete;
    SecureSubscriber& operator=(const SecureSubscriber&) = delete;

    // The first message on `topic` (or, after drain, an older one) within `timeout`.
    std::optional<std::string> wait_for(const std::string& topic,
                                        std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            drain(std::chrono::milliseconds(50));
            if (auto it = messages_.find(topic); it != messages_.end() && !it->second.empty()) {
                return it->second.back();
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                return std::nullopt;
            }
        }
    }
    // Every message received so far, on any topic.
    std::size_t total() {
        drain(std::chrono::milliseconds(0));
        std::size_t count = 0;
        for (const auto& [topic, list] : messages_) {
            count += list.size();
        }
        return count;
    }

private:
    void drain(std::chrono::milliseconds timeout) {
        mqtt::const_message_ptr message;
        if (client_.try_consume_message_for(&message, timeout) && message) {
            messages_[message->get_topic()].push_back(message->to_string());
            while (client_.try_consume_message(&message) && message) {
                messages_[message->get_topic()].push_back(message->to_string());
            }
        }
    }

    mqtt::async_client client_;
    std::map<std::string, std::vector<std::string>> messages_;
};

} // namespace greenrack::test
