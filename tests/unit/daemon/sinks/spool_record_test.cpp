#include "daemon/sinks/spool_record.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::sinks;

TEST_CASE("a spool record decodes to what was encoded") {
    std::string data;
    const std::string_view binary("a\0b", 3);
    encode_record(data, 42, 1764340000123, binary);
    encode_record(data, 43, -5, "");
    REQUIRE(data.size() == 2 * record_header_size + 3);

    const DecodeResult first = decode_record(data);
    REQUIRE(first.status == DecodeStatus::ok);
    CHECK(first.record.seq == 42);
    CHECK(first.record.ts_ms == 1764340000123);
    CHECK(first.record.payload == binary);
    CHECK(first.size == record_header_size + 3);

    const DecodeResult second = decode_record(std::string_view(data).substr(first.size));
    REQUIRE(second.status == DecodeStatus::ok);
    CHECK(second.record.seq == 43);
    CHECK(second.record.ts_ms == -5);
    CHECK(second.record.payload.empty());
}

TEST_CASE("a torn spool record is incomplete, and says how long it is once the header is there") {
    std::string data;
    encode_record(data, 7, 1000, "0123456789");
    for (std::size_t cut = 0; cut < data.size(); ++cut) {
        const DecodeResult r = decode_record(std::string_view(data).substr(0, cut));
        INFO("cut at " << cut);
        REQUIRE(r.status == DecodeStatus::incomplete);
        CHECK(r.needed == (cut >= record_header_size ? data.size() : 0));
    }
}

TEST_CASE("any flipped bit in a spool record is detected") {
    std::string data;
    encode_record(data, 9, 123456, "payload bytes");
    for (std::size_t byte = 0; byte < data.size(); ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string damaged = data;
            damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
            const DecodeResult r = decode_record(damaged);
            INFO("byte " << byte << " bit " << bit);
            // A length made larger reads as incomplete (the rest is missing), never as ok.
            CHECK(r.status != DecodeStatus::ok);
        }
    }
}

TEST_CASE("a spool record longer than the limit is corrupt, not a huge allocation") {
    std::string data;
    encode_record(data, 1, 0, "x");
    const std::uint32_t huge = max_record_payload + 1;
    for (int i = 0; i < 4; ++i) {
        data[4 + static_cast<std::size_t>(i)] = static_cast<char>((huge >> (8 * i)) & 0xFF);
    }
    CHECK(decode_record(data).status == DecodeStatus::corrupt);
}
