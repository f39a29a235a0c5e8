#pragma once

#include "tests/support/process.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>

namespace greenrack::test {

// A real mosquitto broker on a free 127.0.0.1 port, for the lifetime of the object.
class MosquittoBroker {
public:
    explicit MosquittoBroker(const std::filesystem::path& dir);
    std::uint16_t port() const { return port_; }
    std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    void stop();
    void start(); // (re)starts on the same port

private:
    std::filesystem::path dir_;
    std::uint16_t port_;
    std::unique_ptr<Process> process_;
};

// Path of an executable found on PATH or in /usr/sbin, /usr/bin (mosquitto lives in /usr/sbin).
std::string find_program(const std::string& name);

} // namespace greenrack::test
