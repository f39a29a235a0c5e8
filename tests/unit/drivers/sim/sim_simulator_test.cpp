#include "drivers/sim/simulator.hpp"

#include "drivers/modbus/codec.hpp"
#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace greenrack;
using namespace greenrack::sim;
using namespace std::chrono_literals;
using greenrack::sim::test::parse_site;
using greenrack::sim::test::site_scenario;

namespace {

constexpr std::size_t pdus = 0;
constexpr std::size_t plant = 1;

struct Reply {
    std::size_t length = 0;
    std::array<std::uint8_t, max_response_pdu> pdu{};
};

Reply request(Simulator& sim, std::size_t listener, std::uint8_t unit,
              std::vector<std::uint8_t> pdu) {
    Reply reply;
    reply.length = sim.handle_request(listener, unit, pdu, reply.pdu);
    return reply;
}

std::vector<std::uint8_t> read_request(std::uint8_t function, std::uint16_t address,
                                       std::uint16_t count) {
    return {function, static_cast<std::uint8_t>(address >> 8U),
            static_cast<std::uint8_t>(address & 0xFFU), static_cast<std::uint8_t>(count >> 8U),
            static_cast<std::uint8_t>(count & 0xFFU)};
}

} // namespace

TEST_CASE("FC03 answers with the register image of the addressed unit") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const Reply r = request(sim, plant, 1, read_request(0x03, 40000, 4));
    REQUIRE(r.length == 2 + 8);
    REQUIRE(r.pdu[0] == 0x03);
    REQUIRE(r.pdu[1] == 8);
    REQUIRE(r.pdu[2] == 0x53); // 'S'
    REQUIRE(r.pdu[3] == 0x75); // 'u'
    REQUIRE(r.pdu[4] == 0x6E); // 'n'
    REQUIRE(r.pdu[5] == 0x53); // 'S'
    // Same bytes as the image.
    const auto image = sim.image(2).read(modbus::RegisterKind::holding, 40008, 2);
    const Reply w = request(sim, plant, 1, read_request(0x03, 40008, 2));
    REQUIRE(w.length == 6);
    REQUIRE(((w.pdu[2] << 8U) | w.pdu[3]) == image.registers[0]);
    REQUIRE(((w.pdu[4] << 8U) | w.pdu[5]) == image.registers[1]);
}

TEST_CASE("FC04 reads input registers, the wrong function gets the exception the map dictates") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const Reply input = request(sim, plant, 4, read_request(0x04, 0, 3)); // battery, input regs
    REQUIRE(input.length == 2 + 6);
    REQUIRE(input.pdu[0] == 0x04);
    const Reply holding = request(sim, plant, 4, read_request(0x03, 0, 3));
    REQUIRE(holding.length == 2);
    REQUIRE(holding.pdu[0] == 0x83);
    REQUIRE(holding.pdu[1] == 0x02);
}

TEST_CASE("bad quantities are exception 03, unmapped addresses 02") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const Reply zero = request(sim, plant, 1, read_request(0x03, 40000, 0));
    REQUIRE(zero.length == 2);
    REQUIRE(zero.pdu[0] == 0x83);
    REQUIRE(zero.pdu[1] == 0x03);
    const Reply big = request(sim, plant, 1, read_request(0x03, 40000, 126));
    REQUIRE(big.pdu[1] == 0x03);
    const Reply outside = request(sim, plant, 1, read_request(0x03, 50000, 2));
    REQUIRE(outside.pdu[0] == 0x83);
    REQUIRE(outside.pdu[1] == 0x02);
    REQUIRE(sim.stats().by_exception(ModbusException::illegal_data_value) == 2);
    REQUIRE(sim.stats().by_exception(ModbusException::illegal_data_address) == 1);
    REQUIRE(sim.stats().by_function(0x03) == 3);
}

TEST_CASE("write requests are refused with exception 01 and counted") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const Reply single = request(sim, pdus, 1, {0x06, 0x00, 0x10, 0x12, 0x34});
    REQUIRE(single.length == 2);
    REQUIRE(single.pdu[0] == 0x86);
    REQUIRE(single.pdu[1] == 0x01);
    const Reply multiple = request(sim, pdus, 1, {0x10, 0x00, 0x10, 0x00, 0x01, 0x02, 0x12, 0x34});
    REQUIRE(multiple.pdu[0] == 0x90);
    REQUIRE(multiple.pdu[1] == 0x01);
    const Reply coils = request(sim, pdus, 1, read_request(0x01, 0, 8)); // not a write, still 01
    REQUIRE(coils.pdu[0] == 0x81);
    REQUIRE(coils.pdu[1] == 0x01);
    REQUIRE(sim.stats().writes_rejected() == 2);
    REQUIRE(sim.stats().by_function(0x06) == 1);
    REQUIRE(sim.stats().by_function(0x10) == 1);
    REQUIRE(sim.stats().by_exception(ModbusException::illegal_function) == 3);
}

TEST_CASE("an unknown unit id gets exception 0B, a unit on another listener is unknown here") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const Reply unknown = request(sim, plant, 99, read_request(0x03, 40000, 2));
    REQUIRE(unknown.length == 2);
    REQUIRE(unknown.pdu[0] == 0x83);
    REQUIRE(unknown.pdu[1] == 0x0B);
    // Unit 6 (facility meter) lives on "plant", not on "pdus".
    const Reply other = request(sim, pdus, 6, read_request(0x03, 0, 2));
    REQUIRE(other.pdu[1] == 0x0B);
    REQUIRE(request(sim, plant, 6, read_request(0x03, 0, 2)).length == 2 + 4);
}

TEST_CASE("a device_offline event silences that unit id for its duration only") {
    const std::string offline = R"(
[[event]]
at = "1m"
kind = "device_offline"
device = "pv-2"
duration = "30s"
)";
    Simulator sim(parse_site(site_scenario("2026-06-21T02:00:00Z", 7, offline)), SimTime{});
    const SimTime start = sim.now();
    REQUIRE(request(sim, plant, 2, read_request(0x03, 40000, 2)).length == 6);
    sim.advance_to(start + 60s);
    REQUIRE(sim.device_offline(3));
    REQUIRE(request(sim, plant, 2, read_request(0x03, 40000, 2)).length == 0);
    REQUIRE(request(sim, plant, 1, read_request(0x03, 40000, 2)).length == 6); // pv-1 answers
    REQUIRE(sim.stats().unanswered() == 1);
    sim.advance_to(start + 90s);
    REQUIRE(request(sim, plant, 2, read_request(0x03, 40000, 2)).length == 6);
}

TEST_CASE("advance_to steps whole physics steps and only then changes the registers") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    const SimTime start = sim.now();
    REQUIRE(sim.advance_to(start + 999ms) == 0);
    REQUIRE(sim.now() == start);
    REQUIRE(sim.advance_to(start + 10500ms) == 10);
    REQUIRE(sim.now() == start + 10s);
    REQUIRE(sim.advance_to(start + 10s) == 0);
}

TEST_CASE("start = now takes the start time given by the caller") {
    Scenario scenario = parse_site(site_scenario());
    scenario.sim.start.reset();
    const SimTime given = *parse_rfc3339_utc("2030-01-02T03:04:05Z");
    Simulator sim(std::move(scenario), given);
    REQUIRE(sim.now() == given);
}
