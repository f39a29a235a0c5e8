#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace greenrack::test {

namespace {

bool can_bind(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("socket failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

} // namespace

std::uint16_t free_port() {
    // Below Linux's ephemeral range (32768-60999 by default): no outgoing connection, of this
    // test or of one running beside it, can take the port between this check and the bind of
    // the program it is meant for. Random, so concurrent tests rarely try the same one.
    constexpr std::uint16_t first = 20000;
    constexpr std::uint16_t last = 32767;
    std::random_device random;
    std::uniform_int_distribution<int> pick(first, last);
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const auto port = static_cast<std::uint16_t>(pick(random));
        if (can_bind(port)) {
            return port;
        }
    }
    throw std::runtime_error("no free port on 127.0.0.1 in 20000-32767");
}

bool port_open(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

} // namespace greenrack::test
