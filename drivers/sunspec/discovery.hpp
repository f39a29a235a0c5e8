#pragma once

// SunSpec discovery: find the "SunS" marker, walk the model chain, read the device's identity
// from the common model (1). Pure: every register comes through a read function supplied by the
// caller (see link_reader.hpp for the one over a ModbusLink), so the walk is tested without I/O.
// It depends on no model table: a model is an (ID, length) header that the walk steps over.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace greenrack::sunspec {

// Why a read returned no registers.
struct ReadError {
    enum class Kind : std::uint8_t {
        exception, // the device answered with a Modbus exception (the link is healthy)
        timeout,   // no (complete) answer in time
        link,      // the link failed (closed, reset, malformed answer, ...)
    };
    Kind kind = Kind::link;
    std::uint8_t exception_code =
        0;              // the protocol code when kind == exception (2: illegal address)
    std::string detail; // human-readable, for messages ("connection lost")
};

// The registers read (at most `count`; fewer is a "short read"), or why there are none.
using ReadResult = std::variant<std::vector<std::uint16_t>, ReadError>;

// Reads `count` (1..125) holding registers (function 03) starting at protocol address `address`.
// Discovery never asks for registers past 65535.
using ReadFunction = std::function<ReadResult(std::uint16_t address, std::uint16_t count)>;

inline constexpr std::uint16_t marker_high = 0x5375; // "Su"
inline constexpr std::uint16_t marker_low = 0x6E53;  // "nS"
inline constexpr std::uint16_t common_model_id = 1;
inline constexpr std::uint16_t end_model_id = 0xFFFF;
inline constexpr std::uint16_t vendor_model_first = 64000; // 64000..65534: vendor models
inline constexpr std::uint16_t common_model_length = 66;   // current model_1; older devices: 65

struct DiscoveryOptions {
    // Protocol (0-based, on-the-wire) addresses probed for "SunS", in this order (pysunspec2's).
    // SunSpec documents print them 1-based as 40001 / 00001 / 50001: the wire address is the
    // same 40000 / 0 / 50000, so no 1-based variants are probed by default.
    std::vector<std::uint16_t> bases{40000, 0, 50000};
    // Largest read; clamped to 2..125 (a header is read in one request; 125: the protocol limit).
    std::uint16_t max_registers = 125;
    // A chain with more models than this is broken (e.g. a run of zero-length headers).
    std::size_t max_models = 100;
};

// One model of the chain.
struct ModelHeader {
    std::uint16_t id = 0;
    std::uint16_t address = 0; // protocol address of the model's ID register
    std::uint16_t length = 0;  // L: registers after the ID and L registers

    bool is_vendor() const { return id >= vendor_model_first && id != end_model_id; }
    bool operator==(const ModelHeader&) const = default;
};

// From the common model (1). Strings are decoded by decode_string(); an optional string that is
// not implemented (all 0x0000) is "".
struct DeviceIdentity {
    std::string manufacturer; // Mn
    std::string model;        // Md
    std::string options;      // Opt
    std::string version;      // Vr
    std::string serial;       // SN
    // DA; nullopt when the model is too short to hold it or it reads 0xFFFF (not implemented).
    std::optional<std::uint16_t> device_address;

    bool operator==(const DeviceIdentity&) const = default;
};

struct Discovery {
    std::uint16_t base = 0;          // where "SunS" was found
    std::vector<ModelHeader> models; // in chain order, without the end model
    // Address of the end model's ID register, or of the first unreadable register when the map
    // ended without an end model (see warnings).
    std::uint16_t end = 0;
    // From the first common model of the chain; nullopt when there is none (see warnings).
    std::optional<DeviceIdentity> identity;
    // Quirks met on the way, one sentence each, e.g.
    // "common model at 40002 has length 65 (66 expected): an older device without Pad".
    std::vector<std::string> warnings;
};

struct DiscoveryError {
    enum class Kind : std::uint8_t {
        no_marker,    // no "SunS" at any base
        chain_broken, // the chain is inconsistent: a length past 65535, too many models, ...
        read_failed,  // a timeout or a link error: the device may be fine, try again later
    };
    Kind kind = Kind::no_marker;
    std::optional<std::uint16_t> address; // where it went wrong, when it is one place
    // e.g. "no SunS marker at 40000 (exception 02), 0 (0x0000 0x0000), 50000 (timeout)" or
    // "chain broken at 40070: model 103 with length 65534 runs past address 65535"
    std::string message;
};

// Probes options.bases in order; at the first "SunS" walks the chain from base + 2 until the end
// model (ID 0xFFFF). Tolerated, with a warning: an end model whose length is missing (the read of
// ID and L fails or is short, the ID alone reads 0xFFFF) or not 0; an exception or an empty
// read where the next model header should be (taken as the end of the map); a common model of
// length 65 (or any other length: the fields it holds are read); a first model that is not the
// common model. Every other model (vendor models 64000..65534, unknown IDs) is stepped over by
// its length; only the common model's points are read (in chunks). An exception or a timeout at a
// base moves on to the next base; a link error stops at once (read_failed), and so does a
// timeout or link error inside the chain. chain_broken: an exception right after the marker, a
// model whose length cannot be read, a length running past 65535 (a 16-bit wrap would loop),
// more than options.max_models models, a common model whose points cannot be read. Reads are at
// most options.max_registers long and never pass 65535.
std::variant<Discovery, DiscoveryError> discover(const ReadFunction& read,
                                                 const DiscoveryOptions& options = {});

// Decodes a SunSpec string (2 characters per register, first character in the high byte): leading
// NULs and spaces are dropped, the text ends at the next NUL, trailing spaces are dropped. Bytes
// are kept as they are (no character set check).
std::string decode_string(std::span<const std::uint16_t> registers);

std::string
describe(const ReadError& error); // "exception 02", "timeout", "link error: connection lost"

} // namespace greenrack::sunspec
