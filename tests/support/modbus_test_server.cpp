#include "tests/support/modbus_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace greenrack::test {

// A minimal Modbus TCP (MBAP) server written for tests: independent of libmodbus' server side,
// so the client under test is checked against a second implementation of the protocol.
ModbusTestServer::ModbusTestServer(std::uint16_t registers) : registers_(registers) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int yes = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0) {
        throw std::runtime_error("test server: bind/listen failed");
    }
    socklen_t length = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
}

ModbusTestServer::~ModbusTestServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
}

void ModbusTestServer::set_register(int unit, int function, int address, std::uint16_t value) {
    std::lock_guard lock(mutex_);
    auto& table = tables_[{unit, function}];
    if (table.empty()) {
        table.resize(registers_);
        for (std::uint16_t a = 0; a < registers_; ++a) {
            table[a] = static_cast<std::uint16_t>(a + (function == 3 ? 1000 : 2000) * unit);
        }
    }
    table.at(static_cast<std::size_t>(address)) = value;
}

void ModbusTestServer::set_silent(int unit, bool silent) {
    std::lock_guard lock(mutex_);
    if (silent) {
        silent_.insert(unit);
    } else {
        silent_.erase(unit);
    }
}

void ModbusTestServer::set_exception(int unit, int address, int code) {
    std::lock_guard lock(mutex_);
    exceptions_[{unit, address}] = code;
}

void ModbusTestServer::clear_exceptions() {
    std::lock_guard lock(mutex_);
    exceptions_.clear();
}

void ModbusTestServer::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
}

void ModbusTestServer::close_clients() {
    close_clients_ = true;
}

std::vector<ModbusTestServer::Request> ModbusTestServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::vector<std::uint8_t> ModbusTestServer::answer(const std::uint8_t* frame, std::size_t length) {
    // frame: MBAP (7 bytes) + PDU
    const int unit = frame[6];
    const int function = frame[7];
    const int address = (frame[8] << 8) | frame[9];
    const int count = length >= 12 ? ((frame[10] << 8) | frame[11]) : 0;
    std::chrono::milliseconds delay{0};
    std::vector<std::uint8_t> pdu;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back({unit, function, address, count});
        if (silent_.count(unit) != 0) {
            return {};
        }
        delay = delay_;
        int exception = 0;
        if (function != 3 && function != 4) {
            exception = 1;
        } else if (count < 1 || count > 125) {
            exception = 3;
        } else if (address + count > registers_) {
            exception = 2;
        } else {
            for (int a = address; a < address + count && exception == 0; ++a) {
                auto it = exceptions_.find({unit, a});
                if (it != exceptions_.end()) {
                    exception = it->second;
                }
            }
        }
        if (exception != 0) {
            pdu = {static_cast<std::uint8_t>(function | 0x80),
                   static_cast<std::uint8_t>(exception)};
        } else {
            pdu = {static_cast<std::uint8_t>(function), static_cast<std::uint8_t>(count * 2)};
            auto it = tables_.find({unit, function});
            for (int a = address; a < address + count; ++a) {
                std::uint16_t value =
                    it != tables_.end()
                        ? it->second[static_cast<std::size_t>(a)]
                        : static_cast<std::uint16_t>(a + (function == 3 ? 1000 : 2000) * unit);
                pdu.push_back(static_cast<std::uint8_t>(value >> 8));
                pdu.push_back(static_cast<std::uint8_t>(value & 0xFF));
            }
        }
    }
    if (delay.count() > 0) {
        std::this_thread::sleep_for(delay);
    }
    std::vector<std::uint8_t> reply = {
        frame[0], frame[1], 0, 0, 0, 0, static_cast<std::uint8_t>(unit)};
    const std::size_t mbap_length = pdu.size() + 1;
    reply[4] = static_cast<std::uint8_t>(mbap_length >> 8);
    reply[5] = static_cast<std::uint8_t>(mbap_length & 0xFF);
    reply.insert(reply.end(), pdu.begin(), pdu.end());
    return reply;
}

void ModbusTestServer::run() {
    std::vector<int> clients;
    std::map<int, std::vector<std::uint8_t>> buffers;
    while (!stop_) {
        if (close_clients_.exchange(false)) {
            for (int fd : clients) {
                close(fd);
            }
            clients.clear();
            buffers.clear();
        }
        std::vector<pollfd> fds;
        fds.push_back({listen_fd_, POLLIN, 0});
        for (int fd : clients) {
            fds.push_back({fd, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), 20) <= 0) {
            continue;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) {
                clients.push_back(fd);
                ++accepted_;
            }
        }
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            int fd = fds[i].fd;
            std::uint8_t chunk[512];
            ssize_t n = recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                close(fd);
                std::erase(clients, fd);
                buffers.erase(fd);
                continue;
            }
            auto& buffer = buffers[fd];
            buffer.insert(buffer.end(), chunk, chunk + n);
            while (buffer.size() >= 7) {
                std::size_t frame_length = 6 + ((buffer[4] << 8) | buffer[5]);
                if (buffer.size() < frame_length) {
                    break;
                }
                auto reply = answer(buffer.data(), frame_length);
                if (!reply.empty()) {
                    (void)send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
                }
                buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>(frame_length));
            }
        }
    }
    for (int fd : clients) {
        close(fd);
    }
}

} // namespace greenrack::test
