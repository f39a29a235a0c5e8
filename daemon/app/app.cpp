#include "daemon/app/app.hpp"

#include "daemon/app/accounting_runner.hpp"
#include "daemon/app/alert_runner.hpp"
#include "daemon/app/fleet_aggregator.hpp"
#include "daemon/app/poller.hpp"
#include "daemon/app/reload_plan.hpp"
#include "daemon/app/service_notifier.hpp"
#include "daemon/app/shard_publisher.hpp"
#include "daemon/core/poll_histograms.hpp"
#include "daemon/core/sample_store.hpp"
#include "daemon/core/site_summary.hpp"
#include "daemon/sinks/alertmanager_sink.hpp"
#include "daemon/sinks/device_json.hpp"
#include "daemon/sinks/influx_lines.hpp"
#include "daemon/sinks/influx_sink.hpp"
#include "daemon/sinks/metrics_renderer.hpp"
#include "daemon/sinks/mqtt_sink.hpp"
#include "daemon/sinks/prometheus_server.hpp"
#include "drivers/modbus/transport.hpp"
#include "greenrack/version.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <iomanip>
#include <map>
#include <sstream>

namespace greenrack::app {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

std::string endpoint_text(const config::BusConfig& bus) {
    if (bus.type == config::BusType::tcp) {
        return modbus::describe(modbus::Endpoint(modbus::TcpEndpoint{bus.host, bus.port}));
    }
    return modbus::describe(modbus::Endpoint(modbus::RtuEndpoint{
        bus.device, bus.baud, bus.parity, bus.data_bits, bus.stop_bits, bus.rs485}));
}

// Longest poll interval of any device: a reading older than 3 of them is stale.
milliseconds staleness_limit(const config::Config& config) {
    milliseconds longest{1000};
    for (const auto& device : config.devices) {
        longest = std::max(longest, device.poll_interval);
    }
    return 3 * longest;
}

// Repeats `action` once per `period`, phase-aligned to UTC multiples of the period plus
// `phase`, so a console line lands just after each second's polls.
class PeriodicTimer {
public:
    PeriodicTimer(boost::asio::io_context& io, milliseconds period, milliseconds phase,
                  std::function<void()> action)
        : timer_(io), period_(period), action_(std::move(action)) {
        auto since_epoch =
            std::chrono::duration_cast<milliseconds>(system_clock::now().time_since_epoch());
        auto wait = period_ - since_epoch % period_ + phase;
        next_ = steady_clock::now() + wait;
        arm();
    }
    void cancel() { timer_.cancel(); }

private:
    void arm() {
        timer_.expires_at(next_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            action_();
            next_ += period_;
            if (next_ < steady_clock::now()) {
                next_ = steady_clock::now() + period_;
            }
            arm();
        });
    }

    boost::asio::steady_timer timer_;
    milliseconds period_;
    steady_clock::time_point next_;
    std::function<void()> action_;
};

std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The spool of one sink: <state_directory>/spool/<sink>/ with the [spool] caps.
sinks::SpoolOptions spool_options(const config::Config& config, const std::string& sink) {
    sinks::SpoolOptions options;
    options.directory = config.daemon.state_directory / "spool" / sink;
    options.max_bytes = config.spool.max_size;
    options.max_age = config.spool.max_age;
    options.sync_interval = config.spool.sync_interval;
    options.segment_bytes = std::min<std::uint64_t>(4ULL << 20U, config.spool.max_size / 8);
    return options;
}

// The running daemon: the event loop and every component, built from the current config, and
// the live reload that moves them to a new one (SIGHUP) without losing state.
class Daemon {
public:
    Daemon(const config::Config& config, const RunOptions& options, LoggerFactory& loggers,
           std::ostream& out)
        : current_(std::make_unique<config::Config>(config)), cfg_(current_.get()),
          options_(options), loggers_(loggers), out_(out), log_(loggers.make("daemon")),
          store_(std::make_unique<core::SampleStore>(cfg_->devices.size())),
          poll_histograms_(std::make_unique<core::PollHistograms>(cfg_->devices.size())),
          signals_(io_, SIGINT, SIGTERM, SIGHUP) {}

    int run();

private:
    std::string base(const config::Config& config) const {
        return config.mqtt.topic_prefix + "/" + config.site.id;
    }
    // A fleet shard or aggregator has its own status topic (the site's is a single daemon's).
    std::string status_topic(const config::Config& config) const {
        switch (config.fleet.role) {
        case config::FleetRole::shard:
            return base(config) + "/fleet/shard/" + config.fleet.shard + "/status";
        case config::FleetRole::aggregator:
            return base(config) + "/fleet/aggregator/" + config.fleet.instance + "/status";
        case config::FleetRole::single:
            break;
        }
        return base(config) + "/status";
    }
    // Publications of the accounting and alerts: through the aggregator's lease gate in an
    // aggregator, straight to the sinks otherwise.
    void publish_gated(const std::string& topic, std::string payload, bool retain) {
        if (aggregator_) {
            aggregator_->gated([this, topic, payload = std::move(payload), retain]() mutable {
                publish(topic, std::move(payload), retain);
            });
            return;
        }
        publish(topic, std::move(payload), retain);
    }
    void emit_lines_gated(std::string lines) {
        if (aggregator_) {
            aggregator_->gated(
                [this, lines = std::move(lines)]() mutable { emit_lines(std::move(lines)); });
            return;
        }
        emit_lines(std::move(lines));
    }
    bool lines_wanted() const {
        return influx_ || (mqtt_ && !cfg_->mqtt.line_protocol_topic.empty());
    }
    void emit_lines(std::string lines);
    void publish(const std::string& topic, std::string payload, bool retain) {
        if (mqtt_) {
            mqtt_->publish(topic, std::move(payload), retain);
        }
    }

    void start_mqtt(const config::Config& config);
    void start_influx(const config::Config& config);
    void start_alertmanager(const config::Config& config);
    void start_prometheus(const config::Config& config);
    void start_accounting(const config::Config& config);
    void start_alerts(const config::Config& config);
    void watch_spools();
    void publish_meta(const config::DeviceConfig& device);
    void make_state_topics(const config::Config& config);
    void arm_device_alerts();
    void on_reading(core::DeviceReading&& reading);
    std::string status_line() const;
    void print_summary();
    void self_lines();
    void on_signal(const boost::system::error_code& ec, int signal);
    void reload();
    void stop();

    boost::asio::io_context io_;
    std::unique_ptr<config::Config> current_;
    const config::Config* cfg_; // = current_.get(); what every callback reads
    const RunOptions& options_;
    LoggerFactory& loggers_;
    std::ostream& out_;
    std::shared_ptr<spdlog::logger> log_;

    std::unique_ptr<core::SampleStore> store_;
    std::unique_ptr<core::PollHistograms> poll_histograms_;
    std::vector<std::string> state_topics_;
    std::unique_ptr<sinks::MqttSink> mqtt_;
    std::unique_ptr<sinks::InfluxSink> influx_;
    std::unique_ptr<AccountingRunner> balance_;
    fleet::FleetStats fleet_stats_;
    std::unique_ptr<ShardPublisher> shard_;       // fleet.role = shard
    std::unique_ptr<FleetAggregator> aggregator_; // fleet.role = aggregator
    std::unique_ptr<sinks::AlertmanagerSink> alertmanager_;
    std::unique_ptr<AlertRunner> alert_runner_;
    std::unique_ptr<Poller> poller_;
    std::unique_ptr<PeriodicTimer> summary_;
    std::unique_ptr<sinks::PrometheusServer> prometheus_;
    std::unique_ptr<PeriodicTimer> device_alerts_;
    std::unique_ptr<PeriodicTimer> self_lines_;
    std::unique_ptr<ServiceNotifier> notifier_;
    boost::asio::signal_set signals_;
    std::uint64_t reloads_ = 0;
};

void Daemon::emit_lines(std::string lines) {
    if (lines.empty()) {
        return;
    }
    const std::string& topic = cfg_->mqtt.line_protocol_topic;
    if (mqtt_ && !topic.empty()) {
        for (auto& payload : sinks::split_into_payloads(lines, 256 * 1024).payloads) {
            mqtt_->publish(topic, std::move(payload), false);
        }
    }
    if (influx_) {
        influx_->enqueue(std::move(lines));
    }
}

void Daemon::start_mqtt(const config::Config& config) {
    if (!config.mqtt.enabled) {
        return;
    }
    auto mqtt_log = loggers_.make("mqtt");
    mqtt_ = std::make_unique<sinks::MqttSink>(
        config.mqtt, status_topic(config),
        std::make_unique<sinks::Spool>(spool_options(config, "mqtt"), "mqtt", mqtt_log,
                                       std::chrono::system_clock::now()),
        io_.get_executor(), mqtt_log);
    mqtt_->start();
}

void Daemon::start_influx(const config::Config& config) {
    if (!config.influxdb.enabled) {
        return;
    }
    auto influx_log = loggers_.make("influxdb");
    influx_ = std::make_unique<sinks::InfluxSink>(
        config.influxdb,
        std::make_unique<sinks::Spool>(spool_options(config, "influxdb"), "influxdb", influx_log,
                                       std::chrono::system_clock::now()),
        influx_log);
    influx_->start();
}

void Daemon::start_alertmanager(const config::Config& config) {
    if (!config.alerts.enabled || !config.alertmanager.enabled) {
        return;
    }
    alertmanager_ = std::make_unique<sinks::AlertmanagerSink>(config.alertmanager,
                                                              loggers_.make("alertmanager"));
    alertmanager_->start();
}

void Daemon::publish_meta(const config::DeviceConfig& device) {
    if (!mqtt_) {
        return;
    }
    const config::BusConfig* bus = cfg_->find_bus(device.bus);
    std::string endpoint = bus != nullptr ? endpoint_text(*bus) : std::string();
    sinks::DeviceMeta meta{device.id, device.bus, endpoint, device.unit_id, device.poll_interval};
    mqtt_->publish(base(*cfg_) + "/device/" + device.id + "/meta",
                   sinks::encode_device_meta(meta, *device.profile), true);
}

void Daemon::make_state_topics(const config::Config& config) {
    state_topics_.clear();
    state_topics_.reserve(config.devices.size());
    for (const auto& device : config.devices) {
        state_topics_.push_back(base(config) + "/device/" + device.id + "/state");
    }
}

void Daemon::start_accounting(const config::Config& config) {
    if (!config.accounting.enabled) {
        return;
    }
    if (config.fleet.role == config::FleetRole::shard) {
        // A shard sends its part of every tick; the aggregator computes the green figures.
        shard_ = std::make_unique<ShardPublisher>(
            config, io_, base(config),
            [this](const std::string& topic, std::string payload, bool retain) {
                publish(topic, std::move(payload), retain);
            },
            fleet_stats_, loggers_.make("fleet"));
        return;
    }
    const bool aggregator = config.fleet.role == config::FleetRole::aggregator;
    balance_ = std::make_unique<AccountingRunner>(
        config, io_, base(config),
        [this](const std::string& topic, std::string payload, bool retain) {
            publish_gated(topic, std::move(payload), retain);
        },
        [this](std::string lines) { emit_lines_gated(std::move(lines)); },
        loggers_.make("accounting"), aggregator);
    if (aggregator) {
        aggregator_ = std::make_unique<FleetAggregator>(
            config, io_, base(config), *balance_,
            [this](const std::string& topic, std::string payload, bool retain) {
                publish(topic, std::move(payload), retain);
            },
            fleet_stats_, loggers_.make("fleet"), loggers_.make("mqtt-in"));
    }
    balance_->set_tick_observer(
        [this](const accounting::TickResult& tick, const accounting::Rollup* hour) {
            if (alert_runner_) {
                alert_runner_->on_tick(tick, hour, unix_now_ms());
            }
        });
}

void Daemon::start_alerts(const config::Config& config) {
    if (!config.alerts.enabled) {
        return;
    }
    alert_runner_ = std::make_unique<AlertRunner>(
        config, base(config),
        [this](const std::string& topic, std::string payload, bool retain) {
            publish_gated(topic, std::move(payload), retain);
        },
        [this](std::string lines) { emit_lines_gated(std::move(lines)); },
        [this](sinks::AmAlert alert, bool resolved) {
            // A standby aggregator leaves Alertmanager to the active one.
            if (!alertmanager_ || (aggregator_ && !aggregator_->active())) {
                return;
            }
            if (resolved) {
                alertmanager_->resolve(std::move(alert));
            } else {
                alertmanager_->fire(std::move(alert));
            }
        },
        loggers_.make("alerts"));
    watch_spools();
}

void Daemon::watch_spools() {
    if (!alert_runner_) {
        return;
    }
    std::vector<const sinks::SpoolStats*> spools;
    if (mqtt_) {
        spools.push_back(&mqtt_->spool_stats());
    }
    if (influx_) {
        spools.push_back(&influx_->spool_stats());
    }
    alert_runner_->watch_spools(std::move(spools));
}

// Without accounting the device rules run on their own timer.
void Daemon::arm_device_alerts() {
    device_alerts_.reset();
    if (alert_runner_ && !balance_) {
        device_alerts_ =
            std::make_unique<PeriodicTimer>(io_, cfg_->alerts.device_interval, milliseconds(0),
                                            [this] { alert_runner_->on_devices(unix_now_ms()); });
    }
}

void Daemon::on_reading(core::DeviceReading&& reading) {
    const auto& device = cfg_->devices[reading.device];
    if (mqtt_) {
        mqtt_->publish(state_topics_[reading.device],
                       sinks::encode_device_state(device.id, *device.profile, reading), true);
    }
    poll_histograms_->observe(reading.device, reading.duration);
    if (balance_) {
        balance_->add(reading);
    }
    if (shard_) {
        shard_->add(reading);
    }
    if (alert_runner_) {
        alert_runner_->add(reading);
    }
    if (lines_wanted()) {
        sinks::LineBuilder lines;
        sinks::append_device_line(lines, cfg_->site.id, device.id, *device.profile, reading);
        emit_lines(lines.take());
    }
    store_->update(std::move(reading));
}

void Daemon::start_prometheus(const config::Config& config) {
    if (!config.prometheus.enabled) {
        return;
    }
    prometheus_ = std::make_unique<sinks::PrometheusServer>(
        io_, sinks::make_server_settings(config.prometheus),
        [this] {
            sinks::MetricsInput input;
            input.config = cfg_;
            input.samples = store_.get();
            std::vector<accounting::Rollup> open;
            if (balance_) {
                input.last_tick = balance_->last_tick();
                input.totals = &balance_->engine().totals();
                input.battery = &balance_->engine().battery();
                input.accounting_tick = &balance_->tick_compute();
                open = balance_->engine().open_rollups();
                for (const auto& rollup : open) {
                    if (rollup.window == accounting::Window::hour) {
                        input.open_hour = &rollup;
                    }
                }
            }
            for (const auto& worker : poller_->workers()) {
                input.buses.push_back(sinks::BusMetrics{worker->settings().id, &worker->stats()});
            }
            if (mqtt_) {
                input.mqtt = &mqtt_->stats();
                input.mqtt_connected = mqtt_->connected();
                input.spools.emplace_back("mqtt", &mqtt_->spool_stats());
            }
            if (influx_) {
                input.influx = &influx_->stats();
                input.spools.emplace_back("influxdb", &influx_->spool_stats());
            }
            input.poll_histograms = poll_histograms_.get();
            std::vector<alerts::AlertStatus> alert_statuses;
            if (alert_runner_) {
                alert_statuses = alert_runner_->statuses();
                input.alerts = &alert_statuses;
                input.alert_transitions = &alert_runner_->counters().transitions;
            }
            if (alertmanager_) {
                input.alertmanager = &alertmanager_->stats();
            }
            if (cfg_->fleet.role != config::FleetRole::single) {
                input.fleet = &fleet_stats_;
            }
            if (shard_) {
                input.accounting_tick = &shard_->tick_compute(); // its part of each tick
            }
            input.version = version_string;
            input.now = system_clock::now();
            return sinks::render_metrics(input);
        },
        [this] { return sinks::device_health_problem(*cfg_, *store_, system_clock::now()); },
        loggers_.make("prometheus"));
    prometheus_->start();
}

void Daemon::print_summary() {
    auto now = system_clock::now();
    std::string line =
        core::format_summary(core::summarize(*cfg_, *store_, now, staleness_limit(*cfg_)), now);
    if (const auto* tick = balance_ ? balance_->last_tick() : nullptr) {
        line += " | " + core::format_balance(*tick);
    }
    if (alert_runner_) {
        std::string firing;
        std::size_t count = 0;
        for (const auto& status : alert_runner_->statuses()) {
            if (status.state == alerts::AlertState::firing) {
                firing += (count++ == 0 ? " " : ", ") + status.rule + "/" + status.subject;
            }
        }
        line += count == 0 ? " | no alerts" : " | " + std::to_string(count) + " firing:" + firing;
    }
    if (mqtt_) {
        line += mqtt_->connected() ? " | mqtt up" : " | mqtt down";
        line += ", " + std::to_string(mqtt_->stats().published.load()) + " sent";
        if (auto dropped = mqtt_->stats().dropped.load(); dropped > 0) {
            line += ", " + std::to_string(dropped) + " dropped";
        }
    }
    out_ << line << std::endl;
}

// The daemon's own counters as line protocol.
void Daemon::self_lines() {
    if (!lines_wanted()) {
        return;
    }
    std::vector<sinks::SelfBusCounters> buses;
    for (const auto& worker : poller_->workers()) {
        const auto& stats = worker->stats();
        buses.push_back(sinks::SelfBusCounters{worker->settings().id, stats.requests.load(),
                                               stats.requests_failed.load(), stats.timeouts.load(),
                                               stats.exceptions.load(), stats.overruns.load()});
    }
    sinks::SelfSiteCounters site;
    const auto now = system_clock::now();
    site.devices_stale = static_cast<std::uint64_t>(sinks::stale_devices(*cfg_, *store_, now));
    if (mqtt_) {
        site.mqtt_published = mqtt_->stats().published.load();
        site.mqtt_dropped = mqtt_->stats().dropped.load();
    }
    if (influx_) {
        site.influx_queue_lines = influx_->stats().queue_lines.load();
        site.influx_dropped_lines = influx_->stats().dropped_lines.load();
    }
    sinks::LineBuilder lines;
    sinks::append_self_lines(lines, cfg_->site.id, buses, site, now);
    emit_lines(lines.take());
}

std::string Daemon::status_line() const {
    std::size_t ok = 0;
    std::size_t answered = 0;
    for (std::size_t d = 0; d < store_->size(); ++d) {
        if (const core::DeviceReading* reading = store_->latest(d)) {
            const auto quality = core::reading_quality(*reading);
            ok += quality == core::ReadingQuality::ok ? 1 : 0;
            answered += quality != core::ReadingQuality::offline ? 1 : 0;
        }
    }
    const std::size_t devices = cfg_->devices.size();
    std::string status = "polling " + std::to_string(devices) + " devices: " + std::to_string(ok) +
                         " ok, " + std::to_string(answered - ok) + " partial, " +
                         std::to_string(devices - answered) + " offline";
    if (mqtt_) {
        status += std::string("; mqtt ") + (mqtt_->connected() ? "up" : "DOWN") + ", " +
                  std::to_string(mqtt_->spool_stats().pending.load()) + " spooled";
    }
    if (influx_) {
        status +=
            "; influxdb " + std::to_string(influx_->spool_stats().pending.load()) + " spooled";
    }
    return status;
}

int Daemon::run() {
    const config::Config& config = *cfg_;
    start_mqtt(config);
    if (mqtt_) {
        for (const auto& device : config.devices) {
            publish_meta(device);
        }
    }
    start_influx(config);
    make_state_topics(config);
    start_accounting(config);
    start_alertmanager(config);
    start_alerts(config);
    if (alert_runner_) {
        alert_runner_->start(unix_now_ms());
    }
    if (aggregator_) {
        // A fleet aggregator starts as a standby until it holds the lease.
        if (alert_runner_) {
            alert_runner_->set_standby(true);
        }
        aggregator_->on_active_change([this](bool active) {
            if (alert_runner_) {
                alert_runner_->set_standby(!active);
            }
        });
    }

    poller_ = std::make_unique<Poller>(
        config, io_.get_executor(), loggers_.make("modbus"),
        [this](core::DeviceReading&& reading) { on_reading(std::move(reading)); });
    for (const auto& line : Poller::describe_plans(*cfg_)) {
        log_->info("plan: {}", line);
    }
    poller_->start();
    if (balance_) {
        balance_->start();
    }
    if (aggregator_) {
        aggregator_->start();
    }
    if (shard_) {
        shard_->start();
    }
    if (options_.summary) {
        summary_ = std::make_unique<PeriodicTimer>(io_, milliseconds(1000), milliseconds(600),
                                                   [this] { print_summary(); });
    }
    start_prometheus(config);
    arm_device_alerts();
    self_lines_ = std::make_unique<PeriodicTimer>(io_, milliseconds(10'000), milliseconds(0),
                                                  [this] { self_lines(); });

    // systemd: READY=1, then WATCHDOG=1 (with WatchdogSec=) and STATUS= from this loop.
    notifier_ = std::make_unique<ServiceNotifier>(
        io_.get_executor(), [this] { return status_line(); }, loggers_.make("systemd"));

    signals_.async_wait(
        [this](const boost::system::error_code& ec, int signal) { on_signal(ec, signal); });
    log_->info("greenrackd {} polling {} devices on {} buses for site {}", version_string,
               config.devices.size(), poller_->workers().size(), config.site.id);
    notifier_->ready();
    io_.run();
    log_->info("stopped");
    return 0;
}

void Daemon::on_signal(const boost::system::error_code& ec, int signal) {
    if (ec) {
        return;
    }
    if (signal == SIGHUP) {
        reload();
        signals_.async_wait([this](const boost::system::error_code& e, int s) { on_signal(e, s); });
        return;
    }
    log_->info("signal {}: stopping", signal);
    stop();
}

void Daemon::stop() {
    notifier_->stopping();
    if (summary_) {
        summary_->cancel();
    }
    poller_->stop();
    self_lines_->cancel();
    if (prometheus_) {
        prometheus_->stop();
    }
    if (device_alerts_) {
        device_alerts_->cancel();
    }
    if (shard_) {
        shard_->stop();
    }
    if (aggregator_) {
        aggregator_->stop(); // hands the lease over
    }
    if (balance_) {
        balance_->stop();
    }
    if (alert_runner_) {
        alert_runner_->stop();
    }
    if (alertmanager_) {
        alertmanager_->stop(milliseconds(3000));
    }
    if (influx_) {
        influx_->stop(milliseconds(5000));
    }
    if (mqtt_) {
        mqtt_->stop(milliseconds(2000));
    }
    io_.stop();
}

// SIGHUP: reads the config again and applies it without losing state, or keeps the running one
// when the new one is invalid or would need a restart. Everything runs here, on the event
// loop, so no reading or tick sees a half-applied config.
void Daemon::reload() {
    const std::string path = cfg_->source.string();
    notifier_->reloading(path);
    auto reject = [&](const std::string& why) {
        std::string one_line = why;
        std::replace(one_line.begin(), one_line.end(), '\n', ' ');
        log_->error("reload rejected, the running configuration stays in force: {}", one_line);
        notifier_->reloaded("reload rejected: " + one_line);
    };
    if (!options_.reload) {
        reject("this process cannot read its configuration again");
        return;
    }
    std::unique_ptr<config::Config> next;
    try {
        next = std::make_unique<config::Config>(options_.reload());
    } catch (const std::exception& err) { // common::ConfigError: file:line:column: ...
        reject(err.what());
        return;
    }
    if (auto blocker = reload_blocker(*cfg_, *next)) {
        reject(*blocker);
        return;
    }
    const ReloadPlan plan = plan_reload(*cfg_, *next);
    const std::string next_base = base(*next);
    try {
        // Accounting first: the only step that can refuse (a state it cannot carry over).
        if (balance_ && next->accounting.enabled) {
            balance_->reconfigure(*next, next_base);
        }
    } catch (const std::exception& err) {
        reject(std::string("accounting: ") + err.what());
        return;
    }
    const config::Config& old = *cfg_;

    // Outputs whose settings changed restart; their spools keep what waits on disk.
    if (plan.mqtt_changed && mqtt_) {
        mqtt_->stop(milliseconds(500));
        mqtt_.reset();
    }
    if (plan.influxdb_changed && influx_) {
        influx_->stop(milliseconds(500));
        influx_.reset();
    }
    if (plan.mqtt_changed) {
        start_mqtt(*next);
    }
    if (plan.influxdb_changed) {
        start_influx(*next);
    }
    if (plan.alertmanager_changed) {
        if (alertmanager_) {
            alertmanager_->stop(milliseconds(500));
            alertmanager_.reset();
        }
        start_alertmanager(*next);
    }

    // Accounting switched on or off.
    if (balance_ && !next->accounting.enabled) {
        balance_->stop();
        balance_.reset();
    } else if (!balance_ && next->accounting.enabled) {
        start_accounting(*next);
        balance_->start();
    }
    // Alerts keep their state across the switch (alerts.json on disk when turned off and on).
    if (alert_runner_ && next->alerts.enabled) {
        alert_runner_->reconfigure(*next, next_base, unix_now_ms());
        watch_spools();
    } else if (alert_runner_) {
        alert_runner_->stop();
        alert_runner_.reset();
    } else if (next->alerts.enabled) {
        start_alerts(*next);
        alert_runner_->start(unix_now_ms());
    }

    // Latest readings and poll histograms follow their device (unchanged devices only).
    auto store = std::make_unique<core::SampleStore>(next->devices.size());
    auto histograms = std::make_unique<core::PollHistograms>(next->devices.size());
    for (std::size_t d = 0; d < next->devices.size(); ++d) {
        const config::DeviceConfig* before = old.find_device(next->devices[d].id);
        if (before == nullptr || !same_poll_settings(*before, next->devices[d])) {
            continue;
        }
        const auto o = static_cast<std::size_t>(before - old.devices.data());
        histograms->adopt(d, poll_histograms_->device(o));
        if (const core::DeviceReading* latest = store_->latest(o)) {
            core::DeviceReading copy = *latest;
            copy.device = d;
            store->update(std::move(copy));
        }
    }
    store_ = std::move(store);
    poll_histograms_ = std::move(histograms);
    make_state_topics(*next);
    const std::size_t buses_kept = poller_->reconfigure(*next);

    // From here on every callback reads the new config.
    std::unique_ptr<config::Config> previous = std::move(current_);
    current_ = std::move(next);
    cfg_ = current_.get();

    // Retained device topics: new and changed devices announce themselves (all of them to a
    // new broker connection); removed ones are cleared.
    if (mqtt_) {
        for (const auto& device : cfg_->devices) {
            const config::DeviceConfig* before = previous->find_device(device.id);
            if (plan.mqtt_changed || before == nullptr ||
                std::find(plan.devices_changed.begin(), plan.devices_changed.end(), device.id) !=
                    plan.devices_changed.end()) {
                publish_meta(device);
            }
        }
        for (const auto& id : plan.devices_removed) {
            mqtt_->publish(base(*previous) + "/device/" + id + "/meta", "", true);
            mqtt_->publish(base(*previous) + "/device/" + id + "/state", "", true);
        }
    }
    if (plan.prometheus_changed) {
        prometheus_.reset(); // stops listening
        start_prometheus(*cfg_);
    }
    arm_device_alerts();
    if (!options_.log_level_fixed) {
        spdlog::level::level_enum level = spdlog::level::info;
        if (parse_log_level(cfg_->daemon.log_level, level)) {
            loggers_.set_level(level);
        }
    }
    ++reloads_;
    const std::string summary = plan.summary();
    log_->info("reloaded {}: {}; {} of {} buses kept their connection", path, summary, buses_kept,
               poller_->workers().size());
    notifier_->reloaded("reload " + std::to_string(reloads_) + " applied: " + summary);
}

} // namespace

int run_daemon(const config::Config& config, const RunOptions& options, LoggerFactory& loggers,
               std::ostream& out) {
    Daemon daemon(config, options, loggers, out);
    return daemon.run();
}

int run_once(const config::Config& config, const LoggerFactory& loggers, std::ostream& out,
             milliseconds timeout) {
    boost::asio::io_context io;
    std::vector<std::optional<core::DeviceReading>> readings(config.devices.size());
    std::size_t received = 0;
    Poller poller(config, io.get_executor(), loggers.make("modbus"),
                  [&](core::DeviceReading&& reading) {
                      const std::size_t index = reading.device;
                      readings[index] = std::move(reading);
                      if (++received == readings.size()) {
                          io.stop();
                      }
                  });
    boost::asio::steady_timer deadline(io, timeout);
    deadline.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) {
            io.stop();
        }
    });
    poller.poll_each_once();
    if (!readings.empty()) {
        io.run();
    }
    poller.stop();

    int failed = 0;
    for (std::size_t d = 0; d < config.devices.size(); ++d) {
        const auto& device = config.devices[d];
        const auto& profile = *device.profile;
        out << device.id << " (" << profile.name << ", unit " << device.unit_id << " on "
            << device.bus << "): ";
        if (!readings[d]) {
            out << "no answer within " << timeout.count() << " ms\n";
            ++failed;
            continue;
        }
        const auto& reading = *readings[d];
        const auto quality = core::reading_quality(reading);
        if (quality == core::ReadingQuality::offline) {
            ++failed;
        }
        out << core::to_string(quality) << " in " << std::fixed << std::setprecision(1)
            << static_cast<double>(reading.duration.count()) / 1000.0 << " ms";
        if (reading.error) {
            out << " (" << reading.error.message() << ")";
        }
        out << "\n";
        for (std::size_t i = 0; i < profile.points.size(); ++i) {
            const auto& point = profile.points[i];
            const auto& value = reading.values[i];
            std::ostringstream text;
            if (value.quality == modbus::Quality::ok ||
                value.quality == modbus::Quality::implausible) {
                if (point.type == modbus::DataType::string) {
                    text << '"' << value.text << '"';
                } else {
                    text << std::setprecision(10) << std::defaultfloat << value.value;
                }
            } else {
                text << "-";
            }
            out << "  " << std::left << std::setw(32) << point.name << std::right << std::setw(20)
                << text.str() << " " << std::left << std::setw(4) << point.unit << " "
                << modbus::to_string(value.quality) << "\n";
        }
    }
    out << (config.devices.size() - static_cast<std::size_t>(failed)) << "/"
        << config.devices.size() << " devices answered\n";
    out.flush();
    return failed == 0 ? 0 : 1;
}

} // namespace greenrack::app
