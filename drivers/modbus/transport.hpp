#pragma once

#include "drivers/modbus/types.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <variant>

typedef struct _modbus modbus_t; // NOLINT: libmodbus's own spelling

namespace greenrack::modbus {

// Errors of a Modbus exchange. Exception codes 1..11 keep their protocol numbers.
enum class ModbusErrc {
    illegal_function = 1,
    illegal_data_address = 2,
    illegal_data_value = 3,
    server_device_failure = 4,
    acknowledge = 5,
    server_device_busy = 6,
    negative_acknowledge = 7,
    memory_parity_error = 8,
    gateway_path_unavailable = 10,
    gateway_target_failed = 11,
    timeout = 100,      // no (complete) answer within the response timeout
    bad_crc,            // RTU frame with a wrong CRC
    bad_data,           // malformed or desynchronised answer (wrong transaction id, length, ...)
    bad_exception,      // an exception reply that does not parse
    too_many_registers, // request larger than 125 registers (refused before sending)
    bad_unit_id,        // answer from another unit id
    not_connected,      // link closed (waiting for reconnect backoff)
    connect_failed,     // could not open the link
    connection_lost,    // peer closed or reset the connection
    io_error,           // any other system error
    no_register_map,    // the device answered, but its register map could not be found (SunSpec)
};

const std::error_category& modbus_category();
std::error_code make_error_code(ModbusErrc errc);

// True for a well-formed Modbus exception reply (the link itself is healthy).
bool is_exception(const std::error_code& ec);
// True for errors that say the link (not the request) is unhealthy.
bool is_link_failure(const std::error_code& ec);

struct TcpEndpoint {
    std::string host;
    std::uint16_t port = 502;
};

struct RtuEndpoint {
    std::string device;
    int baud = 19200;
    char parity = 'N';
    int data_bits = 8;
    int stop_bits = 1;
    bool rs485 = false;
};

using Endpoint = std::variant<TcpEndpoint, RtuEndpoint>;

std::string describe(const Endpoint& endpoint); // "tcp://host:port" or "rtu:///dev/ttyX@19200-8N1"

// One Modbus TCP connection or serial line, wrapping a libmodbus context. Not thread-safe: it is
// owned and used by exactly one bus worker thread. It can only read: no write function code is
// reachable through this class (the daemon never writes to devices).
class ModbusLink {
public:
    explicit ModbusLink(Endpoint endpoint);
    ~ModbusLink();
    ModbusLink(const ModbusLink&) = delete;
    ModbusLink& operator=(const ModbusLink&) = delete;

    // Opens the link; for TCP the connect is bounded by `timeout`.
    std::error_code open(std::chrono::milliseconds timeout);
    void close();
    bool is_open() const { return ctx_ != nullptr && open_; }

    // Reads `out.size()` registers (1..125) of `kind` from `unit_id` starting at `start`.
    // The unit id is always set explicitly (libmodbus would default to 255 on TCP).
    std::error_code read(int unit_id, RegisterKind kind, std::uint16_t start,
                         std::span<std::uint16_t> out, std::chrono::milliseconds response_timeout);

    // Discards whatever is still in the receive buffer (a late answer after a timeout).
    void flush();

    const Endpoint& endpoint() const { return endpoint_; }
    // Requests sent on this link since it was made (for counters of callers that lend it out).
    std::uint64_t requests_sent() const { return requests_sent_; }

private:
    Endpoint endpoint_;
    modbus_t* ctx_ = nullptr;
    bool open_ = false;
    std::uint64_t requests_sent_ = 0;
};

} // namespace greenrack::modbus

template <> struct std::is_error_code_enum<greenrack::modbus::ModbusErrc> : std::true_type {};
