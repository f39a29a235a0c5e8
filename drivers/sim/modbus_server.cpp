#include "drivers/sim/modbus_server.hpp"

#include "drivers/sim/request_handler.hpp"

#include <modbus/modbus.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

namespace greenrack::sim {

namespace {

constexpr int listen_backlog = 64;
constexpr std::size_t mbap_length = 7;

std::uint16_t bound_port(int fd) {
    sockaddr_storage addr{};
    socklen_t length = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        return 0;
    }
    if (addr.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

bool send_all(int fd, const std::uint8_t* data, std::size_t length) {
    while (length > 0) {
        const ssize_t sent = ::send(fd, data, length, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data += sent;
        length -= static_cast<std::size_t>(sent);
    }
    return true;
}

} // namespace

ModbusServer::ModbusServer(const std::string& bind_address,
                           const std::vector<ListenerSpec>& listeners) {
    try {
        bind_all(bind_address, listeners);
    } catch (...) {
        close_all();
        throw;
    }
}

void ModbusServer::bind_all(const std::string& bind_address,
                            const std::vector<ListenerSpec>& listeners) {
    for (const ListenerSpec& spec : listeners) {
        if (spec.is_serial()) {
            Listener serial;
            serial.rtu = std::make_unique<RtuPort>(spec);
            listeners_.push_back(std::move(serial));
            ports_.push_back(0);
            continue;
        }
        const std::string port = std::to_string(spec.port);
        Listener listener;
        listener.ctx = modbus_new_tcp_pi(bind_address.c_str(), port.c_str());
        if (listener.ctx == nullptr) {
            throw std::runtime_error("listener \"" + spec.name + "\": " + modbus_strerror(errno));
        }
        listeners_.push_back(std::move(listener));
        listeners_.back().fd = modbus_tcp_pi_listen(listeners_.back().ctx, listen_backlog);
        if (listeners_.back().fd < 0) {
            const int err = errno;
            throw std::runtime_error("listener \"" + spec.name + "\": cannot listen on " +
                                     bind_address + ":" + port + ": " + std::strerror(err));
        }
        // A client that stalls mid-frame must not hold the loop for long.
        modbus_set_byte_timeout(listeners_.back().ctx, 0, 100000);
        ports_.push_back(bound_port(listeners_.back().fd));
    }
}

ModbusServer::~ModbusServer() {
    close_all();
}

void ModbusServer::close_all() {
    while (!clients_.empty()) {
        close_client(clients_.size() - 1);
    }
    for (Listener& l : listeners_) {
        if (l.fd >= 0) {
            ::close(l.fd);
        }
        if (l.ctx != nullptr) {
            modbus_set_socket(l.ctx, -1);
            modbus_free(l.ctx);
        }
    }
    listeners_.clear();
}

void ModbusServer::accept_client(std::size_t listener) {
    int listen_fd = listeners_[listener].fd;
    const int fd = modbus_tcp_pi_accept(listeners_[listener].ctx, &listen_fd);
    if (fd < 0) {
        return;
    }
    if (fd >= FD_SETSIZE) {
        ::close(fd); // select() cannot watch it
        return;
    }
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    clients_.push_back({fd, listener});
}

void ModbusServer::close_client(std::size_t index) {
    ::close(clients_[index].fd);
    modbus_set_socket(listeners_[clients_[index].listener].ctx, -1);
    clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(index));
}

bool ModbusServer::serve_client(const Client& client, const Handler& handler) {
    modbus_t* ctx = listeners_[client.listener].ctx;
    modbus_set_socket(ctx, client.fd);
    std::array<std::uint8_t, MODBUS_TCP_MAX_ADU_LENGTH> query{};
    const int received = modbus_receive(ctx, query.data());
    if (received < 0) {
        return false; // closed by the peer, or a frame libmodbus could not parse
    }
    const auto header = static_cast<std::size_t>(modbus_get_header_length(ctx));
    if (received == 0 || static_cast<std::size_t>(received) <= header || header != mbap_length) {
        return true; // ignored indication
    }
    std::array<std::uint8_t, mbap_length + max_response_pdu> reply{};
    const std::span<const std::uint8_t> pdu(query.data() + header,
                                            static_cast<std::size_t>(received) - header);
    const std::size_t length =
        handler(client.listener, query[6], pdu,
                std::span<std::uint8_t>(reply.data() + mbap_length, max_response_pdu));
    if (length == 0) {
        return true; // deliberately silent (device offline)
    }
    reply[0] = query[0]; // transaction id
    reply[1] = query[1];
    reply[2] = 0; // protocol id
    reply[3] = 0;
    reply[4] = static_cast<std::uint8_t>((length + 1) >> 8U);
    reply[5] = static_cast<std::uint8_t>((length + 1) & 0xFFU);
    reply[6] = query[6]; // unit id
    return send_all(client.fd, reply.data(), mbap_length + length);
}

std::size_t ModbusServer::poll(std::chrono::milliseconds timeout, const Handler& handler) {
    fd_set readable;
    FD_ZERO(&readable);
    int max_fd = -1;
    for (const Listener& l : listeners_) {
        const int fd = l.rtu ? (l.failed ? -1 : l.rtu->fd()) : l.fd;
        if (fd >= 0 && fd < FD_SETSIZE) {
            FD_SET(fd, &readable);
            max_fd = std::max(max_fd, fd);
        }
    }
    for (const Client& c : clients_) {
        if (c.fd < FD_SETSIZE) {
            FD_SET(c.fd, &readable);
            max_fd = std::max(max_fd, c.fd);
        }
    }
    timeval tv{};
    const auto micros = std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
    tv.tv_sec = static_cast<time_t>(micros / 1000000);
    tv.tv_usec = static_cast<suseconds_t>(micros % 1000000);
    const int ready = ::select(max_fd + 1, &readable, nullptr, nullptr, &tv);
    const auto now = std::chrono::steady_clock::now();
    std::size_t handled = 0;
    for (std::size_t l = 0; l < listeners_.size(); ++l) {
        Listener& listener = listeners_[l];
        if (!listener.rtu || listener.failed) {
            continue;
        }
        if (ready > 0 && FD_ISSET(listener.rtu->fd(), &readable)) {
            bool ok = true;
            handled += listener.rtu->on_readable(l, handler, ok);
            listener.failed = !ok;
        }
        listener.rtu->expire_partial_frame(now);
    }
    if (ready <= 0) {
        return handled; // timeout, or EINTR
    }
    // Clients first (the accepted ones below join the next round).
    for (std::size_t i = clients_.size(); i-- > 0;) {
        if (clients_[i].fd >= FD_SETSIZE || !FD_ISSET(clients_[i].fd, &readable)) {
            continue;
        }
        if (serve_client(clients_[i], handler)) {
            ++handled;
        } else {
            close_client(i);
        }
    }
    for (std::size_t l = 0; l < listeners_.size(); ++l) {
        if (!listeners_[l].rtu && FD_ISSET(listeners_[l].fd, &readable)) {
            accept_client(l);
        }
    }
    return handled;
}

} // namespace greenrack::sim
