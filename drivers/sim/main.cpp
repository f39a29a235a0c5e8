// greenrack-sim: Modbus TCP simulator of a whole green data-center site.
// main owns the I/O: command line, files, clock, signals and the server loop.

#include "drivers/common/config_error.hpp"
#include "drivers/profiles/profile_loader.hpp"
#include "drivers/sim/cli_options.hpp"
#include "drivers/sim/file_io.hpp"
#include "drivers/sim/modbus_server.hpp"
#include "drivers/sim/scenario_loader.hpp"
#include "drivers/sim/sim_clock.hpp"
#include "drivers/sim/simulator.hpp"
#include "drivers/sim/snapshot.hpp"
#include "greenrack/version.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <unistd.h>

namespace {

using namespace greenrack;
using namespace greenrack::sim;
using Clock = std::chrono::steady_clock;

constexpr int exit_usage = 64;  // EX_USAGE
constexpr int exit_config = 78; // EX_CONFIG
constexpr auto max_poll_wait = std::chrono::milliseconds(100);
constexpr auto stats_period = std::chrono::seconds(10);

// SIGINT/SIGTERM are blocked and collected with sigtimedwait(), so no handler and no global
// flag are needed; the loop checks at least every 100 ms.
sigset_t block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return set;
}

bool stop_requested(const sigset_t& set) {
    timespec zero{};
    return sigtimedwait(&set, nullptr, &zero) > 0;
}

Scenario load_scenario(const CliOptions& options) {
    std::string text;
    try {
        text = read_text_file(options.scenario);
    } catch (const std::runtime_error&) {
        throw common::ConfigError(common::SourceLocation{options.scenario.string(), 0, 0},
                                  "cannot read the scenario file");
    }
    const auto dirs = profile_search_dirs(options);
    // Each profile is loaded once, however many devices use it.
    std::map<std::string, std::shared_ptr<const profiles::DeviceProfile>, std::less<>> loaded;
    Scenario scenario = parse_scenario(
        text, options.scenario.string(),
        [&](std::string_view name, const common::SourceLocation& where) {
            auto it = loaded.find(name);
            if (it == loaded.end()) {
                it = loaded.emplace(std::string(name), profiles::find_profile(name, dirs, where))
                         .first;
            }
            return it->second;
        });
    if (options.seed) {
        scenario.sim.seed = *options.seed;
    }
    if (options.speed) {
        scenario.sim.speed = *options.speed;
    }
    return scenario;
}

std::string ready_json(const Scenario& scenario, const CliOptions& options,
                       const std::vector<std::uint16_t>& ports) {
    nlohmann::ordered_json listeners = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < scenario.listeners.size(); ++i) {
        const ListenerSpec& l = scenario.listeners[i];
        if (l.is_serial()) {
            listeners[l.name] = l.serial;
        } else {
            listeners[l.name] = ports[i];
        }
    }
    nlohmann::ordered_json root = {
        {"pid", static_cast<long>(::getpid())},
        {"bind", options.bind},
        {"listeners", std::move(listeners)},
    };
    return root.dump(2) + "\n";
}

void write_snapshot(const CliOptions& options, const Simulator& sim,
                    const std::vector<std::uint16_t>& ports) {
    if (!options.snapshot) {
        return;
    }
    try {
        write_file_atomically(*options.snapshot, snapshot_json(sim, ports));
    } catch (const std::runtime_error& err) {
        std::cerr << "greenrack-sim: snapshot: " << err.what() << "\n";
    }
}

int run(const CliOptions& options) {
    const sigset_t stop_signals = block_stop_signals();
    Scenario scenario;
    try {
        scenario = load_scenario(options);
    } catch (const common::ConfigError& err) {
        std::cerr << err.what() << "\n";
        return exit_config;
    }
    const double speed = scenario.sim.speed;
    const auto start = scenario.sim.start.value_or(
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    Simulator sim(std::move(scenario), start);

    if (options.ready_file) {
        std::error_code ignored;
        std::filesystem::remove(*options.ready_file, ignored);
    }
    std::unique_ptr<ModbusServer> server;
    try {
        server = std::make_unique<ModbusServer>(options.bind, sim.scenario().listeners);
    } catch (const std::runtime_error& err) {
        std::cerr << "greenrack-sim: " << err.what() << "\n";
        return 1;
    }
    const std::vector<std::uint16_t> ports = server->ports();
    write_snapshot(options, sim, ports);
    if (options.ready_file) {
        try {
            write_file_atomically(*options.ready_file, ready_json(sim.scenario(), options, ports));
        } catch (const std::runtime_error& err) {
            std::cerr << "greenrack-sim: ready file: " << err.what() << "\n";
            return 1;
        }
    }
    std::cerr << "greenrack-sim " << version_string << ": " << sim.scenario().devices.size()
              << " devices on";
    for (std::size_t i = 0; i < ports.size(); ++i) {
        const ListenerSpec& l = sim.scenario().listeners[i];
        std::cerr << " " << l.name << "=";
        if (l.is_serial()) {
            std::cerr << l.serial << " (RTU " << l.baud << " " << l.data_bits << l.parity
                      << l.stop_bits << ")";
        } else {
            std::cerr << options.bind << ":" << ports[i];
        }
    }
    std::cerr << ", sim start " << format_rfc3339_utc(sim.now()) << ", speed "
              << (options.freeze ? 0.0 : speed) << (options.freeze ? " (frozen)" : "") << "\n";

    const SimClock clock(sim.now(), speed, options.freeze);
    const auto wall_start = Clock::now();
    auto next_stats = wall_start + stats_period;
    std::uint64_t requests_at_last_stats = 0;
    const ModbusServer::Handler handler = [&sim](std::size_t listener, std::uint8_t unit,
                                                 std::span<const std::uint8_t> pdu,
                                                 std::span<std::uint8_t> response) {
        return sim.handle_request(listener, unit, pdu, response);
    };

    while (!stop_requested(stop_signals)) {
        const auto elapsed = Clock::now() - wall_start;
        if (sim.advance_to(clock.at(elapsed)) > 0) {
            write_snapshot(options, sim, ports);
        }
        const auto until_step = clock.wall_until(sim.now() + sim.step(), elapsed);
        const auto wait = std::min<std::chrono::nanoseconds>(max_poll_wait, until_step);
        server->poll(std::chrono::ceil<std::chrono::milliseconds>(wait), handler);

        if (options.stats && Clock::now() >= next_stats) {
            const std::uint64_t total = sim.stats().total();
            std::cerr << "greenrack-sim: sim " << format_rfc3339_utc(sim.now()) << " clients "
                      << server->client_count() << " "
                      << static_cast<double>(total - requests_at_last_stats) /
                             static_cast<double>(stats_period.count())
                      << " req/s " << sim.stats().summary() << "\n";
            requests_at_last_stats = total;
            next_stats += stats_period;
        }
    }
    std::cerr << "greenrack-sim: stopping; " << sim.stats().summary() << "\n";
    if (options.ready_file) {
        std::error_code ignored;
        std::filesystem::remove(*options.ready_file, ignored);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CliOptions options;
    try {
        options = parse_cli(argc, argv);
    } catch (const CliError& err) {
        std::cerr << "greenrack-sim: " << err.what() << "\nTry 'greenrack-sim --help'.\n";
        return exit_usage;
    }
    if (options.help) {
        std::cout << cli_help();
        return 0;
    }
    if (options.version) {
        std::cout << "greenrack-sim " << greenrack::version_string << "\n";
        return 0;
    }
    return run(options);
}
