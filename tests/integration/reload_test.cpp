// Live reload (SIGHUP, systemctl reload): a valid new config is applied in the running process
// without losing totals, alert state or queued data, and unchanged devices keep their polling
// schedule; an invalid one is rejected with its precise error while the old one keeps running.
// Real mosquitto, greenrack-sim and greenrackd; a fake NOTIFY_SOCKET plays systemd.

#include "tests/integration/site_harness.hpp"
#include "tests/support/fake_notify_socket.hpp"
#include "tests/support/process.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string prefix = "greenrack/v1/it/";

// Accounting every second, and a rule that fires at the first tick and stays firing
// (devices_stale >= 0 always holds).
const std::string base_extra = "[accounting]\ntick = \"1s\"\npublish_delay = \"1200ms\"\n"
                               "pv = [\"pv-1\"]\n\n"
                               "[[alert]]\nname = \"always\"\nscope = \"site\"\n"
                               "output = \"devices_stale\"\nop = \">=\"\nthreshold = 0\n\n";

// A device more on the plant bus (a unit the simulator does not serve: it is polled and
// published as offline).
const std::string mirror_device = "[[device]]\nid = \"pv-mirror\"\nbus = \"plant\"\n"
                                  "unit_id = 99\nprofile = \"pv_sunspec_103\"\n"
                                  "poll_interval = \"500ms\"\n\n";

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// 1-based line of the first occurrence of `needle`.
std::size_t line_of(const std::string& text, const std::string& needle) {
    const auto at = text.find(needle);
    REQUIRE(at != std::string::npos);
    return static_cast<std::size_t>(
               std::count(text.begin(), text.begin() + static_cast<long>(at), '\n')) +
           1;
}

// Every notify message from RELOADING=1 on, within `span`: [RELOADING=1 ..., READY=1 ...].
std::vector<std::string> reload_messages(FakeNotifySocket& systemd,
                                         std::chrono::milliseconds span) {
    std::vector<std::string> out;
    for (auto& message : systemd.receive_for(span)) {
        if (message.rfind("RELOADING=1", 0) == 0 || message.rfind("READY=1", 0) == 0) {
            out.push_back(std::move(message));
        }
    }
    return out;
}

double number_at(const std::string& payload, const char* object, const char* key) {
    const json state = json::parse(payload);
    return state.at(object).at(key).get<double>();
}

} // namespace

TEST_CASE("reload: SIGHUP applies a valid config without losing totals, alert state, queued "
          "messages or a poll of an unchanged device, and rejects an invalid one with its "
          "file:line:column while the running config keeps working",
          "[reload]") {
    TempDir dir("greenrack-reload");
    FakeNotifySocket systemd((dir.path() / "notify").string());
    SiteHarness site;
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    ScopedEnv socket_env("NOTIFY_SOCKET", (dir.path() / "notify").string());
    site.write_config(base_extra);
    const std::string path = site.config_path().string();
    const std::string config_a = read_file(site.config_path());

    MqttRecorder mqtt(site.broker().uri(), prefix + "#");
    auto daemon = site.start_daemon();

    // Running: totals counting, the rule firing.
    REQUIRE(mqtt.wait_for(
        prefix + "alerts/always/it",
        [](const std::string& p) { return p.find("\"state\":\"firing\"") != std::string::npos; },
        15s));
    REQUIRE(mqtt.wait_for(
        prefix + "site/state",
        [](const std::string& p) { return number_at(p, "totals", "load_wh") > 0.0; }, 10s));
    const json fired = json::parse(*mqtt.wait_for(prefix + "alerts/always/it", 1s));
    sleep_ms(1500);
    const double load_before =
        number_at(mqtt.messages(prefix + "site/state").back(), "totals", "load_wh");
    const double r1_before =
        number_at(mqtt.messages(prefix + "rack/r1/state").back(), "totals", "it_wh");
    REQUIRE(r1_before > 0.0);
    systemd.receive_for(200ms); // drain the start-up READY=1

    SECTION("a valid config is applied live") {
        // Config B: one device more on the plant bus, the rule with another threshold.
        std::string config_b = config_a + mirror_device;
        config_b = replace_once(config_b, "threshold = 0\n", "threshold = -1\n");
        write_file(site.config_path(), config_b);
        REQUIRE(kill(daemon->pid(), SIGHUP) == 0);

        const auto reload = reload_messages(systemd, 1500ms);
        REQUIRE(reload.size() == 2);
        CHECK(reload[0] == "RELOADING=1\nSTATUS=reloading " + path);
        INFO(reload[1]);
        CHECK(reload[1].rfind("READY=1\nSTATUS=polling 7 devices: ", 0) == 0);
        CHECK(reload[1].find("reload 1 applied: devices +1 -0 ~0") != std::string::npos);

        // The new device is polled; the unchanged bus kept its connection.
        CHECK(mqtt.wait_for(prefix + "device/pv-mirror/state", 5s));
        CHECK(wait_until([&] { return daemon->err().find("reloaded ") != std::string::npos; }, 2s));
        CHECK(daemon->err().find("1 of 2 buses kept their connection") != std::string::npos);

        // Config C: [mqtt] changed (the client restarts over its spool) and the mirror removed.
        std::string config_c =
            replace_once(config_a, "reconnect_max = \"2s\"", "reconnect_max = \"3s\"");
        sleep_ms(2000);
        write_file(site.config_path(), config_c);
        REQUIRE(kill(daemon->pid(), SIGHUP) == 0);
        const auto reload_c = reload_messages(systemd, 1500ms);
        REQUIRE(reload_c.size() == 2);
        INFO(reload_c[1]);
        CHECK(reload_c[1].find("reload 2 applied: devices +0 -1 ~0, mqtt restarted") !=
              std::string::npos);
        sleep_ms(3000);

        // Totals went on from where they were (a reset would start near zero).
        const auto sites = mqtt.messages(prefix + "site/state");
        const double load_after = number_at(sites.back(), "totals", "load_wh");
        const double r1_after =
            number_at(mqtt.messages(prefix + "rack/r1/state").back(), "totals", "it_wh");
        CHECK(load_after > load_before);
        CHECK(r1_after > r1_before);
        double previous = 0.0;
        for (const auto& payload : sites) {
            const double load = number_at(payload, "totals", "load_wh");
            CHECK(load >= previous); // never went back
            previous = load;
        }

        // The alert stayed firing since its first firing: no second event, same fired_at.
        const json now = json::parse(mqtt.messages(prefix + "alerts/always/it").back());
        CHECK(now.at("state") == "firing");
        CHECK(now.at("fired_at") == fired.at("fired_at"));
        std::size_t firings = 0;
        for (const auto& payload : mqtt.messages(prefix + "events")) {
            const json event = json::parse(payload);
            firings += event.at("rule") == "always" && event.at("to") == "firing" ? 1 : 0;
        }
        CHECK(firings == 1);

        // The removed device's retained topics are cleared.
        const auto mirror_states = mqtt.messages(prefix + "device/pv-mirror/state");
        const auto mirror_metas = mqtt.messages(prefix + "device/pv-mirror/meta");
        REQUIRE(mirror_states.size() >= 2);
        REQUIRE(mirror_metas.size() >= 2);
        CHECK(mirror_states.front().find("\"device\":\"pv-mirror\"") != std::string::npos);
        CHECK(mirror_states.back().empty());
        CHECK(mirror_metas.back().empty());
    }

    SECTION("an invalid config is rejected and the running one keeps working") {
        const std::string broken =
            replace_once(config_a, "poll_interval = \"500ms\"", "poll_interval = \"soon\"");
        const std::size_t line = line_of(broken, "poll_interval = \"soon\"");
        write_file(site.config_path(), broken);
        REQUIRE(kill(daemon->pid(), SIGHUP) == 0);

        const auto reload = reload_messages(systemd, 1500ms);
        REQUIRE(reload.size() == 2);
        CHECK(reload[0] == "RELOADING=1\nSTATUS=reloading " + path);
        INFO(reload[1]);
        const std::string where = path + ":" + std::to_string(line) + ":17: ";
        CHECK(reload[1].find("reload rejected: " + where) != std::string::npos);
        CHECK(reload[1].find("poll_interval") != std::string::npos);
        CHECK(wait_until(
            [&] {
                return daemon->err().find("reload rejected, the running configuration stays in "
                                          "force: " +
                                          where) != std::string::npos;
            },
            2s));
        sleep_ms(3000);
        CHECK(daemon->running());
        const double load_after =
            number_at(mqtt.messages(prefix + "site/state").back(), "totals", "load_wh");
        CHECK(load_after > load_before);

        // A config that would need a restart is refused too, with the reason.
        write_file(site.config_path(), replace_once(config_a, "id = \"it\"", "id = \"elsewhere\""));
        REQUIRE(kill(daemon->pid(), SIGHUP) == 0);
        const auto refused = reload_messages(systemd, 1500ms);
        REQUIRE(refused.size() == 2);
        INFO(refused[1]);
        CHECK(refused[1].find("reload rejected: site.id changed from \"it\" to \"elsewhere\": "
                              "this needs a restart") != std::string::npos);
    }

    // Either way: every poll of an unchanged device was published, on schedule (500 ms): the
    // sequence has no hole and no two readings are more than two intervals apart. pdu-1's bus
    // kept its connection; the plant bus (pv-1, grid-meter) was reopened for pv-mirror.
    for (const char* device : {"pdu-1", "pv-1", "grid-meter"}) {
        INFO(device);
        std::set<std::uint64_t> seqs;
        std::map<std::uint64_t, std::int64_t> ts_of;
        for (const auto& payload : mqtt.messages(prefix + "device/" + device + "/state")) {
            const json state = json::parse(payload);
            seqs.insert(state.at("seq").get<std::uint64_t>());
            ts_of[state.at("seq").get<std::uint64_t>()] = state.at("ts").get<std::int64_t>();
        }
        REQUIRE(seqs.size() > 20);
        CHECK(*seqs.rbegin() - *seqs.begin() + 1 == seqs.size());
        std::int64_t widest = 0;
        for (auto it = std::next(ts_of.begin()); it != ts_of.end(); ++it) {
            widest = std::max(widest, it->second - std::prev(it)->second);
        }
        CHECK(widest < 1000);
    }

    REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
}
