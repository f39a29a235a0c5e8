#include "drivers/sim/cli_options.hpp"

#include <boost/program_options.hpp>

#include <sstream>

namespace greenrack::sim {

namespace po = boost::program_options;

namespace {

po::options_description describe() {
    po::options_description d("Options");
    // clang-format off
    d.add_options()
        ("scenario", po::value<std::string>(), "scenario TOML file (required)")
        ("profiles", po::value<std::vector<std::string>>(),
            "directory of device profiles; repeatable, searched in order "
            "(default: <scenario dir>/../profiles)")
        ("seed", po::value<std::uint64_t>(), "random seed (overrides [sim] seed)")
        ("speed", po::value<double>(), "sim seconds per wall second (overrides [sim] speed)")
        ("freeze", "sim time stands still at the start: every value stays constant")
        ("bind", po::value<std::string>()->default_value("127.0.0.1"),
            "address every listener binds to")
        ("snapshot", po::value<std::string>(),
            "after every physics update, atomically write the served values as JSON here")
        ("ready-file", po::value<std::string>(),
            "written (JSON: pid, bound ports) once every listener is bound")
        ("stats", "print request counters every 10 s (they are always printed on exit)")
        ("version", "print the version and exit")
        ("help", "print this help and exit");
    // clang-format on
    return d;
}

} // namespace

CliOptions parse_cli(int argc, const char* const* argv) {
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(describe()).run(), vm);
        po::notify(vm);
    } catch (const po::error& err) {
        throw CliError(err.what());
    }
    CliOptions options;
    options.help = vm.count("help") != 0;
    options.version = vm.count("version") != 0;
    if (options.help || options.version) {
        return options;
    }
    if (vm.count("scenario") == 0) {
        throw CliError("--scenario FILE is required");
    }
    options.scenario = vm["scenario"].as<std::string>();
    if (vm.count("profiles") != 0) {
        for (const auto& dir : vm["profiles"].as<std::vector<std::string>>()) {
            options.profile_dirs.emplace_back(dir);
        }
    }
    if (vm.count("seed") != 0) {
        options.seed = vm["seed"].as<std::uint64_t>();
    }
    if (vm.count("speed") != 0) {
        options.speed = vm["speed"].as<double>();
        if (!(*options.speed > 0.0 && *options.speed <= 1.0e6)) {
            throw CliError("--speed must be greater than 0 and at most 1000000");
        }
    }
    options.freeze = vm.count("freeze") != 0;
    options.bind = vm["bind"].as<std::string>();
    if (vm.count("snapshot") != 0) {
        options.snapshot = vm["snapshot"].as<std::string>();
    }
    if (vm.count("ready-file") != 0) {
        options.ready_file = vm["ready-file"].as<std::string>();
    }
    options.stats = vm.count("stats") != 0;
    return options;
}

std::string cli_help() {
    std::ostringstream out;
    out << "Usage: greenrack-sim --scenario FILE [options]\n\n"
           "Modbus TCP simulator of a whole green data-center site (PDUs, PV, wind, battery,\n"
           "grid and facility meters), driven by a scenario file.\n\n"
        << describe()
        << "\nExit status: 0 on SIGINT/SIGTERM, 64 usage error, 78 scenario/profile error,\n"
           "1 other start-up failure (e.g. a port already in use).\n";
    return out.str();
}

std::vector<std::filesystem::path> profile_search_dirs(const CliOptions& options) {
    if (!options.profile_dirs.empty()) {
        return options.profile_dirs;
    }
    return {options.scenario.parent_path() / ".." / "profiles"};
}

} // namespace greenrack::sim
