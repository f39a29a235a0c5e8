#include "daemon/sinks/crc32.hpp"

#include <array>
#include <cstddef>

namespace greenrack::sinks {

namespace {

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// tables[0] is the classic byte table; tables[k][b] is the CRC of byte b followed by k zero
// bytes, so eight table lookups advance the CRC over eight bytes.
constexpr Tables make_tables() {
    Tables tables{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t crc = b;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1U) != 0U ? (crc >> 1U) ^ 0xEDB88320U : crc >> 1U;
        }
        tables[0][b] = crc;
    }
    for (std::size_t k = 1; k < 8; ++k) {
        for (std::size_t b = 0; b < 256; ++b) {
            const std::uint32_t previous = tables[k - 1][b];
            tables[k][b] = (previous >> 8U) ^ tables[0][previous & 0xFFU];
        }
    }
    return tables;
}

constexpr Tables tables = make_tables();

std::uint32_t byte_at(std::string_view data, std::size_t i) {
    return static_cast<unsigned char>(data[i]);
}

} // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) {
    crc = ~crc;
    std::size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
        // Byte order independent: the bytes are combined explicitly, low byte first.
        const std::uint32_t low = crc ^ (byte_at(data, i) | byte_at(data, i + 1) << 8U |
                                         byte_at(data, i + 2) << 16U | byte_at(data, i + 3) << 24U);
        crc = tables[7][low & 0xFFU] ^ tables[6][(low >> 8U) & 0xFFU] ^
              tables[5][(low >> 16U) & 0xFFU] ^ tables[4][low >> 24U] ^
              tables[3][byte_at(data, i + 4)] ^ tables[2][byte_at(data, i + 5)] ^
              tables[1][byte_at(data, i + 6)] ^ tables[0][byte_at(data, i + 7)];
    }
    for (; i < data.size(); ++i) {
        crc = (crc >> 8U) ^ tables[0][(crc ^ byte_at(data, i)) & 0xFFU];
    }
    return ~crc;
}

} // namespace greenrack::sinks
