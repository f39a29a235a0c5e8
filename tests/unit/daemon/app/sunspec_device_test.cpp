// SunSpec devices in the daemon: the chain cache, and a bus worker that discovers the register
// map over a real Modbus TCP link (ModbusTestServer on a free 127.0.0.1 port).

#include "daemon/app/sunspec_device.hpp"

#include "drivers/modbus/bus_worker.hpp"
#include "drivers/sunspec/models.hpp"
#include "tests/support/modbus_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sunspec_image.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <spdlog/sinks/null_sink.h>
#include <thread>

using namespace greenrack;
using namespace std::chrono_literals;
using app::CachedChain;
using modbus::PollResult;
using modbus::Quality;
using profiles::DeviceRole;
using sunspec::ModelHeader;
using test::ModbusTestServer;
using test::SunSpecImage;
namespace fs = std::filesystem;

namespace {

// Poll results handed over from the worker thread.
class Results {
public:
    modbus::BusWorker::ResultHandler handler() {
        return [this](PollResult&& result) {
            std::lock_guard lock(mutex_);
            items_.push_back(std::move(result));
            cv_.notify_all();
        };
    }
    PollResult next() {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, 5s, [this] { return !items_.empty(); })) {
            FAIL("no poll result within 5 s");
        }
        PollResult result = std::move(items_.front());
        items_.pop_front();
        return result;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<PollResult> items_;
};

// A PV inverter at unit 3, base 0: common model, 103 with W = 1500 (W_SF 1: 15 000 W) and
// WH = 123 456, end model.
struct Inverter {
    static constexpr int unit = 3;
    ModbusTestServer server{400};
    int model_103 = 0;

    Inverter() {
        SunSpecImage image(server, unit, 0);
        image.common("Acme", "PV-15", "SN-1", unit);
        model_103 = image.next();
        image.model(103, 50).end(true);
        const auto* m103 = sunspec::find_model(103);
        image.set_point(model_103, m103->find_point("W")->offset, 1500);
        image.set_point(model_103, m103->find_point("W_SF")->offset, 1);
        image.set_point(model_103, m103->find_point("WH")->offset + 1, 57920); // low word
        image.set_point(model_103, m103->find_point("WH")->offset, 1);         // 65 536 + 57 920
        image.set_point(model_103, m103->find_point("WH_SF")->offset, 0);
    }

    std::string endpoint() const {
        return modbus::describe(modbus::Endpoint{modbus::TcpEndpoint{"127.0.0.1", server.port()}});
    }
};

app::SunSpecDevice sunspec_device(const Inverter& inverter, const fs::path& state) {
    app::SunSpecDevice device;
    device.id = "inv";
    device.endpoint = inverter.endpoint();
    device.unit_id = Inverter::unit;
    device.bind.role = DeviceRole::pv_inverter;
    device.cache_file = app::sunspec_cache_file(state, "inv");
    return device;
}

modbus::BusSettings bus_for(const Inverter& inverter) {
    modbus::BusSettings bus;
    bus.id = "b";
    bus.endpoint = modbus::TcpEndpoint{"127.0.0.1", inverter.server.port()};
    bus.connect_timeout = 500ms;
    bus.reconnect_min = 50ms;
    bus.reconnect_max = 200ms;
    return bus;
}

modbus::DeviceSettings settings_for(const app::SunSpecDevice& device,
                                    std::shared_ptr<const modbus::ReadMap> map = nullptr) {
    modbus::DeviceSettings settings;
    settings.id = device.id;
    settings.unit_id = device.unit_id;
    settings.profile =
        std::make_shared<const profiles::DeviceProfile>(sunspec::role_profile(device.bind.role));
    settings.response_timeout = 500ms;
    settings.resolve = app::make_sunspec_resolver(device);
    settings.map = std::move(map);
    return settings;
}

std::shared_ptr<spdlog::logger> quiet_logger() {
    return std::make_shared<spdlog::logger>("test",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

const modbus::PointValue& value_of(const PollResult& result, const profiles::DeviceProfile& profile,
                                   const std::string& name) {
    return result.values.at(profile.find(name).value());
}

std::size_t marker_reads(const ModbusTestServer& server) {
    std::size_t count = 0;
    for (const auto& request : server.requests()) {
        count += request.address == 0 ? 1 : 0;
    }
    return count;
}

} // namespace

TEST_CASE("The SunSpec chain cache reads back what it wrote and rejects what it cannot trust",
          "[sunspec][cache]") {
    CachedChain chain;
    chain.device = "inv";
    chain.endpoint = "tcp://127.0.0.1:1502";
    chain.unit_id = 3;
    chain.base = 40000;
    chain.models = {{1, 40002, 66}, {103, 40070, 50}};
    chain.identity = sunspec::DeviceIdentity{"Acme", "PV-15", "", "1.2", "SN-1", 3};
    std::string error;
    const auto back = app::parse_cached_chain(app::encode_cached_chain(chain), error);
    REQUIRE(back);
    CHECK(*back == chain);
    CHECK(error.empty());

    CHECK_FALSE(app::parse_cached_chain("{not json", error));
    CHECK_FALSE(error.empty());
    CHECK_FALSE(app::parse_cached_chain(R"({"format": 2})", error));
    CHECK(error == "format 2 (this version reads 1)");
    CHECK_FALSE(app::parse_cached_chain(
        R"({"format": 1, "device": "inv", "endpoint": "x", "unit_id": 1, "base": 0,
            "models": [{"id": 103, "address": 65500, "length": 50}]})",
        error));
    CHECK(error == "model 103 runs past register 65535");
    CHECK(app::sunspec_cache_file("/var/lib/greenrack", "pv-1") ==
          fs::path("/var/lib/greenrack/sunspec/pv-1.json"));
}

TEST_CASE("A bus worker discovers a SunSpec inverter, delivers its values in the role's point "
          "order and caches the chain",
          "[sunspec][worker]") {
    test::TempDir state("greenrack-sunspec");
    Inverter inverter;
    const auto device = sunspec_device(inverter, state.path());
    std::string note;
    CHECK(app::load_cached_map(device, note) == nullptr);
    CHECK(note == "no SunSpec chain cached yet");

    Results results;
    const auto settings = settings_for(device);
    const auto profile = settings.profile;
    modbus::BusWorker worker(bus_for(inverter), {settings}, quiet_logger(), results.handler());
    worker.start();
    REQUIRE(worker.request_poll(0));
    const PollResult first = results.next();
    CHECK_FALSE(first.error);
    REQUIRE(first.values.size() == profile->points.size());
    CHECK(value_of(first, *profile, "ac_power_w").quality == Quality::ok);
    CHECK(value_of(first, *profile, "ac_power_w").value == Approx(15000.0));
    CHECK(value_of(first, *profile, "ac_energy_wh").value == Approx(123456.0));
    CHECK(value_of(first, *profile, "manufacturer").text == "Acme");
    CHECK(value_of(first, *profile, "serial_number").text == "SN-1");
    // No model 120 in the chain: its nameplate is missing, not an error.
    CHECK(value_of(first, *profile, "rated_power_w").quality == Quality::missing);
    // The discovery's requests are counted with the bus's.
    CHECK(worker.stats().requests.load() == inverter.server.requests().size());

    std::string error;
    const auto cached = app::parse_cached_chain(test::read_file(device.cache_file), error);
    REQUIRE(cached);
    CHECK(cached->device == "inv");
    CHECK(cached->endpoint == inverter.endpoint());
    CHECK(cached->unit_id == Inverter::unit);
    CHECK(cached->base == 0);
    REQUIRE(cached->models.size() == 2);
    CHECK(cached->models[1] ==
          ModelHeader{103, static_cast<std::uint16_t>(inverter.model_103), 50});
    REQUIRE(cached->identity);
    CHECK(cached->identity->model == "PV-15");

    // The next poll on the same connection reads values only: no second discovery.
    const std::size_t probes = marker_reads(inverter.server);
    CHECK(probes == 1);
    REQUIRE(worker.request_poll(0));
    CHECK(results.next().requests_ok > 0);
    CHECK(marker_reads(inverter.server) == probes);

    // A new connection (the device rebooted, a firmware update may have moved registers):
    // the map is confirmed again before the next poll.
    inverter.server.close_clients();
    for (int attempt = 0; attempt < 40 && marker_reads(inverter.server) == probes; ++attempt) {
        REQUIRE(worker.request_poll(0));
        results.next();
        std::this_thread::sleep_for(25ms); // reconnect_min is 50 ms
    }
    CHECK(marker_reads(inverter.server) == probes + 1);
    worker.stop();
}

TEST_CASE("A SunSpec device whose marker cannot be read is polled with the map cached by an "
          "earlier run, and fails without one",
          "[sunspec][worker]") {
    test::TempDir state("greenrack-sunspec");
    Inverter inverter;
    const auto device = sunspec_device(inverter, state.path());
    {
        // An earlier run found the chain.
        Results results;
        modbus::BusWorker worker(bus_for(inverter), {settings_for(device)}, quiet_logger(),
                                 results.handler());
        worker.start();
        REQUIRE(worker.request_poll(0));
        CHECK(results.next().requests_ok > 0);
    }
    // Now the device answers exception 04 where the marker is (e.g. still booting) but serves
    // its models.
    inverter.server.set_exception(Inverter::unit, 0, 4);

    SECTION("without the cache the device has no register map") {
        fs::remove(device.cache_file);
        Results results;
        const auto settings = settings_for(device);
        modbus::BusWorker worker(bus_for(inverter), {settings}, quiet_logger(), results.handler());
        worker.start();
        REQUIRE(worker.request_poll(0));
        const PollResult result = results.next();
        CHECK(result.error == make_error_code(modbus::ModbusErrc::no_register_map));
        CHECK(result.requests_ok == 0);
        CHECK(value_of(result, *settings.profile, "ac_power_w").quality == Quality::error);
        // Discovery is not retried on every poll: the next one waits for resolve_retry_min.
        const std::size_t probes = marker_reads(inverter.server);
        REQUIRE(worker.request_poll(0));
        CHECK(results.next().error == make_error_code(modbus::ModbusErrc::no_register_map));
        CHECK(marker_reads(inverter.server) == probes);
    }
    SECTION("with the cache its values are read") {
        std::string note;
        auto map = app::load_cached_map(device, note);
        REQUIRE(map != nullptr);
        CHECK(note.find("SunSpec chain cached at") == 0);
        Results results;
        const auto settings = settings_for(device, map);
        modbus::BusWorker worker(bus_for(inverter), {settings}, quiet_logger(), results.handler());
        worker.start();
        REQUIRE(worker.request_poll(0));
        const PollResult result = results.next();
        CHECK(value_of(result, *settings.profile, "ac_power_w").quality == Quality::ok);
        CHECK(value_of(result, *settings.profile, "ac_power_w").value == Approx(15000.0));
    }
    SECTION("a cache written for another endpoint or unit is ignored") {
        auto other = device;
        other.unit_id = 4;
        std::string note;
        CHECK(app::load_cached_map(other, note) == nullptr);
        CHECK(note == "ignoring " + device.cache_file.string() + ": it was found at " +
                          inverter.endpoint() + " unit 3");
    }
}

TEST_CASE("A SunSpec device without a model for its role reports why and reads nothing",
          "[sunspec][worker]") {
    test::TempDir state("greenrack-sunspec");
    Inverter inverter;
    auto device = sunspec_device(inverter, state.path());
    device.bind.role = DeviceRole::grid_meter;
    Results results;
    const auto settings = settings_for(device);
    modbus::BusWorker worker(bus_for(inverter), {settings}, quiet_logger(), results.handler());
    worker.start();
    REQUIRE(worker.request_poll(0));
    const PollResult result = results.next();
    CHECK(result.error == make_error_code(modbus::ModbusErrc::no_register_map));
    CHECK(value_of(result, *settings.profile, "net_power_w").quality == Quality::error);
    CHECK_FALSE(fs::exists(device.cache_file));
}
