#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace greenrack::test {

// A scriptable Modbus TCP server on a free 127.0.0.1 port, for transport and bus-worker tests.
// Each unit id has holding and input registers 0..size-1 with value = address + 1000 * unit
// (holding) or address + 2000 * unit (input), unless set explicitly. Behaviour can be changed
// while it runs: units that never answer, ranges answered with an exception, a delay before
// every answer. It records every request it receives.
class ModbusTestServer {
public:
    struct Request {
        int unit_id;
        int function;
        int address;
        int count;
    };

    explicit ModbusTestServer(std::uint16_t registers = 200);
    ~ModbusTestServer();
    ModbusTestServer(const ModbusTestServer&) = delete;
    ModbusTestServer& operator=(const ModbusTestServer&) = delete;

    std::uint16_t port() const { return port_; }

    void set_register(int unit, int function, int address, std::uint16_t value);
    void set_silent(int unit, bool silent);              // never answer this unit
    void set_exception(int unit, int address, int code); // reads touching address -> exception
    void clear_exceptions();
    void set_delay(std::chrono::milliseconds delay); // before every answer
    void close_clients();                            // drop every open connection

    std::vector<Request> requests() const;
    std::size_t connections_accepted() const { return accepted_.load(); }

private:
    void run();
    std::vector<std::uint8_t> answer(const std::uint8_t* frame, std::size_t length);

    std::uint16_t registers_;
    std::uint16_t port_ = 0;
    int listen_fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<bool> close_clients_{false};
    std::atomic<std::size_t> accepted_{0};
    mutable std::mutex mutex_;
    std::map<std::pair<int, int>, std::vector<std::uint16_t>> tables_; // (unit, fc) -> registers
    std::set<int> silent_;
    std::map<std::pair<int, int>, int> exceptions_; // (unit, address) -> code
    std::chrono::milliseconds delay_{0};
    std::vector<Request> requests_;
    std::thread thread_;
};

} // namespace greenrack::test
