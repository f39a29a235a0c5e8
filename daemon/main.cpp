// greenrackd: polls the site's Modbus devices and publishes readings and the clean-energy
// balance. See README.md and config/greenrack.toml.

#include "daemon/app/app.hpp"
#include "daemon/app/logging.hpp"
#include "daemon/app/poller.hpp"
#include "daemon/config/config.hpp"
#include "daemon/config/fleet_view.hpp"
#include "drivers/common/config_error.hpp"
#include "greenrack/version.hpp"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>

namespace {

constexpr int exit_usage = 64;  // EX_USAGE
constexpr int exit_config = 78; // EX_CONFIG

namespace po = boost::program_options;

} // namespace

int main(int argc, char** argv) {
    po::options_description options("greenrackd options");
    // clang-format off
    options.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("config,c", po::value<std::string>()->default_value("/etc/greenrack/greenrack.toml"),
         "configuration file")
        ("check-config", "validate the configuration (and every device's read plan), print a "
                         "summary and exit: 0 when valid, 78 when not")
        ("plan", "with --check-config: also print every device's read plan (the Modbus "
                 "requests of one poll)")
        ("once", "poll every device once, print the decoded readings and exit: 0 when every "
                 "device answered, 1 otherwise")
        ("summary", "print one live summary line of the site per second on stdout")
        ("log-level", po::value<std::string>(),
         "override [daemon].log_level: trace, debug, info, warn, error, critical, off");
    // clang-format on

    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, options), vm);
        po::notify(vm);
    } catch (const po::error& err) {
        std::cerr << "greenrackd: " << err.what() << "\n" << options << "\n";
        return exit_usage;
    }
    if (vm.count("help") != 0U) {
        std::cout
            << "greenrackd " << greenrack::version_string
            << ": live clean-energy accounting for data-center racks\n\n"
            << "Usage: greenrackd [--config FILE] [--summary] [--log-level LEVEL]\n"
            << "       greenrackd [--config FILE] --check-config [--plan] | --once\n\n"
            << options
            << "\nSignals:\n"
               "  SIGHUP           reload the configuration file (systemctl reload): applied\n"
               "                   live without losing totals, alerts or queued data; an\n"
               "                   invalid file is rejected with file:line:column and the\n"
               "                   running configuration stays in force\n"
               "  SIGTERM, SIGINT  stop: finish each bus's poll in progress, save the state\n"
               "\nEnvironment:\n"
               "  STATE_DIRECTORY  overrides [daemon].state_directory (systemd "
               "StateDirectory=)\n"
               "  NOTIFY_SOCKET    systemd Type=notify: READY=1, RELOADING=1, STATUS=,\n"
               "                   STOPPING=1; with WATCHDOG_USEC, WATCHDOG=1 every half "
               "period\n"
               "  JOURNAL_STREAM   when it names stderr, log to the journal with priorities\n"
               "\nFiles:\n"
               "  /etc/greenrack/greenrack.toml    configuration (every option documented)\n"
               "  /usr/share/greenrack/profiles/   device profiles (and profiles/ beside "
               "the config)\n"
               "  <state_directory>/               accounting.json, alerts.json, spool/\n"
               "\nExit status: 0 ok, 1 runtime failure (--once: a device did not answer), 64 "
               "bad usage,\n78 invalid configuration.\n";
        return 0;
    }
    if (vm.count("version") != 0U) {
        std::cout << "greenrackd " << greenrack::version_string << "\n";
        return 0;
    }

    const std::string path = vm["config"].as<std::string>();
    // Used at start-up and again on every SIGHUP; throws ConfigError with file:line:column.
    auto load = [path] {
        greenrack::config::Config loaded = greenrack::config::load_config(path);
        // systemd's StateDirectory= (and the demo) hand the state directory over in the
        // environment.
        if (const char* state = std::getenv("STATE_DIRECTORY");
            state != nullptr && *state != '\0') {
            loaded.daemon.state_directory = state;
        }
        // A fleet shard or aggregator runs with the part of the site its role sees.
        return greenrack::config::role_view(loaded);
    };
    greenrack::config::Config config;
    try {
        config = load();
    } catch (const greenrack::common::ConfigError& err) {
        std::cerr << err.what() << "\n";
        return exit_config;
    }

    std::string level_text = config.daemon.log_level;
    if (vm.count("log-level") != 0U) {
        level_text = vm["log-level"].as<std::string>();
    }
    spdlog::level::level_enum level = spdlog::level::info;
    if (!greenrack::app::parse_log_level(level_text, level)) {
        std::cerr << "greenrackd: unknown log level \"" << level_text << "\"\n";
        return exit_usage;
    }
    greenrack::app::LoggerFactory loggers(level);

    if (vm.count("check-config") != 0U) {
        std::size_t racks = config.racks.size();
        std::size_t active_rules = 0;
        for (const auto& rule : config.alerts.rules) {
            active_rules += config.alerts.enabled && rule.enabled ? 1 : 0;
        }
        std::cout << path << ": ok: site " << config.site.id << ", " << config.devices.size()
                  << " devices on " << config.buses.size() << " buses, " << racks << " racks, "
                  << active_rules << " alert rules\n";
        if (config.fleet.role != greenrack::config::FleetRole::single) {
            std::cout << "fleet: " << greenrack::config::to_string(config.fleet.role);
            if (config.fleet.role == greenrack::config::FleetRole::shard) {
                std::cout << " " << config.fleet.shard << " polls " << config.devices.size()
                          << " of the site's " << config.fleet.site->devices.size() << " devices";
            } else {
                std::cout << " " << config.fleet.instance << " merges shards";
                for (const auto& shard : config.fleet.shards) {
                    std::cout << " " << shard;
                }
            }
            std::cout << "\n";
        }
        if (vm.count("plan") != 0U) {
            for (const auto& line : greenrack::app::Poller::describe_plans(config)) {
                std::cout << line << "\n";
            }
        }
        return 0;
    }

    try {
        if (vm.count("once") != 0U) {
            return greenrack::app::run_once(config, loggers, std::cout, std::chrono::seconds(30));
        }
        greenrack::app::RunOptions run_options;
        run_options.summary = vm.count("summary") != 0U;
        run_options.reload = load;
        run_options.log_level_fixed = vm.count("log-level") != 0U;
        return greenrack::app::run_daemon(config, run_options, loggers, std::cout);
    } catch (const std::exception& err) {
        std::cerr << "greenrackd: fatal: " << err.what() << "\n";
        return EXIT_FAILURE;
    }
}
