// Issue 6, fault tests 2a-d: the store-and-forward spools of the MQTT and InfluxDB sinks against
// a real mosquitto, influxd, greenrack-sim and greenrackd (all on free 127.0.0.1 ports), with
// the broker or the database stopped for 60 s, greenrackd killed with SIGKILL, and a spool
// driven past its size cap.

#include "tests/integration/site_harness.hpp"
#include "tests/support/influxd.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <mqtt/async_client.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

using namespace greenrack::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string prefix = "greenrack/v1/it/";
const std::vector<std::string> device_ids = {"pdu-1",     "pv-1",       "wind-1",
                                             "battery-1", "grid-meter", "facility-meter"};

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Message {
    std::string topic;
    json payload;
};

// A QoS 1 subscriber to `greenrack/v1/it/#` that records every message it gets (duplicates
// included). With `persistent_session` its session (subscription and queued messages) lives on
// in the broker while it is disconnected, and it reconnects by itself.
class Subscriber {
public:
    Subscriber(const std::string& uri, const std::string& client_id, bool persistent_session)
        : client_(uri, client_id, mqtt::create_options(MQTTVERSION_3_1_1), nullptr) {
        client_.set_message_callback([this](mqtt::const_message_ptr message) {
            if (message->get_topic().find("/state") == std::string::npos) {
                return;
            }
            auto payload = json::parse(message->to_string(), nullptr, false);
            const std::lock_guard lock(mutex_);
            messages_.push_back({message->get_topic(), std::move(payload)});
        });
        auto options = mqtt::connect_options_builder()
                           .clean_session(!persistent_session)
                           .keep_alive_interval(5s)
                           .automatic_reconnect(500ms, 1s)
                           .finalize();
        client_.connect(options)->wait_for(5s);
        client_.subscribe(prefix + "#", 1)->wait_for(5s);
    }
    ~Subscriber() {
        try {
            client_.disconnect()->wait_for(2s);
        } catch (const mqtt::exception&) {
            // The broker may be gone already.
        }
    }
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    std::vector<Message> messages() {
        const std::lock_guard lock(mutex_);
        return messages_;
    }
    // Payloads of `topic` (after the prefix), in arrival order.
    std::vector<json> on(const std::string& topic) {
        std::vector<json> out;
        for (auto& m : messages()) {
            if (m.topic == prefix + topic) {
                out.push_back(m.payload);
            }
        }
        return out;
    }
    bool has_after(const std::string& topic, std::int64_t ts) {
        for (const auto& p : on(topic)) {
            if (p.is_object() && p.value("ts", std::int64_t{0}) > ts) {
                return true;
            }
        }
        return false;
    }

private:
    mqtt::async_client client_;
    std::mutex mutex_;
    std::vector<Message> messages_;
};

// Checks that the distinct `seq` values are every integer from their minimum to their maximum.
void check_no_gap(const std::set<std::int64_t>& seqs, const std::string& what) {
    INFO(what << ": " << seqs.size() << " distinct sequence numbers");
    REQUIRE_FALSE(seqs.empty());
    const std::int64_t span = *seqs.rbegin() - *seqs.begin() + 1;
    CHECK(static_cast<std::int64_t>(seqs.size()) == span);
}

std::set<std::int64_t> seqs_of(const std::vector<json>& payloads) {
    std::set<std::int64_t> out;
    for (const auto& p : payloads) {
        if (p.is_object() && p.contains("seq")) {
            out.insert(p["seq"].get<std::int64_t>());
        }
    }
    return out;
}

std::size_t count_between(const std::vector<json>& payloads, std::int64_t from, std::int64_t to) {
    std::set<std::int64_t> seen;
    for (const auto& p : payloads) {
        const auto ts = p.value("ts", std::int64_t{0});
        if (ts > from && ts < to) {
            seen.insert(p["seq"].get<std::int64_t>());
        }
    }
    return seen.size();
}

} // namespace

TEST_CASE("store and forward: mosquitto stopped for 60 s, a persistent QoS 1 subscriber still "
          "gets every sequence number",
          "[reliability][mqtt]") {
    MosquittoOptions broker;
    broker.persistent = true;
    broker.config = "allow_anonymous true\nmax_queued_messages 0\n";
    SiteHarness site({"--freeze"}, broker);
    site.write_config("[accounting]\ntick = \"1s\"\npublish_delay = \"1200ms\"\n");
    Subscriber subscriber(site.broker().uri(), "it-session", true);
    auto daemon = site.start_daemon();
    REQUIRE(wait_until([&] { return subscriber.on("device/pdu-1/state").size() >= 4; }, 20s));

    const std::int64_t outage_start = now_ms();
    site.broker().stop();
    sleep_ms(60'000);
    CHECK(daemon->running()); // polled on without a broker
    site.broker().start();
    const std::int64_t outage_end = now_ms();
    const bool caught_up = wait_until(
        [&] { return subscriber.has_after("device/pdu-1/state", outage_end + 3000); }, 60s);
    INFO("messages received: " << subscriber.messages().size() << "\n" << daemon->err());
    REQUIRE(caught_up);
    REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
    sleep_ms(500);

    for (const auto& device : device_ids) {
        const auto states = subscriber.on("device/" + device + "/state");
        check_no_gap(seqs_of(states), device);
        // The polls of the outage arrived (500 ms interval: 120 in 60 s).
        CHECK(count_between(states, outage_start + 1000, outage_end - 1000) >= 110);
    }
    const auto ticks = subscriber.on("site/state");
    check_no_gap(seqs_of(ticks), "site/state");
    CHECK(count_between(ticks, outage_start + 1000, outage_end - 1000) >= 55);
    INFO(daemon->err());
    CHECK(daemon->err().find("spooled messages") != std::string::npos);
}

TEST_CASE("store and forward: influxd stopped for 60 s, afterwards every poll of every device is "
          "in the database",
          "[reliability][influx]") {
    SiteHarness site;
    Influxd influxd(site.dir(), {.database = "greenrack"});
    site.write_config(
        "[influxdb]\nenabled = true\nurl = \"" + influxd.url() +
        "\"\nflush_interval = \"200ms\"\nretry_min = \"200ms\"\nretry_max = \"2s\"\n");
    auto daemon = site.start_daemon();
    const auto count_after = [&](std::int64_t ms) {
        auto reply =
            influxd.query("SELECT count(seq) FROM device WHERE device = 'pdu-1' AND time > " +
                              std::to_string(ms) + "ms",
                          "greenrack");
        auto j = json::parse(reply.body, nullptr, false);
        try {
            return j["results"][0]["series"][0]["values"][0][1].get<std::int64_t>();
        } catch (const json::exception&) {
            return std::int64_t{0};
        }
    };
    REQUIRE(wait_until([&] { return count_after(0) >= 4; }, 20s));

    const std::int64_t outage_start = now_ms();
    influxd.stop();
    sleep_ms(60'000);
    CHECK(daemon->running());
    influxd.start();
    const std::int64_t outage_end = now_ms();
    REQUIRE(wait_until([&] { return count_after(outage_end + 3000) > 0; }, 60s));
    REQUIRE(daemon->stop(SIGTERM, 15s) == 0);

    for (const auto& device : device_ids) {
        const auto reply =
            influxd.query("SELECT seq FROM device WHERE device = '" + device + "'", "greenrack");
        const auto j = json::parse(reply.body);
        std::set<std::int64_t> seqs;
        std::size_t in_outage = 0;
        for (const auto& row : j["results"][0]["series"][0]["values"]) {
            seqs.insert(row[1].get<std::int64_t>());
        }
        INFO(device);
        check_no_gap(seqs, device);
        CHECK(*seqs.begin() == 1); // from the very first poll
        const auto during =
            influxd.query("SELECT count(seq) FROM device WHERE device = '" + device +
                              "' AND time > " + std::to_string(outage_start + 1000) +
                              "ms AND time < " + std::to_string(outage_end - 1000) + "ms",
                          "greenrack");
        in_outage = json::parse(during.body)["results"][0]["series"][0]["values"][0][1];
        CHECK(in_outage >= 110);
    }
}

TEST_CASE("store and forward: after kill -9 and a restart, totals continue without a gap or a "
          "double count and the spooled data is delivered",
          "[reliability][mqtt]") {
    SiteHarness site;
    site.write_config("[accounting]\ntick = \"1s\"\npublish_delay = \"1200ms\"\n"
                      "persist_interval = \"1s\"\n");
    site.broker().stop(); // run 1 publishes into its spool only
    std::int64_t killed_at = 0;
    {
        auto daemon = site.start_daemon();
        sleep_ms(8'000);
        killed_at = now_ms();
        CHECK(daemon->stop(SIGKILL, 5s) == 128 + SIGKILL);
    }
    site.broker().start();
    Subscriber subscriber(site.broker().uri(), "it-after-kill", false);
    auto daemon = site.start_daemon();
    const bool delivered =
        wait_until([&] { return subscriber.has_after("site/state", killed_at + 8000); }, 40s);
    INFO(daemon->err());
    REQUIRE(delivered);
    REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
    sleep_ms(500);

    // Everything run 1 polled before the kill was delivered by run 2, from its spool.
    std::vector<json> run1;
    for (const auto& p : subscriber.on("device/pdu-1/state")) {
        if (p["ts"].get<std::int64_t>() < killed_at) {
            run1.push_back(p);
        }
    }
    const auto run1_seqs = seqs_of(run1);
    CHECK(run1_seqs.size() >= 12); // 8 s at 500 ms
    check_no_gap(run1_seqs, "pdu-1 before the kill");
    CHECK(*run1_seqs.begin() == 1);

    // Ticks by sequence number (a tick may arrive twice: at least once delivery).
    std::map<std::int64_t, json> ticks;
    for (const auto& p : subscriber.on("site/state")) {
        ticks[p["seq"].get<std::int64_t>()] = p;
    }
    std::int64_t last_before = 0;
    for (const auto& [seq, tick] : ticks) {
        if (tick["ts"].get<std::int64_t>() <= killed_at) {
            last_before = seq;
        }
    }
    REQUIRE(last_before > 0);
    // Run 2 restored the totals persisted at one of the last two ticks before the kill; each
    // tick after adds its own load once.
    const json& restored_from = ticks.count(last_before) ? ticks.at(last_before) : json();
    INFO(daemon->err());
    CHECK(daemon->err().find("restored totals") != std::string::npos);
    auto first_after = ticks.upper_bound(last_before);
    REQUIRE(first_after != ticks.end());
    const json& t2 = first_after->second;
    const double own = t2["valid"] == true
                           ? t2["load_w"].get<double>() * t2["tick_s"].get<double>() / 3600.0
                           : 0.0;
    const double base = t2["totals"]["load_wh"].get<double>() - own;
    bool matches_recent_tick = false;
    for (auto it = ticks.begin(); it != ticks.end(); ++it) {
        if (it->first >= last_before - 1 && it->first <= last_before &&
            std::abs(it->second["totals"]["load_wh"].get<double>() - base) < 1e-6) {
            matches_recent_tick = true;
        }
    }
    INFO("first tick after restart " << t2.dump() << "\nlast before " << restored_from.dump());
    CHECK(matches_recent_tick);
    // Never backwards, and every later tick adds exactly its own load.
    double expected = t2["totals"]["load_wh"].get<double>();
    for (auto it = std::next(first_after); it != ticks.end(); ++it) {
        const json& tick = it->second;
        if (tick["valid"] == true) {
            expected += tick["load_w"].get<double>() * tick["tick_s"].get<double>() / 3600.0;
        }
        CHECK(tick["totals"]["load_wh"].get<double>() == Approx(expected).margin(1e-6));
    }
}

TEST_CASE("store and forward: a spool at its size cap drops the oldest data, counts it, and "
          "polling goes on",
          "[reliability][mqtt]") {
    SiteHarness site;
    site.write_config("[spool]\nmax_size = \"64KiB\"\n");
    site.broker().stop();
    auto daemon = site.start_daemon();
    const auto metrics_port = [&] {
        const std::string config = read_file(site.config_path());
        const auto at = config.find("listen = \"127.0.0.1:");
        return std::stoi(config.substr(at + 20));
    }();
    const auto metric = [&](const std::string& series) -> double {
        const auto r = run_program(
            "curl", {"-s", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"});
        const auto at = r.out.find("\n" + series + " ");
        return at == std::string::npos ? -1.0 : std::stod(r.out.substr(at + series.size() + 2));
    };
    const std::string dropped =
        "greenrack_self_spool_dropped_total{site=\"it\",sink=\"mqtt\",reason=\"size\"}";
    REQUIRE(wait_until([&] { return metric(dropped) > 0; }, 60s));
    CHECK(metric("greenrack_self_spool_max_bytes{site=\"it\",sink=\"mqtt\"}") == 64 * 1024);
    // The loss is alerted, not only counted: the built-in rule fires on the next tick.
    CHECK(wait_until(
        [&] {
            return metric(
                       "greenrack_alerts{site=\"it\",alertname=\"spool_dropping\",scope=\"site\","
                       "subject=\"it\",severity=\"critical\",alertstate=\"firing\"}") == 1.0;
        },
        10s));
    const double polls_before = metric("greenrack_self_poll_duration_seconds_count{site=\"it\","
                                       "device=\"pdu-1\"}");
    sleep_ms(3000);
    CHECK(daemon->running());
    CHECK(metric("greenrack_self_poll_duration_seconds_count{site=\"it\",device=\"pdu-1\"}") >=
          polls_before + 4);
    CHECK(metric("greenrack_self_spool_bytes{site=\"it\",sink=\"mqtt\"}") <= 64 * 1024);
    CHECK(metric("greenrack_self_spool_pending_records{site=\"it\",sink=\"mqtt\"}") > 0);

    // Back online: the newest data is delivered, the dropped oldest is not.
    site.broker().start();
    Subscriber subscriber(site.broker().uri(), "it-capped", false);
    const std::int64_t back = now_ms();
    REQUIRE(
        wait_until([&] { return subscriber.has_after("device/pdu-1/state", back + 2000); }, 30s));
    REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
    const auto seqs = seqs_of(subscriber.on("device/pdu-1/state"));
    REQUIRE_FALSE(seqs.empty());
    CHECK(*seqs.begin() > 1);                   // the first polls were dropped...
    check_no_gap(seqs, "pdu-1 after the drop"); // ...and nothing after them
    INFO(daemon->err());
    CHECK(daemon->err().find("size cap reached: dropped") != std::string::npos);
    CHECK(daemon->err().find("alert spool_dropping it inactive -> firing (critical)") !=
          std::string::npos);
}
