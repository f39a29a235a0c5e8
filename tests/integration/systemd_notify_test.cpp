// greenrackd speaks systemd's notify protocol (Type=notify, WatchdogSec=): a fake NOTIFY_SOCKET
// datagram listener plays systemd and records what the daemon sends.

#include "tests/integration/site_harness.hpp"
#include "tests/support/fake_notify_socket.hpp"
#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>

using namespace greenrack::test;
using namespace std::chrono_literals;

TEST_CASE("systemd notify: READY=1 once polling is scheduled, WATCHDOG=1 every half watchdog "
          "period from the event loop with a live STATUS, STOPPING=1 on SIGTERM",
          "[systemd]") {
    TempDir dir("greenrack-notify");
    FakeNotifySocket systemd((dir.path() / "notify").string());
    SiteHarness site;
    unsetenv("WATCHDOG_PID");
    ScopedEnv socket_env("NOTIFY_SOCKET", (dir.path() / "notify").string());
    ScopedEnv watchdog_env("WATCHDOG_USEC", "400000"); // WatchdogSec=400ms: a ping every 200 ms
    auto daemon = site.start_daemon();

    const auto messages = systemd.receive_for(3s);
    REQUIRE_FALSE(messages.empty());
    INFO("first: " << messages.front());
    CHECK(std::regex_search(messages.front(),
                            std::regex("^READY=1\nSTATUS=polling [0-9]+ devices: ")));
    std::size_t pings = 0;
    bool devices_ok = false;
    const std::regex ping("^WATCHDOG=1\nSTATUS=polling ([0-9]+) devices: ([0-9]+) ok, "
                          "[0-9]+ partial, [0-9]+ offline; mqtt up, [0-9]+ spooled$");
    for (std::size_t i = 1; i < messages.size(); ++i) {
        INFO(messages[i]);
        std::smatch match;
        CHECK(std::regex_match(messages[i], match, ping));
        if (!match.empty()) {
            ++pings;
            devices_ok = devices_ok || std::stoi(match[2]) > 0;
        }
        CHECK(messages[i].find("READY=1") == std::string::npos); // ready once
    }
    // 3 s at one ping per 200 ms: about 15; a loop that stopped pinging would be restarted.
    CHECK(pings >= 10);
    CHECK(pings <= 16);
    CHECK(devices_ok);

    REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
    const auto last = systemd.receive_for(500ms);
    bool stopping = false;
    for (const auto& message : last) {
        stopping = stopping || message.rfind("STOPPING=1\n", 0) == 0;
    }
    INFO(daemon->err());
    CHECK(stopping);
}

TEST_CASE("systemd notify: without NOTIFY_SOCKET greenrackd runs as a plain process and says "
          "nothing about a watchdog",
          "[systemd]") {
    SiteHarness site;
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    auto daemon = site.start_daemon();
    std::this_thread::sleep_for(1500ms);
    CHECK(daemon->running());
    REQUIRE(daemon->stop(SIGTERM, 10s) == 0);
    INFO(daemon->err());
    CHECK(daemon->err().find("watchdog") == std::string::npos);
    CHECK(daemon->err().find("sd_notify failed") == std::string::npos);
}
