#include "tests/support/fault_proxy.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <iostream>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace greenrack::test {

namespace {

constexpr std::size_t mbap_header = 6; // transaction id, protocol id, length (unit id follows)
constexpr std::size_t max_frame = 260; // MBAP header + unit id + 253-byte PDU
constexpr std::chrono::milliseconds slow_delay{900};
constexpr std::size_t reset_after_bytes = 5; // reset_mid_frame: reply bytes sent before the RST

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
}

// Size of the first complete MBAP frame in `buffer`: 0 while incomplete, -1 when it cannot be one.
long frame_size(const std::vector<std::uint8_t>& buffer) {
    if (buffer.size() < mbap_header) {
        return 0;
    }
    const std::size_t length = static_cast<std::size_t>(buffer[4]) << 8 | buffer[5];
    if (length < 2 || mbap_header + length > max_frame) {
        return -1;
    }
    return buffer.size() >= mbap_header + length ? static_cast<long>(mbap_header + length) : 0;
}

// Moves every complete frame out of `buffer`; false when the stream is not MBAP.
bool take_frames(std::vector<std::uint8_t>& buffer, std::vector<std::vector<std::uint8_t>>& out) {
    while (true) {
        const long size = frame_size(buffer);
        if (size < 0) {
            return false;
        }
        if (size == 0) {
            return true;
        }
        out.emplace_back(buffer.begin(), buffer.begin() + size);
        buffer.erase(buffer.begin(), buffer.begin() + size);
    }
}

// Appends what is readable on `fd`; false on end of stream or error.
bool receive(int fd, std::vector<std::uint8_t>& buffer) {
    std::uint8_t chunk[512];
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
        return false;
    }
    buffer.insert(buffer.end(), chunk, chunk + n);
    return true;
}

bool send_all(int fd, const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

std::string_view to_string(FaultMode mode) {
    switch (mode) {
    case FaultMode::pass:
        return "pass";
    case FaultMode::blackhole:
        return "blackhole";
    case FaultMode::refuse:
        return "refuse";
    case FaultMode::reset_mid_frame:
        return "reset_mid_frame";
    case FaultMode::short_frame:
        return "short_frame";
    case FaultMode::garbage:
        return "garbage";
    case FaultMode::wrong_tid:
        return "wrong_tid";
    case FaultMode::exception:
        return "exception";
    case FaultMode::every_third:
        return "every_third";
    case FaultMode::slow_900ms:
        return "slow_900ms";
    }
    return "unknown";
}

FaultProxy::FaultProxy(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::runtime_error("fault proxy: pipe failed");
    }
    wake_read_ = pipe_fds[0];
    wake_write_ = pipe_fds[1];
    if (!open_listener()) {
        close(wake_read_);
        close(wake_write_);
        throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1");
    }
    thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    const std::uint8_t byte = 1;
    [[maybe_unused]] auto written = write(wake_write_, &byte, 1);
    thread_.join();
    for (auto& connection : connections_) {
        close_connection(connection, false);
    }
    close_listener();
    close(wake_read_);
    close(wake_write_);
}

void FaultProxy::set_mode(FaultMode mode) {
    std::unique_lock lock(mutex_);
    requested_ = mode;
    const std::uint64_t ticket = ++mode_changes_requested_;
    const std::uint8_t byte = 1;
    [[maybe_unused]] auto written = write(wake_write_, &byte, 1);
    applied_.wait(lock, [&] { return mode_changes_applied_ >= ticket || stop_; });
}

FaultMode FaultProxy::mode() const {
    std::lock_guard lock(mutex_);
    return requested_;
}

std::uint64_t FaultProxy::requests(FaultMode mode) const {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(mode);
    return it == counts_.end() ? 0 : it->second;
}

std::vector<FaultProxy::Request> FaultProxy::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::map<int, std::uint64_t> FaultProxy::function_codes() const {
    std::lock_guard lock(mutex_);
    std::map<int, std::uint64_t> codes;
    for (const auto& request : requests_) {
        ++codes[request.function];
    }
    return codes;
}

std::uint64_t FaultProxy::connections_accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
}

bool FaultProxy::open_listener() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr = loopback(port_); // port 0 the first time: a free port
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
        close(fd);
        return false;
    }
    socklen_t length = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    listen_fd_ = fd;
    return true;
}

void FaultProxy::close_listener() {
    if (listen_fd_ >= 0) {
        close(listen_fd_);
        listen_fd_ = -1;
    }
}

void FaultProxy::apply_mode_change() {
    std::lock_guard lock(mutex_);
    if (mode_changes_applied_ == mode_changes_requested_) {
        return;
    }
    active_ = requested_;
    if (active_ == FaultMode::refuse) {
        close_listener();
        for (auto& connection : connections_) {
            close_connection(connection, false);
        }
    } else if (listen_fd_ < 0 && !open_listener()) {
        // Someone took the port meanwhile: the test will see connects refused and fail.
        std::cerr << "fault proxy: cannot listen on 127.0.0.1:" << port_ << " again\n";
    }
    mode_changes_applied_ = mode_changes_requested_;
    applied_.notify_all();
}

void FaultProxy::run() {
    std::vector<pollfd> fds;
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (stop_) {
                applied_.notify_all();
                return;
            }
        }
        apply_mode_change();
        connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                          [](const Connection& c) { return c.closed; }),
                           connections_.end());

        auto timeout = std::chrono::milliseconds(200);
        const auto now = Clock::now();
        for (const auto& connection : connections_) {
            if (!connection.delayed.empty()) {
                auto wait = std::chrono::ceil<std::chrono::milliseconds>(
                    connection.delayed.front().due - now);
                timeout = std::clamp(wait, std::chrono::milliseconds(0), timeout);
            }
        }

        fds.clear();
        fds.push_back({wake_read_, POLLIN, 0});
        if (listen_fd_ >= 0) {
            fds.push_back({listen_fd_, POLLIN, 0});
        }
        for (const auto& connection : connections_) {
            fds.push_back({connection.client, POLLIN, 0});
            if (connection.upstream >= 0) {
                fds.push_back({connection.upstream, POLLIN, 0});
            }
        }
        if (poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) < 0 && errno != EINTR) {
            std::cerr << "fault proxy: poll failed\n";
            return;
        }
        if (fds[0].revents != 0) {
            std::uint8_t drain[64];
            while (read(wake_read_, drain, sizeof drain) > 0) {
            }
        }
        // Only descriptors that were polled: connections accepted below wait for the next round.
        std::size_t next = 1;
        bool accept_ready = false;
        if (listen_fd_ >= 0) {
            accept_ready = fds[next++].revents != 0;
        }
        for (auto& connection : connections_) {
            const short client_events = fds[next++].revents;
            const short upstream_events = connection.upstream >= 0 ? fds[next++].revents : 0;
            if (client_events != 0 && !connection.closed) {
                read_client(connection);
            }
            if (upstream_events != 0 && !connection.closed) {
                read_upstream(connection);
            }
            if (!connection.closed) {
                send_delayed(connection);
            }
        }
        if (accept_ready) {
            accept_client();
        }
    }
}

void FaultProxy::accept_client() {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    Connection connection;
    connection.client = fd;
    connections_.push_back(std::move(connection));
    std::lock_guard lock(mutex_);
    ++accepted_;
}

void FaultProxy::read_client(Connection& connection) {
    if (!receive(connection.client, connection.from_client)) {
        close_connection(connection, false);
        return;
    }
    std::vector<std::vector<std::uint8_t>> frames;
    const bool framed = take_frames(connection.from_client, frames);
    for (const auto& frame : frames) {
        if (connection.closed) {
            return;
        }
        handle_request(connection, frame);
    }
    if (!framed && !connection.closed) {
        std::cerr << "fault proxy: a client sent something that is not Modbus TCP; closing\n";
        close_connection(connection, false);
    }
}

void FaultProxy::read_upstream(Connection& connection) {
    if (!receive(connection.upstream, connection.from_upstream)) {
        close_connection(connection, false);
        return;
    }
    std::vector<std::vector<std::uint8_t>> frames;
    const bool framed = take_frames(connection.from_upstream, frames);
    for (auto& frame : frames) {
        if (connection.closed) {
            return;
        }
        handle_reply(connection, std::move(frame));
    }
    if (!framed && !connection.closed) {
        close_connection(connection, false);
    }
}

void FaultProxy::handle_request(Connection& connection, const std::vector<std::uint8_t>& frame) {
    const FaultMode mode = active_;
    Request request{mode, frame[6], frame[7], static_cast<std::uint16_t>(frame[0] << 8 | frame[1])};
    bool answer_this_third = false;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
        ++counts_[mode];
        if (mode == FaultMode::every_third) {
            answer_this_third = ++every_third_seen_ % 3 == 0;
        }
    }
    switch (mode) {
    case FaultMode::pass:
    case FaultMode::reset_mid_frame:
    case FaultMode::short_frame:
    case FaultMode::wrong_tid:
    case FaultMode::slow_900ms:
        forward(connection, frame, mode);
        return;
    case FaultMode::every_third:
        if (answer_this_third) {
            forward(connection, frame, FaultMode::pass);
        }
        return;
    case FaultMode::blackhole:
    case FaultMode::refuse: // a connection that raced the mode change: as good as dead
        return;
    case FaultMode::exception: {
        const std::uint8_t reply[] = {
            frame[0], frame[1], 0, 0, 0, 3, frame[6], static_cast<std::uint8_t>(frame[7] | 0x80),
            0x04};
        send_to_client(connection, reply, sizeof reply);
        return;
    }
    case FaultMode::garbage: {
        std::uniform_int_distribution<int> length(9, 24);
        std::uniform_int_distribution<int> byte(0, 255);
        std::vector<std::uint8_t> reply(static_cast<std::size_t>(length(random_)));
        for (auto& b : reply) {
            b = static_cast<std::uint8_t>(byte(random_));
        }
        // Never a valid reply by chance: another transaction id and a non-zero protocol id.
        reply[0] = static_cast<std::uint8_t>(frame[0] ^ 0xA5);
        reply[2] = static_cast<std::uint8_t>(reply[2] | 0x10);
        send_to_client(connection, reply.data(), reply.size());
        return;
    }
    }
}

bool FaultProxy::forward(Connection& connection, const std::vector<std::uint8_t>& frame,
                         FaultMode action) {
    if (connection.upstream < 0) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr = loopback(upstream_port_);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            if (fd >= 0) {
                close(fd);
            }
            std::cerr << "fault proxy: cannot connect to 127.0.0.1:" << upstream_port_ << "\n";
            close_connection(connection, false);
            return false;
        }
        connection.upstream = fd;
    }
    if (!send_all(connection.upstream, frame.data(), frame.size())) {
        close_connection(connection, false);
        return false;
    }
    connection.pending.push_back(action);
    return true;
}

void FaultProxy::handle_reply(Connection& connection, std::vector<std::uint8_t> frame) {
    if (connection.pending.empty()) {
        return; // an answer nobody asked for: drop it
    }
    const FaultMode action = connection.pending.front();
    connection.pending.pop_front();
    switch (action) {
    case FaultMode::reset_mid_frame:
        send_to_client(connection, frame.data(), std::min(reset_after_bytes, frame.size()));
        close_connection(connection, true);
        return;
    case FaultMode::short_frame:
        send_to_client(connection, frame.data(), frame.size() - 2);
        return;
    case FaultMode::wrong_tid:
        frame[0] ^= 0x80;
        send_to_client(connection, frame.data(), frame.size());
        return;
    case FaultMode::slow_900ms:
        connection.delayed.push_back({Clock::now() + slow_delay, std::move(frame)});
        return;
    default:
        send_to_client(connection, frame.data(), frame.size());
        return;
    }
}

void FaultProxy::send_to_client(Connection& connection, const std::uint8_t* data,
                                std::size_t size) {
    if (!connection.closed && !send_all(connection.client, data, size)) {
        close_connection(connection, false);
    }
}

void FaultProxy::send_delayed(Connection& connection) {
    const auto now = Clock::now();
    while (!connection.closed && !connection.delayed.empty() &&
           connection.delayed.front().due <= now) {
        Delayed item = std::move(connection.delayed.front());
        connection.delayed.pop_front();
        send_to_client(connection, item.bytes.data(), item.bytes.size());
    }
}

void FaultProxy::close_connection(Connection& connection, bool reset) {
    if (connection.closed) {
        return;
    }
    if (reset) {
        linger option{1, 0}; // close() sends RST instead of FIN
        setsockopt(connection.client, SOL_SOCKET, SO_LINGER, &option, sizeof option);
    }
    close(connection.client);
    if (connection.upstream >= 0) {
        close(connection.upstream);
    }
    connection.client = -1;
    connection.upstream = -1;
    connection.pending.clear();
    connection.delayed.clear();
    connection.closed = true;
}

} // namespace greenrack::test
