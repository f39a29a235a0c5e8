#pragma once

#include "drivers/sim/pdu_handler.hpp"
#include "drivers/sim/rtu_port.hpp"
#include "drivers/sim/scenario.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct _modbus; // libmodbus context (modbus_t)

namespace greenrack::sim {

// Modbus server: TCP over libmodbus (one listening socket per TCP [[listener]], any number of
// clients) and RTU serial lines (rtu_port.hpp), all served from one thread by a select() loop.
// The server only frames: the request PDU goes to a handler, which writes the response PDU (or
// nothing: no answer).
class ModbusServer {
public:
    using Handler = PduHandler;

    // Binds every TCP listener on bind_address (IPv4/IPv6 literal or host name; port 0 picks a
    // free port, see ports()) and opens every serial one. Throws std::runtime_error naming the
    // listener on failure.
    ModbusServer(const std::string& bind_address, const std::vector<ListenerSpec>& listeners);
    ~ModbusServer();
    ModbusServer(const ModbusServer&) = delete;
    ModbusServer& operator=(const ModbusServer&) = delete;

    // Bound TCP port of each listener, in scenario order (0 for serial listeners).
    const std::vector<std::uint16_t>& ports() const { return ports_; }
    std::size_t client_count() const { return clients_.size(); }

    // Waits up to `timeout` for activity, accepts new clients and answers one request from each
    // client that sent one. Returns the number of requests handled.
    std::size_t poll(std::chrono::milliseconds timeout, const Handler& handler);

private:
    struct Listener {
        _modbus* ctx = nullptr; // TCP
        int fd = -1;
        std::unique_ptr<RtuPort> rtu; // serial
        bool failed = false;          // serial device hung up: no longer watched
    };
    struct Client {
        int fd = -1;
        std::size_t listener = 0;
    };

    void bind_all(const std::string& bind_address, const std::vector<ListenerSpec>& listeners);
    void close_all();
    void accept_client(std::size_t listener);
    // false when the client must be dropped.
    bool serve_client(const Client& client, const Handler& handler);
    void close_client(std::size_t index);

    std::vector<Listener> listeners_;
    std::vector<std::uint16_t> ports_;
    std::vector<Client> clients_;
};

} // namespace greenrack::sim
