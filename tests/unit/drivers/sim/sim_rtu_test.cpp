#include "drivers/sim/modbus_server.hpp"
#include "drivers/sim/rtu_frame.hpp"
#include "drivers/sim/simulator.hpp"

#include "sim_test_profiles.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace greenrack;
using namespace greenrack::sim;
using namespace std::chrono_literals;
using greenrack::sim::test::parse_site;
using greenrack::sim::test::site_scenario;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes with_crc(Bytes frame) {
    const std::uint16_t crc = modbus_crc16(frame);
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFFU));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8U));
    return frame;
}

// A pty pair: the simulator opens the slave by its path, the test talks on the master.
class Pty {
public:
    Pty() {
        char name[128] = {};
        REQUIRE(openpty(&master_, &slave_, name, nullptr, nullptr) == 0);
        path_ = name;
        termios tio{};
        tcgetattr(master_, &tio);
        cfmakeraw(&tio);
        tcsetattr(master_, TCSANOW, &tio);
    }
    ~Pty() {
        ::close(master_);
        ::close(slave_);
    }
    Pty(const Pty&) = delete;
    Pty& operator=(const Pty&) = delete;

    const std::string& path() const { return path_; }

    void send(const Bytes& bytes) {
        REQUIRE(::write(master_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    }
    // Bytes received until `expected` arrived or the timeout passed.
    Bytes receive(std::size_t expected, std::chrono::milliseconds timeout) {
        Bytes out;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
            pollfd p{master_, POLLIN, 0};
            if (::poll(&p, 1, 20) > 0) {
                std::uint8_t buffer[256];
                const ssize_t n = ::read(master_, buffer, sizeof buffer);
                if (n > 0) {
                    out.insert(out.end(), buffer, buffer + n);
                }
            }
        }
        return out;
    }

private:
    int master_ = -1;
    int slave_ = -1;
    std::string path_;
};

// The test site with its "plant" listener moved to a serial line.
Scenario serial_site(const std::string& path) {
    std::string text = site_scenario();
    const std::string tcp = "name = \"plant\"\nport = 0\n";
    text.replace(text.find(tcp), tcp.size(),
                 "name = \"plant\"\nserial = \"" + path + "\"\nbaud = 9600\nparity = \"N\"\n");
    return parse_site(text);
}

class Serving {
public:
    explicit Serving(Simulator& sim)
        : sim_(sim), server_("127.0.0.1", sim.scenario().listeners), thread_([this] {
              const PduHandler handler = [this](std::size_t l, std::uint8_t unit,
                                                std::span<const std::uint8_t> pdu,
                                                std::span<std::uint8_t> response) {
                  return sim_.handle_request(l, unit, pdu, response);
              };
              while (!stop_) {
                  server_.poll(10ms, handler);
              }
          }) {}
    ~Serving() {
        stop_ = true;
        thread_.join();
    }
    Serving(const Serving&) = delete;
    Serving& operator=(const Serving&) = delete;

private:
    Simulator& sim_;
    ModbusServer server_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace

TEST_CASE("RTU CRC-16 matches the Modbus specification's example") {
    // Read 10 holding registers from 0 at unit 1: 01 03 00 00 00 0A C5 CD.
    const Bytes request = {0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};
    REQUIRE(modbus_crc16(request) == 0xCDC5);
    REQUIRE(with_crc(request) == Bytes{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD});
}

TEST_CASE("RTU request length follows from the function code and byte count") {
    REQUIRE_FALSE(rtu_request_length(Bytes{0x01}).has_value());
    REQUIRE(*rtu_request_length(Bytes{0x01, 0x03}) == 8);
    REQUIRE(*rtu_request_length(Bytes{0x01, 0x04}) == 8);
    REQUIRE(*rtu_request_length(Bytes{0x01, 0x06}) == 8);
    REQUIRE_FALSE(rtu_request_length(Bytes{0x01, 0x10, 0, 0, 0, 2}).has_value());
    REQUIRE(*rtu_request_length(Bytes{0x01, 0x10, 0, 0, 0, 2, 4}) == 13);
    REQUIRE(*rtu_request_length(Bytes{0x01, 0x63}) == 0); // unknown function
}

TEST_CASE("RTU frames with a bad CRC are rejected, good ones split into unit and PDU") {
    Bytes frame = with_crc({0x07, 0x04, 0x00, 0x10, 0x00, 0x02});
    auto request = parse_rtu_frame(frame);
    REQUIRE(request.has_value());
    REQUIRE(request->unit == 7);
    REQUIRE(Bytes(request->pdu.begin(), request->pdu.end()) == Bytes{0x04, 0x00, 0x10, 0x00, 0x02});
    frame[3] ^= 0x01;
    REQUIRE_FALSE(parse_rtu_frame(frame).has_value());
}

TEST_CASE("serial listeners need a device path and known line settings") {
    const std::string head = "[[listener]]\nname = \"bus\"\nserial = \"/dev/ttyV0\"\n";
    REQUIRE(parse_site(head).listeners[0].baud == 19200);
    REQUIRE(parse_site(head).listeners[0].parity == 'E');
    REQUIRE_THROWS_WITH(parse_site(head + "port = 1502\n"),
                        Catch::Matchers::Contains("either a TCP port or a serial device"));
    REQUIRE_THROWS_WITH(parse_site(head + "baud = 12345\n"),
                        Catch::Matchers::Contains("unsupported baud rate 12345"));
    REQUIRE_THROWS_WITH(parse_site(head + "parity = \"X\"\n"),
                        Catch::Matchers::Contains("unknown value \"X\""));
}

TEST_CASE("an RTU line serves many unit ids and stays silent for others") {
    Pty pty;
    Simulator sim(serial_site(pty.path()), SimTime{});
    Serving serving(sim);

    // pv-1 (unit 1): 4 registers from 40000 = "SunS", model 103, length 12.
    pty.send(with_crc({0x01, 0x03, 0x9C, 0x40, 0x00, 0x04}));
    const Bytes reply = pty.receive(13, 1000ms);
    REQUIRE(reply == with_crc({0x01, 0x03, 0x08, 0x53, 0x75, 0x6E, 0x53, 0x00, 0x67, 0x00, 0x0C}));

    // The battery (unit 4) on the same line, input registers.
    pty.send(with_crc({0x04, 0x04, 0x00, 0x00, 0x00, 0x01}));
    const Bytes soc = pty.receive(7, 1000ms);
    REQUIRE(soc.size() == 7);
    const auto image = sim.image(5).read(modbus::RegisterKind::input, 0, 1);
    REQUIRE(((soc[3] << 8U) | soc[4]) == image.registers[0]);

    // Exceptions travel as RTU frames too.
    pty.send(with_crc({0x01, 0x03, 0x9C, 0x40, 0x00, 0x00}));
    REQUIRE(pty.receive(5, 1000ms) == with_crc({0x01, 0x83, 0x03}));

    // Unknown unit, broadcast and a corrupted frame: no answer at all.
    pty.send(with_crc({0x63, 0x03, 0x9C, 0x40, 0x00, 0x02}));
    pty.send(with_crc({0x00, 0x03, 0x9C, 0x40, 0x00, 0x02}));
    Bytes corrupted = with_crc({0x01, 0x03, 0x9C, 0x40, 0x00, 0x02});
    corrupted.back() ^= 0xFF;
    pty.send(corrupted);
    REQUIRE(pty.receive(1, 300ms).empty());

    // After garbage and a pause the line resynchronises on the next frame.
    pty.send({0x01, 0x03, 0x9C});
    std::this_thread::sleep_for(150ms);
    pty.send(with_crc({0x02, 0x03, 0x9C, 0x40, 0x00, 0x02}));
    REQUIRE(pty.receive(9, 1000ms) == with_crc({0x02, 0x03, 0x04, 0x53, 0x75, 0x6E, 0x53}));
}
