#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace greenrack::test {

// An AF_UNIX datagram socket bound at `path`, playing systemd's NOTIFY_SOCKET: records what a
// Type=notify service sends (READY=1, WATCHDOG=1, RELOADING=1, STATUS=...).
class FakeNotifySocket {
public:
    explicit FakeNotifySocket(const std::string& path);
    ~FakeNotifySocket();
    FakeNotifySocket(const FakeNotifySocket&) = delete;
    FakeNotifySocket& operator=(const FakeNotifySocket&) = delete;

    // Every datagram that arrives within `span`.
    std::vector<std::string> receive_for(std::chrono::milliseconds span);

private:
    std::string path_;
    int fd_ = -1;
};

// Sets an environment variable for the programs started in its lifetime (they inherit it).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
};

} // namespace greenrack::test
