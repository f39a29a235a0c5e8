#pragma once

#include "drivers/sim/pdu_handler.hpp"
#include "drivers/sim/scenario.hpp"

#include <chrono>
#include <vector>

namespace greenrack::sim {

// A Modbus RTU server on a serial device (or a pty, e.g. one end of
// `socat pty,raw,echo=0,link=ttyV0 pty,raw,echo=0,link=ttyV1`). Frames are delimited by the
// function code's request length; a frame with a bad CRC or an unknown function code is dropped,
// and so is a partial frame after 50 ms of silence. RTU answers nothing for unit ids it does not
// serve and for broadcasts (unit 0). libmodbus' RTU server accepts one slave id per context, so
// the framing is done here to serve many unit ids on one line.
class RtuPort {
public:
    // Opens and configures the device (raw, baud, parity, data and stop bits). Throws
    // std::runtime_error naming the listener.
    explicit RtuPort(const ListenerSpec& spec);
    ~RtuPort();
    RtuPort(const RtuPort&) = delete;
    RtuPort& operator=(const RtuPort&) = delete;

    int fd() const { return fd_; }

    // Reads what is available and answers every complete frame. Returns the frames handled;
    // false in `ok` when the device failed (hung up).
    std::size_t on_readable(std::size_t listener, const PduHandler& handler, bool& ok);
    // Drops a partial frame that has been waiting too long (call after every select()).
    void expire_partial_frame(std::chrono::steady_clock::time_point now);

private:
    void write_all(const std::uint8_t* data, std::size_t length);

    int fd_ = -1;
    std::vector<std::uint8_t> buffer_;
    std::chrono::steady_clock::time_point last_byte_;
};

} // namespace greenrack::sim
