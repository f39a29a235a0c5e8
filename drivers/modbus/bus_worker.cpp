#include "drivers/modbus/bus_worker.hpp"

#include "drivers/modbus/request_decoder.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace greenrack::modbus {

using Clock = std::chrono::steady_clock;

namespace {

// A condition that repeats is logged again when its count reaches 2, 4, 8, ...: a dead device
// polled every second for a day adds 17 lines at most, not 86 400.
bool count_doubled(unsigned count) {
    return std::has_single_bit(count);
}

} // namespace

BusWorker::BusWorker(BusSettings settings, std::vector<DeviceSettings> devices,
                     std::shared_ptr<spdlog::logger> logger, ResultHandler on_result)
    : settings_(std::move(settings)), devices_(std::move(devices)), logger_(std::move(logger)),
      on_result_(std::move(on_result)), link_(settings_.endpoint),
      busy_(std::make_unique<std::atomic<bool>[]>(devices_.size())),
      work_(boost::asio::make_work_guard(context_)) {
    device_states_.resize(devices_.size());
    for (std::size_t i = 0; i < devices_.size(); ++i) {
        DeviceState& state = device_states_[i];
        state.map = devices_[i].map;
        const ReadPlan& plan = state.map ? state.map->plan : devices_[i].plan;
        state.requests.resize(plan.requests.size());
        busy_[i] = false;
    }
    backoff_ = settings_.reconnect_min;
}

BusWorker::~BusWorker() {
    stop();
}

void BusWorker::start() {
    if (thread_.joinable()) {
        return;
    }
    thread_ = std::thread([this] { context_.run(); });
}

void BusWorker::stop() {
    stopping_ = true;
    work_.reset();
    context_.stop();
    if (thread_.joinable()) {
        thread_.join();
    }
    link_.close();
}

bool BusWorker::request_poll(std::size_t index) {
    if (index >= devices_.size() || stopping_) {
        return false;
    }
    if (busy_[index].exchange(true)) {
        stats_.overruns.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    boost::asio::post(context_, [this, index] { poll(index); });
    return true;
}

void BusWorker::pause(std::chrono::milliseconds duration) {
    if (duration.count() > 0 && !stopping_) {
        std::this_thread::sleep_for(duration);
    }
}

bool BusWorker::ensure_open() {
    if (link_.is_open()) {
        return true;
    }
    auto now = Clock::now();
    if (now < next_connect_) {
        return false;
    }
    std::error_code ec = link_.open(settings_.connect_timeout);
    if (ec) {
        stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
        ++failed_connects_;
        if (failed_connects_ == 1) {
            logger_->warn("bus {}: cannot connect to {}: {} (retrying with backoff up to {}s)",
                          settings_.id, describe(settings_.endpoint), ec.message(),
                          settings_.reconnect_max.count() / 1000.0);
        } else if (count_doubled(failed_connects_)) {
            logger_->debug("bus {}: still cannot connect to {}: {} ({} attempts)", settings_.id,
                           describe(settings_.endpoint), ec.message(), failed_connects_);
        }
        next_connect_ = Clock::now() + backoff_;
        backoff_ = std::min(backoff_ * 2, settings_.reconnect_max);
        return false;
    }
    stats_.connects.fetch_add(1, std::memory_order_relaxed);
    ++connections_;
    if (failed_connects_ > 0) {
        logger_->info("bus {}: connected to {} after {} failed attempts", settings_.id,
                      describe(settings_.endpoint), failed_connects_);
    } else {
        // First connection, or reopening after the link was closed: not a state change.
        logger_->debug("bus {}: connected to {}", settings_.id, describe(settings_.endpoint));
    }
    failed_connects_ = 0;
    backoff_ = settings_.reconnect_min;
    consecutive_failures_ = 0;
    fresh_connection_ = true;
    first_request_on_link_ = true;
    return true;
}

void BusWorker::note_link_failure(const std::error_code& ec) {
    ++consecutive_failures_;
    const bool lost = ec == make_error_code(ModbusErrc::connection_lost) ||
                      ec == make_error_code(ModbusErrc::io_error);
    if (lost || consecutive_failures_ >= settings_.max_consecutive_failures) {
        // A device that stays silent gets its link reset every few polls: warn about the first
        // reset only, until a request succeeds again.
        ++resets_since_answer_;
        if (resets_since_answer_ == 1) {
            logger_->warn("bus {}: closing link to {} after {} ({} consecutive failures); "
                          "reopening",
                          settings_.id, describe(settings_.endpoint), ec.message(),
                          consecutive_failures_);
        } else if (count_doubled(resets_since_answer_)) {
            logger_->debug("bus {}: closing link to {} again after {} ({} times without an "
                           "answer); reopening",
                           settings_.id, describe(settings_.endpoint), ec.message(),
                           resets_since_answer_);
        }
        link_.close();
        consecutive_failures_ = 0;
        next_connect_ = Clock::now() + settings_.reconnect_min;
    } else {
        // A late answer to a timed-out request would desynchronise the next exchange.
        link_.flush();
    }
}

bool BusWorker::resolve(std::size_t index, PollResult& result) {
    const DeviceSettings& device = devices_[index];
    DeviceState& state = device_states_[index];
    // (Re)connect first, so that a new connection is checked before anything is read on it.
    const bool open = !stopping_ && ensure_open();
    const bool due = open && state.resolved_on != connections_ && Clock::now() >= state.resolve_at;
    if (!due) {
        if (state.map) {
            return true; // polled with the map in use (and fails there if the link is down)
        }
        result.error =
            make_error_code(open ? ModbusErrc::no_register_map : ModbusErrc::not_connected);
        return false;
    }
    if (fresh_connection_) {
        pause(device.connect_delay);
        fresh_connection_ = false;
    } else if (!first_request_on_link_) {
        pause(device.request_gap);
    }
    first_request_on_link_ = false;

    const std::uint64_t requests_before = link_.requests_sent();
    Resolution resolution = device.resolve(link_, device);
    stats_.requests.fetch_add(link_.requests_sent() - requests_before, std::memory_order_relaxed);
    if (resolution.map) {
        const bool changed = !state.map || *state.map->profile != *resolution.map->profile;
        if (changed) {
            logger_->info("device {}: {}", device.id, resolution.message);
            state.map = std::move(resolution.map);
            state.requests.assign(state.map->plan.requests.size(), RequestState{});
        } else {
            logger_->debug("device {}: register map confirmed: {}", device.id, resolution.message);
        }
        state.resolved_on = connections_;
        state.resolve_failures = 0;
        consecutive_failures_ = 0;
        resets_since_answer_ = 0;
        return true;
    }

    const std::error_code ec =
        resolution.error ? resolution.error : make_error_code(ModbusErrc::no_register_map);
    if (is_link_failure(ec)) {
        // The device may be fine: try again once the link is back (or on the next poll).
        if (ec == make_error_code(ModbusErrc::timeout)) {
            stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
        } else {
            stats_.link_errors.fetch_add(1, std::memory_order_relaxed);
        }
        note_link_failure(ec);
    } else {
        auto wait = device.resolve_retry_min * (1 << std::min(state.resolve_failures, 10));
        state.resolve_at = Clock::now() + std::min(wait, device.resolve_retry_max);
    }
    ++state.resolve_failures;
    if (state.resolve_failures == 1) {
        logger_->warn("device {} (unit {} on {}): {}{}", device.id, device.unit_id, settings_.id,
                      resolution.message,
                      state.map ? "; reading it with the map found before" : "");
    } else if (count_doubled(static_cast<unsigned>(state.resolve_failures))) {
        logger_->debug("device {}: register map still not found ({} attempts): {}", device.id,
                       state.resolve_failures, resolution.message);
    }
    if (state.map && !is_link_failure(ec)) {
        // Keep polling with the map found before (or cached); ask again later.
        return true;
    }
    result.error = ec;
    return false;
}

void BusWorker::poll(std::size_t index) {
    const DeviceSettings& device = devices_[index];
    DeviceState& state = device_states_[index];
    const auto started = Clock::now();

    PollResult result;
    result.device = index;
    result.values.resize(device.profile->points.size());

    // A device whose register map is found on the device reads the map's points (into
    // `read_values`) and hands them out in its profile's order; points the map lacks are
    // missing, not errors.
    const bool mapped = static_cast<bool>(device.resolve);
    if (mapped && !resolve(index, result)) {
        result.requests_failed = 1;
        if (state.online) {
            logger_->warn("device {} (unit {} on {}): not answering: {}", device.id, device.unit_id,
                          settings_.id, result.error.message());
            state.online = false;
        }
        result.completed_at = std::chrono::system_clock::now();
        result.duration =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
        busy_[index] = false;
        on_result_(std::move(result));
        return;
    }
    const ReadPlan& plan = mapped ? state.map->plan : device.plan;
    const std::vector<PointSpec>& points =
        mapped ? state.map->profile->points : device.profile->points;
    std::vector<PointValue> read_values;
    if (mapped) {
        read_values.resize(points.size());
    }
    std::vector<PointValue>& values = mapped ? read_values : result.values;

    std::array<std::uint16_t, max_read_registers> buffer{};
    bool device_dead = false; // a timeout: skip the device's remaining requests this time
    for (std::size_t r = 0; r < plan.requests.size(); ++r) {
        const ReadRequest& request = plan.requests[r];
        RequestState& request_state = state.requests[r];
        if (request_state.failures > 0 && Clock::now() < request_state.retry_at) {
            ++result.requests_quarantined;
            continue;
        }
        if (device_dead || stopping_) {
            ++result.requests_failed;
            continue;
        }
        if (!ensure_open()) {
            ++result.requests_failed;
            if (!result.error) {
                result.error = make_error_code(ModbusErrc::not_connected);
            }
            device_dead = true;
            continue;
        }
        if (fresh_connection_) {
            pause(device.connect_delay);
            fresh_connection_ = false;
        } else if (!first_request_on_link_) {
            pause(device.request_gap);
        }
        first_request_on_link_ = false;

        std::span<std::uint16_t> registers(buffer.data(), request.count);
        stats_.requests.fetch_add(1, std::memory_order_relaxed);
        std::error_code ec = link_.read(device.unit_id, request.function, request.start, registers,
                                        device.response_timeout);
        if (!ec) {
            ++result.requests_ok;
            consecutive_failures_ = 0;
            resets_since_answer_ = 0;
            if (request_state.failures > 0) {
                logger_->info("device {}: {} {}+{} answers again; quarantine lifted", device.id,
                              to_string(request.function), request.start, request.count);
            }
            request_state.failures = 0;
            decode_request(points, request, registers, values);
            continue;
        }

        ++result.requests_failed;
        stats_.requests_failed.fetch_add(1, std::memory_order_relaxed);
        if (!result.error) {
            result.error = ec;
        }
        if (is_exception(ec)) {
            stats_.exceptions.fetch_add(1, std::memory_order_relaxed);
            auto wait = settings_.quarantine_min * (1 << std::min(request_state.failures, 10));
            wait = std::min(wait, settings_.quarantine_max);
            ++request_state.failures;
            request_state.retry_at = Clock::now() + wait;
            logger_->warn("device {}: {} {}+{} answered {}; its points are missing, retrying "
                          "in {}s while the device's other requests continue",
                          device.id, to_string(request.function), request.start, request.count,
                          ec.message(), wait.count() / 1000);
            continue;
        }
        if (ec == make_error_code(ModbusErrc::timeout)) {
            stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
            device_dead = true;
        } else {
            stats_.link_errors.fetch_add(1, std::memory_order_relaxed);
        }
        note_link_failure(ec);
    }

    if (mapped) {
        for (PointValue& value : result.values) {
            value.quality = Quality::missing;
        }
        for (std::size_t k = 0; k < read_values.size(); ++k) {
            const std::size_t out = state.map->output[k];
            if (out != ReadMap::no_output && out < result.values.size()) {
                result.values[out] = std::move(read_values[k]);
            }
        }
    }

    const bool answered = result.requests_ok > 0 || result.requests_failed == 0;
    if (answered != state.online) {
        if (answered) {
            logger_->info("device {}: online again", device.id);
        } else {
            logger_->warn("device {} (unit {} on {}): not answering: {}", device.id, device.unit_id,
                          settings_.id, result.error.message());
        }
        state.online = answered;
    }

    result.completed_at = std::chrono::system_clock::now();
    result.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    busy_[index] = false;
    on_result_(std::move(result));
}

} // namespace greenrack::modbus
