// ModbusLink against a misbehaving peer: a FaultProxy in front of a ModbusTestServer. Each fault
// must end the exchange with the matching error within the response timeout (never later), and
// the link must be usable again once the peer behaves.

#include "drivers/modbus/transport.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/modbus_test_server.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <map>
#include <thread>

using namespace greenrack;
using namespace std::chrono_literals;
using modbus::ModbusErrc;
using modbus::ModbusLink;
using test::FaultMode;
using test::FaultProxy;
using test::ModbusTestServer;

namespace {

constexpr auto timeout = 200ms;

struct Exchange {
    std::error_code error;
    std::chrono::milliseconds took{0};
    std::array<std::uint16_t, 4> registers{};
};

Exchange read_four(ModbusLink& link) {
    Exchange out;
    const auto started = std::chrono::steady_clock::now();
    out.error = link.read(5, modbus::RegisterKind::holding, 10, out.registers, timeout);
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return out;
}

std::error_code code(ModbusErrc errc) {
    return modbus::make_error_code(errc);
}

} // namespace

TEST_CASE("through a transparent fault proxy a link reads the server's registers", "[link]") {
    ModbusTestServer server;
    FaultProxy proxy(server.port());
    ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", proxy.port()});
    REQUIRE_FALSE(link.open(500ms));
    const auto exchange = read_four(link);
    REQUIRE_FALSE(exchange.error);
    CHECK(exchange.registers[0] == 5010); // holding: address + 1000 * unit
    CHECK(exchange.registers[3] == 5013);
    CHECK(proxy.requests(FaultMode::pass) == 1);
    CHECK(proxy.function_codes() == std::map<int, std::uint64_t>{{3, 1}});
}

TEST_CASE("each wire fault ends the exchange with its error within the response timeout",
          "[link]") {
    struct Case {
        FaultMode mode;
        std::vector<std::error_code> errors; // any of these
    };
    const std::vector<Case> cases = {
        {FaultMode::blackhole, {code(ModbusErrc::timeout)}},
        {FaultMode::reset_mid_frame, {code(ModbusErrc::connection_lost)}},
        // A reply that stops two bytes short: libmodbus' own 500 ms byte timeout must not
        // stretch the response timeout.
        {FaultMode::short_frame, {code(ModbusErrc::timeout)}},
        {FaultMode::garbage, {code(ModbusErrc::bad_data), code(ModbusErrc::timeout)}},
        {FaultMode::wrong_tid, {code(ModbusErrc::bad_data)}},
        {FaultMode::exception, {code(ModbusErrc::server_device_failure)}},
        {FaultMode::slow_900ms, {code(ModbusErrc::timeout)}},
    };
    for (const auto& c : cases) {
        INFO("fault " << test::to_string(c.mode));
        ModbusTestServer server;
        FaultProxy proxy(server.port());
        ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", proxy.port()});
        REQUIRE_FALSE(link.open(500ms));
        proxy.set_mode(c.mode);
        const auto exchange = read_four(link);
        INFO("got " << exchange.error.message() << " after " << exchange.took.count() << " ms");
        CHECK(std::find(c.errors.begin(), c.errors.end(), exchange.error) != c.errors.end());
        CHECK(exchange.took <= timeout + 100ms);
        CHECK(proxy.requests(c.mode) == 1);

        // The peer behaves again: a fresh link (as the bus worker opens after link errors) reads.
        proxy.set_mode(FaultMode::pass);
        std::this_thread::sleep_for(timeout); // let late (slow) replies arrive and be dropped
        link.close();
        REQUIRE_FALSE(link.open(500ms));
        const auto again = read_four(link);
        CHECK_FALSE(again.error);
        CHECK(again.registers[0] == 5010);
    }
}

TEST_CASE("a refusing peer fails the connect at once and accepts again on the same port",
          "[link]") {
    ModbusTestServer server;
    FaultProxy proxy(server.port());
    ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", proxy.port()});
    REQUIRE_FALSE(link.open(500ms));
    const auto port = proxy.port();

    proxy.set_mode(FaultMode::refuse);
    // The open connection was closed by the peer.
    CHECK(read_four(link).error == code(ModbusErrc::connection_lost));
    link.close();
    const auto started = std::chrono::steady_clock::now();
    CHECK(link.open(500ms) == code(ModbusErrc::connect_failed));
    CHECK(std::chrono::steady_clock::now() - started < 100ms);

    proxy.set_mode(FaultMode::pass);
    CHECK(proxy.port() == port);
    REQUIRE_FALSE(link.open(500ms));
    CHECK_FALSE(read_four(link).error);
}

TEST_CASE("a peer answering every third request fails the other two with timeouts", "[link]") {
    ModbusTestServer server;
    FaultProxy proxy(server.port());
    ModbusLink link(modbus::TcpEndpoint{"127.0.0.1", proxy.port()});
    REQUIRE_FALSE(link.open(500ms));
    proxy.set_mode(FaultMode::every_third);
    std::vector<bool> answered;
    for (int i = 0; i < 6; ++i) {
        const auto exchange = read_four(link);
        answered.push_back(!exchange.error);
        if (exchange.error) {
            CHECK(exchange.error == code(ModbusErrc::timeout));
            link.flush();
        }
    }
    CHECK(answered == std::vector<bool>{false, false, true, false, false, true});
    CHECK(proxy.requests(FaultMode::every_third) == 6);
}
