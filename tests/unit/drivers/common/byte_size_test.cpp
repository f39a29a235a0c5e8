#include "drivers/common/byte_size.hpp"

#include <catch2/catch.hpp>

using greenrack::common::format_byte_size;
using greenrack::common::parse_byte_size;

TEST_CASE("byte sizes take binary and decimal units") {
    CHECK(parse_byte_size("4096B") == 4096U);
    CHECK(parse_byte_size("512KiB") == 512U * 1024U);
    CHECK(parse_byte_size("256MiB") == 256ULL * 1024 * 1024);
    CHECK(parse_byte_size("2GiB") == 2ULL * 1024 * 1024 * 1024);
    CHECK(parse_byte_size("1TiB") == 1ULL << 40U);
    CHECK(parse_byte_size("64kB") == 64'000U);
    CHECK(parse_byte_size("10MB") == 10'000'000U);
    CHECK(parse_byte_size("3GB") == 3'000'000'000ULL);
    CHECK(parse_byte_size("1TB") == 1'000'000'000'000ULL);
}

TEST_CASE("a byte size without a known unit, with a sign, a fraction or an overflow is refused") {
    for (const char* bad : {"", "100", "MiB", "1.5MiB", "-1MiB", "+1MiB", "1 MiB", "1mib", "1KB",
                            "1kiB", "20000000TiB", "99999999999999999999B"}) {
        INFO(bad);
        CHECK_FALSE(parse_byte_size(bad).has_value());
    }
}

TEST_CASE("byte sizes are formatted in their largest exact unit") {
    CHECK(format_byte_size(256ULL * 1024 * 1024) == "256MiB");
    CHECK(format_byte_size(1'000'000) == "1MB");
    CHECK(format_byte_size(1536) == "1536B");
    CHECK(format_byte_size(0) == "0B");
    CHECK(format_byte_size(3 * 1024) == "3KiB");
}
