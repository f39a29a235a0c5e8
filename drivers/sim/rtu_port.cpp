#include "drivers/sim/rtu_port.hpp"

#include "drivers/sim/request_handler.hpp"
#include "drivers/sim/rtu_frame.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <termios.h>
#include <unistd.h>

namespace greenrack::sim {

namespace {

constexpr auto partial_frame_timeout = std::chrono::milliseconds(50);

speed_t to_speed(int baud) {
    switch (baud) {
    case 1200:
        return B1200;
    case 2400:
        return B2400;
    case 4800:
        return B4800;
    case 9600:
        return B9600;
    case 38400:
        return B38400;
    case 57600:
        return B57600;
    case 115200:
        return B115200;
    default:
        return B19200;
    }
}

} // namespace

RtuPort::RtuPort(const ListenerSpec& spec) {
    const std::string where = "listener \"" + spec.name + "\" (" + spec.serial + "): ";
    fd_ = ::open(spec.serial.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
        throw std::runtime_error(where + "cannot open: " + std::strerror(errno));
    }
    termios tio{};
    if (tcgetattr(fd_, &tio) != 0) {
        const int err = errno;
        ::close(fd_);
        throw std::runtime_error(where + "not a serial device: " + std::strerror(err));
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, to_speed(spec.baud));
    cfsetospeed(&tio, to_speed(spec.baud));
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB);
    tio.c_cflag |= spec.data_bits == 7 ? CS7 : CS8;
    if (spec.parity != 'N') {
        tio.c_cflag |= PARENB;
        if (spec.parity == 'O') {
            tio.c_cflag |= PARODD;
        }
    }
    if (spec.stop_bits == 2) {
        tio.c_cflag |= CSTOPB;
    }
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    if (tcsetattr(fd_, TCSANOW, &tio) != 0) {
        const int err = errno;
        ::close(fd_);
        throw std::runtime_error(where + "cannot configure: " + std::strerror(err));
    }
    tcflush(fd_, TCIOFLUSH);
}

RtuPort::~RtuPort() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void RtuPort::write_all(const std::uint8_t* data, std::size_t length) {
    while (length > 0) {
        const ssize_t n = ::write(fd_, data, length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                pollfd p{fd_, POLLOUT, 0};
                if (::poll(&p, 1, 100) <= 0) {
                    return; // line stuck: drop the response, the master times out
                }
                continue;
            }
            return;
        }
        data += n;
        length -= static_cast<std::size_t>(n);
    }
}

std::size_t RtuPort::on_readable(std::size_t listener, const PduHandler& handler, bool& ok) {
    ok = true;
    std::array<std::uint8_t, 512> chunk{};
    const ssize_t n = ::read(fd_, chunk.data(), chunk.size());
    if (n < 0) {
        ok = errno == EAGAIN || errno == EINTR;
        return 0;
    }
    buffer_.insert(buffer_.end(), chunk.begin(), chunk.begin() + n);
    last_byte_ = std::chrono::steady_clock::now();

    std::size_t handled = 0;
    while (!buffer_.empty()) {
        const auto length = rtu_request_length(buffer_);
        if (!length) {
            break; // need more bytes
        }
        if (*length == 0) {
            buffer_.clear(); // unknown function code: resynchronise on the next frame
            break;
        }
        if (buffer_.size() < *length) {
            break;
        }
        const std::span<const std::uint8_t> frame(buffer_.data(), *length);
        if (auto request = parse_rtu_frame(frame)) {
            std::array<std::uint8_t, max_response_pdu> pdu{};
            const std::size_t reply =
                request->unit == 0 ? 0 : handler(listener, request->unit, request->pdu, pdu);
            if (reply > 0) {
                std::array<std::uint8_t, max_response_pdu + 3> out{};
                const std::size_t size = build_rtu_frame(
                    request->unit, std::span<const std::uint8_t>(pdu.data(), reply), out);
                write_all(out.data(), size);
            }
            ++handled;
            buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(*length));
        } else {
            buffer_.erase(buffer_.begin()); // bad CRC: slide by one byte
        }
    }
    return handled;
}

void RtuPort::expire_partial_frame(std::chrono::steady_clock::time_point now) {
    if (!buffer_.empty() && now - last_byte_ > partial_frame_timeout) {
        buffer_.clear();
    }
}

} // namespace greenrack::sim
