#include "daemon/sinks/mqtt_sink.hpp"

#include <boost/asio/post.hpp>
#include <mqtt/async_client.h>

namespace greenrack::sinks {

namespace {

constexpr const char* status_online = "online";
constexpr const char* status_offline = "offline";

} // namespace

MqttSink::MqttSink(const config::MqttConfig& config, std::string status_topic,
                   boost::asio::any_io_executor executor, std::shared_ptr<spdlog::logger> logger)
    : config_(config), status_topic_(std::move(status_topic)), executor_(std::move(executor)),
      logger_(std::move(logger)), alive_(std::make_shared<std::atomic<bool>>(true)) {
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
    }
    logger_->info("mqtt: connecting to {} as {}", config_.uri, config_.client_id);
    try {
        client_->connect(builder.finalize());
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
    logger_->info("mqtt: connected to {}{}", config_.uri,
                  cause.empty() ? std::string() : " (" + cause + ")");
    publish(status_topic_, status_online, true);
}

void MqttSink::on_connection_lost(const std::string& cause) {
    connected_ = false;
    stats_.connection_losses.fetch_add(1, std::memory_order_relaxed);
    logger_->warn("mqtt: connection to {} lost{}; buffering up to {} messages while reconnecting",
                  config_.uri, cause.empty() ? std::string() : " (" + cause + ")",
                  config_.max_buffered_messages);
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
