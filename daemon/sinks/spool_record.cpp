#include "daemon/sinks/spool_record.hpp"

#include "daemon/sinks/crc32.hpp"

#include <array>

namespace greenrack::sinks {

namespace {

constexpr std::string_view magic = "GRS1";

void put_le(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xFFU);
    }
}

std::uint64_t get_le(std::string_view data, std::size_t at, int bytes) {
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        value = (value << 8U) | static_cast<unsigned char>(data[at + static_cast<std::size_t>(i)]);
    }
    return value;
}

std::uint32_t checksum(std::string_view header_fields, std::string_view payload) {
    return crc32(payload, crc32(header_fields));
}

} // namespace

void encode_record(std::string& out, std::uint64_t seq, std::int64_t ts_ms,
                   std::string_view payload) {
    const std::size_t start = out.size();
    out.reserve(start + record_header_size + payload.size());
    out += magic;
    put_le(out, payload.size(), 4);
    put_le(out, seq, 8);
    put_le(out, static_cast<std::uint64_t>(ts_ms), 8);
    const std::uint32_t crc = checksum(std::string_view(out).substr(start + 4, 20), payload);
    put_le(out, crc, 4);
    out += payload;
}

DecodeResult decode_record(std::string_view data) {
    DecodeResult result;
    const std::size_t have_magic = std::min(data.size(), magic.size());
    if (data.substr(0, have_magic) != magic.substr(0, have_magic)) {
        result.status = DecodeStatus::corrupt;
        return result;
    }
    if (data.size() < record_header_size) {
        return result; // incomplete
    }
    const std::uint64_t length = get_le(data, 4, 4);
    if (length > max_record_payload) {
        result.status = DecodeStatus::corrupt;
        return result;
    }
    const std::size_t size = record_header_size + static_cast<std::size_t>(length);
    if (data.size() < size) {
        result.needed = size;
        return result; // incomplete
    }
    const std::string_view payload = data.substr(record_header_size, length);
    if (get_le(data, 24, 4) != checksum(data.substr(4, 20), payload)) {
        result.status = DecodeStatus::corrupt;
        return result;
    }
    result.status = DecodeStatus::ok;
    result.record.seq = get_le(data, 8, 8);
    result.record.ts_ms = static_cast<std::int64_t>(get_le(data, 16, 8));
    result.record.payload = payload;
    result.size = size;
    return result;
}

} // namespace greenrack::sinks
