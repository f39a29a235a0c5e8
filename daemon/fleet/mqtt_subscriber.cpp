#include "daemon/fleet/mqtt_subscriber.hpp"

#include "daemon/sinks/mqtt_connect_options.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <exception>
#include <mqtt/async_client.h>
#include <utility>

namespace greenrack::fleet {

namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::size_t max_topic_bytes = 65535;
constexpr int suback_failure = 0x80; // MQTT 3.1.1 SUBACK return code: refused

// The level of `text` that starts at `pos`; `pos` moves to the next level, npos after the last.
std::string_view next_level(std::string_view text, std::size_t& pos) {
    const std::size_t end = text.find('/', pos);
    const std::string_view level = text.substr(pos, end == npos ? npos : end - pos);
    pos = end == npos ? npos : end + 1;
    return level;
}

bool valid_topic_name(std::string_view topic) {
    return !topic.empty() && topic.size() <= max_topic_bytes &&
           topic.find_first_of(std::string_view("+#\0", 3)) == npos;
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
        return "broker refused the connection: bad user name or password";
    case 5:
        return "broker refused the connection: not authorized";
    case MQTTASYNC_FAILURE:
        return tls ? "TCP connect or TLS handshake failed (broker down or unreachable, or the "
                     "certificates do not match)"
                   : "TCP connect failed (broker down or unreachable)";
    default:
        return mqtt::exception::error_str(rc) + " (rc " + std::to_string(rc) + ")";
    }
}

} // namespace

bool valid_topic_filter(std::string_view filter) {
    if (filter.empty() || filter.size() > max_topic_bytes || filter.find('\0') != npos) {
        return false;
    }
    std::size_t pos = 0;
    while (pos != npos) {
        const std::string_view level = next_level(filter, pos);
        if (level.find_first_of("+#") == npos || level == "+") {
            continue;
        }
        if (level != "#" || pos != npos) {
            return false; // a wildcard inside a level, or "#" before the last level
        }
    }
    return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
    if (!valid_topic_filter(filter) || !valid_topic_name(topic)) {
        return false;
    }
    if (topic.front() == '$' && (filter.front() == '+' || filter.front() == '#')) {
        return false;
    }
    std::size_t f = 0;
    std::size_t t = 0;
    while (f != npos) {
        const std::string_view wanted = next_level(filter, f);
        if (wanted == "#") {
            return true; // the rest, and the parent level: "a/#" matches "a"
        }
        if (t == npos) {
            return false; // the topic has fewer levels
        }
        const std::string_view level = next_level(topic, t);
        if (wanted != "+" && wanted != level) {
            return false;
        }
    }
    return t == npos; // and not more levels
}

bool filter_covers(std::string_view general, std::string_view specific) {
    if (!valid_topic_filter(general) || !valid_topic_filter(specific)) {
        return false;
    }
    if ((general.front() == '+' || general.front() == '#') && specific.front() == '$') {
        return false; // "$SYS/..." is matched by no wildcard in the first level
    }
    std::size_t g = 0;
    std::size_t s = 0;
    while (g != npos) {
        const std::size_t wanted_at = g;
        const std::string_view wanted = next_level(general, g);
        if (wanted == "#") {
            return true;
        }
        if (s == npos) {
            return false; // `specific` matches topics with fewer levels
        }
        const bool first_level = s == 0;
        const std::string_view level = next_level(specific, s);
        if (level == "#") {
            // Any number of levels, the parent included: only "#" covers that, and "+/#" too
            // in the first level (where "#" has no parent level to match).
            return first_level && general.substr(wanted_at) == "+/#";
        }
        if (wanted != "+" && wanted != level) {
            return false; // a literal level covers only itself
        }
    }
    return s == npos;
}

// Paho reports the outcome of a connect() (the first attempt after start()) on its own thread;
// a failure is posted to the executor like every other callback.
class MqttSubscriber::ConnectListener final : public mqtt::iaction_listener {
public:
    ConnectListener(MqttSubscriber* owner, std::shared_ptr<std::atomic<bool>> alive)
        : owner_(owner), alive_(std::move(alive)) {}

    void on_failure(const mqtt::token& token) override {
        if (!*alive_) {
            return;
        }
        const int rc = token.get_return_code();
        boost::asio::post(owner_->executor_, [owner = owner_, alive = alive_, rc] {
            if (*alive) {
                owner->on_connect_failure(rc);
            }
        });
    }
    void on_success(const mqtt::token& /*token*/) override {}

private:
    MqttSubscriber* owner_; // only dereferenced on the executor while *alive_
    std::shared_ptr<std::atomic<bool>> alive_;
};

// The SUBACK (or the failure) of one SUBSCRIBE; the connection's epoch travels as the token's
// user context, so that a late answer for an earlier connection is ignored.
class MqttSubscriber::SubscribeListener final : public mqtt::iaction_listener {
public:
    SubscribeListener(MqttSubscriber* owner, std::shared_ptr<std::atomic<bool>> alive)
        : owner_(owner), alive_(std::move(alive)) {}

    void on_success(const mqtt::token& token) override {
        std::vector<int> granted;
        try {
            // (A copy: the reason codes live in the response.)
            const mqtt::subscribe_response response = token.get_subscribe_response();
            for (const auto code : response.get_reason_codes()) {
                granted.push_back(static_cast<int>(code));
            }
        } catch (const std::exception&) {
            // No SUBACK details: taken as granted.
        }
        report(token, true, 0, std::move(granted));
    }
    void on_failure(const mqtt::token& token) override {
        report(token, false, token.get_return_code(), {});
    }

private:
    void report(const mqtt::token& token, bool ok, int rc, std::vector<int> granted) {
        if (!*alive_) {
            return;
        }
        const auto epoch = reinterpret_cast<std::uintptr_t>(token.get_user_context()); // NOLINT
        try {
            boost::asio::post(owner_->executor_, [owner = owner_, alive = alive_, epoch, ok, rc,
                                                  granted = std::move(granted)]() mutable {
                if (*alive) {
                    owner->on_subscribed(epoch, ok, rc, std::move(granted));
                }
            });
        } catch (const std::exception&) {
            // Out of memory: the next reconnect subscribes again.
        }
    }

    MqttSubscriber* owner_; // only dereferenced on the executor while *alive_
    std::shared_ptr<std::atomic<bool>> alive_;
};

MqttSubscriber::MqttSubscriber(const config::MqttConfig& config, std::string client_id,
                               bool persistent_session, boost::asio::any_io_executor executor,
                               std::shared_ptr<spdlog::logger> logger)
    : config_(config), client_id_(std::move(client_id)), persistent_session_(persistent_session),
      executor_(std::move(executor)), logger_(std::move(logger)),
      alive_(std::make_shared<std::atomic<bool>>(true)), resubscribe_timer_(executor_) {
    connect_listener_ = std::make_unique<ConnectListener>(this, alive_);
    subscribe_listener_ = std::make_unique<SubscribeListener>(this, alive_);
    // Nothing is queued while disconnected: publish_now fails instead.
    auto create = mqtt::create_options_builder().send_while_disconnected(false).finalize();
    client_ = std::make_unique<mqtt::async_client>(config_.uri, client_id_, create, nullptr);

    auto alive = alive_;
    client_->set_connected_handler([this, alive](const std::string& /*cause*/) {
        if (!*alive) {
            return;
        }
        try {
            boost::asio::post(executor_, [this, alive] {
                if (*alive) {
                    on_connected();
                }
            });
        } catch (const std::exception&) {
            // Out of memory: not subscribed until the next reconnect.
        }
    });
    client_->set_connection_lost_handler([this, alive](const std::string& cause) {
        if (!*alive) {
            return;
        }
        try {
            boost::asio::post(executor_, [this, alive, cause] {
                if (*alive) {
                    on_connection_lost(cause);
                }
            });
        } catch (const std::exception&) {
            // Out of memory: the state catches up at the next connect.
        }
    });
    client_->set_message_callback([this, alive](mqtt::const_message_ptr message) {
        if (!*alive || !message) {
            return;
        }
        stats_.received.fetch_add(1, std::memory_order_relaxed);
        try {
            InboundMessage inbound{message->get_topic(), message->get_payload_str(),
                                   message->is_retained(), message->is_duplicate()};
            boost::asio::post(executor_, [this, alive, inbound = std::move(inbound)] {
                if (*alive) {
                    dispatch(inbound);
                }
            });
        } catch (const std::exception& err) {
            logger_->error("mqtt subscriber {}: message on {} lost: {}", client_id_,
                           message->get_topic(), err.what());
        }
    });
}

MqttSubscriber::~MqttSubscriber() {
    *alive_ = false;
    stop(std::chrono::milliseconds(500));
    client_.reset(); // no Paho callback after this
}

void MqttSubscriber::subscribe(std::string filter, int qos, Handler handler) {
    if (started_) {
        logger_->error("mqtt subscriber {}: subscribe({}) after start() ignored", client_id_,
                       filter);
        return;
    }
    if (!valid_topic_filter(filter)) {
        logger_->error("mqtt subscriber {}: invalid topic filter \"{}\" ignored", client_id_,
                       filter);
        return;
    }
    if (qos < 0 || qos > 1) {
        logger_->error("mqtt subscriber {}: qos {} for {} ignored (0 or 1)", client_id_, qos,
                       filter);
        return;
    }
    if (!handler) {
        logger_->error("mqtt subscriber {}: no handler for {}; ignored", client_id_, filter);
        return;
    }
    // The broker gets only the filters no other one covers (with the highest qos asked for
    // what they cover): it would send a retained message once per matching subscription.
    for (std::size_t i = 0; i < filters_.size(); ++i) {
        if (filter_covers(filters_[i], filter)) {
            filter_qos_[i] = std::max(filter_qos_[i], qos);
            subscriptions_.push_back({std::move(filter), qos, std::move(handler)});
            return;
        }
    }
    int broker_qos = qos;
    for (std::size_t i = filters_.size(); i-- > 0;) {
        if (filter_covers(filter, filters_[i])) {
            broker_qos = std::max(broker_qos, filter_qos_[i]);
            filters_.erase(filters_.begin() + static_cast<std::ptrdiff_t>(i));
            filter_qos_.erase(filter_qos_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    filters_.push_back(filter);
    filter_qos_.push_back(broker_qos);
    subscriptions_.push_back({std::move(filter), qos, std::move(handler)});
}

void MqttSubscriber::on_connection(std::function<void(bool connected)> handler) {
    connection_handler_ = std::move(handler);
}

void MqttSubscriber::start() {
    if (running_.exchange(true)) {
        return;
    }
    started_ = true;
    problem_logged_ = false;
    // Paho's intervals are whole seconds (0 would retry without a pause).
    const auto min_interval =
        std::max(std::chrono::duration_cast<std::chrono::seconds>(config_.reconnect_min),
                 std::chrono::seconds(1));
    const auto max_interval = std::max(
        std::chrono::duration_cast<std::chrono::seconds>(config_.reconnect_max), min_interval);
    auto builder = mqtt::connect_options_builder()
                       .keep_alive_interval(
                           std::chrono::duration_cast<std::chrono::seconds>(config_.keepalive))
                       .clean_session(!persistent_session_)
                       .automatic_reconnect(min_interval, max_interval)
                       .connect_timeout(std::chrono::seconds(10))
                       .max_inflight(std::max(config_.max_inflight, 1));
    sinks::apply_auth_and_tls(builder, config_, *logger_, "mqtt subscriber " + client_id_);
    logger_->info("mqtt subscriber {}: connecting to {}{}{}", client_id_, config_.uri,
                  config_.username.empty() ? std::string() : " (user " + config_.username + ")",
                  persistent_session_ ? ", persistent session" : "");
    try {
        client_->connect(builder.finalize(), nullptr, *connect_listener_);
    } catch (const mqtt::exception& err) {
        // Paho keeps retrying by itself (automatic reconnect).
        report_problem(err.what());
    }
}

void MqttSubscriber::on_connected() {
    epoch_.fetch_add(1);
    ready_ = false;
    connected_ = false;
    resubscribe_timer_.cancel();
    if (!running_) {
        // The connect completed while stop() was disconnecting.
        try {
            client_->disconnect(std::chrono::milliseconds(0));
        } catch (const mqtt::exception&) {
            // Gone already.
        }
        return;
    }
    logger_->info("mqtt subscriber {}: connected to {}{}", client_id_, config_.uri,
                  filters_.empty()
                      ? std::string()
                      : "; subscribing to " + std::to_string(filters_.size()) + " topic filters");
    problem_logged_ = false;
    send_subscribe();
}

void MqttSubscriber::send_subscribe() {
    if (filters_.empty()) {
        set_ready();
        return;
    }
    try {
        auto filters = mqtt::string_collection::create(filters_);
        client_->subscribe(
            filters, filter_qos_,
            reinterpret_cast<void*>(static_cast<std::uintptr_t>(epoch_.load())), // NOLINT
            *subscribe_listener_);
    } catch (const mqtt::exception& err) {
        // Disconnected in the meantime: the lost-connection callback follows, and the next
        // connect subscribes again.
        logger_->debug("mqtt subscriber {}: subscribe: {}", client_id_, err.what());
    }
}

void MqttSubscriber::on_subscribed(std::uint64_t epoch, bool ok, int rc, std::vector<int> granted) {
    if (epoch != epoch_ || !running_ || ready_) {
        return; // for an earlier connection
    }
    if (!ok && rc != suback_failure) {
        if (!client_->is_connected()) {
            return; // the lost-connection callback follows
        }
        report_problem("subscribing failed: " + mqtt::exception::error_str(rc) + " (rc " +
                       std::to_string(rc) + ")");
        const auto delay = std::max(config_.reconnect_min, std::chrono::milliseconds(100));
        resubscribe_timer_.expires_after(delay);
        auto alive = alive_;
        resubscribe_timer_.async_wait([this, alive, epoch](const boost::system::error_code& ec) {
            if (!ec && *alive && running_ && epoch == epoch_ && !ready_) {
                send_subscribe();
            }
        });
        return;
    }
    if (!ok) {
        granted.assign(filters_.size(), suback_failure); // one filter, refused
    }
    for (std::size_t i = 0; i < filters_.size() && i < granted.size(); ++i) {
        if (granted[i] >= suback_failure) {
            logger_->error("mqtt subscriber {}: the broker refused the subscription to {} "
                           "(not allowed by its ACL?): nothing arrives for it",
                           client_id_, filters_[i]);
        } else if (granted[i] < filter_qos_[i]) {
            logger_->warn("mqtt subscriber {}: the broker granted qos {} for {} (asked {}): "
                          "messages may be lost while the connection is down",
                          client_id_, granted[i], filters_[i], filter_qos_[i]);
        }
    }
    set_ready();
}

void MqttSubscriber::set_ready() {
    ready_ = true;
    connected_ = true;
    stats_.connects.fetch_add(1, std::memory_order_relaxed);
    if (connection_handler_) {
        try {
            connection_handler_(true);
        } catch (const std::exception& err) {
            logger_->error("mqtt subscriber {}: connection handler: {}", client_id_, err.what());
        }
    }
}

void MqttSubscriber::on_connection_lost(const std::string& cause) {
    resubscribe_timer_.cancel();
    connected_ = false;
    if (!running_) {
        return;
    }
    stats_.connection_losses.fetch_add(1, std::memory_order_relaxed);
    report_problem("connection lost" + (cause.empty() ? std::string() : " (" + cause + ")"));
    if (std::exchange(ready_, false) && connection_handler_) {
        try {
            connection_handler_(false);
        } catch (const std::exception& err) {
            logger_->error("mqtt subscriber {}: connection handler: {}", client_id_, err.what());
        }
    }
}

void MqttSubscriber::on_connect_failure(int rc) {
    if (running_) {
        report_problem(connect_failure_text(rc, config_.tls));
    }
}

void MqttSubscriber::report_problem(const std::string& text) {
    if (!problem_logged_.exchange(true)) {
        logger_->warn("mqtt subscriber {}: {}: {}; retrying in the background", client_id_,
                      config_.uri, text);
    } else {
        logger_->debug("mqtt subscriber {}: {}: {}", client_id_, config_.uri, text);
    }
}

void MqttSubscriber::dispatch(const InboundMessage& message) {
    for (const auto& subscription : subscriptions_) {
        if (!topic_matches(subscription.filter, message.topic)) {
            continue;
        }
        try {
            subscription.handler(message);
        } catch (const std::exception& err) {
            logger_->error("mqtt subscriber {}: handler for {} failed on {}: {}", client_id_,
                           subscription.filter, message.topic, err.what());
        }
    }
}

bool MqttSubscriber::publish_now(const std::string& topic, const std::string& payload, int qos,
                                 bool retained) {
    if (!running_ || !connected_ || qos < 0 || qos > 2 || !valid_topic_name(topic)) {
        return false;
    }
    try {
        client_->publish(mqtt::make_message(topic, payload, qos, retained));
    } catch (const mqtt::exception& err) {
        logger_->debug("mqtt subscriber {}: publish to {}: {}", client_id_, topic, err.what());
        return false;
    }
    stats_.published.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void MqttSubscriber::stop(std::chrono::milliseconds timeout) {
    if (!running_.exchange(false)) {
        return;
    }
    connected_ = false;
    epoch_.fetch_add(1);
    try {
        // Also ends the automatic reconnects while disconnected (Paho then answers
        // MQTTASYNC_DISCONNECTED with an exception).
        client_->disconnect(timeout / 2)->wait_for(timeout);
    } catch (const mqtt::exception& err) {
        logger_->debug("mqtt subscriber {}: disconnect: {}", client_id_, err.what());
    }
    logger_->info("mqtt subscriber {}: disconnected from {}", client_id_, config_.uri);
}

} // namespace greenrack::fleet
