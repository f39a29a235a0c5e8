#include "daemon/app/poller.hpp"

#include "drivers/common/config_error.hpp"
#include "drivers/modbus/read_planner.hpp"

#include <boost/asio/post.hpp>
#include <stdexcept>

namespace greenrack::app {

namespace {

modbus::Endpoint endpoint_of(const config::BusConfig& bus) {
    if (bus.type == config::BusType::tcp) {
        return modbus::TcpEndpoint{bus.host, bus.port};
    }
    return modbus::RtuEndpoint{bus.device,    bus.baud,      bus.parity,
                               bus.data_bits, bus.stop_bits, bus.rs485};
}

} // namespace

Poller::Poller(const config::Config& config, boost::asio::any_io_executor executor,
               std::shared_ptr<spdlog::logger> logger, ReadingHandler on_reading)
    : config_(config), executor_(std::move(executor)), logger_(std::move(logger)),
      on_reading_(std::move(on_reading)), alive_(std::make_shared<bool>(true)) {
    slots_.resize(config_.devices.size());
    for (std::size_t b = 0; b < config_.buses.size(); ++b) {
        const config::BusConfig& bus = config_.buses[b];
        modbus::BusSettings settings;
        settings.id = bus.id;
        settings.endpoint = endpoint_of(bus);
        settings.connect_timeout = bus.connect_timeout;
        settings.reconnect_min = bus.reconnect_min;
        settings.reconnect_max = bus.reconnect_max;
        settings.max_consecutive_failures = bus.max_consecutive_failures;

        std::vector<modbus::DeviceSettings> devices;
        std::vector<std::size_t> globals;
        for (std::size_t d = 0; d < config_.devices.size(); ++d) {
            const config::DeviceConfig& device = config_.devices[d];
            if (device.bus != bus.id) {
                continue;
            }
            modbus::PlanOptions options;
            options.max_registers = device.max_registers;
            options.max_gap = device.max_gap;
            options.even_alignment = device.profile->even_alignment;
            auto planned = modbus::plan_reads(device.profile->points, options);
            if (const auto* error = std::get_if<modbus::PlanError>(&planned)) {
                // The config loader validates plans; reaching this is a broken invariant.
                throw std::logic_error("device " + device.id + ": " + error->message);
            }
            modbus::DeviceSettings settings_for_device;
            settings_for_device.id = device.id;
            settings_for_device.unit_id = device.unit_id;
            settings_for_device.profile = device.profile;
            settings_for_device.plan = std::get<modbus::ReadPlan>(std::move(planned));
            settings_for_device.response_timeout = device.timing.response_timeout;
            settings_for_device.connect_delay = device.timing.connect_delay;
            settings_for_device.request_gap = device.timing.request_gap;

            slots_[d].worker = workers_.size();
            slots_[d].local = devices.size();
            slots_[d].interval = device.poll_interval;
            devices.push_back(std::move(settings_for_device));
            globals.push_back(d);
        }
        if (devices.empty()) {
            continue;
        }
        const std::size_t worker_index = workers_.size();
        std::weak_ptr<bool> alive = alive_;
        auto handler = [this, alive, worker_index](modbus::PollResult&& result) {
            boost::asio::post(executor_,
                              [this, alive, worker_index, result = std::move(result)]() mutable {
                                  if (auto a = alive.lock(); a && *a) {
                                      on_result(worker_index, std::move(result));
                                  }
                              });
        };
        workers_.push_back(std::make_unique<modbus::BusWorker>(
            std::move(settings), std::move(devices), logger_, std::move(handler)));
        global_index_.push_back(std::move(globals));
    }
}

Poller::~Poller() {
    stop();
}

std::vector<std::string> Poller::describe_plans() const {
    std::vector<std::string> lines;
    for (const auto& worker : workers_) {
        for (const auto& device : worker->devices()) {
            lines.push_back("device " + device.id + " (unit " + std::to_string(device.unit_id) +
                            " on " + worker->settings().id + ", profile " + device.profile->name +
                            "): " + std::to_string(device.plan.requests.size()) + " requests, " +
                            std::to_string(device.plan.registers_read()) + " registers");
            lines.push_back(modbus::describe(device.plan, device.profile->points));
        }
    }
    return lines;
}

void Poller::start() {
    if (started_) {
        return;
    }
    started_ = true;
    for (auto& worker : workers_) {
        worker->start();
    }
    const auto now_wall = std::chrono::system_clock::now();
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t d = 0; d < slots_.size(); ++d) {
        Slot& slot = slots_[d];
        slot.timer = std::make_unique<boost::asio::steady_timer>(executor_);
        // Align the first poll to a multiple of the interval in UTC, so devices with the same
        // interval are read together and fresh at accounting tick boundaries.
        auto since_epoch =
            std::chrono::duration_cast<std::chrono::milliseconds>(now_wall.time_since_epoch());
        auto wait = slot.interval - since_epoch % slot.interval;
        slot.next = now + wait;
        schedule(d);
    }
}

void Poller::poll_each_once() {
    started_ = true;
    for (auto& worker : workers_) {
        worker->start();
    }
    for (std::size_t d = 0; d < slots_.size(); ++d) {
        workers_[slots_[d].worker]->request_poll(slots_[d].local);
    }
}

void Poller::schedule(std::size_t device) {
    Slot& slot = slots_[device];
    slot.timer->expires_at(slot.next);
    std::weak_ptr<bool> alive = alive_;
    slot.timer->async_wait([this, alive, device](const boost::system::error_code& ec) {
        auto a = alive.lock();
        if (ec || !a || !*a) {
            return;
        }
        Slot& s = slots_[device];
        workers_[s.worker]->request_poll(s.local);
        s.next += s.interval;
        const auto now = std::chrono::steady_clock::now();
        if (s.next <= now) {
            // The loop fell behind by more than a whole interval: skip the missed slots
            // instead of firing a burst.
            ++late_polls_;
            auto behind = now - s.next;
            s.next += (behind / s.interval + 1) * s.interval;
        }
        schedule(device);
    });
}

void Poller::on_result(std::size_t worker, modbus::PollResult&& result) {
    const std::size_t device = global_index_[worker][result.device];
    core::DeviceReading reading;
    reading.device = device;
    reading.ts = result.completed_at;
    reading.seq = ++slots_[device].seq;
    reading.duration = result.duration;
    reading.values = std::move(result.values);
    reading.requests_ok = result.requests_ok;
    reading.requests_failed = result.requests_failed;
    reading.requests_quarantined = result.requests_quarantined;
    reading.error = result.error;
    on_reading_(std::move(reading));
}

void Poller::stop() {
    *alive_ = false;
    for (auto& slot : slots_) {
        if (slot.timer) {
            slot.timer->cancel();
        }
    }
    for (auto& worker : workers_) {
        worker->stop();
    }
}

} // namespace greenrack::app
