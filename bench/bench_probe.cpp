// greenrack-bench-probe: an MQTT subscriber that measures the device states that arrive.
//
//   greenrack-bench-probe --mqtt URI --topic FILTER --devices N --interval-ms 1000
//       --warmup-s W --measure-s M --out FILE.json [--grace-s 2]
//
// Subscribes (QoS 1) to FILTER and takes, from every message, its receive time and the numbers
// after "ts", "seq" and "poll_ms" (string search, no JSON parse); the device is the topic level
// before the last (`.../device/<id>/state`). Messages whose ts falls in [t0 + W, t0 + W + M),
// t0 = the probe's start, are measured; the window's start is moved up to the next multiple of
// the interval (at most one interval later), so that it holds whole poll slots. The probe waits
// --grace-s more after the window for the window's last messages, then writes FILE.json and exits.
// Retained messages (replayed by the broker on subscribing, from before the probe started) are
// skipped.

#include "bench/bench_support.hpp"

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <mutex>
#include <string>
#include <string_view>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace greenrack::bench {
namespace {

struct Options {
    std::string mqtt_uri;
    std::string topic;
    std::int64_t devices = 0;
    std::int64_t interval_ms = 1000;
    std::int64_t warmup_s = 0;
    std::int64_t measure_s = 0;
    std::int64_t grace_s = 2;
    std::string out;
};

[[noreturn]] void usage_error(const std::string& message) {
    std::cerr << "greenrack-bench-probe: " << message << "\n"
              << "usage: greenrack-bench-probe --mqtt URI --topic FILTER --devices N "
                 "--interval-ms 1000 --warmup-s W --measure-s M --out FILE.json [--grace-s 2]\n";
    std::exit(2);
}

std::int64_t parse_number(std::string_view name, std::string_view text, std::int64_t min,
                          std::int64_t max) {
    const auto value = parse_integer(text, min, max);
    if (!value) {
        usage_error(std::string(name) + " must be a number " + std::to_string(min) + ".." +
                    std::to_string(max) + ", got '" + std::string(text) + "'");
    }
    return *value;
}

Options parse_options(int argc, char** argv) {
    Options options;
    bool measure_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            usage_error("measures the device states published on an MQTT broker");
        }
        if (i + 1 >= argc) {
            usage_error("missing value for " + std::string(arg));
        }
        const std::string_view value = argv[++i];
        if (arg == "--mqtt") {
            options.mqtt_uri = value;
        } else if (arg == "--topic") {
            options.topic = value;
        } else if (arg == "--devices") {
            options.devices = parse_number(arg, value, 0, 10'000'000);
        } else if (arg == "--interval-ms") {
            options.interval_ms = parse_number(arg, value, 1, 3'600'000);
        } else if (arg == "--warmup-s") {
            options.warmup_s = parse_number(arg, value, 0, 365LL * 86400);
        } else if (arg == "--measure-s") {
            options.measure_s = parse_number(arg, value, 1, 365LL * 86400);
            measure_given = true;
        } else if (arg == "--grace-s") {
            options.grace_s = parse_number(arg, value, 0, 3600);
        } else if (arg == "--out") {
            options.out = value;
        } else {
            usage_error("unknown option " + std::string(arg));
        }
    }
    if (options.mqtt_uri.empty() || options.topic.empty() || options.out.empty() ||
        !measure_given) {
        usage_error("--mqtt, --topic, --measure-s and --out are required");
    }
    return options;
}

double now_unix_ms() {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()) /
           1000.0;
}

// Waits until the UTC time `until_ms`. False when SIGINT or SIGTERM arrived (blocked in every
// thread, taken only here).
bool wait_until(double until_ms, const sigset_t& signals) {
    while (true) {
        const double left_ms = until_ms - now_unix_ms();
        timespec timeout{};
        if (left_ms > 0) {
            const auto left_ns = static_cast<std::int64_t>(left_ms * 1e6);
            timeout.tv_sec = static_cast<time_t>(left_ns / 1'000'000'000);
            timeout.tv_nsec = static_cast<long>(left_ns % 1'000'000'000);
        }
        if (sigtimedwait(&signals, nullptr, &timeout) > 0) {
            return false;
        }
        if (left_ms <= 0) {
            return true;
        }
    }
}

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
        return std::hash<std::string_view>{}(text);
    }
};

struct DeviceCounts {
    std::uint64_t messages = 0; // in the window
    std::int64_t last_seq = -1; // last seq in the window
};

double window_start(const Options& options, double t0_ms) {
    return measurement_window_start(t0_ms, static_cast<double>(options.warmup_s) * 1000.0,
                                    static_cast<double>(options.interval_ms));
}

// What arrived. on_message runs on Paho's thread; the main thread reads the results after
// stop(), which waits for a running on_message to finish.
class Collector {
public:
    Collector(const Options& options, double t0_ms)
        : window_start_(window_start(options, t0_ms)),
          window_end_(window_start_ + static_cast<double>(options.measure_s) * 1000.0),
          interval_ms_(static_cast<double>(options.interval_ms)) {
        const auto expected = static_cast<std::size_t>(options.devices * options.measure_s * 1000 /
                                                       options.interval_ms);
        const std::size_t room = std::min<std::size_t>(expected + expected / 4 + 1024, 50'000'000);
        latency_.reserve(room);
        lateness_.reserve(room);
        devices_.reserve(static_cast<std::size_t>(options.devices) * 2 + 16);
    }

    void on_message(const mqtt::const_message_ptr& message) {
        const double received = now_unix_ms();
        const std::lock_guard lock(mutex_);
        if (stopped_) {
            return;
        }
        if (message->is_retained()) {
            ++retained_skipped_;
            return;
        }
        if (!first_message_ms_) {
            first_message_ms_ = received;
        }
        const std::string_view device = device_from_topic(message->get_topic());
        const std::string& payload = message->get_payload_str();
        const auto ts = find_number_field(payload, "ts");
        const auto seq = find_number_field(payload, "seq");
        if (device.empty() || !ts || !seq) {
            ++malformed_;
            return;
        }
        auto it = devices_.find(device);
        if (it == devices_.end()) {
            it = devices_.emplace(std::string(device), DeviceCounts{}).first;
        }
        if (*ts < window_start_ || *ts >= window_end_) {
            return;
        }
        DeviceCounts& counts = it->second;
        const auto sequence = static_cast<std::int64_t>(*seq);
        if (counts.last_seq >= 0) {
            if (sequence <= counts.last_seq) {
                ++duplicates_; // a QoS 1 redelivery (or a restarted publisher)
                return;
            }
            seq_gaps_ += static_cast<std::uint64_t>(sequence - counts.last_seq - 1);
        }
        counts.last_seq = sequence;
        ++counts.messages;
        ++messages_;
        latency_.push_back(received - *ts);
        if (const auto poll_ms = find_number_field(payload, "poll_ms")) {
            lateness_.push_back(lateness_ms(*ts, *poll_ms, interval_ms_));
        }
    }

    void stop() {
        const std::lock_guard lock(mutex_);
        stopped_ = true;
    }

    // After stop().
    nlohmann::ordered_json report(std::int64_t devices_expected, double expected) {
        std::sort(latency_.begin(), latency_.end());
        std::sort(lateness_.begin(), lateness_.end());
        const auto value = [](std::optional<double> v) {
            return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
        };
        std::uint64_t seen = 0;
        std::uint64_t per_device_min = std::numeric_limits<std::uint64_t>::max();
        std::uint64_t per_device_max = 0;
        for (const auto& [id, counts] : devices_) {
            if (counts.messages > 0) {
                ++seen;
                per_device_min = std::min(per_device_min, counts.messages);
                per_device_max = std::max(per_device_max, counts.messages);
            }
        }
        // A device that was expected but sent nothing in the window has 0 messages.
        if (seen == 0 || seen < static_cast<std::uint64_t>(devices_expected)) {
            per_device_min = 0;
        }
        nlohmann::ordered_json out;
        out["devices_seen"] = seen;
        out["messages"] = messages_;
        out["expected"] = expected;
        out["delivered_ratio"] =
            expected > 0 ? nlohmann::ordered_json(static_cast<double>(messages_) / expected)
                         : nlohmann::ordered_json(nullptr);
        out["seq_gaps"] = seq_gaps_;
        out["first_message_unix_ms"] = value(first_message_ms_);
        out["latency_ms"] = {{"p50", value(percentile_nearest_rank(latency_, 50))},
                             {"p90", value(percentile_nearest_rank(latency_, 90))},
                             {"p99", value(percentile_nearest_rank(latency_, 99))},
                             {"max", value(percentile_nearest_rank(latency_, 100))}};
        out["lateness_ms"] = {{"p50", value(percentile_nearest_rank(lateness_, 50))},
                              {"p99", value(percentile_nearest_rank(lateness_, 99))},
                              {"max", value(percentile_nearest_rank(lateness_, 100))}};
        out["per_device_min"] = per_device_min;
        out["per_device_max"] = per_device_max;
        out["duplicates"] = duplicates_;
        out["malformed"] = malformed_;
        out["retained_skipped"] = retained_skipped_;
        out["window_start_unix_ms"] = window_start_;
        out["window_end_unix_ms"] = window_end_;
        return out;
    }

private:
    const double window_start_;
    const double window_end_;
    const double interval_ms_;
    std::mutex mutex_;
    bool stopped_ = false;
    std::optional<double> first_message_ms_;
    std::unordered_map<std::string, DeviceCounts, StringHash, std::equal_to<>> devices_;
    std::vector<double> latency_;
    std::vector<double> lateness_;
    std::uint64_t messages_ = 0;
    std::uint64_t seq_gaps_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t malformed_ = 0;
    std::uint64_t retained_skipped_ = 0;
};

int run(const Options& options) {
    const double t0 = now_unix_ms();

    // Blocked before Paho starts its threads, which inherit the mask; taken by wait_until.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Collector collector(options, t0);
    const double window_end =
        window_start(options, t0) + static_cast<double>(options.measure_s) * 1000.0;
    const double stop_at = window_end + static_cast<double>(options.grace_s) * 1000.0;

    mqtt::async_client client(options.mqtt_uri, "greenrack-bench-probe-" + std::to_string(getpid()),
                              nullptr);
    std::atomic<bool> subscribed{false};
    client.set_message_callback(
        [&collector](mqtt::const_message_ptr message) { collector.on_message(message); });
    // With a clean session the subscription is lost with the connection: subscribe again.
    client.set_connected_handler([&client, &subscribed, &options](const std::string&) {
        if (subscribed) {
            client.subscribe(options.topic, 1);
        }
    });
    const auto connect = mqtt::connect_options_builder()
                             .clean_session(true)
                             .keep_alive_interval(std::chrono::seconds(30))
                             .connect_timeout(std::chrono::seconds(5))
                             .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(2))
                             .finalize();
    // The broker may come up a little after the probe: retry until the window is over.
    bool interrupted = false;
    while (!client.is_connected()) {
        try {
            client.connect(connect)->wait();
        } catch (const mqtt::exception& e) {
            if (now_unix_ms() >= window_end) {
                std::cerr << "greenrack-bench-probe: cannot connect to " << options.mqtt_uri << ": "
                          << e.what() << "\n";
                return 1;
            }
            if (!wait_until(now_unix_ms() + 500, signals)) {
                return 1;
            }
        }
    }
    try {
        client.subscribe(options.topic, 1)->wait();
        subscribed = true;
    } catch (const mqtt::exception& e) {
        std::cerr << "greenrack-bench-probe: cannot subscribe to " << options.topic << ": "
                  << e.what() << "\n";
        return 1;
    }
    if (!wait_until(stop_at, signals)) {
        interrupted = true;
        std::cerr << "greenrack-bench-probe: interrupted, writing what was measured so far\n";
    }
    collector.stop();
    try {
        client.disconnect(std::chrono::milliseconds(200))->wait_for(std::chrono::seconds(1));
    } catch (const mqtt::exception&) {
        // Stopping anyway.
    }

    const double expected = static_cast<double>(options.devices) *
                            static_cast<double>(options.measure_s) * 1000.0 /
                            static_cast<double>(options.interval_ms);
    const auto report = collector.report(options.devices, expected);
    std::ofstream out(options.out);
    out << report.dump(2) << "\n";
    out.close();
    if (!out) {
        std::cerr << "greenrack-bench-probe: cannot write " << options.out << "\n";
        return 1;
    }
    return interrupted ? 1 : 0;
}

} // namespace
} // namespace greenrack::bench

int main(int argc, char** argv) {
    return greenrack::bench::run(greenrack::bench::parse_options(argc, argv));
}
