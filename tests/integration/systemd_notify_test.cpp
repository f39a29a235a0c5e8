// greenrackd speaks systemd's notify protocol (Type=notify, WatchdogSec=): a fake NOTIFY_SOCKET
// datagram listener plays systemd and records what the daemon sends.

#include "tests/integration/site_harness.hpp"
#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace greenrack::test;
using namespace std::chrono_literals;

namespace {

// An AF_UNIX datagram socket bound at `path`, as systemd's notify socket.
class FakeNotifySocket {
public:
    explicit FakeNotifySocket(const std::string& path) : path_(path) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (fd_ < 0 || path.size() >= sizeof addr.sun_path) {
            throw std::runtime_error("cannot make the notify socket " + path);
        }
        path.copy(addr.sun_path, path.size());
        if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("cannot bind the notify socket " + path);
        }
        timeval timeout{0, 100'000};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    ~FakeNotifySocket() {
        close(fd_);
        unlink(path_.c_str());
    }
    FakeNotifySocket(const FakeNotifySocket&) = delete;
    FakeNotifySocket& operator=(const FakeNotifySocket&) = delete;

    // Every datagram that arrives within `span`.
    std::vector<std::string> receive_for(std::chrono::milliseconds span) {
        std::vector<std::string> out;
        const auto until = std::chrono::steady_clock::now() + span;
        char buffer[4096];
        while (std::chrono::steady_clock::now() < until) {
            const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
            if (n > 0) {
                out.emplace_back(buffer, static_cast<std::size_t>(n));
            }
        }
        return out;
    }

private:
    std::string path_;
    int fd_ = -1;
};

// Sets environment variables for the daemons started in its lifetime (they inherit them).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() { unsetenv(name_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
};

} // namespace

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
