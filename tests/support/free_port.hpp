#pragma once

#include <cstdint>

namespace greenrack::test {

// A TCP port on 127.0.0.1 that was free a moment ago (a random port in 20000-32767, below the
// ephemeral range, that could be bound).
std::uint16_t free_port();
// True when something accepts TCP connections on 127.0.0.1:port.
bool port_open(std::uint16_t port);

} // namespace greenrack::test
