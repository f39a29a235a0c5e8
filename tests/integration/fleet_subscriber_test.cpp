// The fleet's MQTT subscriber (daemon/fleet/mqtt_subscriber.hpp) against a real mosquitto on a
// free 127.0.0.1 port, with plain Paho clients publishing and watching; and its topic matching.

#include "daemon/fleet/mqtt_subscriber.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/process.hpp"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <mqtt/async_client.h>
#include <mutex>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <sstream>
#include <thread>

using namespace greenrack;
using namespace std::chrono_literals;
using fleet::filter_covers;
using fleet::InboundMessage;
using fleet::MqttSubscriber;
using fleet::topic_matches;
using fleet::valid_topic_filter;
using test::MosquittoBroker;
using test::TempDir;
using test::wait_until;

namespace {

// Everything the subscriber logs, readable while it runs.
class StringSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::string text() {
        const std::lock_guard lock(mutex_);
        return text_;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(message, formatted);
        text_.append(formatted.data(), formatted.size());
    }
    void flush_() override {}

private:
    std::string text_;
};

struct CapturedLog {
    CapturedLog() : sink(std::make_shared<StringSink>()) {
        logger = std::make_shared<spdlog::logger>("fleet", sink);
        logger->set_level(spdlog::level::debug);
    }
    // Lines logged at `level` ("warning", "error", ...) that contain `part`.
    std::size_t count(const std::string& level, const std::string& part) const {
        std::istringstream lines(sink->text());
        std::size_t found = 0;
        std::string line;
        while (std::getline(lines, line)) {
            if (line.find("[" + level + "]") != std::string::npos &&
                line.find(part) != std::string::npos) {
                ++found;
            }
        }
        return found;
    }
    std::shared_ptr<StringSink> sink;
    std::shared_ptr<spdlog::logger> logger;
};

config::MqttConfig fast_config(const std::string& uri) {
    config::MqttConfig config;
    config.uri = uri;
    config.keepalive = 5s;
    config.reconnect_min = 1s; // Paho's shortest interval
    config.reconnect_max = 2s;
    return config;
}

// The executor of a test: an io_context that runs until IoRunner stops it.
struct Io {
    boost::asio::io_context context;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
        boost::asio::make_work_guard(context);
    boost::asio::any_io_executor executor() { return context.get_executor(); }
};

// Runs the io_context on a thread; declared after the subscriber, so that the thread has
// stopped when the subscriber goes away (the subscriber's destruction rule).
class IoRunner {
public:
    explicit IoRunner(Io& io) : io_(io), thread_([&io] { io.context.run(); }) {}
    ~IoRunner() {
        io_.context.stop();
        thread_.join();
    }
    IoRunner(const IoRunner&) = delete;
    IoRunner& operator=(const IoRunner&) = delete;
    std::thread::id id() const { return thread_.get_id(); }

private:
    Io& io_;
    std::thread thread_;
};

// Keeps what a handler got, and on which thread.
class Recorder {
public:
    MqttSubscriber::Handler handler() {
        return [this](const InboundMessage& message) {
            const std::lock_guard lock(mutex_);
            messages_.push_back(message);
            threads_.push_back(std::this_thread::get_id());
        };
    }
    std::vector<InboundMessage> messages() {
        const std::lock_guard lock(mutex_);
        return messages_;
    }
    std::size_t count() { return messages().size(); }
    std::vector<std::string> payloads() {
        std::vector<std::string> out;
        for (const auto& message : messages()) {
            out.push_back(message.payload);
        }
        return out;
    }
    bool has(const std::string& payload) {
        const auto all = payloads();
        return std::find(all.begin(), all.end(), payload) != all.end();
    }
    std::vector<std::thread::id> threads() {
        const std::lock_guard lock(mutex_);
        return threads_;
    }

private:
    std::mutex mutex_;
    std::vector<InboundMessage> messages_;
    std::vector<std::thread::id> threads_;
};

// Records on_connection() calls and their thread.
class ConnectionEvents {
public:
    std::function<void(bool)> handler() {
        return [this](bool connected) {
            const std::lock_guard lock(mutex_);
            events_.push_back(connected);
            threads_.push_back(std::this_thread::get_id());
        };
    }
    std::vector<bool> events() {
        const std::lock_guard lock(mutex_);
        return events_;
    }
    std::vector<std::thread::id> threads() {
        const std::lock_guard lock(mutex_);
        return threads_;
    }

private:
    std::mutex mutex_;
    std::vector<bool> events_;
    std::vector<std::thread::id> threads_;
};

// A plain Paho client (clean session, MQTT 3.1.1) that publishes and keeps what it receives.
class PlainClient {
public:
    PlainClient(const std::string& uri, const std::string& client_id)
        : client_(uri, client_id, mqtt::create_options(MQTTVERSION_3_1_1), nullptr) {
        client_.set_message_callback([this](mqtt::const_message_ptr message) {
            const std::lock_guard lock(mutex_);
            messages_.push_back({message->get_topic(), message->get_payload_str(),
                                 message->is_retained(), message->is_duplicate()});
        });
        auto options = mqtt::connect_options_builder().clean_session(true).finalize();
        REQUIRE(client_.connect(options)->wait_for(5s));
    }
    ~PlainClient() {
        try {
            client_.disconnect()->wait_for(2s);
        } catch (const mqtt::exception&) {
            // The broker may be gone already.
        }
    }
    PlainClient(const PlainClient&) = delete;
    PlainClient& operator=(const PlainClient&) = delete;

    void subscribe(const std::string& filter, int qos) {
        REQUIRE(client_.subscribe(filter, qos)->wait_for(5s));
    }
    // Returns once the broker has the message (QoS 1: PUBACK; QoS 0: written).
    void publish(const std::string& topic, const std::string& payload, int qos = 1,
                 bool retained = false) {
        REQUIRE(client_.publish(mqtt::make_message(topic, payload, qos, retained))->wait_for(5s));
    }
    std::vector<InboundMessage> messages() {
        const std::lock_guard lock(mutex_);
        return messages_;
    }

private:
    mqtt::async_client client_;
    std::mutex mutex_;
    std::vector<InboundMessage> messages_;
};

} // namespace

TEST_CASE("fleet: topic filters match MQTT wildcard rules", "[fleet]") {
    // Exact levels.
    CHECK(topic_matches("a/b", "a/b"));
    CHECK_FALSE(topic_matches("a/b", "a/c"));
    CHECK_FALSE(topic_matches("a/b", "a"));
    CHECK_FALSE(topic_matches("a/b", "a/b/c"));
    CHECK_FALSE(topic_matches("a/b", "a/b/"));
    CHECK_FALSE(topic_matches("a/b", "A/b")); // case-sensitive
    CHECK_FALSE(topic_matches("a/b", "/a/b"));
    // '+': exactly one level, an empty one too.
    CHECK(topic_matches("a/+", "a/b"));
    CHECK(topic_matches("a/+", "a/"));
    CHECK_FALSE(topic_matches("a/+", "a"));
    CHECK_FALSE(topic_matches("a/+", "a/b/c"));
    CHECK(topic_matches("+/+", "/"));
    CHECK(topic_matches("/+", "/finance"));
    CHECK_FALSE(topic_matches("+", "/finance"));
    CHECK(topic_matches("+", "finance"));
    CHECK(topic_matches("a/+/c", "a/b/c"));
    CHECK(topic_matches("a/+/c", "a//c"));
    CHECK_FALSE(topic_matches("a/+/c", "a/b/d"));
    CHECK(topic_matches("+/+/+", "x/y/z"));
    // '#': the rest, including the parent level.
    CHECK(topic_matches("#", "a"));
    CHECK(topic_matches("#", "a/b/c"));
    CHECK(topic_matches("#", "/"));
    CHECK(topic_matches("a/#", "a"));
    CHECK(topic_matches("a/#", "a/"));
    CHECK(topic_matches("a/#", "a/b/c"));
    CHECK_FALSE(topic_matches("a/#", "ab"));
    CHECK_FALSE(topic_matches("a/#", "b/a"));
    CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
    CHECK(topic_matches("a/+/#", "a/b"));
    CHECK(topic_matches("a/+/#", "a/b/c/d"));
    CHECK_FALSE(topic_matches("a/+/#", "a"));
    CHECK(topic_matches("+/#", "a"));
    // '$' topics: no wildcard in the first level matches them.
    CHECK_FALSE(topic_matches("#", "$SYS/broker/uptime"));
    CHECK_FALSE(topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
    CHECK_FALSE(topic_matches("+/#", "$SYS"));
    CHECK(topic_matches("$SYS/#", "$SYS/broker/uptime"));
    CHECK(topic_matches("$SYS/+/uptime", "$SYS/broker/uptime"));
    CHECK(topic_matches("a/+", "a/$b")); // only the first level is special
    CHECK(topic_matches("a/#", "a/$b"));
    // Invalid filters match nothing.
    CHECK_FALSE(topic_matches("", "a"));
    CHECK_FALSE(topic_matches("a/#/b", "a/x/b"));
    CHECK_FALSE(topic_matches("a#", "a"));
    CHECK_FALSE(topic_matches("a/b#", "a/b"));
    CHECK_FALSE(topic_matches("a+/b", "a+/b"));
    CHECK_FALSE(topic_matches("+a", "+a"));
    CHECK_FALSE(topic_matches("##", "a"));
    // Invalid topic names (empty, or holding a wildcard or NUL) are matched by nothing.
    CHECK_FALSE(topic_matches("#", ""));
    CHECK_FALSE(topic_matches("a/+", "a/+"));
    CHECK_FALSE(topic_matches("a/#", "a/#"));
    CHECK_FALSE(topic_matches("#", std::string_view("a\0b", 3)));

    // Covering: every topic the second filter matches, the first matches too.
    CHECK(filter_covers("#", "a/b"));
    CHECK(filter_covers("#", "+/#"));
    CHECK(filter_covers("+/#", "#"));           // the same topics: one level or more
    CHECK_FALSE(filter_covers("a/+/#", "a/#")); // "a/#" matches "a"
    CHECK(filter_covers("+/#", "a/#"));
    CHECK(filter_covers("a/#", "a"));
    CHECK(filter_covers("a/#", "a/#"));
    CHECK(filter_covers("a/#", "a/+/c"));
    CHECK(filter_covers("a/+", "a/b"));
    CHECK(filter_covers("a/+", "a/+"));
    CHECK(filter_covers("a/b", "a/b"));
    CHECK(filter_covers("+/+/c", "a/+/c"));
    CHECK_FALSE(filter_covers("a/+", "a/#"));
    CHECK_FALSE(filter_covers("a/+", "a"));
    CHECK_FALSE(filter_covers("a/+/#", "a"));
    CHECK_FALSE(filter_covers("a/b", "a/+"));
    CHECK_FALSE(filter_covers("a", "a/#"));
    CHECK_FALSE(filter_covers("a/+/c", "a/b/+")); // they only overlap
    CHECK_FALSE(filter_covers("#", "$SYS/#"));
    CHECK_FALSE(filter_covers("+/#", "$SYS/x"));
    CHECK(filter_covers("$SYS/#", "$SYS/+/x"));
    CHECK(filter_covers("#", "+/x")); // neither matches "$..." topics
    CHECK_FALSE(filter_covers("a/#/b", "a/x/b"));
    CHECK_FALSE(filter_covers("#", ""));

    CHECK(valid_topic_filter("#"));
    CHECK(valid_topic_filter("+"));
    CHECK(valid_topic_filter("/"));
    CHECK(valid_topic_filter("a//b"));
    CHECK(valid_topic_filter("+/+/#"));
    CHECK(valid_topic_filter("$share/x"));
    CHECK_FALSE(valid_topic_filter(""));
    CHECK_FALSE(valid_topic_filter("#/a"));
    CHECK_FALSE(valid_topic_filter("a/b+"));
    CHECK_FALSE(valid_topic_filter("a/#b"));
    CHECK_FALSE(valid_topic_filter(std::string(65536, 'a')));
    CHECK(valid_topic_filter(std::string(65535, 'a')));
}

TEST_CASE("fleet: messages on two filters reach their handlers on the executor", "[fleet]") {
    TempDir dir("greenrack-fleet");
    // The broker logs every subscription ("<client id> <qos> <filter>").
    MosquittoBroker broker(dir.path(), {.config = "allow_anonymous true\nlog_type all\n"});
    PlainClient shard(broker.uri(), "fleet-shard");
    // Retained before the subscriber exists: it arrives with the retained flag.
    shard.publish("fleet/it/lease/holder", "agg-1", 1, true);

    CapturedLog log;
    Io io;
    MqttSubscriber subscriber(fast_config(broker.uri()), "fleet-agg", false, io.executor(),
                              log.logger);
    Recorder partials;
    Recorder leases;
    Recorder everything;
    ConnectionEvents events;
    subscriber.subscribe("fleet/it/+/partial", 1, partials.handler());
    subscriber.subscribe("fleet/it/lease/#", 1, leases.handler());
    subscriber.subscribe("fleet/it/#", 0, everything.handler()); // overlaps both
    subscriber.subscribe("fleet/it/#/bad", 1, everything.handler());
    CHECK(log.count("error", "invalid topic filter \"fleet/it/#/bad\"") == 1);
    subscriber.on_connection(events.handler());
    IoRunner runner(io);
    subscriber.start();
    REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
    CHECK(log.count("info", "connected to " + broker.uri()) == 1);
    // Only the filter that covers the others went to the broker, with their highest qos: so the
    // retained message below comes once.
    CHECK(broker.log().find("fleet-agg 1 fleet/it/#\n") != std::string::npos);
    CHECK(broker.log().find("fleet/it/+/partial") == std::string::npos);
    CHECK(broker.log().find("fleet/it/lease/#") == std::string::npos);

    const std::string binary("a\0b\xff\n", 5);
    shard.publish("fleet/it/shard-1/partial", "p1", 1);
    shard.publish("fleet/it/shard-2/partial", binary, 0);
    shard.publish("fleet/it/lease", "parent", 1, true); // "#" includes the parent level
    shard.publish("fleet/it/shard-1/status", "s1", 1);
    shard.publish("fleet/other/partial", "elsewhere", 1); // matches no filter
    shard.publish("fleet/it/done", "done", 1);
    REQUIRE(wait_until([&] { return everything.has("done"); }, 10s));

    const auto got_partials = partials.messages();
    REQUIRE(got_partials.size() == 2);
    CHECK(got_partials[0].topic == "fleet/it/shard-1/partial");
    CHECK(got_partials[0].payload == "p1");
    CHECK_FALSE(got_partials[0].retained);
    CHECK_FALSE(got_partials[0].duplicate);
    CHECK(got_partials[1].topic == "fleet/it/shard-2/partial");
    CHECK(got_partials[1].payload == binary);

    const auto got_leases = leases.messages();
    REQUIRE(got_leases.size() == 2);
    CHECK(got_leases[0].topic == "fleet/it/lease/holder");
    CHECK(got_leases[0].payload == "agg-1");
    CHECK(got_leases[0].retained); // sent because of the new subscription
    CHECK(got_leases[1].topic == "fleet/it/lease");
    CHECK(got_leases[1].payload == "parent");
    CHECK_FALSE(got_leases[1].retained); // live delivery: the broker clears the flag

    // Each handler whose filter matches gets a message once.
    CHECK(everything.payloads() ==
          std::vector<std::string>{"agg-1", "p1", binary, "parent", "s1", "done"});
    CHECK(subscriber.stats().received == 6);

    for (auto* recorder : {&partials, &leases, &everything}) {
        for (const auto& thread : recorder->threads()) {
            CHECK(thread == runner.id());
        }
    }
    CHECK(events.events() == std::vector<bool>{true});
    CHECK(events.threads() == std::vector<std::thread::id>{runner.id()});
    CHECK(subscriber.stats().connects == 1);
    CHECK(subscriber.stats().connection_losses == 0);

    subscriber.stop();
    CHECK_FALSE(subscriber.connected());
    subscriber.stop(); // twice is fine
}

TEST_CASE("fleet: a persistent session gets the QoS 1 messages sent while it was away", "[fleet]") {
    TempDir dir("greenrack-fleet");
    MosquittoBroker broker(dir.path());
    PlainClient shard(broker.uri(), "fleet-shard");
    const std::string client_id = "fleet-agg-persistent";
    const auto config = fast_config(broker.uri());
    CapturedLog log;

    {
        // stop() and start() again on the same object.
        Io io;
        MqttSubscriber subscriber(config, client_id, true, io.executor(), log.logger);
        Recorder partials;
        subscriber.subscribe("fleet/it/+/partial", 1, partials.handler());
        IoRunner runner(io);
        subscriber.start();
        REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
        shard.publish("fleet/it/shard-1/partial", "before", 1);
        REQUIRE(wait_until([&] { return partials.count() == 1; }, 10s));

        subscriber.stop();
        REQUIRE_FALSE(subscriber.connected());
        for (int i = 1; i <= 5; ++i) {
            shard.publish("fleet/it/shard-" + std::to_string(i) + "/partial",
                          "away-" + std::to_string(i), 1);
        }
        subscriber.start();
        REQUIRE(wait_until([&] { return partials.count() >= 6 && subscriber.connected(); }, 10s));
        const auto payloads = partials.payloads();
        CHECK(payloads ==
              std::vector<std::string>{"before", "away-1", "away-2", "away-3", "away-4", "away-5"});
        CHECK(subscriber.stats().connects == 2);
        CHECK(subscriber.stats().connection_losses == 0);
    }
    for (int i = 6; i <= 8; ++i) {
        shard.publish("fleet/it/shard-" + std::to_string(i) + "/partial",
                      "gone-" + std::to_string(i), 1);
    }
    {
        // A new subscriber with the same client id (the daemon restarted).
        Io io;
        MqttSubscriber subscriber(config, client_id, true, io.executor(), log.logger);
        Recorder partials;
        subscriber.subscribe("fleet/it/+/partial", 1, partials.handler());
        IoRunner runner(io);
        subscriber.start();
        REQUIRE(wait_until([&] { return partials.count() >= 3; }, 10s));
        CHECK(partials.payloads() == std::vector<std::string>{"gone-6", "gone-7", "gone-8"});
        for (const auto& message : partials.messages()) {
            CHECK_FALSE(message.retained);
        }
    }
    {
        // Without a persistent session nothing waits for the client.
        Io io;
        MqttSubscriber subscriber(config, client_id + "-clean", false, io.executor(), log.logger);
        Recorder partials;
        subscriber.subscribe("fleet/it/+/partial", 1, partials.handler());
        IoRunner runner(io);
        subscriber.start();
        REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
        subscriber.stop();
        shard.publish("fleet/it/shard-9/partial", "lost", 1);
        subscriber.start();
        REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
        shard.publish("fleet/it/shard-9/partial", "live", 1);
        REQUIRE(wait_until([&] { return partials.count() >= 1; }, 10s));
        CHECK(partials.payloads() == std::vector<std::string>{"live"});
    }
}

TEST_CASE("fleet: the subscriber connects once the broker is up and re-subscribes after a "
          "broker restart",
          "[fleet]") {
    TempDir dir("greenrack-fleet");
    MosquittoBroker broker(dir.path());
    broker.stop(); // down when the subscriber starts

    CapturedLog log;
    Io io;
    MqttSubscriber subscriber(fast_config(broker.uri()), "fleet-agg", false, io.executor(),
                              log.logger);
    Recorder partials;
    ConnectionEvents events;
    subscriber.subscribe("fleet/it/+/partial", 1, partials.handler());
    subscriber.on_connection(events.handler());
    IoRunner runner(io);
    const auto started = std::chrono::steady_clock::now();
    subscriber.start();
    CHECK(std::chrono::steady_clock::now() - started < 500ms); // never waits for the network
    REQUIRE(wait_until([&] { return log.count("warning", "TCP connect failed") == 1; }, 5s));
    CHECK_FALSE(subscriber.connected());
    CHECK_FALSE(subscriber.publish_now("fleet/it/lease", "agg-1", 1, true));

    broker.start();
    REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
    {
        PlainClient shard(broker.uri(), "fleet-shard");
        shard.publish("fleet/it/shard-1/partial", "first", 1);
        REQUIRE(wait_until([&] { return partials.count() == 1; }, 10s));
    }

    // A restarted broker (no persistence) has forgotten the subscription.
    broker.stop();
    REQUIRE(wait_until([&] { return !subscriber.connected(); }, 10s));
    REQUIRE(wait_until([&] { return events.events().size() == 2; }, 5s));
    CHECK(subscriber.stats().connection_losses == 1);
    broker.start();
    REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
    {
        PlainClient shard(broker.uri(), "fleet-shard");
        shard.publish("fleet/it/shard-2/partial", "second", 1);
        REQUIRE(wait_until([&] { return partials.count() == 2; }, 10s));
    }
    CHECK(partials.payloads() == std::vector<std::string>{"first", "second"});
    CHECK(events.events() == std::vector<bool>{true, false, true});
    CHECK(subscriber.stats().connects == 2);
    CHECK(subscriber.stats().connection_losses == 1);
    // One warning per outage (the first failed attempt, the lost connection), then debug.
    CHECK(log.count("warning", "retrying in the background") == 2);
    CHECK(log.count("warning", "connection lost") == 1);
    CHECK(log.count("info", "connected to " + broker.uri()) == 2);
}

TEST_CASE("fleet: publish_now sends a retained lease that a new subscriber sees", "[fleet]") {
    TempDir dir("greenrack-fleet");
    MosquittoBroker broker(dir.path());
    CapturedLog log;
    Io io;
    // No subscriptions: connected as soon as the broker accepts.
    MqttSubscriber subscriber(fast_config(broker.uri()), "fleet-agg", false, io.executor(),
                              log.logger);
    IoRunner runner(io);
    CHECK_FALSE(subscriber.publish_now("fleet/it/lease", "agg-1", 1, true)); // not started
    subscriber.start();
    REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));

    PlainClient watcher(broker.uri(), "fleet-watcher");
    watcher.subscribe("fleet/it/lease", 1);
    CHECK_FALSE(subscriber.publish_now("fleet/it/+", "bad", 1, false)); // not a topic name
    const auto before = std::chrono::steady_clock::now();
    REQUIRE(subscriber.publish_now("fleet/it/lease", "agg-1 until 12:00:05", 1, true));
    CHECK(std::chrono::steady_clock::now() - before < 100ms);
    CHECK(subscriber.stats().published == 1);
    // Once the watcher has it, the broker has stored it.
    REQUIRE(wait_until([&] { return watcher.messages().size() == 1; }, 10s));
    CHECK_FALSE(watcher.messages()[0].retained);

    PlainClient newcomer(broker.uri(), "fleet-newcomer");
    newcomer.subscribe("fleet/it/#", 1);
    REQUIRE(wait_until([&] { return newcomer.messages().size() == 1; }, 10s));
    const auto lease = newcomer.messages()[0];
    CHECK(lease.topic == "fleet/it/lease");
    CHECK(lease.payload == "agg-1 until 12:00:05");
    CHECK(lease.retained);

    subscriber.stop();
    CHECK_FALSE(subscriber.publish_now("fleet/it/lease", "agg-1", 1, true)); // stopped
    CHECK(subscriber.stats().published == 1);
}

TEST_CASE("fleet: TLS with a client certificate (encrypted key) or a user name and password",
          "[fleet]") {
    TempDir dir("greenrack-fleet");
    const test::TestPki pki;
    pki.issue("server", "localhost", "IP:127.0.0.1,DNS:localhost");
    pki.issue("agg", "fleet-agg");
    const std::string key_password = "key-pass-5521";
    const auto encrypted_key = pki.encrypt_key("agg", key_password);
    const std::string password = "broker-pass-7310";
    const auto passwd = pki.dir() / "passwd";
    pki.run("mosquitto_passwd", {"-c", "-b", passwd.string(), "fleet-agg", password});
    pki.write("passwd", test::read_file(passwd)); // world-readable for the broker
    // fleet-agg may read and write fleet/it/#, nothing else.
    const auto acl = pki.write("acl", "user fleet-agg\ntopic readwrite fleet/it/#\n");
    const std::string server_lines = "certfile " + pki.cert("server").string() + "\nkeyfile " +
                                     pki.key("server").string() +
                                     "\nallow_anonymous false\nacl_file " + acl.string() + "\n";
    CapturedLog log;

    SECTION("client certificate, the CN as the user name") {
        MosquittoBroker broker(dir.path(),
                               {.name = "mosquitto-cert",
                                .scheme = "ssl",
                                .config = server_lines + "cafile " + pki.ca_cert().string() +
                                          "\nrequire_certificate true\n"
                                          "use_identity_as_username true\n"});
        auto config = fast_config(broker.uri());
        config.tls = true;
        config.ca_file = pki.ca_cert();
        config.cert_file = pki.cert("agg");
        config.key_file = encrypted_key;
        config.key_password = key_password;
        Io io;
        MqttSubscriber subscriber(config, "fleet-agg-tls", false, io.executor(), log.logger);
        Recorder partials;
        Recorder secrets;
        subscriber.subscribe("fleet/it/+/partial", 1, partials.handler());
        subscriber.subscribe("fleet/secret/#", 1, secrets.handler());
        IoRunner runner(io);
        subscriber.start();
        REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
        // mosquitto 2.0 grants a subscription its ACL denies (SUBACK 0x80 would be logged as an
        // error) and then delivers nothing for it.
        CHECK(log.count("error", "refused the subscription") == 0);
        CHECK(subscriber.publish_now("fleet/secret/x", "denied", 1, false));
        // Its own message comes back through the broker (MQTT 3.1.1 has no "no local").
        REQUIRE(subscriber.publish_now("fleet/it/shard-1/partial", "over tls", 1, false));
        REQUIRE(wait_until([&] { return partials.count() == 1; }, 10s));
        CHECK(partials.payloads() == std::vector<std::string>{"over tls"});
        CHECK(secrets.count() == 0);
        CHECK(broker.log().find("u'fleet-agg'") != std::string::npos);
    }
    SECTION("user name and password over TLS; a wrong password is refused") {
        MosquittoBroker broker(
            dir.path(), {.name = "mosquitto-users",
                         .scheme = "ssl",
                         .config = server_lines + "password_file " + passwd.string() + "\n"});
        auto config = fast_config(broker.uri());
        config.tls = true;
        config.ca_file = pki.ca_cert();
        config.username = "fleet-agg";
        config.password = password;
        {
            Io io;
            MqttSubscriber subscriber(config, "fleet-agg-user", false, io.executor(), log.logger);
            Recorder partials;
            subscriber.subscribe("fleet/it/+/partial", 1, partials.handler());
            IoRunner runner(io);
            subscriber.start();
            REQUIRE(wait_until([&] { return subscriber.connected(); }, 10s));
            REQUIRE(subscriber.publish_now("fleet/it/shard-2/partial", "with password", 1, false));
            REQUIRE(wait_until([&] { return partials.count() == 1; }, 10s));
            CHECK(partials.payloads() == std::vector<std::string>{"with password"});
        }
        {
            config.password = "not-the-password";
            Io io;
            MqttSubscriber subscriber(config, "fleet-agg-wrong", false, io.executor(), log.logger);
            IoRunner runner(io);
            subscriber.start();
            REQUIRE(wait_until(
                [&] { return log.count("warning", "not authorized; retrying") == 1; }, 10s));
            CHECK_FALSE(subscriber.connected());
            CHECK(subscriber.stats().connects == 0);
        }
    }
    const std::string text = log.sink->text();
    CHECK(text.find(key_password) == std::string::npos);
    CHECK(text.find(password) == std::string::npos);
    CHECK(text.find("not-the-password") == std::string::npos);
}
