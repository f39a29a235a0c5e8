#include "daemon/app/poller.hpp"

#include "daemon/app/reload_plan.hpp"
#include "daemon/app/sunspec_device.hpp"

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

std::vector<Poller::BusPlan> Poller::plan_buses(const config::Config& config) {
    std::vector<BusPlan> plans;
    for (const config::BusConfig& bus : config.buses) {
        BusPlan plan;
        plan.settings.id = bus.id;
        plan.settings.endpoint = endpoint_of(bus);
        plan.settings.connect_timeout = bus.connect_timeout;
        plan.settings.reconnect_min = bus.reconnect_min;
        plan.settings.reconnect_max = bus.reconnect_max;
        plan.settings.max_consecutive_failures = bus.max_consecutive_failures;
        for (std::size_t d = 0; d < config.devices.size(); ++d) {
            const config::DeviceConfig& device = config.devices[d];
            if (device.bus != bus.id) {
                continue;
            }
            modbus::DeviceSettings settings;
            settings.id = device.id;
            settings.unit_id = device.unit_id;
            settings.profile = device.profile;
            if (device.profile->discovered) {
                // SunSpec: the worker discovers the register map on the device.
                SunSpecDevice sunspec;
                sunspec.id = device.id;
                sunspec.endpoint = modbus::describe(plan.settings.endpoint);
                sunspec.unit_id = device.unit_id;
                sunspec.bind.role = device.profile->device_role;
                sunspec.bind.invert_power = device.invert_power;
                sunspec.bind.max_registers = device.max_registers;
                sunspec.cache_file = sunspec_cache_file(config.daemon.state_directory, device.id);
                std::string note;
                settings.map = load_cached_map(sunspec, note);
                plan.notes.push_back("device " + device.id + ": " + note);
                settings.resolve = make_sunspec_resolver(std::move(sunspec));
            } else {
                modbus::PlanOptions options;
                options.max_registers = device.max_registers;
                options.max_gap = device.max_gap;
                options.even_alignment = device.profile->even_alignment;
                auto planned = modbus::plan_reads(device.profile->points, options);
                if (const auto* error = std::get_if<modbus::PlanError>(&planned)) {
                    // The config loader validates plans; reaching this is a broken invariant.
                    throw std::logic_error("device " + device.id + ": " + error->message);
                }
                settings.plan = std::get<modbus::ReadPlan>(std::move(planned));
            }
            settings.response_timeout = device.timing.response_timeout;
            settings.connect_delay = device.timing.connect_delay;
            settings.request_gap = device.timing.request_gap;
            plan.devices.push_back(std::move(settings));
            plan.globals.push_back(d);
        }
        if (!plan.devices.empty()) {
            plans.push_back(std::move(plan));
        }
    }
    return plans;
}

std::unique_ptr<modbus::BusWorker> Poller::make_worker(BusPlan plan, std::shared_ptr<Route> route) {
    for (const std::string& note : plan.notes) {
        logger_->info("{}", note);
    }
    route->globals = std::move(plan.globals);
    std::weak_ptr<Route> weak = route;
    // Runs on the worker thread: hands the result to the event loop, where it reaches the
    // poller only while the route is alive (a retired worker's last result is dropped).
    auto handler = [executor = executor_, weak, this](modbus::PollResult&& result) {
        boost::asio::post(executor, [this, weak, result = std::move(result)]() mutable {
            if (auto r = weak.lock(); r && r->alive) {
                on_result(*r, std::move(result));
            }
        });
    };
    return std::make_unique<modbus::BusWorker>(std::move(plan.settings), std::move(plan.devices),
                                               logger_, std::move(handler));
}

// Points the slots of worker `w`'s devices at it.
void Poller::assign_slots(std::size_t w) {
    const auto& globals = routes_[w]->globals;
    for (std::size_t local = 0; local < globals.size(); ++local) {
        Slot& slot = *slots_[globals[local]];
        slot.worker = workers_[w].get();
        slot.local = local;
    }
}

Poller::Poller(const config::Config& config, boost::asio::any_io_executor executor,
               std::shared_ptr<spdlog::logger> logger, ReadingHandler on_reading)
    : config_(&config), executor_(std::move(executor)), logger_(std::move(logger)),
      on_reading_(std::move(on_reading)) {
    for (std::size_t d = 0; d < config.devices.size(); ++d) {
        auto slot = std::make_shared<Slot>(timer_io_.get_executor());
        slot->id = config.devices[d].id;
        slot->device = d;
        slot->interval = config.devices[d].poll_interval;
        slots_.push_back(std::move(slot));
    }
    for (auto& plan : plan_buses(config)) {
        auto route = std::make_shared<Route>();
        workers_.push_back(make_worker(std::move(plan), route));
        routes_.push_back(std::move(route));
        assign_slots(workers_.size() - 1);
    }
}

Poller::~Poller() {
    stop();
}

std::vector<std::string> Poller::describe_plans(const config::Config& config) {
    std::vector<std::string> lines;
    for (const BusPlan& bus : plan_buses(config)) {
        for (const auto& device : bus.devices) {
            const std::string head = "device " + device.id + " (unit " +
                                     std::to_string(device.unit_id) + " on " + bus.settings.id;
            if (device.resolve) {
                lines.push_back(
                    head + ", profile sunspec, role " +
                    std::string(profiles::to_string(device.profile->device_role)) +
                    "): register map discovered on the device" +
                    (device.map ? " (until then: the cached map, " + device.map->description + ")"
                                : ""));
                continue;
            }
            lines.push_back(head + ", profile " + device.profile->name +
                            "): " + std::to_string(device.plan.requests.size()) + " requests, " +
                            std::to_string(device.plan.registers_read()) + " registers");
            lines.push_back(modbus::describe(device.plan, device.profile->points));
        }
    }
    return lines;
}

// Aligns the next poll to a multiple of the interval in UTC, so devices with the same interval
// are read together and fresh at accounting tick boundaries.
void Poller::align(Slot& slot) {
    const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    slot.next = std::chrono::steady_clock::now() + (slot.interval - since_epoch % slot.interval);
}

void Poller::start() {
    if (started_) {
        return;
    }
    started_ = true;
    for (auto& worker : workers_) {
        worker->start();
    }
    for (const auto& slot : slots_) {
        boost::asio::post(timer_io_, [this, slot] {
            if (started_) {
                align(*slot);
                schedule(slot);
            }
        });
    }
    timer_thread_ = std::thread([this] { timer_io_.run(); });
}

void Poller::poll_each_once() {
    started_ = true;
    for (auto& worker : workers_) {
        worker->start();
    }
    for (const auto& slot : slots_) {
        slot->worker->request_poll(slot->local);
    }
}

void Poller::schedule(const std::shared_ptr<Slot>& slot) {
    slot->timer.expires_at(slot->next);
    std::weak_ptr<Slot> weak = slot;
    slot->timer.async_wait([this, weak](const boost::system::error_code& ec) {
        auto s = weak.lock();
        if (ec || !s || !started_) {
            return;
        }
        {
            const std::lock_guard lock(slots_mutex_);
            if (s->worker != nullptr) {
                s->worker->request_poll(s->local);
            }
        }
        s->next += s->interval;
        const auto now = std::chrono::steady_clock::now();
        if (s->next <= now) {
            // The loop fell behind by more than a whole interval: skip the missed slots
            // instead of firing a burst.
            ++late_polls_;
            auto behind = now - s->next;
            s->next += (behind / s->interval + 1) * s->interval;
        }
        schedule(s);
    });
}

// A retired worker may still deliver the poll it had in progress (or had finished before the
// event loop got to its result): it counts for the device if the device is still polled the
// same way in `next`, and is dropped otherwise.
void Poller::retire_route(Route& route, const config::Config& running, const config::Config& next) {
    for (std::size_t& global : route.globals) {
        const config::DeviceConfig& before = running.devices[global];
        const config::DeviceConfig* after = next.find_device(before.id);
        global = after != nullptr && same_poll_settings(before, *after)
                     ? static_cast<std::size_t>(after - next.devices.data())
                     : retired_device;
    }
}

void Poller::on_result(const Route& route, modbus::PollResult&& result) {
    const std::size_t device = route.globals[result.device];
    if (device == retired_device) {
        return;
    }
    Slot& slot = *slots_[device];
    core::DeviceReading reading;
    reading.device = device;
    reading.ts = result.completed_at;
    reading.seq = ++slot.seq;
    reading.duration = result.duration;
    reading.values = std::move(result.values);
    reading.requests_ok = result.requests_ok;
    reading.requests_failed = result.requests_failed;
    reading.requests_quarantined = result.requests_quarantined;
    reading.error = result.error;
    on_reading_(std::move(reading));
}

std::size_t Poller::reconfigure(const config::Config& next) {
    const config::Config& running = *config_;
    // The timer thread waits while slots and workers are rearranged.
    const std::lock_guard lock(slots_mutex_);

    // Slots: kept (same timer, phase and sequence) when the id and interval stay.
    std::vector<std::shared_ptr<Slot>> slots;
    slots.reserve(next.devices.size());
    for (std::size_t d = 0; d < next.devices.size(); ++d) {
        const auto& device = next.devices[d];
        std::shared_ptr<Slot> slot;
        std::uint64_t seq = 0;
        for (auto& old : slots_) {
            if (old && old->id == device.id) {
                seq = old->seq;
                if (old->interval == device.poll_interval) {
                    slot = std::move(old);
                }
                break;
            }
        }
        if (!slot) {
            slot = std::make_shared<Slot>(timer_io_.get_executor());
            slot->id = device.id;
            slot->interval = device.poll_interval;
            slot->seq = seq; // a device whose interval changed continues its sequence
            boost::asio::post(timer_io_, [this, slot] {
                if (started_) {
                    align(*slot);
                    schedule(slot);
                }
            });
        }
        slot->device = d;
        slots.push_back(std::move(slot));
    }
    for (auto& old : slots_) {
        if (old) {
            // Removed, or rescheduled above under a new interval (on the timer's own thread).
            boost::asio::post(timer_io_, [old] { old->timer.cancel(); });
        }
    }
    slots_ = std::move(slots);

    // Workers: kept when the bus and its device list are exactly as before.
    auto same_bus = [&](const modbus::BusWorker& worker, const BusPlan& plan) {
        const config::BusConfig* before = running.find_bus(worker.settings().id);
        const config::BusConfig* after = next.find_bus(plan.settings.id);
        if (before == nullptr || after == nullptr || !(*before == *after) ||
            worker.devices().size() != plan.devices.size()) {
            return false;
        }
        for (std::size_t i = 0; i < plan.devices.size(); ++i) {
            const config::DeviceConfig* a = running.find_device(worker.devices()[i].id);
            const config::DeviceConfig* b = next.find_device(plan.devices[i].id);
            if (a == nullptr || b == nullptr || !same_poll_settings(*a, *b)) {
                return false;
            }
        }
        return true;
    };
    std::vector<std::unique_ptr<modbus::BusWorker>> workers;
    std::vector<std::shared_ptr<Route>> routes;
    std::vector<bool> reused(workers_.size(), false);
    std::size_t kept = 0;
    for (auto& plan : plan_buses(next)) {
        std::size_t match = workers_.size();
        std::size_t predecessor = workers_.size(); // the old worker of the same bus id
        for (std::size_t w = 0; w < workers_.size(); ++w) {
            if (reused[w] || workers_[w]->settings().id != plan.settings.id) {
                continue;
            }
            predecessor = w;
            if (same_bus(*workers_[w], plan)) {
                match = w;
            }
            break;
        }
        if (match < workers_.size()) {
            reused[match] = true;
            routes_[match]->globals = std::move(plan.globals);
            workers.push_back(std::move(workers_[match]));
            routes.push_back(std::move(routes_[match]));
            ++kept;
            continue;
        }
        auto route = std::make_shared<Route>();
        auto worker = make_worker(std::move(plan), route);
        if (predecessor < workers_.size()) {
            // Retire the old worker of this bus first; the new one starts once it has stopped.
            reused[predecessor] = true;
            retire_route(*routes_[predecessor], running, next);
            retired_routes_.push_back(routes_[predecessor]);
            std::weak_ptr<Route> successor = route;
            modbus::BusWorker* next_worker = worker.get();
            retiring_.emplace_back([old = std::move(workers_[predecessor]), executor = executor_,
                                    successor, next_worker]() mutable {
                old->stop();
                old.reset();
                boost::asio::post(executor, [successor, next_worker] {
                    if (auto r = successor.lock(); r && r->alive) {
                        next_worker->start();
                    }
                });
            });
        } else {
            worker->start();
        }
        workers.push_back(std::move(worker));
        routes.push_back(std::move(route));
    }
    for (std::size_t w = 0; w < workers_.size(); ++w) {
        if (!reused[w]) { // a bus with no devices any more
            retire_route(*routes_[w], running, next);
            retired_routes_.push_back(routes_[w]);
            retiring_.emplace_back([old = std::move(workers_[w])]() mutable { old->stop(); });
        }
    }
    workers_ = std::move(workers);
    routes_ = std::move(routes);
    for (std::size_t w = 0; w < workers_.size(); ++w) {
        assign_slots(w);
    }
    config_ = &next;
    return kept;
}

void Poller::stop() {
    started_ = false;
    for (auto& route : routes_) {
        route->alive = false;
    }
    for (auto& route : retired_routes_) {
        route->alive = false;
    }
    timer_work_.reset();
    timer_io_.stop(); // no poll is requested any more
    if (timer_thread_.joinable()) {
        timer_thread_.join();
    }
    // The timer thread is gone: cancel the timers here and run what is left queued (every
    // handler returns at once now), so nothing holds a slot when the poller goes away.
    for (auto& slot : slots_) {
        slot->timer.cancel();
    }
    timer_io_.restart();
    timer_io_.poll();
    for (auto& worker : workers_) {
        worker->stop();
    }
    for (auto& thread : retiring_) {
        if (thread.joinable()) {
            thread.join();
        }
    }
    retiring_.clear();
}

} // namespace greenrack::app
