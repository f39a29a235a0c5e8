// greenrack-scan: finds what answers on a Modbus bus (TCP gateway or serial line), identifies
// SunSpec devices and devices matching a shipped profile, and prints a ready-to-paste greenrackd
// config block. Reads only (functions 03 and 04). See README "Commissioning with greenrack-scan".

#include "drivers/sunspec/decode.hpp"
#include "drivers/sunspec/link_reader.hpp"
#include "drivers/sunspec/models.hpp"
#include "greenrack/version.hpp"
#include "tools/scan/config_block.hpp"
#include "tools/scan/scanner.hpp"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace {

namespace po = boost::program_options;
using namespace greenrack;

constexpr int exit_usage = 64;
constexpr int exit_unavailable = 69; // EX_UNAVAILABLE: cannot reach the bus

// "1-247" or "7".
bool parse_units(const std::string& text, int& first, int& last) {
    std::istringstream in(text);
    char dash = 0;
    if (!(in >> first)) {
        return false;
    }
    last = first;
    if (in >> dash) {
        if (dash != '-' || !(in >> last)) {
            return false;
        }
    }
    return in.eof() && first >= 0 && last <= 255 && first <= last;
}

void print_value(std::ostream& out, const std::string& name, bool missing, double value,
                 const std::string& text, std::string_view unit) {
    std::ostringstream shown;
    if (missing) {
        shown << "-";
    } else if (!text.empty()) {
        shown << '"' << text << '"';
    } else {
        shown << std::setprecision(10) << value;
    }
    out << "    " << std::left << std::setw(30) << name << std::right << std::setw(22)
        << shown.str() << " " << unit << "\n";
}

// Every decoded point of every SunSpec model of one device.
void inspect_sunspec(std::ostream& out, modbus::ModbusLink& link, int unit,
                     const sunspec::Discovery& map, std::chrono::milliseconds timeout) {
    auto read = sunspec::make_link_reader(link, unit, timeout);
    for (const auto& header : map.models) {
        out << "  model " << header.id << " at " << header.address << " (length " << header.length
            << ")";
        const sunspec::ModelDef* def = sunspec::find_model(header.id);
        if (def == nullptr) {
            out << ": not decoded (vendor or unsupported model)\n";
            continue;
        }
        out << " " << def->name << "\n";
        std::vector<std::uint16_t> data;
        const std::uint32_t first = header.address + 2U;
        bool failed = false;
        for (std::uint32_t at = first; at < first + header.length && !failed;) {
            const auto count = static_cast<std::uint16_t>(
                std::min<std::uint32_t>(125, first + header.length - at));
            auto result = read(static_cast<std::uint16_t>(at), count);
            if (const auto* regs = std::get_if<std::vector<std::uint16_t>>(&result)) {
                data.insert(data.end(), regs->begin(), regs->end());
                at += count;
            } else {
                out << "    read failed at " << at << ": "
                    << sunspec::describe(std::get<sunspec::ReadError>(result)) << "\n";
                failed = true;
            }
        }
        if (failed) {
            continue;
        }
        const sunspec::DecodedModel decoded = sunspec::decode(*def, data);
        for (const auto& point : decoded.points) {
            print_value(out, std::string(point.def->name), point.missing, point.value, point.text,
                        point.def->units);
        }
        for (const auto& group : decoded.groups) {
            for (std::size_t i = 0; i < group.instances.size(); ++i) {
                for (const auto& point : group.instances[i]) {
                    print_value(out,
                                std::string(group.def->name) + "[" + std::to_string(i + 1) + "]." +
                                    std::string(point.def->name),
                                point.missing, point.value, point.text, point.def->units);
                }
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    po::options_description options("greenrack-scan options");
    // clang-format off
    options.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("tcp", po::value<std::string>(), "scan a Modbus TCP gateway: HOST:PORT")
        ("rtu", po::value<std::string>(), "scan a serial line: DEVICE (e.g. /dev/ttyUSB0)")
        ("baud", po::value<int>()->default_value(19200), "serial: baud rate")
        ("parity", po::value<char>()->default_value('N'), "serial: N, E or O")
        ("stop-bits", po::value<int>()->default_value(1), "serial: 1 or 2")
        ("units", po::value<std::string>()->default_value("1-247"), "unit ids: FIRST-LAST or ONE")
        ("timeout", po::value<int>()->default_value(300), "response timeout per request, ms")
        ("profile-dir", po::value<std::vector<std::string>>(),
         "directory of device profiles to match (repeatable; default: config/profiles if it "
         "exists, then /usr/share/greenrack/profiles)")
        ("bus-id", po::value<std::string>()->default_value("bus1"), "bus id in the printed config")
        ("inspect", po::value<int>(), "dump every decoded point of the device at this unit id")
        ("quiet,q", "no progress on stderr");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, options), vm);
        po::notify(vm);
    } catch (const po::error& err) {
        std::cerr << "greenrack-scan: " << err.what() << "\n" << options << "\n";
        return exit_usage;
    }
    if (vm.count("help") != 0U) {
        std::cout << "greenrack-scan " << version_string
                  << ": find the Modbus devices on a bus and print their greenrackd config\n\n"
                  << "Usage: greenrack-scan --tcp HOST:PORT | --rtu DEVICE [options]\n\n"
                  << options
                  << "\nFor each unit id: SunSpec discovery (\"SunS\" at 40000, 0, 50000; models "
                     "and identity),\nthen every shipped profile read and judged for plausible "
                     "values (e.g. voltages near\n230/400 V). Only functions 03 and 04 are sent. "
                     "Progress goes to stderr, the config\nblock to stdout.\n\nExit status: 0 "
                     "devices found, 1 none found, 64 bad usage, 69 bus not reachable.\n";
        return 0;
    }
    if (vm.count("version") != 0U) {
        std::cout << "greenrack-scan " << version_string << "\n";
        return 0;
    }
    if ((vm.count("tcp") != 0U) == (vm.count("rtu") != 0U)) {
        std::cerr << "greenrack-scan: give exactly one of --tcp HOST:PORT and --rtu DEVICE\n";
        return exit_usage;
    }
    modbus::Endpoint endpoint;
    if (vm.count("tcp") != 0U) {
        const std::string text = vm["tcp"].as<std::string>();
        const auto colon = text.rfind(':');
        int port = 0;
        try {
            port = colon == std::string::npos ? 502 : std::stoi(text.substr(colon + 1));
        } catch (const std::exception&) {
            port = 0;
        }
        if (port <= 0 || port > 65535 || colon == 0) {
            std::cerr << "greenrack-scan: --tcp wants HOST:PORT, got \"" << text << "\"\n";
            return exit_usage;
        }
        endpoint = modbus::TcpEndpoint{text.substr(0, colon), static_cast<std::uint16_t>(port)};
    } else {
        const char parity = vm["parity"].as<char>();
        if (parity != 'N' && parity != 'E' && parity != 'O') {
            std::cerr << "greenrack-scan: --parity is N, E or O\n";
            return exit_usage;
        }
        endpoint = modbus::RtuEndpoint{vm["rtu"].as<std::string>(),
                                       vm["baud"].as<int>(),
                                       parity,
                                       8,
                                       vm["stop-bits"].as<int>(),
                                       false};
    }
    scan::ScanOptions scan_options;
    if (!parse_units(vm["units"].as<std::string>(), scan_options.first_unit,
                     scan_options.last_unit)) {
        std::cerr << "greenrack-scan: --units wants FIRST-LAST within 0-255, e.g. 1-247\n";
        return exit_usage;
    }
    scan_options.response_timeout = std::chrono::milliseconds(vm["timeout"].as<int>());

    std::vector<std::filesystem::path> dirs;
    if (vm.count("profile-dir") != 0U) {
        for (const auto& dir : vm["profile-dir"].as<std::vector<std::string>>()) {
            dirs.emplace_back(dir);
        }
    } else {
        dirs = {"config/profiles", "/usr/share/greenrack/profiles"};
    }
    auto candidates = scan::load_candidates(
        dirs, [](const std::string& warning) { std::cerr << "warning: " << warning << "\n"; });
    if (candidates.empty()) {
        std::cerr << "warning: no device profiles found (--profile-dir): only SunSpec devices "
                     "can be identified\n";
    }
    const bool quiet = vm.count("quiet") != 0U;

    scan::Scanner scanner(endpoint, scan_options, std::move(candidates));
    if (auto ec = scanner.open()) {
        std::cerr << "greenrack-scan: cannot open " << modbus::describe(endpoint) << ": "
                  << ec.message() << "\n";
        return exit_unavailable;
    }

    if (vm.count("inspect") != 0U) {
        const int unit = vm["inspect"].as<int>();
        std::optional<scan::BestMatch> best;
        auto found = scanner.probe(unit, &best);
        if (!found) {
            std::cerr << "greenrack-scan: nothing answers at unit " << unit << "\n";
            return 1;
        }
        std::cout << "unit " << unit << " on " << modbus::describe(endpoint) << "\n";
        if (found->sunspec) {
            const auto& map = *found->sunspec;
            std::cout << "SunSpec at " << map.base;
            if (map.identity) {
                std::cout << ": " << map.identity->manufacturer << " " << map.identity->model
                          << ", version " << map.identity->version << ", serial "
                          << map.identity->serial;
            }
            std::cout << "\n";
            for (const auto& warning : map.warnings) {
                std::cout << "  note: " << warning << "\n";
            }
            modbus::ModbusLink link(endpoint);
            if (!link.open(std::chrono::milliseconds(2000))) {
                inspect_sunspec(std::cout, link, unit, map, scan_options.response_timeout);
            }
        }
        if (best) {
            const auto& profile = *best->candidate->profile;
            std::cout << "profile " << profile.name << " (" << best->match.reason << ")\n";
            for (std::size_t i = 0; i < profile.points.size(); ++i) {
                const auto& value = best->reading.values[i];
                print_value(std::cout, profile.points[i].name,
                            value.quality != modbus::Quality::ok &&
                                value.quality != modbus::Quality::implausible,
                            value.value, value.text, profile.points[i].unit);
            }
        } else {
            std::cout << "no shipped profile matches:\n";
            for (const auto& [name, verdict] : scanner.verdicts(unit)) {
                std::cout << "  " << name << ": " << verdict.reason << "\n";
            }
        }
        return 0;
    }

    const int total = scan_options.last_unit - scan_options.first_unit + 1;
    auto found = scanner.scan([&](int unit) {
        if (!quiet) {
            std::cerr << "\rscanning unit " << unit << " (" << (unit - scan_options.first_unit + 1)
                      << "/" << total << ")" << std::flush;
        }
    });
    if (!quiet) {
        std::cerr << "\r" << found.size() << " devices answered on " << modbus::describe(endpoint)
                  << " (units " << scan_options.first_unit << "-" << scan_options.last_unit
                  << ")\n";
    }
    std::cout << scan::render_config(endpoint, vm["bus-id"].as<std::string>(), found);
    return found.empty() ? 1 : 0;
}
