// Device faults (issue 6): a device that misbehaves on the wire only ever hurts itself.
//
// Real greenrack-sim, real mosquitto and the real greenrackd. The PDU sits alone on bus "faulty",
// reached through a FaultProxy (tests/support/fault_proxy.hpp) in front of the simulator; the
// five plant devices are split over buses "plant-a" and "plant-b", connected to the simulator
// directly. The proxy is switched through every fault mode in turn, each followed by `pass`,
// while greenrackd keeps running. Measured from what the daemon publishes:
//
// * on time: every device's polls are scheduled on UTC multiples of its poll interval; a poll is
//   on time when its reading (the `ts` of its MQTT `device/<id>/state` message, taken when the
//   poll completed) arrives within one interval plus `on_time_tolerance` of its slot, each
//   reading serving at most one slot. A poll refused as an overrun or delayed past that leaves
//   its slot unserved. The plant devices must serve >= 99 % of their slots in every phase.
// * stale: `greenrack_device_up` of the PDU on /metrics drops to 0 (last reading offline or older
//   than 3 poll intervals) and `greenrack_self_stale_devices` is exactly 1 (no plant device).
// * recovery: after `pass`, a PDU reading of the same quality as before the fault, without
//   restarting anything.

#include "tests/integration/site_harness.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/free_port.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

const std::string source_dir = GREENRACK_SOURCE_DIR;
const std::string prefix = "greenrack/v1/faults/";
const std::string faulty_device = "pdu-1";
const std::vector<std::string> healthy_devices = {"pv-1", "wind-1", "battery-1", "grid-meter",
                                                  "facility-meter"};

constexpr milliseconds healthy_interval{250};
constexpr milliseconds faulty_interval{500};
constexpr milliseconds faulty_timeout{300};
constexpr milliseconds on_time_tolerance{100};
// Time a poll may complete before its slot (the poller aligns to UTC once, then runs on the
// steady clock).
constexpr milliseconds early_slack{20};

// How long each fault is held: at least this, and at least `stale_hold` after the PDU went stale.
constexpr milliseconds fault_min{3000};
constexpr milliseconds stale_hold{1500};
constexpr milliseconds fault_max{8000};
// Bounds of the assertions. Stale: the next poll (<= 1 interval) fails (<= response timeout, or
// the byte-timeout of a truncated reply), plus a scrape period and scheduling slack.
constexpr milliseconds stale_bound{2500};
// Recovery: the reconnect backoff (<= reconnect_max = 1 s) + one poll + slack; after exception
// replies the quarantine (30 s, not configurable) must run out first.
constexpr milliseconds recover_bound{4000};
constexpr milliseconds recover_bound_quarantine{34000};

std::int64_t now_ms() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string device_block(const std::string& id, const std::string& bus, int unit,
                         const std::string& profile, milliseconds interval) {
    return "[[device]]\nid = \"" + id + "\"\nbus = \"" + bus +
           "\"\nunit_id = " + std::to_string(unit) + "\nprofile = \"" + profile +
           "\"\npoll_interval = \"" + std::to_string(interval.count()) + "ms\"\n\n";
}

std::string daemon_config(SiteHarness& site, std::uint16_t proxy_port, std::uint16_t metrics_port) {
    const std::string plant_port = std::to_string(site.listener_port("plant"));
    std::ostringstream config;
    config << "[site]\nid = \"faults\"\n\n"
           << "[daemon]\nstate_directory = \"" << (site.dir() / "state").string() << "\"\n"
           << "profile_dirs = [\"" << source_dir << "/config/profiles\"]\n\n"
           << "[mqtt]\nuri = \"" << site.broker().uri() << "\"\nreconnect_max = \"2s\"\n\n"
           << "[prometheus]\nlisten = \"127.0.0.1:" << metrics_port << "\"\n\n"
           << "[accounting]\nmax_hold = \"1s\"\n\n"
           << "[[bus]]\nid = \"faulty\"\nhost = \"127.0.0.1\"\nport = " << proxy_port << "\n"
           << "response_timeout = \"" << faulty_timeout.count() << "ms\"\n"
           << "connect_timeout = \"500ms\"\nreconnect_min = \"200ms\"\nreconnect_max = \"1s\"\n"
           << "max_consecutive_failures = 3\n\n"
           << "[[bus]]\nid = \"plant-a\"\nhost = \"127.0.0.1\"\nport = " << plant_port << "\n"
           << "response_timeout = \"300ms\"\n\n"
           << "[[bus]]\nid = \"plant-b\"\nhost = \"127.0.0.1\"\nport = " << plant_port << "\n"
           << "response_timeout = \"300ms\"\n\n"
           << device_block("pdu-1", "faulty", 3, "rack_pdu_px3_24", faulty_interval)
           << device_block("pv-1", "plant-a", 1, "pv_sunspec_103", healthy_interval)
           << device_block("wind-1", "plant-a", 10, "wind_midnite_classic", healthy_interval)
           << device_block("battery-1", "plant-a", 20, "battery_generic", healthy_interval)
           << device_block("grid-meter", "plant-b", 30, "meter_grid_4q", healthy_interval)
           << device_block("facility-meter", "plant-b", 31, "meter_facility_umg604",
                           healthy_interval)
           << "[[rack]]\nid = \"r1\"\noutlets = [{ device = \"pdu-1\", from = 1, to = 12 }]\n\n"
           << "[[rack]]\nid = \"r2\"\noutlets = [{ device = \"pdu-1\", from = 13, to = 24 }]\n";
    return config.str();
}

// GET /metrics over a plain socket (scraped ~10 times a second: no curl process per scrape).
std::optional<std::string> scrape(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    timeval timeout{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const std::string request =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    std::string response;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
        char chunk[16384];
        ssize_t n = 0;
        while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0) {
            response.append(chunk, static_cast<std::size_t>(n));
        }
    }
    close(fd);
    const auto body = response.find("\r\n\r\n");
    if (response.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) {
        return std::nullopt;
    }
    return response.substr(body + 4);
}

// Value of the first series of `name` whose labels contain `label` ("" for any).
std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::string& label = "") {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(name, 0) == 0 && line.size() > name.size() &&
            (line[name.size()] == '{' || line[name.size()] == ' ') &&
            (label.empty() || line.find(label) != std::string::npos)) {
            return std::stod(line.substr(line.rfind(' ') + 1));
        }
    }
    return std::nullopt;
}

struct Reading {
    std::int64_t ts = 0; // UTC ms
    std::int64_t seq = 0;
    std::string quality;
};

// Every `device/<id>/state` message received so far, parsed, per device.
class ReadingLog {
public:
    explicit ReadingLog(MqttRecorder& mqtt) : mqtt_(mqtt) {}

    const std::vector<Reading>& of(const std::string& device) {
        auto& parsed = parsed_[device];
        const auto messages = mqtt_.messages(prefix + "device/" + device + "/state");
        for (std::size_t i = parsed.size(); i < messages.size(); ++i) {
            const auto state = json::parse(messages[i]);
            parsed.push_back({state["ts"].get<std::int64_t>(), state["seq"].get<std::int64_t>(),
                              state["quality"].get<std::string>()});
        }
        return parsed;
    }

private:
    MqttRecorder& mqtt_;
    std::map<std::string, std::vector<Reading>> parsed_;
};

struct OnTime {
    std::size_t slots = 0;
    std::size_t served = 0;
    double ratio() const { return slots == 0 ? 0.0 : static_cast<double>(served) / slots; }
    OnTime& operator+=(const OnTime& other) {
        slots += other.slots;
        served += other.served;
        return *this;
    }
};

// Slots of `interval` (UTC multiples) in [from, to) whose deadline has passed by `to`, and how
// many of them a reading served on time (greedy in time order: optimal for equal windows).
OnTime on_time(const std::vector<Reading>& readings, milliseconds interval, std::int64_t from,
               std::int64_t to) {
    const std::int64_t step = interval.count();
    const std::int64_t window = step + on_time_tolerance.count();
    std::vector<std::int64_t> ts;
    for (const auto& reading : readings) {
        ts.push_back(reading.ts);
    }
    std::sort(ts.begin(), ts.end());
    OnTime result;
    auto next = ts.begin();
    for (std::int64_t slot = (from + step - 1) / step * step; slot + window <= to; slot += step) {
        ++result.slots;
        while (next != ts.end() && *next < slot - early_slack.count()) {
            ++next; // too early for this slot: belonged to (or was surplus of) an earlier one
        }
        if (next != ts.end() && *next < slot + window) {
            ++result.served;
            ++next;
        }
    }
    return result;
}

struct Sample {
    std::int64_t at = 0;
    double up = -1;
    double stale = -1;
};

struct PhaseReport {
    FaultMode mode = FaultMode::pass;
    OnTime others;
    std::optional<std::int64_t> stale_after_ms;
    std::size_t up_again_while_faulty = 0; // scrapes with the PDU up after it went stale
    std::size_t others_stale = 0;          // scrapes where a plant device was stale
    std::size_t scrapes = 0;
    std::size_t fault_offline = 0, fault_partial = 0, fault_ok = 0; // PDU readings in the fault
    std::optional<std::int64_t> recovered_after_ms;
    std::uint64_t proxy_requests = 0;
    double connect_errors = 0;
};

} // namespace

TEST_CASE("device faults: a device behind a blackholed, refused, reset, truncating, garbled, "
          "desynchronised, excepting, lossy or slow link goes stale and recovers by itself "
          "while devices on other buses keep polling on time",
          "[faults][modbus][solo]") {
    const auto started = std::chrono::steady_clock::now();
    SiteHarness site;
    FaultProxy proxy(site.listener_port("pdus"));
    const std::uint16_t metrics_port = free_port();
    write_file(site.config_path(), daemon_config(site, proxy.port(), metrics_port));
    MqttRecorder mqtt(site.broker().uri(), prefix + "device/+/state");
    ReadingLog log(mqtt);
    auto daemon = site.start_daemon();

    // Everything answers through the transparent proxy first.
    for (const auto& id : healthy_devices) {
        INFO("device " << id);
        REQUIRE(mqtt.wait_for(prefix + "device/" + id + "/state", 20s).has_value());
    }
    const auto first_pdu = mqtt.wait_for(
        prefix + "device/" + faulty_device + "/state",
        [](const std::string& p) { return json::parse(p)["quality"] != "offline"; }, 20s);
    REQUIRE(first_pdu.has_value());
    const std::string baseline = json::parse(*first_pdu)["quality"].get<std::string>();
    INFO("PDU quality through the transparent proxy: " << baseline);
    REQUIRE(wait_until(
        [&] {
            auto text = scrape(metrics_port);
            return text && metric(*text, "greenrack_device_up", "device=\"pdu-1\"") == 1.0;
        },
        10s));

    const auto pdu_good_after = [&](std::int64_t after) -> std::optional<std::int64_t> {
        for (const auto& reading : log.of(faulty_device)) {
            if (reading.ts > after && reading.quality == baseline) {
                return reading.ts;
            }
        }
        return std::nullopt;
    };
    const auto others_on_time = [&](std::int64_t from, std::int64_t to) {
        OnTime total;
        for (const auto& id : healthy_devices) {
            total += on_time(log.of(id), healthy_interval, from, to);
        }
        return total;
    };

    std::vector<PhaseReport> reports;
    OnTime overall;
    const std::int64_t run_from = now_ms();
    for (FaultMode mode : all_fault_modes) {
        if (mode == FaultMode::pass) {
            continue;
        }
        PhaseReport report;
        report.mode = mode;
        const bool readings_fail = mode != FaultMode::every_third;
        const double connect_errors_before =
            metric(scrape(metrics_port).value_or(""), "greenrack_self_modbus_errors_total",
                   "bus=\"faulty\",kind=\"connect\"")
                .value_or(0.0);

        // Fault.
        const std::int64_t fault_at = now_ms();
        proxy.set_mode(mode);
        while (true) {
            const std::int64_t now = now_ms();
            const std::int64_t held = now - fault_at;
            const bool long_enough =
                held >= fault_min.count() &&
                (!readings_fail ||
                 (report.stale_after_ms && held >= *report.stale_after_ms + stale_hold.count()));
            if (long_enough || held >= fault_max.count()) {
                break;
            }
            sleep_ms(100);
            const auto text = scrape(metrics_port);
            if (!text) {
                continue;
            }
            const double up = metric(*text, "greenrack_device_up", "device=\"pdu-1\"").value_or(-1);
            const double stale = metric(*text, "greenrack_self_stale_devices").value_or(-1);
            ++report.scrapes;
            if (up == 0.0 && !report.stale_after_ms) {
                report.stale_after_ms = now_ms() - fault_at;
            } else if (up != 0.0 && report.stale_after_ms) {
                ++report.up_again_while_faulty;
            }
            // Every plant device is up: the only stale device, if any, is the PDU.
            if (stale != (up == 0.0 ? 1.0 : 0.0)) {
                ++report.others_stale;
            }
        }
        const std::int64_t pass_at = now_ms();
        report.connect_errors =
            metric(scrape(metrics_port).value_or(""), "greenrack_self_modbus_errors_total",
                   "bus=\"faulty\",kind=\"connect\"")
                .value_or(0.0) -
            connect_errors_before;
        proxy.set_mode(FaultMode::pass);
        report.proxy_requests = proxy.requests(mode);

        // Recovery, without touching the daemon.
        const auto bound = mode == FaultMode::exception ? recover_bound_quarantine : recover_bound;
        std::optional<std::int64_t> good_at;
        wait_until(
            [&] {
                good_at = pdu_good_after(pass_at);
                return good_at.has_value();
            },
            bound + 2s);
        if (good_at) {
            report.recovered_after_ms = *good_at - pass_at;
            wait_until(
                [&] {
                    auto text = scrape(metrics_port);
                    return text && metric(*text, "greenrack_device_up", "device=\"pdu-1\"") == 1.0;
                },
                5s);
        }
        for (const auto& reading : log.of(faulty_device)) {
            if (reading.ts > fault_at && reading.ts <= pass_at) {
                report.fault_offline += reading.quality == "offline" ? 1 : 0;
                report.fault_partial += reading.quality == "partial" ? 1 : 0;
                report.fault_ok += reading.quality == "ok" ? 1 : 0;
            }
        }

        // Plant devices over the whole phase, fault and recovery.
        const std::int64_t phase_end = now_ms();
        sleep_ms(static_cast<int>((healthy_interval + on_time_tolerance).count()) + 300);
        report.others = others_on_time(fault_at, phase_end);
        overall += report.others;
        reports.push_back(report);

        INFO("fault " << to_string(mode));
        CHECK(report.others.slots >= 40);
        CHECK(report.others.ratio() >= 0.99);
        CHECK(report.others_stale == 0);
        CHECK(report.scrapes >= 10);
        if (mode == FaultMode::refuse) {
            CHECK(report.connect_errors >= 1);
        } else {
            CHECK(report.proxy_requests > 0);
        }
        if (readings_fail) {
            REQUIRE(report.stale_after_ms.has_value());
            CHECK(*report.stale_after_ms <= stale_bound.count());
            CHECK(report.up_again_while_faulty == 0);
            CHECK(report.fault_offline > 0);
        } else {
            // Every third request answered: some polls fail, some still bring data.
            CHECK(report.fault_offline > 0);
            CHECK(report.fault_partial + report.fault_ok > 0);
        }
        REQUIRE(report.recovered_after_ms.has_value());
        CHECK(*report.recovered_after_ms <= bound.count());
    }
    const std::int64_t run_to = now_ms() - (healthy_interval + on_time_tolerance).count();

    std::cout << "device faults: plant devices on time, PDU time to stale and to recover\n";
    for (const auto& r : reports) {
        std::cout << "  " << std::left << std::setw(16) << to_string(r.mode) << std::right
                  << " on time " << r.others.served << "/" << r.others.slots << " (" << std::fixed
                  << std::setprecision(2) << 100.0 * r.others.ratio() << " %)"
                  << ", stale after "
                  << (r.stale_after_ms ? std::to_string(*r.stale_after_ms) + " ms" : "-")
                  << ", recovered after "
                  << (r.recovered_after_ms ? std::to_string(*r.recovered_after_ms) + " ms" : "-")
                  << ", PDU readings offline/partial/ok " << r.fault_offline << "/"
                  << r.fault_partial << "/" << r.fault_ok << ", proxy requests " << r.proxy_requests
                  << ", connect errors " << r.connect_errors << "\n";
    }
    const auto text = scrape(metrics_port).value_or("");
    for (const char* bus : {"faulty", "plant-a", "plant-b"}) {
        std::cout << "  overruns on " << bus << ": "
                  << metric(text, "greenrack_self_poll_overruns_total",
                            std::string("bus=\"") + bus + "\"")
                         .value_or(-1)
                  << "\n";
    }
    std::cout << "  overall on time " << overall.served << "/" << overall.slots << "\n";

    // Across the whole run (every phase back to back, gaps between phases included).
    const OnTime whole = others_on_time(run_from, run_to);
    INFO("plant devices on time over the whole run: " << whole.served << "/" << whole.slots);
    CHECK(whole.ratio() >= 0.99);

    // The daemon sent nothing but reads (FC03, FC04) through the proxy.
    const auto codes = proxy.function_codes();
    std::uint64_t reads = 0;
    for (const auto& [code, count] : codes) {
        INFO("function code " << code << " sent " << count << " times");
        CHECK((code == 3 || code == 4));
        reads += count;
    }
    CHECK(reads > 0);
    CHECK(reads == proxy.requests().size());

    // Still the same process, and it stops cleanly.
    CHECK(daemon->running());
    CHECK(daemon->stop(SIGTERM, 10s) == 0);
    std::cout << "  wall time "
              << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                          started)
                     .count()
              << " ms\n";
}
