#include "daemon/app/app.hpp"

#include "daemon/app/accounting_runner.hpp"
#include "daemon/app/alert_runner.hpp"
#include "daemon/app/poller.hpp"
#include "daemon/app/service_notifier.hpp"
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

} // namespace

int run_daemon(const config::Config& config, const RunOptions& options,
               const LoggerFactory& loggers, std::ostream& out) {
    auto log = loggers.make("daemon");
    boost::asio::io_context io;
    core::SampleStore store(config.devices.size());
    const std::string base = config.mqtt.topic_prefix + "/" + config.site.id;

    std::unique_ptr<sinks::MqttSink> mqtt;
    if (config.mqtt.enabled) {
        auto mqtt_log = loggers.make("mqtt");
        mqtt = std::make_unique<sinks::MqttSink>(
            config.mqtt, base + "/status",
            std::make_unique<sinks::Spool>(spool_options(config, "mqtt"), "mqtt", mqtt_log,
                                           std::chrono::system_clock::now()),
            io.get_executor(), mqtt_log);
        mqtt->start();
        for (const auto& device : config.devices) {
            const config::BusConfig* bus = config.find_bus(device.bus);
            std::string endpoint = bus != nullptr ? endpoint_text(*bus) : std::string();
            sinks::DeviceMeta meta{device.id, device.bus, endpoint, device.unit_id,
                                   device.poll_interval};
            mqtt->publish(base + "/device/" + device.id + "/meta",
                          sinks::encode_device_meta(meta, *device.profile), true);
        }
    }

    std::unique_ptr<sinks::InfluxSink> influx;
    if (config.influxdb.enabled) {
        auto influx_log = loggers.make("influxdb");
        influx = std::make_unique<sinks::InfluxSink>(
            config.influxdb,
            std::make_unique<sinks::Spool>(spool_options(config, "influxdb"), "influxdb",
                                           influx_log, std::chrono::system_clock::now()),
            influx_log);
        influx->start();
    }
    // Line protocol goes to InfluxDB and, when configured, to an MQTT topic (Telegraf).
    const std::string& lp_topic = config.mqtt.line_protocol_topic;
    std::function<void(std::string)> emit_lines;
    if (influx || (mqtt && !lp_topic.empty())) {
        emit_lines = [&](std::string lines) {
            if (lines.empty()) {
                return;
            }
            if (mqtt && !lp_topic.empty()) {
                for (auto& payload : sinks::split_into_payloads(lines, 256 * 1024).payloads) {
                    mqtt->publish(lp_topic, std::move(payload), false);
                }
            }
            if (influx) {
                influx->enqueue(std::move(lines));
            }
        };
    }

    core::PollHistograms poll_histograms(config.devices.size());

    std::vector<std::string> state_topics;
    state_topics.reserve(config.devices.size());
    for (const auto& device : config.devices) {
        state_topics.push_back(base + "/device/" + device.id + "/state");
    }

    std::unique_ptr<AccountingRunner> balance;
    if (config.accounting.enabled) {
        balance = std::make_unique<AccountingRunner>(
            config, io, base,
            [&](const std::string& topic, std::string payload, bool retain) {
                if (mqtt) {
                    mqtt->publish(topic, std::move(payload), retain);
                }
            },
            emit_lines, loggers.make("accounting"));
    }

    std::unique_ptr<sinks::AlertmanagerSink> alertmanager;
    if (config.alerts.enabled && config.alertmanager.enabled) {
        alertmanager = std::make_unique<sinks::AlertmanagerSink>(config.alertmanager,
                                                                 loggers.make("alertmanager"));
        alertmanager->start();
    }
    std::unique_ptr<AlertRunner> alert_runner;
    if (config.alerts.enabled) {
        alert_runner = std::make_unique<AlertRunner>(
            config, base,
            [&](const std::string& topic, std::string payload, bool retain) {
                if (mqtt) {
                    mqtt->publish(topic, std::move(payload), retain);
                }
            },
            emit_lines,
            [&](sinks::AmAlert alert, bool resolved) {
                if (!alertmanager) {
                    return;
                }
                if (resolved) {
                    alertmanager->resolve(std::move(alert));
                } else {
                    alertmanager->fire(std::move(alert));
                }
            },
            loggers.make("alerts"));
        std::vector<const sinks::SpoolStats*> spools;
        if (mqtt) {
            spools.push_back(&mqtt->spool_stats());
        }
        if (influx) {
            spools.push_back(&influx->spool_stats());
        }
        alert_runner->watch_spools(std::move(spools));
        alert_runner->start(unix_now_ms());
        if (balance) {
            balance->set_tick_observer(
                [&](const accounting::TickResult& tick, const accounting::Rollup* hour) {
                    alert_runner->on_tick(tick, hour, unix_now_ms());
                });
        }
    }

    Poller poller(
        config, io.get_executor(), loggers.make("modbus"), [&](core::DeviceReading&& reading) {
            const auto& device = config.devices[reading.device];
            if (mqtt) {
                mqtt->publish(state_topics[reading.device],
                              sinks::encode_device_state(device.id, *device.profile, reading),
                              true);
            }
            poll_histograms.observe(reading.device, reading.duration);
            if (balance) {
                balance->add(reading);
            }
            if (alert_runner) {
                alert_runner->add(reading);
            }
            if (emit_lines) {
                sinks::LineBuilder lines;
                sinks::append_device_line(lines, config.site.id, device.id, *device.profile,
                                          reading);
                emit_lines(lines.take());
            }
            store.update(std::move(reading));
        });
    for (const auto& line : poller.describe_plans()) {
        log->info("plan: {}", line);
    }
    poller.start();
    if (balance) {
        balance->start();
    }

    std::unique_ptr<PeriodicTimer> summary;
    if (options.summary) {
        const milliseconds max_age = staleness_limit(config);
        // max_age by value: this block ends long before the timer does.
        summary = std::make_unique<PeriodicTimer>(
            io, milliseconds(1000), milliseconds(600), [&, max_age] {
                auto now = system_clock::now();
                std::string line =
                    core::format_summary(core::summarize(config, store, now, max_age), now);
                if (const auto* tick = balance ? balance->last_tick() : nullptr) {
                    line += " | " + core::format_balance(*tick);
                }
                if (alert_runner) {
                    std::string firing;
                    std::size_t count = 0;
                    for (const auto& status : alert_runner->statuses()) {
                        if (status.state == alerts::AlertState::firing) {
                            firing +=
                                (count++ == 0 ? " " : ", ") + status.rule + "/" + status.subject;
                        }
                    }
                    line += count == 0 ? " | no alerts"
                                       : " | " + std::to_string(count) + " firing:" + firing;
                }
                if (mqtt) {
                    line += mqtt->connected() ? " | mqtt up" : " | mqtt down";
                    line += ", " + std::to_string(mqtt->stats().published.load()) + " sent";
                    if (auto dropped = mqtt->stats().dropped.load(); dropped > 0) {
                        line += ", " + std::to_string(dropped) + " dropped";
                    }
                }
                out << line << std::endl;
            });
    }

    std::unique_ptr<sinks::PrometheusServer> prometheus;
    if (config.prometheus.enabled) {
        prometheus = std::make_unique<sinks::PrometheusServer>(
            io, sinks::make_server_settings(config.prometheus),
            [&] {
                sinks::MetricsInput input;
                input.config = &config;
                input.samples = &store;
                std::vector<accounting::Rollup> open;
                if (balance) {
                    input.last_tick = balance->last_tick();
                    input.totals = &balance->engine().totals();
                    input.battery = &balance->engine().battery();
                    open = balance->engine().open_rollups();
                    for (const auto& rollup : open) {
                        if (rollup.window == accounting::Window::hour) {
                            input.open_hour = &rollup;
                        }
                    }
                }
                for (const auto& worker : poller.workers()) {
                    input.buses.push_back(
                        sinks::BusMetrics{worker->settings().id, &worker->stats()});
                }
                if (mqtt) {
                    input.mqtt = &mqtt->stats();
                    input.mqtt_connected = mqtt->connected();
                    input.spools.emplace_back("mqtt", &mqtt->spool_stats());
                }
                if (influx) {
                    input.influx = &influx->stats();
                    input.spools.emplace_back("influxdb", &influx->spool_stats());
                }
                input.poll_histograms = &poll_histograms;
                std::vector<alerts::AlertStatus> alert_statuses;
                if (alert_runner) {
                    alert_statuses = alert_runner->statuses();
                    input.alerts = &alert_statuses;
                    input.alert_transitions = &alert_runner->counters().transitions;
                }
                if (alertmanager) {
                    input.alertmanager = &alertmanager->stats();
                }
                input.version = version_string;
                input.now = system_clock::now();
                return sinks::render_metrics(input);
            },
            [&] { return sinks::device_health_problem(config, store, system_clock::now()); },
            loggers.make("prometheus"));
        prometheus->start();
    }

    // Without accounting the device rules run on their own timer.
    std::unique_ptr<PeriodicTimer> device_alerts;
    if (alert_runner && !balance) {
        device_alerts =
            std::make_unique<PeriodicTimer>(io, config.alerts.device_interval, milliseconds(0),
                                            [&] { alert_runner->on_devices(unix_now_ms()); });
    }

    // The daemon's own counters as line protocol, every 10 s.
    std::unique_ptr<PeriodicTimer> self_lines;
    if (emit_lines) {
        self_lines =
            std::make_unique<PeriodicTimer>(io, milliseconds(10'000), milliseconds(0), [&] {
                std::vector<sinks::SelfBusCounters> buses;
                for (const auto& worker : poller.workers()) {
                    const auto& stats = worker->stats();
                    buses.push_back(sinks::SelfBusCounters{
                        worker->settings().id, stats.requests.load(), stats.requests_failed.load(),
                        stats.timeouts.load(), stats.exceptions.load(), stats.overruns.load()});
                }
                sinks::SelfSiteCounters site;
                const auto now = system_clock::now();
                site.devices_stale =
                    static_cast<std::uint64_t>(sinks::stale_devices(config, store, now));
                if (mqtt) {
                    site.mqtt_published = mqtt->stats().published.load();
                    site.mqtt_dropped = mqtt->stats().dropped.load();
                }
                if (influx) {
                    site.influx_queue_lines = influx->stats().queue_lines.load();
                    site.influx_dropped_lines = influx->stats().dropped_lines.load();
                }
                sinks::LineBuilder lines;
                sinks::append_self_lines(lines, config.site.id, buses, site, now);
                emit_lines(lines.take());
            });
    }

    // systemd: READY=1, then WATCHDOG=1 (with WatchdogSec=) and STATUS= from this loop.
    ServiceNotifier notifier(
        io.get_executor(),
        [&] {
            std::size_t ok = 0;
            std::size_t answered = 0;
            for (std::size_t d = 0; d < store.size(); ++d) {
                if (const core::DeviceReading* reading = store.latest(d)) {
                    const auto quality = core::reading_quality(*reading);
                    ok += quality == core::ReadingQuality::ok ? 1 : 0;
                    answered += quality != core::ReadingQuality::offline ? 1 : 0;
                }
            }
            std::string status = "polling " + std::to_string(config.devices.size()) +
                                 " devices: " + std::to_string(ok) + " ok, " +
                                 std::to_string(answered - ok) + " partial, " +
                                 std::to_string(config.devices.size() - answered) + " offline";
            if (mqtt) {
                status += std::string("; mqtt ") + (mqtt->connected() ? "up" : "DOWN") + ", " +
                          std::to_string(mqtt->spool_stats().pending.load()) + " spooled";
            }
            if (influx) {
                status += "; influxdb " + std::to_string(influx->spool_stats().pending.load()) +
                          " spooled";
            }
            return status;
        },
        loggers.make("systemd"));

    boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signal) {
            if (ec) {
                return;
            }
            if (signal == SIGHUP) {
                log->warn("SIGHUP: live reload is not supported yet; restart to apply changes");
                signals.async_wait(on_signal);
                return;
            }
            log->info("signal {}: stopping", signal);
            notifier.stopping();
            if (summary) {
                summary->cancel();
            }
            poller.stop();
            if (self_lines) {
                self_lines->cancel();
            }
            if (prometheus) {
                prometheus->stop();
            }
            if (device_alerts) {
                device_alerts->cancel();
            }
            if (balance) {
                balance->stop();
            }
            if (alert_runner) {
                alert_runner->stop();
            }
            if (alertmanager) {
                alertmanager->stop(milliseconds(3000));
            }
            if (influx) {
                influx->stop(milliseconds(5000));
            }
            if (mqtt) {
                mqtt->stop(milliseconds(2000));
            }
            io.stop();
        };
    signals.async_wait(on_signal);

    log->info("greenrackd {} polling {} devices on {} buses for site {}", version_string,
              config.devices.size(), poller.workers().size(), config.site.id);
    notifier.ready();
    io.run();
    log->info("stopped");
    return 0;
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
