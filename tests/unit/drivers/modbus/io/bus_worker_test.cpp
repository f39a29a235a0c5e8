#include "drivers/modbus/bus_worker.hpp"

#include "drivers/modbus/read_planner.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/modbus_test_server.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <spdlog/sinks/null_sink.h>

using namespace greenrack;
using namespace std::chrono_literals;
using modbus::PollResult;
using modbus::Quality;
using test::ModbusTestServer;

namespace {

// Two requests: registers 10..11 and 100..101 (too far apart to merge).
std::shared_ptr<profiles::DeviceProfile> two_block_profile() {
    auto profile = std::make_shared<profiles::DeviceProfile>();
    profile->name = "two_blocks";
    for (std::uint16_t address : {10, 11, 100, 101}) {
        modbus::PointSpec point;
        point.name = "r" + std::to_string(address);
        point.address = address;
        point.type = modbus::DataType::u16;
        point.sentinel.mode = modbus::SentinelPolicy::Mode::none;
        profile->points.push_back(point);
    }
    return profile;
}

modbus::DeviceSettings device(std::string id, int unit, std::chrono::milliseconds timeout = 300ms) {
    modbus::DeviceSettings settings;
    settings.id = std::move(id);
    settings.unit_id = unit;
    settings.profile = two_block_profile();
    auto plan = modbus::plan_reads(settings.profile->points, modbus::PlanOptions{125, 4, false});
    settings.plan = std::get<modbus::ReadPlan>(plan);
    settings.response_timeout = timeout;
    return settings;
}

modbus::BusSettings bus(std::string id, std::uint16_t port) {
    modbus::BusSettings settings;
    settings.id = std::move(id);
    settings.endpoint = modbus::TcpEndpoint{"127.0.0.1", port};
    settings.connect_timeout = 500ms;
    settings.reconnect_min = 50ms;
    settings.reconnect_max = 200ms;
    return settings;
}

// Collects results from worker threads, in arrival order.
class Results {
public:
    modbus::BusWorker::ResultHandler handler(std::string tag) {
        return [this, tag](PollResult&& result) {
            std::lock_guard lock(mutex_);
            items_.emplace_back(tag, std::move(result));
            cv_.notify_all();
        };
    }
    std::pair<std::string, PollResult> next(std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [this] { return !items_.empty(); })) {
            FAIL("no poll result within the timeout");
        }
        auto item = std::move(items_.front());
        items_.pop_front();
        return item;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<std::string, PollResult>> items_;
};

std::shared_ptr<spdlog::logger> quiet_logger() {
    return std::make_shared<spdlog::logger>("test",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

} // namespace

TEST_CASE("bus worker reads every planned request with the device's own unit id", "[bus]") {
    ModbusTestServer server;
    Results results;
    modbus::BusWorker worker(bus("b", server.port()), {device("d7", 7)}, quiet_logger(),
                             results.handler("b"));
    worker.start();
    REQUIRE(worker.request_poll(0));
    auto [tag, result] = results.next();
    CHECK(result.requests_ok == 2);
    CHECK(result.requests_failed == 0);
    REQUIRE(result.values.size() == 4);
    CHECK(result.values[0].value == 7010.0); // server: holding value = address + 1000 * unit
    CHECK(result.values[3].value == 7101.0);
    CHECK(result.values[3].quality == Quality::ok);
    auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    for (const auto& request : requests) {
        CHECK(request.unit_id == 7);
        CHECK(request.function == 3);
    }
}

TEST_CASE("an exception reply quarantines only that request, the rest keep being read", "[bus]") {
    ModbusTestServer server;
    server.set_exception(1, 100, 2);
    Results results;
    auto settings = bus("b", server.port());
    settings.quarantine_min = 60s;
    modbus::BusWorker worker(settings, {device("d", 1)}, quiet_logger(), results.handler("b"));
    worker.start();

    REQUIRE(worker.request_poll(0));
    auto first = results.next().second;
    CHECK(first.requests_ok == 1);
    CHECK(first.requests_failed == 1);
    CHECK(first.error == modbus::make_error_code(modbus::ModbusErrc::illegal_data_address));
    CHECK(first.values[0].quality == Quality::ok);
    CHECK(first.values[2].quality == Quality::error);

    REQUIRE(worker.request_poll(0));
    auto second = results.next().second;
    CHECK(second.requests_ok == 1);
    CHECK(second.requests_quarantined == 1);
    CHECK(second.values[0].quality == Quality::ok);
    CHECK(second.values[2].quality == Quality::error);
    // The quarantined request was not sent again: 2 requests in poll 1, 1 in poll 2.
    CHECK(server.requests().size() == 3);
    CHECK(worker.stats().exceptions.load() == 1);
}

TEST_CASE("a quarantined request is retried after its backoff and recovers", "[bus]") {
    ModbusTestServer server;
    server.set_exception(1, 100, 4);
    Results results;
    auto settings = bus("b", server.port());
    settings.quarantine_min = 1ms;
    settings.quarantine_max = 1ms;
    modbus::BusWorker worker(settings, {device("d", 1)}, quiet_logger(), results.handler("b"));
    worker.start();
    REQUIRE(worker.request_poll(0));
    CHECK(results.next().second.requests_failed == 1);
    server.clear_exceptions();
    std::this_thread::sleep_for(5ms);
    REQUIRE(worker.request_poll(0));
    auto result = results.next().second;
    CHECK(result.requests_ok == 2);
    CHECK(result.values[2].quality == Quality::ok);
}

TEST_CASE("a silent device times out without starving the next device on its bus", "[bus]") {
    ModbusTestServer server;
    server.set_silent(2, true);
    Results results;
    modbus::BusWorker worker(bus("b", server.port()), {device("dead", 2, 200ms), device("ok", 3)},
                             quiet_logger(), results.handler("b"));
    worker.start();
    REQUIRE(worker.request_poll(0));
    REQUIRE(worker.request_poll(1));
    auto dead = results.next().second;
    CHECK(dead.device == 0);
    CHECK(dead.requests_ok == 0);
    CHECK(dead.requests_failed == 2);
    CHECK(dead.error == modbus::make_error_code(modbus::ModbusErrc::timeout));
    // Only the first request of the dead device went out; the second was skipped.
    const auto requests = server.requests();
    auto to_dead = std::count_if(requests.begin(), requests.end(),
                                 [](const auto& r) { return r.unit_id == 2; });
    CHECK(to_dead == 1);
    auto alive = results.next().second;
    CHECK(alive.device == 1);
    CHECK(alive.requests_ok == 2);
    CHECK(alive.values[0].value == 3010.0);
}

TEST_CASE("a device stuck on one bus does not delay a device on another bus", "[bus]") {
    ModbusTestServer slow_server;
    ModbusTestServer fast_server;
    slow_server.set_silent(1, true);
    Results results;
    modbus::BusWorker slow(bus("slow", slow_server.port()), {device("dead", 1, 2000ms)},
                           quiet_logger(), results.handler("slow"));
    modbus::BusWorker fast(bus("fast", fast_server.port()), {device("ok", 1)}, quiet_logger(),
                           results.handler("fast"));
    slow.start();
    fast.start();
    REQUIRE(slow.request_poll(0));
    // Wait until the slow bus is inside its blocking read before asking the fast one.
    for (int i = 0; i < 200 && slow_server.requests().empty(); ++i) {
        std::this_thread::sleep_for(5ms);
    }
    REQUIRE_FALSE(slow_server.requests().empty());
    REQUIRE(fast.request_poll(0));
    auto first = results.next();
    CHECK(first.first == "fast");
    CHECK(first.second.requests_ok == 2);
    auto second = results.next();
    CHECK(second.first == "slow");
    CHECK(second.second.requests_ok == 0);
}

TEST_CASE("a poll requested while the previous one runs is refused and counted", "[bus]") {
    ModbusTestServer server;
    server.set_delay(100ms);
    Results results;
    modbus::BusWorker worker(bus("b", server.port()), {device("d", 1, 1000ms)}, quiet_logger(),
                             results.handler("b"));
    worker.start();
    REQUIRE(worker.request_poll(0));
    CHECK_FALSE(worker.request_poll(0));
    CHECK(worker.stats().overruns.load() == 1);
    CHECK(results.next().second.requests_ok == 2);
    REQUIRE(worker.request_poll(0)); // accepted again once the poll finished
    CHECK(results.next().second.requests_ok == 2);
}

TEST_CASE("a dropped connection is reopened and polling resumes", "[bus]") {
    ModbusTestServer server;
    Results results;
    modbus::BusWorker worker(bus("b", server.port()), {device("d", 1)}, quiet_logger(),
                             results.handler("b"));
    worker.start();
    REQUIRE(worker.request_poll(0));
    CHECK(results.next().second.requests_ok == 2);
    CHECK(server.connections_accepted() == 1);

    server.close_clients();
    std::this_thread::sleep_for(100ms);
    bool recovered = false;
    for (int attempt = 0; attempt < 20 && !recovered; ++attempt) {
        REQUIRE(worker.request_poll(0));
        recovered = results.next().second.requests_ok == 2;
        if (!recovered) {
            std::this_thread::sleep_for(60ms);
        }
    }
    CHECK(recovered);
    CHECK(server.connections_accepted() == 2);
    CHECK(worker.stats().connects.load() == 2);
}

TEST_CASE("an unreachable endpoint fails fast and is retried with backoff", "[bus]") {
    const std::uint16_t closed_port = test::free_port();
    Results results;
    modbus::BusWorker worker(bus("b", closed_port), {device("d", 1)}, quiet_logger(),
                             results.handler("b"));
    worker.start();
    REQUIRE(worker.request_poll(0));
    auto first = results.next().second;
    CHECK(first.requests_ok == 0);
    CHECK(first.error == modbus::make_error_code(modbus::ModbusErrc::not_connected));
    CHECK(worker.stats().connect_failures.load() == 1);
    // Inside the backoff window no new connect is attempted.
    REQUIRE(worker.request_poll(0));
    results.next();
    CHECK(worker.stats().connect_failures.load() == 1);
}

TEST_CASE("a link that keeps timing out is closed and reopened", "[bus]") {
    ModbusTestServer server;
    server.set_silent(1, true);
    Results results;
    auto settings = bus("b", server.port());
    settings.max_consecutive_failures = 2;
    modbus::BusWorker worker(settings, {device("d", 1, 100ms)}, quiet_logger(),
                             results.handler("b"));
    worker.start();
    for (int poll = 0; poll < 2; ++poll) {
        REQUIRE(worker.request_poll(0));
        CHECK(results.next().second.error == modbus::make_error_code(modbus::ModbusErrc::timeout));
    }
    CHECK(server.connections_accepted() == 1);
    // Two timeouts in a row: the link was closed; the next poll (after the reconnect delay)
    // opens a fresh connection and, now that the device answers again, reads it.
    server.set_silent(1, false);
    std::this_thread::sleep_for(100ms);
    REQUIRE(worker.request_poll(0));
    auto result = results.next().second;
    CHECK(result.requests_ok == 2);
    CHECK(server.connections_accepted() == 2);
    CHECK(worker.stats().timeouts.load() == 2);
}
