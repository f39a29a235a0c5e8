#include "drivers/sim/request_handler.hpp"

#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace greenrack;
using namespace greenrack::sim;
using greenrack::sim::test::test_profile;

namespace {

struct Reply {
    Answer answer;
    std::array<std::uint8_t, max_response_pdu> pdu{};
};

Reply ask(const RegisterImage& image, std::uint8_t function, std::uint16_t address,
          std::uint16_t count) {
    const std::vector<std::uint8_t> request = {function, static_cast<std::uint8_t>(address >> 8U),
                                               static_cast<std::uint8_t>(address & 0xFFU),
                                               static_cast<std::uint8_t>(count >> 8U),
                                               static_cast<std::uint8_t>(count & 0xFFU)};
    Reply reply;
    reply.answer = answer_request(image, request, reply.pdu);
    return reply;
}

} // namespace

TEST_CASE("a request over the profile's limits gets an exception response on the wire") {
    const RegisterImage image(test_profile("test_pairs"));

    // 100 registers: within the protocol's 125 and the map, over the device's 80.
    const Reply long_read = ask(image, 0x04, 0, 100);
    REQUIRE(long_read.answer.length == 2);
    REQUIRE(long_read.answer.exception == ModbusException::illegal_data_value);
    REQUIRE(long_read.pdu[0] == 0x84);
    REQUIRE(long_read.pdu[1] == 0x03);

    const Reply odd_start = ask(image, 0x04, 0x33, 2);
    REQUIRE(odd_start.answer.length == 2);
    REQUIRE(odd_start.answer.exception == ModbusException::illegal_data_address);
    REQUIRE(odd_start.pdu[0] == 0x84);
    REQUIRE(odd_start.pdu[1] == 0x02);

    const Reply odd_count = ask(image, 0x04, 0x34, 1);
    REQUIRE(odd_count.answer.length == 2);
    REQUIRE(odd_count.pdu[0] == 0x84);
    REQUIRE(odd_count.pdu[1] == 0x03);

    // The largest read the device allows is answered in full.
    const Reply ok = ask(image, 0x04, 0, 80);
    REQUIRE(ok.answer.exception == ModbusException::none);
    REQUIRE(ok.answer.length == 2 + 160);
    REQUIRE(ok.pdu[0] == 0x04);
    REQUIRE(ok.pdu[1] == 160);
}

TEST_CASE("without request limits in the profile, long and odd reads are answered") {
    const RegisterImage image(test_profile("test_pdu"));
    const Reply long_read = ask(image, 0x03, 0x10, 125);
    REQUIRE(long_read.answer.exception == ModbusException::none);
    REQUIRE(long_read.answer.length == 2 + 250);
    const Reply odd = ask(image, 0x03, 0x11, 3);
    REQUIRE(odd.answer.exception == ModbusException::none);
    REQUIRE(odd.answer.length == 2 + 6);
    REQUIRE(odd.pdu[0] == 0x03);
}
