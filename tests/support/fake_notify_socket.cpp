#include "tests/support/fake_notify_socket.hpp"

#include <cstdlib>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace greenrack::test {

FakeNotifySocket::FakeNotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path.size() >= sizeof addr.sun_path) {
        throw std::runtime_error("cannot make the notify socket " + path);
    }
    path.copy(addr.sun_path, path.size());
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd_);
        throw std::runtime_error("cannot bind the notify socket " + path);
    }
    timeval timeout{0, 100'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

FakeNotifySocket::~FakeNotifySocket() {
    close(fd_);
    unlink(path_.c_str());
}

std::vector<std::string> FakeNotifySocket::receive_for(std::chrono::milliseconds span) {
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

ScopedEnv::ScopedEnv(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
    unsetenv(name_);
}

} // namespace greenrack::test
