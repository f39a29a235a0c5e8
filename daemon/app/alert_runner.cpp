#include "daemon/app/alert_runner.hpp"

#include "daemon/app/state_file.hpp"
#include "daemon/core/alerts/observations.hpp"
#include "daemon/sinks/alert_json.hpp"
#include "daemon/sinks/influx_lines.hpp"

#include <algorithm>
#include <chrono>

namespace greenrack::app {

namespace {

constexpr int state_version = 1;

std::int64_t unix_ms(std::chrono::system_clock::time_point tp) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

// Whether an alert's subject is still part of the site described by `config`.
std::function<bool(alerts::Scope, std::string_view)> subject_exists(const config::Config& config) {
    return [&config](alerts::Scope scope, std::string_view id) {
        switch (scope) {
        case alerts::Scope::site:
            return id == config.site.id;
        case alerts::Scope::rack:
            return config.find_rack(id) != nullptr || id == "unattributed";
        case alerts::Scope::battery:
            return !config.accounting.battery.empty();
        case alerts::Scope::device:
            return config.find_device(id) != nullptr;
        }
        return false;
    };
}

} // namespace

AlertRunner::AlertRunner(const config::Config& config, std::string topic_base, Publish publish,
                         EmitLines emit_lines, Notify notify,
                         std::shared_ptr<spdlog::logger> logger)
    : config_(&config), topic_base_(std::move(topic_base)), publish_(std::move(publish)),
      emit_lines_(std::move(emit_lines)), notify_(std::move(notify)), logger_(std::move(logger)),
      engine_(config.site.id, config.alerts.rules),
      causes_(config.alerts.cause_window, config.alerts.cause_racks),
      last_good_ms_(config.devices.size()), last_up_(config.devices.size(), false) {}

std::filesystem::path AlertRunner::state_path() const {
    return config_->daemon.state_directory / "alerts.json";
}

void AlertRunner::start(std::int64_t now_ms) {
    if (started_) {
        return;
    }
    started_ = true;
    std::error_code ec;
    auto text = read_whole_file(state_path(), ec);
    if (!text) {
        if (ec != std::errc::no_such_file_or_directory) {
            logger_->warn("alerts: cannot read {}: {}; starting with no active alerts",
                          state_path().string(), ec.message());
        }
        return;
    }
    std::vector<alerts::AlertEvent> ended;
    try {
        auto state = nlohmann::json::parse(*text);
        if (state.value("version", 0) != state_version ||
            state.value("site", std::string()) != config_->site.id) {
            throw std::invalid_argument("saved for another site or version");
        }
        ended = engine_.restore_state(state.at("engine"), now_ms, subject_exists(*config_));
    } catch (const std::exception& err) {
        auto aside = state_path();
        aside += ".unusable-" + std::to_string(now_ms);
        std::error_code rename_error;
        std::filesystem::rename(state_path(), aside, rename_error);
        logger_->error("alerts: saved state {} is unusable ({}); moved to {}",
                       state_path().string(), err.what(), aside.string());
        return;
    }
    std::size_t firing = 0;
    for (const auto& status : engine_.active()) {
        if (status.state == alerts::AlertState::firing) {
            ++firing;
            if (notify_) {
                notify_(to_alertmanager(status), false);
            }
        }
    }
    logger_->info("alerts: restored {} alerts ({} firing) from {}", engine_.statuses().size(),
                  firing, state_path().string());
    deliver(ended);
}

void AlertRunner::add(const core::DeviceReading& reading) {
    if (reading.device >= last_good_ms_.size()) {
        return;
    }
    const bool up = core::reading_quality(reading) != core::ReadingQuality::offline;
    last_up_[reading.device] = up;
    if (up) {
        last_good_ms_[reading.device] = unix_ms(reading.ts);
    }
}

std::vector<alerts::SubjectValues> AlertRunner::device_values(std::int64_t now_ms) const {
    std::vector<alerts::SubjectValues> out;
    out.reserve(config_->devices.size());
    for (std::size_t d = 0; d < config_->devices.size(); ++d) {
        const auto& device = config_->devices[d];
        alerts::DeviceHealth health{device.id, last_up_[d], last_good_ms_[d],
                                    3 * device.poll_interval.count()};
        out.push_back(alerts::device_values(health, now_ms));
    }
    return out;
}

alerts::SpoolHealth AlertRunner::spool_health(std::int64_t now_ms) {
    alerts::SpoolHealth health;
    std::uint64_t dropped = 0;
    for (const sinks::SpoolStats* spool : spools_) {
        // Lost either way: dropped at a cap, never written, or damaged on disk.
        dropped += spool->dropped.load() + spool->write_errors.load() + spool->corrupt.load();
        const std::uint64_t max_bytes = spool->max_bytes.load();
        if (max_bytes > 0) {
            health.fill = std::max(health.fill, static_cast<double>(spool->bytes.load()) /
                                                    static_cast<double>(max_bytes));
        }
        const std::int64_t oldest = spool->oldest_pending_ms.load();
        if (oldest > 0 && (!health.oldest_pending_ms || oldest < *health.oldest_pending_ms)) {
            health.oldest_pending_ms = oldest;
        }
    }
    spool_drops_.add(now_ms, dropped);
    health.dropped_recent = spool_drops_.increase(now_ms);
    return health;
}

void AlertRunner::on_tick(const accounting::TickResult& tick, const accounting::Rollup* hour_so_far,
                          std::int64_t now_ms) {
    const std::int64_t end_ms = tick.start_ms + static_cast<std::int64_t>(tick.tau_s * 1000.0);
    std::vector<std::pair<std::string, double>> racks;
    for (const auto& rack : tick.racks) {
        racks.emplace_back(rack.id, rack.valid ? rack.nongreen_wh : 0.0);
    }
    if (tick.unattributed && tick.unattributed->valid) {
        racks.emplace_back(tick.unattributed->id, tick.unattributed->nongreen_wh);
    }
    causes_.add(end_ms, racks);

    alerts::Observations obs;
    obs.now_ms = end_ms;
    auto devices = device_values(now_ms);
    int stale = 0;
    for (const auto& device : devices) {
        stale += device.values.at("stale") > 0.0 ? 1 : 0;
    }
    obs.site = std::vector<alerts::SubjectValues>{
        alerts::site_values(config_->site.id, tick, hour_so_far, stale)};
    alerts::put_spool_values(obs.site->front().values, spool_health(now_ms), now_ms);
    obs.racks.emplace();
    for (const auto& rack : tick.racks) {
        obs.racks->push_back(alerts::rack_values(tick, rack));
    }
    if (tick.unattributed) {
        obs.racks->push_back(alerts::rack_values(tick, *tick.unattributed));
    }
    obs.battery.emplace();
    if (!config_->accounting.battery.empty()) {
        obs.battery->push_back(alerts::battery_values(tick));
    }
    obs.devices = std::move(devices);
    alerts::Cause cause;
    cause.window = causes_.window();
    cause.racks = causes_.top(end_ms);
    if (tick.valid) {
        cause.headroom_free_w = tick.headroom_free_w;
        cause.headroom_total_w = tick.headroom_total_w;
        cause.headroom_storage_w = tick.headroom_storage_w;
    }
    obs.cause = std::move(cause);
    deliver(engine_.evaluate(obs));
}

void AlertRunner::on_devices(std::int64_t now_ms) {
    alerts::Observations obs;
    obs.now_ms = now_ms;
    obs.devices = device_values(now_ms);
    deliver(engine_.evaluate(obs));
}

sinks::AmAlert AlertRunner::to_alertmanager(const alerts::AlertStatus& status) const {
    sinks::AmAlert alert;
    alert.labels = status.labels;
    alert.labels["alertname"] = status.rule;
    alert.labels["severity"] = status.severity;
    alert.labels["scope"] = std::string(alerts::to_string(status.scope));
    alert.labels["subject"] = status.subject;
    alert.annotations["summary"] = status.summary;
    if (status.cause) {
        alert.annotations["cause"] = alerts::describe(status.cause->racks);
        if (status.cause->headroom_total_w) {
            alert.annotations["headroom_total_w"] =
                alerts::format_number(*status.cause->headroom_total_w, 0);
        }
    }
    if (status.value) {
        alert.annotations["value"] = alerts::format_number(*status.value);
    }
    alert.starts_at_ms = status.fired_at_ms > 0 ? status.fired_at_ms : status.since_ms;
    if (status.state == alerts::AlertState::resolved) {
        alert.ends_at_ms = status.resolved_at_ms;
    }
    alert.generator_url = config_->alertmanager.generator_url;
    return alert;
}

void AlertRunner::deliver(const std::vector<alerts::AlertEvent>& events) {
    if (events.empty()) {
        return;
    }
    sinks::LineBuilder lines;
    for (const auto& event : events) {
        const auto& s = event.status;
        const auto level =
            standby_ ? spdlog::level::debug
            : event.to == alerts::AlertState::firing
                ? (s.severity == "critical" ? spdlog::level::err : spdlog::level::warn)
                : spdlog::level::info;
        logger_->log(level, "alert {} {} {} -> {} ({}): {}", s.rule, s.subject,
                     alerts::to_string(event.from), alerts::to_string(event.to), s.severity,
                     s.summary);
        ++counters_.transitions[{s.rule, std::string(alerts::to_string(event.to))}];
        if (publish_) {
            publish_(topic_base_ + "/alerts/" + s.rule + "/" + s.subject,
                     sinks::encode_alert_state(s, event.ts_ms), true);
            publish_(topic_base_ + "/events", sinks::encode_alert_event(event), false);
        }
        if (emit_lines_) {
            sinks::append_alert_line(lines, config_->site.id, event);
        }
        if (notify_ && (event.to == alerts::AlertState::firing ||
                        (event.to == alerts::AlertState::resolved &&
                         event.from == alerts::AlertState::firing))) {
            notify_(to_alertmanager(s), event.to == alerts::AlertState::resolved);
        }
    }
    if (emit_lines_) {
        emit_lines_(lines.take());
    }
    persist();
}

void AlertRunner::persist() {
    nlohmann::json state = {
        {"version", state_version},
        {"site", config_->site.id},
        {"engine", engine_.save_state()},
    };
    if (auto ec = write_file_atomically(state_path(), state.dump())) {
        logger_->error("alerts: cannot save state to {}: {}", state_path().string(), ec.message());
    }
}

void AlertRunner::reconfigure(const config::Config& next, std::string topic_base,
                              std::int64_t now_ms) {
    alerts::AlertEngine engine(next.site.id, next.alerts.rules);
    std::vector<alerts::AlertEvent> ended =
        engine.restore_state(engine_.save_state(), now_ms, subject_exists(next));
    std::vector<std::optional<std::int64_t>> last_good(next.devices.size());
    std::vector<bool> last_up(next.devices.size(), false);
    for (std::size_t d = 0; d < next.devices.size(); ++d) {
        if (const config::DeviceConfig* before = config_->find_device(next.devices[d].id)) {
            const auto old = static_cast<std::size_t>(before - config_->devices.data());
            last_good[d] = last_good_ms_[old];
            last_up[d] = last_up_[old];
        }
    }
    if (next.alerts.cause_window != config_->alerts.cause_window ||
        next.alerts.cause_racks != config_->alerts.cause_racks) {
        causes_ = alerts::CauseTracker(next.alerts.cause_window, next.alerts.cause_racks);
    }
    engine_ = std::move(engine);
    last_good_ms_ = std::move(last_good);
    last_up_ = std::move(last_up);
    config_ = &next;
    topic_base_ = std::move(topic_base);
    deliver(ended); // alerts whose rule or subject is gone are resolved
    persist();
}

void AlertRunner::stop() {
    if (!started_) {
        return;
    }
    persist();
    started_ = false;
}

} // namespace greenrack::app
