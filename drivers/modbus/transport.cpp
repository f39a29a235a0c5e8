#include "drivers/modbus/transport.hpp"

#include <cerrno>
#include <modbus.h>

namespace greenrack::modbus {

namespace {

class ModbusCategory : public std::error_category {
public:
    const char* name() const noexcept override { return "modbus"; }
    std::string message(int value) const override {
        switch (static_cast<ModbusErrc>(value)) {
        case ModbusErrc::illegal_function:
            return "exception 01: illegal function";
        case ModbusErrc::illegal_data_address:
            return "exception 02: illegal data address";
        case ModbusErrc::illegal_data_value:
            return "exception 03: illegal data value";
        case ModbusErrc::server_device_failure:
            return "exception 04: server device failure";
        case ModbusErrc::acknowledge:
            return "exception 05: acknowledge";
        case ModbusErrc::server_device_busy:
            return "exception 06: server device busy";
        case ModbusErrc::negative_acknowledge:
            return "exception 07: negative acknowledge";
        case ModbusErrc::memory_parity_error:
            return "exception 08: memory parity error";
        case ModbusErrc::gateway_path_unavailable:
            return "exception 0A: gateway path unavailable";
        case ModbusErrc::gateway_target_failed:
            return "exception 0B: gateway target device failed to respond";
        case ModbusErrc::timeout:
            return "response timeout";
        case ModbusErrc::bad_crc:
            return "bad CRC";
        case ModbusErrc::bad_data:
            return "malformed or desynchronised response";
        case ModbusErrc::bad_exception:
            return "malformed exception response";
        case ModbusErrc::too_many_registers:
            return "too many registers in one request";
        case ModbusErrc::bad_unit_id:
            return "response from another unit id";
        case ModbusErrc::not_connected:
            return "not connected";
        case ModbusErrc::connect_failed:
            return "connect failed";
        case ModbusErrc::connection_lost:
            return "connection lost";
        case ModbusErrc::io_error:
            return "I/O error";
        case ModbusErrc::no_register_map:
            return "register map not found on the device";
        }
        return "unknown modbus error";
    }
};

// libmodbus reports errors through errno; map them without calling the MT-unsafe strerror().
std::error_code from_errno(int err) {
    if (err >= MODBUS_ENOBASE + 1 && err <= EMBXGTAR) {
        return make_error_code(static_cast<ModbusErrc>(err - MODBUS_ENOBASE));
    }
    switch (err) {
    case EMBBADCRC:
        return make_error_code(ModbusErrc::bad_crc);
    case EMBBADDATA:
        return make_error_code(ModbusErrc::bad_data);
    case EMBBADEXC:
    case EMBUNKEXC:
        return make_error_code(ModbusErrc::bad_exception);
    case EMBMDATA:
        return make_error_code(ModbusErrc::too_many_registers);
    case EMBBADSLAVE:
        return make_error_code(ModbusErrc::bad_unit_id);
    case ETIMEDOUT:
        return make_error_code(ModbusErrc::timeout);
    case ECONNRESET:
    case ECONNREFUSED:
    case ECONNABORTED:
    case EPIPE:
    case ENOTCONN:
    case EBADF:
        return make_error_code(ModbusErrc::connection_lost);
    default:
        return make_error_code(ModbusErrc::io_error);
    }
}

void set_timeout(modbus_t* ctx, std::chrono::milliseconds timeout) {
    auto ms = timeout.count() < 1 ? 1 : timeout.count();
    modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(ms / 1000),
                                static_cast<std::uint32_t>((ms % 1000) * 1000));
}

} // namespace

const std::error_category& modbus_category() {
    static const ModbusCategory category;
    return category;
}

std::error_code make_error_code(ModbusErrc errc) {
    return {static_cast<int>(errc), modbus_category()};
}

bool is_exception(const std::error_code& ec) {
    return ec.category() == modbus_category() && ec.value() >= 1 && ec.value() <= 11;
}

bool is_link_failure(const std::error_code& ec) {
    if (!ec || is_exception(ec)) {
        return false;
    }
    return ec != make_error_code(ModbusErrc::too_many_registers) &&
           ec != make_error_code(ModbusErrc::no_register_map);
}

std::string describe(const Endpoint& endpoint) {
    if (const auto* tcp = std::get_if<TcpEndpoint>(&endpoint)) {
        return "tcp://" + tcp->host + ":" + std::to_string(tcp->port);
    }
    const auto& rtu = std::get<RtuEndpoint>(endpoint);
    return "rtu://" + rtu.device + "@" + std::to_string(rtu.baud) + "-" +
           std::to_string(rtu.data_bits) + rtu.parity + std::to_string(rtu.stop_bits);
}

ModbusLink::ModbusLink(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

ModbusLink::~ModbusLink() {
    close();
    if (ctx_ != nullptr) {
        modbus_free(ctx_);
    }
}

std::error_code ModbusLink::open(std::chrono::milliseconds timeout) {
    close();
    if (ctx_ == nullptr) {
        if (const auto* tcp = std::get_if<TcpEndpoint>(&endpoint_)) {
            ctx_ = modbus_new_tcp_pi(tcp->host.c_str(), std::to_string(tcp->port).c_str());
        } else {
            const auto& rtu = std::get<RtuEndpoint>(endpoint_);
            ctx_ = modbus_new_rtu(rtu.device.c_str(), rtu.baud, rtu.parity, rtu.data_bits,
                                  rtu.stop_bits);
        }
        if (ctx_ == nullptr) {
            return make_error_code(ModbusErrc::connect_failed);
        }
        // Recovery stays ours (bounded blocking): libmodbus' own link recovery can loop forever.
        modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
        if (std::holds_alternative<TcpEndpoint>(endpoint_)) {
            // The response timeout bounds the whole answer. With libmodbus' default byte timeout
            // (500 ms between two chunks) a truncated reply took 500 ms whatever the configured
            // timeout, and a peer dribbling bytes could hold the bus indefinitely. (On serial
            // lines the byte timeout stays: transmission time grows with the frame there.)
            modbus_set_byte_timeout(ctx_, 0, 0);
        }
    }
    // libmodbus bounds the TCP connect by the response timeout.
    set_timeout(ctx_, timeout);
    if (modbus_connect(ctx_) != 0) {
        return make_error_code(ModbusErrc::connect_failed);
    }
    if (const auto* rtu = std::get_if<RtuEndpoint>(&endpoint_); rtu != nullptr && rtu->rs485) {
        if (modbus_rtu_set_serial_mode(ctx_, MODBUS_RTU_RS485) != 0) {
            int err = errno;
            modbus_close(ctx_);
            return from_errno(err);
        }
    }
    open_ = true;
    return {};
}

void ModbusLink::close() {
    if (ctx_ != nullptr && open_) {
        modbus_close(ctx_);
    }
    open_ = false;
}

void ModbusLink::flush() {
    if (is_open()) {
        modbus_flush(ctx_);
    }
}

std::error_code ModbusLink::read(int unit_id, RegisterKind kind, std::uint16_t start,
                                 std::span<std::uint16_t> out,
                                 std::chrono::milliseconds response_timeout) {
    if (!is_open()) {
        return make_error_code(ModbusErrc::not_connected);
    }
    if (out.empty() || out.size() > max_read_registers) {
        return make_error_code(ModbusErrc::too_many_registers);
    }
    if (modbus_set_slave(ctx_, unit_id) != 0) {
        return make_error_code(ModbusErrc::io_error);
    }
    set_timeout(ctx_, response_timeout);
    ++requests_sent_;
    const int count = static_cast<int>(out.size());
    int rc = kind == RegisterKind::holding
                 ? modbus_read_registers(ctx_, start, count, out.data())
                 : modbus_read_input_registers(ctx_, start, count, out.data());
    if (rc == count) {
        return {};
    }
    if (rc >= 0) {
        return make_error_code(ModbusErrc::bad_data);
    }
    int err = errno;
    return from_errno(err);
}

} // namespace greenrack::modbus
