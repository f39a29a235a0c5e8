// Modbus read-only: greenrackd never sends a write (or any other non-read) function code.
// Enforced by construction: drivers/modbus/transport.hpp's ModbusLink exposes read() only,
// which calls libmodbus' modbus_read_registers (FC03) or modbus_read_input_registers (FC04);
// the simulator answers writes with exception 01 and counts them (sim_simulator_test). Checked
// here twice: the simulator's request counters after a real run of the daemon against the whole
// harness site, and a scan of the daemon's sources for libmodbus calls that could send anything
// else.

#include "tests/integration/site_harness.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <map>
#include <sstream>

using namespace greenrack::test;
using namespace std::chrono_literals;

namespace {

const std::string prefix = "greenrack/v1/it/";
const std::string source_dir = GREENRACK_SOURCE_DIR;

// The simulator's --stats lines (every 10 s on its stderr, which SiteHarness captures in
// <dir>/sim.err), e.g. "greenrack-sim: sim ... 12.5 req/s requests=120 fc03=100 fc04=20
// exceptions: none writes_rejected=0 unanswered=0".
std::vector<std::string> stats_lines(const SiteHarness& site) {
    std::vector<std::string> lines;
    std::istringstream log(read_file(site.dir() / "sim.err"));
    std::string line;
    while (std::getline(log, line)) {
        if (line.find(" req/s requests=") != std::string::npos) {
            lines.push_back(line);
        }
    }
    return lines;
}

// "name=value" counters of a stats line ("requests", "fc03", "writes_rejected", ...).
std::map<std::string, std::uint64_t> counters(const std::string& line) {
    std::map<std::string, std::uint64_t> out;
    std::istringstream words(line.substr(line.find("requests=")));
    std::string word;
    while (words >> word) {
        const auto equals = word.find('=');
        if (equals != std::string::npos && equals > 0 &&
            word.find_first_not_of("0123456789", equals + 1) == std::string::npos) {
            out[word.substr(0, equals)] = std::stoull(word.substr(equals + 1));
        }
    }
    return out;
}

} // namespace

TEST_CASE("modbus read_only: over a real run against the whole site the simulator sees only "
          "FC03 and FC04 requests and no write",
          "[modbus][read_only]") {
    SiteHarness site({"--freeze", "--stats"});
    MqttRecorder mqtt(site.broker().uri(), prefix + "#");
    auto daemon = site.start_daemon();

    // Every device of every profile has been polled...
    const auto devices = site.snapshot()["devices"];
    REQUIRE(devices.size() == 6);
    for (const auto& [id, device] : devices.items()) {
        INFO("device " << id);
        REQUIRE(mqtt.wait_for(prefix + "device/" + id + "/state", 20s).has_value());
    }
    // ...before the next stats line (cumulative since the simulator started).
    const std::size_t seen = stats_lines(site).size();
    REQUIRE(wait_until([&] { return stats_lines(site).size() > seen; }, 15s));
    const std::string line = stats_lines(site).back();
    INFO("simulator: " << line);
    const auto count = counters(line);

    REQUIRE(count.count("requests") == 1);
    CHECK(count.at("requests") > 0);
    std::uint64_t reads = 0;
    for (const auto& [name, value] : count) {
        if (name.rfind("fc", 0) == 0) {
            INFO("function code " << name);
            CHECK((name == "fc03" || name == "fc04"));
            reads += value;
        }
    }
    CHECK(reads == count.at("requests"));
    // The shipped profiles use both: e.g. FC03 for SunSpec and the facility meter, FC04 for
    // the grid meter and the battery's live values.
    CHECK(count.count("fc03") == 1);
    CHECK(count.count("fc04") == 1);
    REQUIRE(count.count("writes_rejected") == 1);
    CHECK(count.at("writes_rejected") == 0);

    CHECK(daemon->stop(SIGTERM, 10s) == 0);
}

TEST_CASE("modbus read_only: no source of greenrackd calls a libmodbus function that sends "
          "anything but FC03 or FC04",
          "[modbus][read_only]") {
    // Everything linked into greenrackd (the simulator under drivers/sim is not).
    const std::vector<std::string> dirs = {"daemon", "drivers/modbus", "drivers/common",
                                           "drivers/profiles"};
    // libmodbus calls that send other function codes: coils and discrete inputs (01, 02),
    // writes (05, 06, 0F, 10, 16, 17), report server id (11) and raw requests (any code).
    const std::vector<std::string> forbidden = {
        "modbus_read_bits",           "modbus_read_input_bits",
        "modbus_write_bit",           "modbus_write_register",
        "modbus_write_bits",          "modbus_write_registers",
        "modbus_mask_write_register", "modbus_write_and_read_registers",
        "modbus_report_slave_id",     "modbus_send_raw_request"};
    std::size_t scanned = 0;
    for (const auto& dir : dirs) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(
                 std::filesystem::path(source_dir) / dir)) {
            const auto extension = entry.path().extension();
            if (!entry.is_regular_file() || (extension != ".cpp" && extension != ".hpp")) {
                continue;
            }
            ++scanned;
            const std::string text = read_file(entry.path());
            for (const auto& call : forbidden) {
                INFO(entry.path().string() << " calls " << call);
                CHECK(text.find(call + "(") == std::string::npos);
            }
        }
    }
    CHECK(scanned > 20);
    // The one place that talks to libmodbus reads, and only with the two read calls.
    const std::string transport =
        read_file(std::filesystem::path(source_dir) / "drivers" / "modbus" / "transport.cpp");
    CHECK(transport.find("modbus_read_registers(") != std::string::npos);
    CHECK(transport.find("modbus_read_input_registers(") != std::string::npos);
}
