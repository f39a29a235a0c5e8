#include "daemon/app/accounting_runner.hpp"

#include "daemon/app/state_file.hpp"
#include "daemon/sinks/accounting_json.hpp"
#include "daemon/sinks/influx_lines.hpp"

#include <nlohmann/json.hpp>

namespace greenrack::app {

namespace {

constexpr int state_version = 1;
constexpr std::int64_t max_catch_up_ticks = 12;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

accounting::AccountingSettings settings_of(const config::Config& config) {
    accounting::AccountingSettings settings = config.accounting.settings;
    settings.racks.clear();
    for (const auto& rack : config.racks) {
        settings.racks.push_back(accounting::RackSettings{rack.id, rack.tier});
    }
    return settings;
}

std::vector<std::string> rack_ids(const config::Config& config) {
    std::vector<std::string> ids;
    for (const auto& rack : config.racks) {
        ids.push_back(rack.id);
    }
    return ids;
}

} // namespace

AccountingRunner::AccountingRunner(const config::Config& config, boost::asio::io_context& io,
                                   std::string topic_base, Publish publish, EmitLines emit_lines,
                                   std::shared_ptr<spdlog::logger> logger, bool external_inputs)
    : config_(&config), io_(io), topic_base_(std::move(topic_base)), publish_(std::move(publish)),
      emit_lines_(std::move(emit_lines)), logger_(std::move(logger)), engine_(settings_of(config)),
      timer_(io), tick_ms_(config.accounting.settings.tick.count()),
      external_inputs_(external_inputs) {
    if (!external_inputs_) {
        site_.emplace(config);
    }
}

AccountingRunner::~AccountingRunner() {
    timer_.cancel();
}

std::filesystem::path AccountingRunner::state_path() const {
    return config_->daemon.state_directory / "accounting.json";
}

void AccountingRunner::restore() {
    std::error_code ec;
    auto text = read_whole_file(state_path(), ec);
    if (!text) {
        if (ec != std::errc::no_such_file_or_directory) {
            logger_->warn("accounting: cannot read {}: {}; starting from zero totals",
                          state_path().string(), ec.message());
        } else {
            logger_->info("accounting: no saved state in {}; starting from zero totals",
                          state_path().string());
        }
        return;
    }
    try {
        auto state = nlohmann::json::parse(*text);
        if (state.value("version", 0) != state_version) {
            throw std::invalid_argument("unsupported state version");
        }
        if (state.value("site", std::string()) != config_->site.id) {
            throw std::invalid_argument("state belongs to site " +
                                        state.value("site", std::string("?")));
        }
        std::vector<std::string> dropped;
        engine_.restore_state(
            accounting::remap_state_racks(state.at("engine"), rack_ids(*config_), &dropped));
        for (const auto& rack : dropped) {
            logger_->warn("accounting: rack {} is no longer configured; its totals are dropped "
                          "(the site totals keep its energy)",
                          rack);
        }
        logger_->info("accounting: restored totals and battery state from {} (last tick {})",
                      state_path().string(), engine_.last_tick_ms());
    } catch (const std::exception& err) {
        // Keep the unusable file for inspection; never count from half a state.
        auto aside = state_path();
        aside += ".unusable-" + std::to_string(now_ms());
        std::error_code rename_error;
        std::filesystem::rename(state_path(), aside, rename_error);
        logger_->error("accounting: saved state {} is unusable ({}); moved to {}, starting from "
                       "zero totals",
                       state_path().string(), err.what(), aside.string());
        engine_ = accounting::Engine(settings_of(*config_));
    }
}

void AccountingRunner::start() {
    if (started_) {
        return;
    }
    started_ = true;
    restore();
    // The tick in progress started before us and is partly uncovered: begin with the next one
    // (or, after a restart, right after the last tick already counted).
    next_tick_ms_ = accounting::tick_floor(now_ms(), tick_ms_) + tick_ms_;
    if (engine_.last_tick_ms() >= next_tick_ms_) {
        next_tick_ms_ = engine_.last_tick_ms() + tick_ms_;
    }
    last_persist_ = std::chrono::steady_clock::now();
    if (!external_inputs_) {
        arm();
    }
}

void AccountingRunner::arm() {
    const std::int64_t due = next_tick_ms_ + tick_ms_ + config_->accounting.publish_delay.count();
    const std::int64_t wait = std::max<std::int64_t>(0, due - now_ms());
    timer_.expires_after(std::chrono::milliseconds(wait));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            on_timer();
        }
    });
}

void AccountingRunner::add(const core::DeviceReading& reading) {
    if (site_) {
        site_->add(reading);
    }
}

void AccountingRunner::process_inputs(const accounting::TickInputs& inputs) {
    const auto compute_start = std::chrono::steady_clock::now();
    accounting::TickResult tick = engine_.process(inputs);
    tick_compute_.observe(0, std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - compute_start));
    if (tick.ignored) {
        return;
    }
    next_tick_ms_ = std::max(next_tick_ms_, inputs.start_ms + tick_ms_);
    publish_tick(std::move(tick));
    if (std::chrono::steady_clock::now() - last_persist_ >= config_->accounting.persist_interval) {
        persist();
    }
}

void AccountingRunner::on_timer() {
    const std::int64_t now = now_ms();
    const std::int64_t delay = config_->accounting.publish_delay.count();
    const std::int64_t ready = (now - delay - next_tick_ms_) / tick_ms_; // ticks ready now
    if (ready > max_catch_up_ticks) {
        logger_->warn("accounting: {} ticks behind (clock jump or stalled loop); skipping to "
                      "the latest",
                      ready);
        next_tick_ms_ += (ready - 1) * tick_ms_;
    }
    while (next_tick_ms_ + tick_ms_ + delay <= now) {
        process(next_tick_ms_);
        next_tick_ms_ += tick_ms_;
    }
    site_->forget_before(next_tick_ms_);
    if (std::chrono::steady_clock::now() - last_persist_ >= config_->accounting.persist_interval) {
        persist();
    }
    arm();
}

void AccountingRunner::process(std::int64_t tick_start_ms) {
    const auto compute_start = std::chrono::steady_clock::now();
    accounting::TickInputs inputs = site_->tick_inputs(tick_start_ms);
    accounting::TickResult tick = engine_.process(inputs);
    tick_compute_.observe(0, std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - compute_start));
    publish_tick(std::move(tick));
}

void AccountingRunner::publish_tick(accounting::TickResult tick) {
    std::vector<accounting::Rollup> open = engine_.open_rollups();
    const accounting::Rollup* hour = nullptr;
    for (const auto& rollup : open) {
        if (rollup.window == accounting::Window::hour) {
            hour = &rollup;
        }
    }
    sinks::SiteContext context{&engine_.settings(), &engine_.totals(), hour};
    publish_(topic_base_ + "/site/state", sinks::encode_site_state(tick, context), true);
    const auto& totals = engine_.totals();
    for (std::size_t i = 0; i < tick.racks.size(); ++i) {
        const auto& rack = tick.racks[i];
        publish_(topic_base_ + "/rack/" + rack.id + "/state",
                 sinks::encode_rack_state(tick, rack,
                                          i < totals.racks.size() ? totals.racks[i]
                                                                  : accounting::RackTotals{}),
                 true);
    }
    if (tick.unattributed) {
        publish_(topic_base_ + "/rack/unattributed/state",
                 sinks::encode_rack_state(tick, *tick.unattributed, totals.unattributed), true);
    }
    if (!config_->accounting.battery.empty()) {
        publish_(topic_base_ + "/battery/state",
                 sinks::encode_battery_state(tick, engine_.settings()), true);
    }
    std::vector<accounting::Rollup> closed = engine_.take_closed_rollups();
    for (const auto& rollup : closed) {
        publish_(topic_base_ + "/site/rollup/" + std::string(accounting::to_string(rollup.window)),
                 sinks::encode_rollup(rollup, engine_.settings()), false);
    }
    if (emit_lines_) {
        sinks::LineBuilder lines;
        sinks::append_tick_lines(lines, config_->site.id, tick, totals, hour);
        for (const auto& rollup : closed) {
            sinks::append_rollup_line(lines, config_->site.id, rollup);
        }
        emit_lines_(lines.take());
    }
    if (observer_) {
        observer_(tick, hour);
    }
    last_ = std::move(tick);
}

void AccountingRunner::persist() {
    nlohmann::json state = {
        {"version", state_version},
        {"site", config_->site.id},
        {"saved_at_ms", now_ms()},
        {"engine", engine_.save_state()},
    };
    if (auto ec = write_file_atomically(state_path(), state.dump())) {
        logger_->error("accounting: cannot save state to {}: {}", state_path().string(),
                       ec.message());
        return;
    }
    last_persist_ = std::chrono::steady_clock::now();
}

void AccountingRunner::stop() {
    if (!started_) {
        return;
    }
    timer_.cancel();
    persist();
    started_ = false;
}

void AccountingRunner::reconfigure(const config::Config& next, std::string topic_base) {
    std::vector<std::string> dropped;
    accounting::Engine engine(settings_of(next));
    engine.restore_state(
        accounting::remap_state_racks(engine_.save_state(), rack_ids(next), &dropped));
    for (const auto& rack : dropped) {
        logger_->warn("accounting: rack {} was removed; its totals are dropped (the site totals "
                      "keep its energy)",
                      rack);
    }
    std::optional<core::SiteModel> site;
    if (!external_inputs_) {
        site.emplace(next);
        site->adopt_history(*site_);
    }
    if (rack_ids(next) != rack_ids(*config_)) {
        last_.reset(); // its racks are the old ones
    }
    engine_ = std::move(engine);
    site_ = std::move(site);
    config_ = &next;
    topic_base_ = std::move(topic_base);
}

const accounting::TickResult* AccountingRunner::last_tick() const {
    return last_ ? &*last_ : nullptr;
}

} // namespace greenrack::app
