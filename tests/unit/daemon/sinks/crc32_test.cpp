#include "daemon/sinks/crc32.hpp"

#include <boost/crc.hpp>
#include <catch2/catch.hpp>

#include <random>
#include <string>

using greenrack::sinks::crc32;

TEST_CASE("crc32 gives the standard check value and zlib's CRC of known strings", "[crc32]") {
    CHECK(crc32("123456789") == 0xCBF43926U); // the CRC-32 check value
    CHECK(crc32("") == 0U);
    CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339U);
}

TEST_CASE("crc32 equals boost::crc_32_type for every length and alignment, whole or in pieces",
          "[crc32]") {
    std::mt19937 rng(42);
    std::string data(300, '\0');
    for (char& c : data) {
        c = static_cast<char>(rng());
    }
    for (std::size_t offset = 0; offset < 9; ++offset) {
        for (std::size_t length = 0; offset + length <= data.size(); length += 7) {
            const std::string_view piece = std::string_view(data).substr(offset, length);
            boost::crc_32_type reference;
            reference.process_bytes(piece.data(), piece.size());
            INFO("offset " << offset << " length " << length);
            REQUIRE(crc32(piece) == reference.checksum());
            // Continued over a split at any point, it is the CRC of the whole.
            const std::size_t split = length / 3;
            REQUIRE(crc32(piece.substr(split), crc32(piece.substr(0, split))) ==
                    reference.checksum());
        }
    }
}
