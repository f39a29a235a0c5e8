#pragma once

// The I/O side of SunSpec discovery: a ReadFunction over a connected ModbusLink.

#include "drivers/modbus/transport.hpp"
#include "drivers/sunspec/discovery.hpp"

#include <chrono>
#include <system_error>

namespace greenrack::sunspec {

// Reads holding registers (function 03, the only function it uses: the daemon never writes) of
// `unit_id` through `link`, each read bounded by `response_timeout`. The link is borrowed: it
// must be open, outlive the returned function and be used by the calling thread only. After a
// timeout the link is flushed (a late answer would desynchronise the next exchange); the link is
// never closed or reopened here: reconnecting is the owner's business. When `last_error` is
// given, the error of each failed read is stored there (it must outlive the function).
ReadFunction make_link_reader(modbus::ModbusLink& link, int unit_id,
                              std::chrono::milliseconds response_timeout,
                              std::error_code* last_error = nullptr);

// How a ModbusLink error reads to discovery: exception replies keep their code, a timeout is a
// timeout, everything else (closed link, malformed answer, refused request) is a link error.
ReadError to_read_error(const std::error_code& ec);

} // namespace greenrack::sunspec
