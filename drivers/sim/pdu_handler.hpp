#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace greenrack::sim {

// What the transports call for each request: the listener it came in on, the unit id and the
// request PDU. Writes the response PDU into `response` and returns its length (0 = send
// nothing). In greenrack-sim this is Simulator::handle_request.
using PduHandler =
    std::function<std::size_t(std::size_t listener, std::uint8_t unit,
                              std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response)>;

} // namespace greenrack::sim
