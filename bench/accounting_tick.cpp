// The accounting tick's compute time at a given number of PDU outlets, timed exactly: a site of
// 24-outlet PDUs (two racks of 12 outlets each) plus PV, battery, grid and facility meters is fed
// one reading per device per second, as greenrackd's pollers would, and every 5 s tick is
// computed the way AccountingRunner does it (SiteModel::tick_inputs + Engine::process), with a
// steady_clock around exactly that. No I/O in the timed part.
//
// usage: greenrack-bench-tick --outlets N [--ticks T] --profiles DIR
// prints one line per figure and a JSON summary line.

#include "daemon/config/config.hpp"
#include "daemon/core/accounting/engine.hpp"
#include "daemon/core/site_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace greenrack;
namespace fs = std::filesystem;

constexpr std::int64_t tick_ms = 5000;
constexpr std::int64_t t0 = 1'800'000'000'000; // a multiple of the tick

struct Options {
    int outlets = 10'000;
    int ticks = 200;
    std::string profiles;
};

int usage(const char* why) {
    std::cerr << "greenrack-bench-tick: " << why
              << "\nusage: greenrack-bench-tick --outlets N [--ticks T] --profiles DIR\n";
    return 64;
}

std::string site_config(int pdus, const std::string& profiles) {
    std::ostringstream out;
    out << "[site]\nid = \"bench\"\n[daemon]\nprofile_dirs = [\"" << profiles << "\"]\n"
        << "[mqtt]\nenabled = false\n[prometheus]\nenabled = false\n"
        << "[[bus]]\nid = \"plant\"\nhost = \"127.0.0.1\"\n"
        << "[[device]]\nid = \"pv\"\nbus = \"plant\"\nunit_id = 1\nprofile = \"pv_sunspec_103\"\n"
        << "[[device]]\nid = \"bat\"\nbus = \"plant\"\nunit_id = 2\nprofile = \"battery_generic\"\n"
        << "[[device]]\nid = \"grid\"\nbus = \"plant\"\nunit_id = 3\nprofile = \"meter_grid_4q\"\n"
        << "[[device]]\nid = \"fac\"\nbus = \"plant\"\nunit_id = 4\n"
        << "profile = \"meter_facility_umg604\"\n";
    for (int p = 0; p < pdus; ++p) {
        const int gateway = p / 200;
        if (p % 200 == 0) {
            out << "[[bus]]\nid = \"gw" << gateway
                << "\"\nhost = \"127.0.0.1\"\nport = " << 1502 + gateway << "\n";
        }
        out << "[[device]]\nid = \"pdu" << p << "\"\nbus = \"gw" << gateway
            << "\"\nunit_id = " << p % 200 + 1 << "\nprofile = \"rack_pdu_px3_24\"\n";
    }
    for (int p = 0; p < pdus; ++p) {
        out << "[[rack]]\nid = \"r" << p << "a\"\noutlets = [{ device = \"pdu" << p
            << "\", from = 1, to = 12 }]\n"
            << "[[rack]]\nid = \"r" << p << "b\"\noutlets = [{ device = \"pdu" << p
            << "\", from = 13, to = 24 }]\n";
    }
    out << "[accounting]\ntick = \"5s\"\n";
    return out.str();
}

// A reading with every point ok: powers from `power_w`, energy counters from `energy_wh`.
core::DeviceReading reading(const config::Config& config, std::size_t device, std::int64_t ts,
                            double power_w, double energy_wh) {
    const auto& profile = *config.devices[device].profile;
    core::DeviceReading r;
    r.device = device;
    r.ts = std::chrono::system_clock::time_point(std::chrono::milliseconds(ts));
    r.requests_ok = 1;
    r.values.resize(profile.points.size());
    for (std::size_t i = 0; i < profile.points.size(); ++i) {
        const auto& role = profile.points[i].role;
        double value = power_w;
        double resolution = 1.0;
        if (role.find("energy") != std::string::npos) {
            value = energy_wh;
            resolution = 1.0;
        } else if (role == "soc") {
            value = 50.0;
        } else if (role == "capacity") {
            value = 200'000.0;
        }
        r.values[i] = modbus::PointValue{value, modbus::Quality::ok, {}, resolution};
    }
    return r;
}

double quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

} // namespace

int main(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) {
            return usage(("missing value for " + arg).c_str());
        }
        const std::string value = argv[++i];
        if (arg == "--outlets") {
            options.outlets = std::atoi(value.c_str());
        } else if (arg == "--ticks") {
            options.ticks = std::atoi(value.c_str());
        } else if (arg == "--profiles") {
            options.profiles = value;
        } else {
            return usage(("unknown option " + arg).c_str());
        }
    }
    if (options.outlets < 24 || options.ticks < 10 || options.profiles.empty()) {
        return usage("--outlets >= 24, --ticks >= 10 and --profiles are required");
    }
    const int pdus = (options.outlets + 23) / 24; // at least the outlets asked for

    std::string dir = (fs::temp_directory_path() / "greenrack-bench-tick-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const fs::path path = fs::path(dir) / "site.toml";
    std::ofstream(path) << site_config(pdus, options.profiles);
    config::Config config;
    try {
        config = config::load_config(path);
    } catch (const std::exception& err) {
        std::cerr << err.what() << "\n";
        fs::remove_all(dir);
        return 1;
    }
    fs::remove_all(dir);

    accounting::AccountingSettings settings = config.accounting.settings;
    settings.racks.clear();
    for (const auto& rack : config.racks) {
        settings.racks.push_back(accounting::RackSettings{rack.id, rack.tier});
    }
    core::SiteModel site(config);
    accounting::Engine engine(settings);

    // Readings every second for every device; a tick is computed 2 s after it ends (the default
    // publish_delay), as the daemon does.
    std::vector<double> times_ms;
    std::vector<double> energy(config.devices.size(), 1'000'000.0);
    std::int64_t next_tick = t0;
    const std::int64_t end = t0 + options.ticks * tick_ms + 2 * tick_ms;
    for (std::int64_t ts = t0 - 3000; ts < end; ts += 1000) {
        for (std::size_t d = 0; d < config.devices.size(); ++d) {
            const double power = 100.0 + static_cast<double>((d * 7 + ts / 1000) % 50);
            energy[d] += power / 3600.0;
            site.add(reading(config, d, ts, power, std::floor(energy[d])));
        }
        while (next_tick + tick_ms + 2000 <= ts && next_tick < t0 + options.ticks * tick_ms) {
            const auto start = std::chrono::steady_clock::now();
            const accounting::TickInputs inputs = site.tick_inputs(next_tick);
            const accounting::TickResult result = engine.process(inputs);
            const auto stop = std::chrono::steady_clock::now();
            if (result.racks.size() != config.racks.size()) {
                std::cerr << "unexpected tick result\n";
                return 1;
            }
            times_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
            next_tick += tick_ms;
            site.forget_before(next_tick);
        }
    }
    const std::size_t outlets = static_cast<std::size_t>(pdus) * 24;
    const double p50 = quantile(times_ms, 0.5);
    const double p99 = quantile(times_ms, 0.99);
    const double max = *std::max_element(times_ms.begin(), times_ms.end());
    std::printf("site: %d PDUs, %zu outlets, %zu racks, %zu devices\n", pdus, outlets,
                config.racks.size(), config.devices.size());
    std::printf("accounting tick (site inputs + engine), %zu ticks: p50 %.3f ms, p99 %.3f ms, "
                "max %.3f ms\n",
                times_ms.size(), p50, p99, max);
    std::printf("{\"outlets\":%zu,\"racks\":%zu,\"ticks\":%zu,\"tick_p50_ms\":%.4f,"
                "\"tick_p99_ms\":%.4f,\"tick_max_ms\":%.4f}\n",
                outlets, config.racks.size(), times_ms.size(), p50, p99, max);
    return 0;
}
