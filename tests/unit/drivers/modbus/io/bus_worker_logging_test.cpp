// What a BusWorker logs while its devices or its link stay offline: state changes, never a line
// per poll or per reconnect attempt.

#include "drivers/modbus/bus_worker.hpp"

#include "drivers/modbus/read_planner.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/modbus_test_server.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <string>
#include <vector>

using namespace greenrack;
using namespace std::chrono_literals;
using modbus::PollResult;
using test::ModbusTestServer;

namespace {

std::shared_ptr<profiles::DeviceProfile> one_block_profile() {
    auto profile = std::make_shared<profiles::DeviceProfile>();
    profile->name = "one_block";
    for (std::uint16_t address : {10, 11}) {
        modbus::PointSpec point;
        point.name = "r" + std::to_string(address);
        point.address = address;
        point.type = modbus::DataType::u16;
        point.sentinel.mode = modbus::SentinelPolicy::Mode::none;
        profile->points.push_back(point);
    }
    return profile;
}

modbus::DeviceSettings device(std::string id, int unit) {
    modbus::DeviceSettings settings;
    settings.id = std::move(id);
    settings.unit_id = unit;
    settings.profile = one_block_profile();
    auto plan = modbus::plan_reads(settings.profile->points, modbus::PlanOptions{125, 4, false});
    settings.plan = std::get<modbus::ReadPlan>(plan);
    settings.response_timeout = 200ms; // generous: a busy machine must not fake a timeout
    return settings;
}

modbus::BusSettings bus(std::uint16_t port) {
    modbus::BusSettings settings;
    settings.id = "b";
    settings.endpoint = modbus::TcpEndpoint{"127.0.0.1", port};
    settings.connect_timeout = 200ms;
    settings.reconnect_min = 10ms;
    settings.reconnect_max = 40ms;
    settings.max_consecutive_failures = 2;
    return settings;
}

// Every line the worker logs, as "<level letter> <message>", e.g. "W bus b: cannot connect ...".
class Captured {
public:
    Captured() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10'000)) {
        sink_->set_pattern("%L %v");
        logger_ = std::make_shared<spdlog::logger>("modbus", sink_);
        logger_->set_level(spdlog::level::trace);
    }
    std::shared_ptr<spdlog::logger> logger() const { return logger_; }

    // Lines of `level` ('W', 'I', 'D', ...) containing `text` ("" for all of that level).
    std::vector<std::string> lines(char level, const std::string& text = "") const {
        std::vector<std::string> out;
        for (auto& line : sink_->last_formatted()) {
            if (line.size() > 2 && line[0] == level && line.find(text) != std::string::npos) {
                out.push_back(line);
            }
        }
        return out;
    }
    // Everything at info and above.
    std::vector<std::string> notable() const {
        std::vector<std::string> out;
        for (char level : {'I', 'W', 'E', 'C'}) {
            auto some = lines(level);
            out.insert(out.end(), some.begin(), some.end());
        }
        return out;
    }
    std::string dump() const {
        std::string out;
        for (auto& line : sink_->last_formatted()) {
            out += line;
        }
        return out;
    }

private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
    std::shared_ptr<spdlog::logger> logger_;
};

// Polls device 0 and waits for its result.
class Poller {
public:
    modbus::BusWorker::ResultHandler handler() {
        return [this](PollResult&& result) {
            std::lock_guard lock(mutex_);
            results_.push_back(std::move(result));
            cv_.notify_all();
        };
    }
    PollResult poll(modbus::BusWorker& worker) {
        REQUIRE(worker.request_poll(0));
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, 5s, [this] { return !results_.empty(); })) {
            FAIL("no poll result within 5 s");
        }
        PollResult result = std::move(results_.front());
        results_.pop_front();
        return result;
    }
    // Polls `count` times, `gap` apart; returns how many polls were answered.
    int poll_times(modbus::BusWorker& worker, int count, std::chrono::milliseconds gap) {
        int answered = 0;
        for (int i = 0; i < count; ++i) {
            answered += poll(worker).answered() ? 1 : 0;
            std::this_thread::sleep_for(gap);
        }
        return answered;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<PollResult> results_;
};

bool power_of_two(std::uint64_t n) {
    return n != 0 && (n & (n - 1)) == 0;
}

} // namespace

TEST_CASE("an unreachable endpoint warns once, not on every poll or reconnect attempt",
          "[bus][logging]") {
    const std::uint16_t closed_port = test::free_port(); // nothing listens: connection refused
    Captured log;
    Poller poller;
    modbus::BusWorker worker(bus(closed_port), {device("d", 1)}, log.logger(), poller.handler());
    worker.start();

    CHECK(poller.poll_times(worker, 20, 30ms) == 0);
    worker.stop();

    // The backoff (10..40 ms) let many attempts through: the limit below is not vacuous.
    const std::uint64_t attempts = worker.stats().connect_failures.load();
    REQUIRE(attempts >= 8);
    INFO(log.dump());
    CHECK(log.lines('W', "bus b: cannot connect to tcp://127.0.0.1:").size() == 1);
    CHECK(log.lines('W', "device d (unit 1 on b): not answering").size() == 1);
    CHECK(log.notable().size() == 2);
    // At debug level a retry adds a line only when the attempt count doubles (2, 4, 8, ...).
    std::uint64_t doublings = 0;
    for (std::uint64_t n = 2; n <= attempts; ++n) {
        doublings += power_of_two(n) ? 1 : 0;
    }
    CHECK(log.lines('D', "still cannot connect").size() == doublings);
    CHECK(log.lines('D').size() < attempts);
}

TEST_CASE("a device that stops answering logs one warning, and one line when it is back",
          "[bus][logging]") {
    ModbusTestServer server;
    Captured log;
    Poller poller;
    modbus::BusWorker worker(bus(server.port()), {device("d", 1)}, log.logger(), poller.handler());
    worker.start();
    REQUIRE(poller.poll(worker).answered());
    REQUIRE(log.notable().empty()); // the first connection is not news

    // Silent: every poll times out and every second one closes the link (reopened by the next).
    server.set_silent(1, true);
    CHECK(poller.poll_times(worker, 8, 15ms) == 0);
    CHECK(server.connections_accepted() >= 3); // the link really was reset more than once
    {
        INFO(log.dump());
        CHECK(log.lines('W', "device d (unit 1 on b): not answering").size() == 1);
        CHECK(log.lines('W', "bus b: closing link to").size() == 1);
        CHECK(log.lines('I').empty()); // reopening the link is not reported as news
        CHECK(log.notable().size() == 2);
    }

    server.set_silent(1, false);
    std::this_thread::sleep_for(20ms); // past the reconnect delay
    CHECK(poller.poll_times(worker, 3, 0ms) == 3);
    worker.stop();
    INFO(log.dump());
    CHECK(log.lines('I', "device d: online again").size() == 1);
    CHECK(log.lines('W').size() == 2);
    CHECK(log.notable().size() == 3);
}

TEST_CASE("a link that goes down and comes back logs each state change once", "[bus][logging]") {
    ModbusTestServer server;
    test::FaultProxy proxy(server.port());
    Captured log;
    Poller poller;
    modbus::BusWorker worker(bus(proxy.port()), {device("d", 1)}, log.logger(), poller.handler());
    worker.start();
    REQUIRE(poller.poll(worker).answered());

    // Down: the open connection is closed and new ones are refused.
    proxy.set_mode(test::FaultMode::refuse);
    CHECK(poller.poll_times(worker, 20, 30ms) == 0);
    REQUIRE(worker.stats().connect_failures.load() >= 8);
    {
        INFO(log.dump());
        CHECK(log.lines('W', "bus b: cannot connect to").size() == 1);
        CHECK(log.lines('W', "device d (unit 1 on b): not answering").size() == 1);
        CHECK(log.lines('I').empty());
        // The lost connection may be noticed as a closed link first; nothing else is logged.
        CHECK(log.lines('W', "bus b: closing link to").size() <= 1);
        CHECK(log.notable().size() == log.lines('W').size());
        CHECK(log.lines('W').size() <= 3);
    }
    const auto warnings_while_down = log.lines('W').size();

    // Up again.
    proxy.set_mode(test::FaultMode::pass);
    std::this_thread::sleep_for(50ms); // past the longest backoff
    CHECK(poller.poll_times(worker, 3, 0ms) == 3);
    worker.stop();
    INFO(log.dump());
    CHECK(log.lines('I', "bus b: connected to tcp://127.0.0.1:").size() == 1);
    CHECK(log.lines('I', "failed attempts").size() == 1);
    CHECK(log.lines('I', "device d: online again").size() == 1);
    CHECK(log.lines('W').size() == warnings_while_down);
    CHECK(log.notable().size() == warnings_while_down + 2);
}
