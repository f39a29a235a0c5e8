#include "drivers/sim/modbus_server.hpp"
#include "drivers/sim/simulator.hpp"

#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>
#include <modbus/modbus.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

using namespace greenrack;
using namespace greenrack::sim;
using namespace std::chrono_literals;
using greenrack::sim::test::parse_site;
using greenrack::sim::test::site_scenario;

namespace {

// The simulator served on loopback from a background thread (the server itself is
// single-threaded; the test's clients run on the main thread).
class RunningServer {
public:
    explicit RunningServer(Simulator& sim)
        : sim_(sim), server_("127.0.0.1", sim.scenario().listeners), thread_([this] { run(); }) {}
    ~RunningServer() {
        stop_ = true;
        thread_.join();
    }
    RunningServer(const RunningServer&) = delete;
    RunningServer& operator=(const RunningServer&) = delete;

    std::uint16_t port(std::size_t listener) const { return server_.ports()[listener]; }

private:
    void run() {
        const ModbusServer::Handler handler = [this](std::size_t listener, std::uint8_t unit,
                                                     std::span<const std::uint8_t> pdu,
                                                     std::span<std::uint8_t> response) {
            return sim_.handle_request(listener, unit, pdu, response);
        };
        while (!stop_) {
            server_.poll(10ms, handler);
        }
    }

    Simulator& sim_;
    ModbusServer server_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

class Client {
public:
    Client(std::uint16_t port, int unit) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
        REQUIRE(ctx_ != nullptr);
        modbus_set_slave(ctx_, unit);
        modbus_set_response_timeout(ctx_, 0, 300000);
        REQUIRE(modbus_connect(ctx_) == 0);
    }
    ~Client() {
        modbus_close(ctx_);
        modbus_free(ctx_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    modbus_t* get() { return ctx_; }

private:
    modbus_t* ctx_;
};

// Result of a read: registers, or the errno of the failure.
struct Read {
    int rc = 0;
    int error = 0;
    std::vector<std::uint16_t> regs;
};

Read read_holding(modbus_t* ctx, int address, int count) {
    Read r;
    r.regs.resize(static_cast<std::size_t>(std::max(count, 1)));
    r.rc = modbus_read_registers(ctx, address, count, r.regs.data());
    r.error = errno;
    return r;
}

constexpr std::size_t plant = 1;

} // namespace

TEST_CASE("listeners bound on port 0 get distinct free ports") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    ModbusServer server("127.0.0.1", sim.scenario().listeners);
    REQUIRE(server.ports().size() == 2);
    REQUIRE(server.ports()[0] != 0);
    REQUIRE(server.ports()[1] != 0);
    REQUIRE(server.ports()[0] != server.ports()[1]);
}

TEST_CASE("binding a port that is already in use fails with the listener's name") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    ModbusServer first("127.0.0.1", sim.scenario().listeners);
    ListenerSpec again;
    again.name = "again";
    again.port = first.ports()[0];
    const std::vector<ListenerSpec> clash = {again};
    REQUIRE_THROWS_WITH(ModbusServer("127.0.0.1", clash),
                        Catch::Matchers::Contains("listener \"again\""));
}

TEST_CASE("TCP clients read the registers of the addressed unit over libmodbus") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    RunningServer running(sim);
    Client pv(running.port(plant), 1);
    const Read head = read_holding(pv.get(), 40000, 15);
    REQUIRE(head.rc == 15);
    const auto image = sim.image(2).read(modbus::RegisterKind::holding, 40000, 15);
    for (std::size_t i = 0; i < 15; ++i) {
        REQUIRE(head.regs[i] == image.registers[i]);
    }
    Client battery(running.port(plant), 4);
    std::vector<std::uint16_t> input(3);
    REQUIRE(modbus_read_input_registers(battery.get(), 0, 3, input.data()) == 3);
    const auto battery_image = sim.image(5).read(modbus::RegisterKind::input, 0, 3);
    REQUIRE(input[0] == battery_image.registers[0]);
    REQUIRE(input[2] == battery_image.registers[2]);
}

TEST_CASE("exceptions reach the client: 02 unmapped, 03 bad count, 01 writes, 0B unknown unit") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    RunningServer running(sim);
    Client pv(running.port(plant), 1);
    const Read unmapped = read_holding(pv.get(), 40015, 1);
    REQUIRE(unmapped.rc == -1);
    REQUIRE(unmapped.error == EMBXILADD);
    REQUIRE(modbus_write_register(pv.get(), 40008, 1) == -1);
    REQUIRE(errno == EMBXILFUN);

    // Count 0 is refused by the server (libmodbus clients refuse > 125 themselves).
    const std::uint8_t zero_count[] = {1, 0x03, 0x9C, 0x40, 0x00, 0x00};
    REQUIRE(modbus_send_raw_request(pv.get(), zero_count, sizeof zero_count) > 0);
    std::uint8_t response[MODBUS_TCP_MAX_ADU_LENGTH];
    const int length = modbus_receive_confirmation(pv.get(), response);
    REQUIRE(length == 9);
    REQUIRE(response[7] == 0x83);
    REQUIRE(response[8] == 0x03);

    Client stranger(running.port(plant), 77);
    const Read unknown = read_holding(stranger.get(), 40000, 2);
    REQUIRE(unknown.rc == -1);
    REQUIRE(unknown.error == EMBXGTAR);
    // The connection stays usable after an exception.
    REQUIRE(read_holding(pv.get(), 40000, 2).rc == 2);
}

TEST_CASE("an offline unit times out while the others on the same port answer") {
    const std::string offline = R"(
[[event]]
at = "0s"
kind = "device_offline"
device = "pv-2"
)";
    Simulator sim(parse_site(site_scenario("2026-06-21T02:00:00Z", 7, offline)), SimTime{});
    RunningServer running(sim);
    Client silent(running.port(plant), 2);
    const Read r = read_holding(silent.get(), 40000, 2);
    REQUIRE(r.rc == -1);
    REQUIRE(r.error == ETIMEDOUT);
    Client other(running.port(plant), 1);
    REQUIRE(read_holding(other.get(), 40000, 2).rc == 2);
}

TEST_CASE("one loop serves several clients on several listeners at once") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    RunningServer running(sim);
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<Client>(running.port(plant), 1));
        clients.push_back(std::make_unique<Client>(running.port(0), 1 + (i % 2)));
    }
    for (int round = 0; round < 20; ++round) {
        for (std::size_t c = 0; c < clients.size(); ++c) {
            const int address = c % 2 == 0 ? 40000 : 0x100;
            REQUIRE(read_holding(clients[c]->get(), address, 2).rc == 2);
        }
    }
}

// Throughput measurement, not run by default:
//   build-sim/tests/unit/sim_modbus_server_test "[bench]" -s
TEST_CASE("throughput of the request loop", "[.][bench]") {
    Simulator sim(parse_site(site_scenario()), SimTime{});
    RunningServer running(sim);
    for (int client_count : {1, 4, 16}) {
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> done{0};
        std::atomic<std::uint64_t> failed{0};
        std::vector<std::thread> threads;
        for (int c = 0; c < client_count; ++c) {
            threads.emplace_back([&, c] {
                modbus_t* ctx = modbus_new_tcp("127.0.0.1", running.port(c % 2 == 0 ? 1 : 0));
                modbus_set_slave(ctx, 1);
                if (modbus_connect(ctx) != 0) {
                    ++failed;
                    modbus_free(ctx);
                    return;
                }
                std::uint16_t regs[32];
                const int address = c % 2 == 0 ? 40000 : 0x100;
                const int count = c % 2 == 0 ? 15 : 8;
                while (!stop) {
                    if (modbus_read_registers(ctx, address, count, regs) == count) {
                        ++done;
                    } else {
                        ++failed;
                    }
                }
                modbus_close(ctx);
                modbus_free(ctx);
            });
        }
        const auto begin = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(2s);
        stop = true;
        for (auto& t : threads) {
            t.join();
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
        std::cout << client_count << " clients: " << static_cast<double>(done) / seconds
                  << " requests/s (" << failed << " failed)\n";
        REQUIRE(failed == 0);
        REQUIRE(done > 0);
    }
}
