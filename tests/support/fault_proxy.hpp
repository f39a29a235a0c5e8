#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

namespace greenrack::test {

// What a FaultProxy does with the Modbus TCP requests it receives.
enum class FaultMode {
    pass,            // forward requests and replies unchanged
    blackhole,       // accept and read requests, never answer (the client times out)
    refuse,          // no listening socket: connects are refused; open connections are closed
    reset_mid_frame, // forward, send the first bytes of the reply, then reset (RST) the connection
    short_frame,     // forward, send the reply without its last two bytes, keep the connection
    garbage,         // answer with random bytes (never a valid MBAP reply)
    wrong_tid,       // forward, answer with the reply's transaction id changed
    exception,       // answer with exception 04 (server device failure) instead of forwarding
    every_third,     // forward only every third request; swallow the others
    slow_900ms,      // forward, deliver every reply 900 ms late
};

inline constexpr std::array<FaultMode, 10> all_fault_modes = {
    FaultMode::pass,        FaultMode::blackhole, FaultMode::refuse,    FaultMode::reset_mid_frame,
    FaultMode::short_frame, FaultMode::garbage,   FaultMode::wrong_tid, FaultMode::exception,
    FaultMode::every_third, FaultMode::slow_900ms};

std::string_view to_string(FaultMode mode);

// A fault-injecting Modbus TCP proxy for tests, in its own thread: it listens on a free port of
// 127.0.0.1 and forwards every connection to 127.0.0.1:upstream_port (e.g. one listener of
// greenrack-sim), opening one upstream connection per client connection. Its FaultMode can be
// switched at any time from any thread. It parses the MBAP framing of both directions (so a fault
// always hits whole requests and replies), records every request it receives with the mode it
// arrived in, and counts requests per mode.
class FaultProxy {
public:
    struct Request {
        FaultMode mode;
        int unit_id;
        int function;
        std::uint16_t transaction_id;
    };

    explicit FaultProxy(std::uint16_t upstream_port);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    std::uint16_t port() const { return port_; }

    // Switches the mode; returns once the proxy thread has applied it (for `refuse`: the
    // listening socket and every open connection are closed; when leaving `refuse` the port is
    // listened on again). Requests already forwarded are answered according to the mode they
    // arrived in.
    void set_mode(FaultMode mode);
    FaultMode mode() const;

    // Requests received in `mode` since the proxy started.
    std::uint64_t requests(FaultMode mode) const;
    // Every request received, oldest first.
    std::vector<Request> requests() const;
    // How many requests carried each function code.
    std::map<int, std::uint64_t> function_codes() const;
    std::uint64_t connections_accepted() const;

private:
    using Clock = std::chrono::steady_clock;
    struct Delayed {
        Clock::time_point due;
        std::vector<std::uint8_t> bytes;
    };
    struct Connection {
        int client = -1;
        int upstream = -1;
        std::vector<std::uint8_t> from_client;
        std::vector<std::uint8_t> from_upstream;
        std::deque<FaultMode> pending; // how to answer each forwarded request, in order
        std::deque<Delayed> delayed;   // replies held back (slow_900ms)
        bool closed = false;
    };

    void run();
    void apply_mode_change();
    bool open_listener();
    void close_listener();
    void accept_client();
    void read_client(Connection& connection);
    void read_upstream(Connection& connection);
    void handle_request(Connection& connection, const std::vector<std::uint8_t>& frame);
    void handle_reply(Connection& connection, std::vector<std::uint8_t> frame);
    bool forward(Connection& connection, const std::vector<std::uint8_t>& frame, FaultMode action);
    void send_to_client(Connection& connection, const std::uint8_t* data, std::size_t size);
    void send_delayed(Connection& connection);
    void close_connection(Connection& connection, bool reset);

    std::uint16_t upstream_port_;
    std::uint16_t port_ = 0;
    int listen_fd_ = -1;
    int wake_read_ = -1;
    int wake_write_ = -1;
    std::mt19937 random_{20260621};      // garbage bytes, reproducible
    FaultMode active_ = FaultMode::pass; // the mode the proxy thread applies
    std::deque<Connection> connections_; // touched by the proxy thread only

    mutable std::mutex mutex_;
    std::condition_variable applied_;
    FaultMode requested_ = FaultMode::pass;
    std::uint64_t mode_changes_requested_ = 0;
    std::uint64_t mode_changes_applied_ = 0;
    bool stop_ = false;
    std::map<FaultMode, std::uint64_t> counts_;
    std::vector<Request> requests_;
    std::uint64_t accepted_ = 0;
    std::uint64_t every_third_seen_ = 0;

    std::thread thread_;
};

} // namespace greenrack::test
