// SunSpec discovery over Modbus TCP: the link reader on a ModbusLink against a ModbusTestServer
// (on its own free 127.0.0.1 port) loaded with a SunSpec image. The server answers exception 02
// for any read touching an address at or past its size, which ends a map like a real device.

#include "drivers/sunspec/link_reader.hpp"

#include "tests/support/modbus_test_server.hpp"
#include "tests/support/sunspec_image.hpp"

#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace greenrack;
using namespace std::chrono_literals;
using sunspec::Discovery;
using sunspec::DiscoveryError;
using sunspec::ReadError;
using test::ModbusTestServer;
using test::SunSpecImage;

namespace {

constexpr auto timeout = 500ms; // generous: a busy machine must not fake a timeout

std::string chain(const Discovery& discovery) {
    std::string text;
    for (const auto& model : discovery.models) {
        text += std::to_string(model.id) + "@" + std::to_string(model.address) + "+" +
                std::to_string(model.length) + " ";
    }
    return text + "end@" + std::to_string(discovery.end);
}

Discovery found(const std::variant<Discovery, DiscoveryError>& result) {
    if (const auto* failure = std::get_if<DiscoveryError>(&result)) {
        FAIL("discovery failed: " << failure->message);
    }
    return std::get<Discovery>(result);
}

} // namespace

TEST_CASE("discovery over TCP reads the chain and identity of a SunSpec image at 40000",
          "[sunspec][link]") {
    // The register-map notes' example device: 1, 103, 160 (2 MPPT), 203, end at 40279; the
    // server holds 40281 registers, so 40281 and above answer exception 02.
    ModbusTestServer server(40281);
    SunSpecImage image(server, 7, 40000);
    image.common("greenrack", "sim-inverter", "TCP-42", 7)
        .model(103, 50)
        .model(160, 48)
        .model(203, 105)
        .end(true);
    REQUIRE(image.next() == 40279);

    modbus::ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", server.port()});
    REQUIRE_FALSE(link.open(timeout));
    const auto& discovery = found(sunspec::discover(sunspec::make_link_reader(link, 7, timeout)));
    CHECK(discovery.base == 40000);
    CHECK(chain(discovery) == "1@40002+66 103@40070+50 160@40122+48 203@40172+105 end@40279");
    REQUIRE(discovery.identity);
    CHECK(discovery.identity->manufacturer == "greenrack");
    CHECK(discovery.identity->model == "sim-inverter");
    CHECK(discovery.identity->version == "v1.0");
    CHECK(discovery.identity->serial == "TCP-42");
    CHECK(discovery.identity->device_address == std::optional<std::uint16_t>(7));
    CHECK(discovery.warnings.empty());

    const auto requests = server.requests();
    CHECK(requests.size() == 7); // marker, common header, common points, 3 headers, end
    for (const auto& request : requests) {
        CHECK(request.function == 3);
        CHECK(request.unit_id == 7);
        CHECK(request.count >= 1);
        CHECK(request.count <= 125);
    }
}

TEST_CASE("discovery over TCP finds SunS at 0 after 40000 answers exception 02, and an end "
          "model without length",
          "[sunspec][link]") {
    // 71 registers: the marker, the common model (2..69) and the end model's ID at 70; reading
    // its length (71) answers exception 02.
    ModbusTestServer server(71);
    SunSpecImage(server, 1, 0).common("Acme", "M1", "S1", 1).end(false);

    modbus::ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", server.port()});
    REQUIRE_FALSE(link.open(timeout));
    const auto& discovery = found(sunspec::discover(sunspec::make_link_reader(link, 1, timeout)));
    CHECK(discovery.base == 0);
    CHECK(chain(discovery) == "1@2+66 end@70");
    REQUIRE(discovery.warnings.size() == 1);
    CHECK(discovery.warnings[0] == "end model at 70 has no length register");

    const auto requests = server.requests();
    REQUIRE(requests.size() >= 2);
    CHECK(requests[0].address == 40000); // exception 02 there
    CHECK(requests[1].address == 0);
}

TEST_CASE("the link reader reads holding registers of its unit with function 03",
          "[sunspec][link]") {
    ModbusTestServer server;
    modbus::ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", server.port()});
    REQUIRE_FALSE(link.open(timeout));
    const auto read = sunspec::make_link_reader(link, 5, timeout);
    const auto result = read(10, 3);
    REQUIRE(std::holds_alternative<std::vector<std::uint16_t>>(result));
    // The test server's holding register value: address + 1000 * unit (input: + 2000 * unit).
    CHECK(std::get<std::vector<std::uint16_t>>(result) ==
          std::vector<std::uint16_t>{5010, 5011, 5012});
    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].function == 3);
    CHECK(requests[0].unit_id == 5);
}

TEST_CASE("the link reader reports an exception reply with its code", "[sunspec][link]") {
    ModbusTestServer server(200);
    server.set_exception(1, 50, 4);
    modbus::ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", server.port()});
    REQUIRE_FALSE(link.open(timeout));
    const auto read = sunspec::make_link_reader(link, 1, timeout);

    const auto past_end = read(199, 2);
    REQUIRE(std::holds_alternative<ReadError>(past_end));
    CHECK(std::get<ReadError>(past_end).kind == ReadError::Kind::exception);
    CHECK(std::get<ReadError>(past_end).exception_code == 2);

    const auto failure = read(48, 4);
    REQUIRE(std::holds_alternative<ReadError>(failure));
    CHECK(std::get<ReadError>(failure).kind == ReadError::Kind::exception);
    CHECK(std::get<ReadError>(failure).exception_code == 4);
    CHECK(link.is_open());
}

TEST_CASE("the link reader reports a silent unit as a timeout and the link stays usable",
          "[sunspec][link]") {
    ModbusTestServer server;
    modbus::ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", server.port()});
    REQUIRE_FALSE(link.open(timeout));
    server.set_silent(3, true);
    const auto silent = sunspec::make_link_reader(link, 3, 100ms)(0, 2);
    REQUIRE(std::holds_alternative<ReadError>(silent));
    CHECK(std::get<ReadError>(silent).kind == ReadError::Kind::timeout);

    server.set_silent(3, false);
    const auto after = sunspec::make_link_reader(link, 3, timeout)(0, 2);
    REQUIRE(std::holds_alternative<std::vector<std::uint16_t>>(after));
    CHECK(std::get<std::vector<std::uint16_t>>(after) == std::vector<std::uint16_t>{3000, 3001});
}

TEST_CASE("over a link that is not open discovery fails at once with read_failed",
          "[sunspec][link]") {
    modbus::ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", 1});
    const auto read = sunspec::make_link_reader(link, 1, timeout);
    const auto direct = read(40000, 2);
    REQUIRE(std::holds_alternative<ReadError>(direct));
    CHECK(std::get<ReadError>(direct).kind == ReadError::Kind::link);
    CHECK(std::get<ReadError>(direct).detail == "not connected");

    const auto result = sunspec::discover(read);
    REQUIRE(std::holds_alternative<DiscoveryError>(result));
    CHECK(std::get<DiscoveryError>(result).kind == DiscoveryError::Kind::read_failed);
    CHECK(std::get<DiscoveryError>(result).message ==
          "probing 40000 for SunS: link error: not connected");
}
