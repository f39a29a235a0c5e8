// Fuzz target: the daemon configuration (daemon/config: config_loader, alerts_loader, key_check,
// and drivers/common's TOML reader and durations), through the real entry point
// greenrack::config::load_config(path), which greenrackd --check-config calls.
//
// Each input is written to <tmp>/site.toml; <tmp>/profiles holds copies of the shipped profiles
// (the default daemon.profile_dirs entry "profiles" resolves to it) and <tmp>/secret a password
// file.
//
// Invariants: load_config returns a Config or throws common::ConfigError; anything else (another
// exception type, a crash, a hang) is a finding, as greenrackd would abort instead of exiting 78.
// Every ConfigError is located: in site.toml (or a profile), line and column >= 1, the line
// inside the file, and what() == "file:line:column: message" on one line without control
// characters. A Config that loads keeps the promises of config/greenrack.toml (ids valid and
// unique, every device on a known bus with a profile, ranges, rack members valid).

#include "daemon/config/config.hpp"
#include "drivers/common/config_error.hpp"
#include "fuzz/fuzz_check.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <typeinfo>
#include <unistd.h>

using namespace greenrack;
namespace fs = std::filesystem;

namespace {

fs::path work_dir;
fs::path config_path;

void remove_work_dir() {
    std::error_code ec;
    fs::remove_all(work_dir, ec);
}

bool is_id(std::string_view text, bool allow_dot) {
    if (text.empty() || text.size() > 64) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!(alnum || (i > 0 && (c == '_' || c == '-' || (allow_dot && c == '.'))))) {
            return false;
        }
    }
    return true;
}

void check_config(const config::Config& config) {
    FUZZ_CHECK(is_id(config.site.id, false), "site id \"" + fuzz::printable(config.site.id) + "\"");
    FUZZ_CHECK(!config.devices.empty(), "a config has devices");
    std::set<std::string> ids;
    for (const auto& bus : config.buses) {
        FUZZ_CHECK(is_id(bus.id, true) && ids.insert(bus.id).second,
                   "bus id \"" + fuzz::printable(bus.id) + "\"");
        FUZZ_CHECK(bus.reconnect_min <= bus.reconnect_max, "bus reconnect order");
        FUZZ_CHECK(bus.type == config::BusType::rtu || (!bus.host.empty() && bus.port >= 1),
                   "tcp bus host and port");
    }
    ids.clear();
    for (const auto& device : config.devices) {
        FUZZ_CHECK(is_id(device.id, true) && ids.insert(device.id).second,
                   "device id \"" + fuzz::printable(device.id) + "\"");
        FUZZ_CHECK(config.find_bus(device.bus) != nullptr, "device on an unknown bus");
        FUZZ_CHECK(device.profile != nullptr && !device.profile->points.empty(),
                   "device without profile");
        FUZZ_CHECK(device.max_registers >= 1 && device.max_registers <= 125, "max_registers");
    }
    ids.clear();
    for (const auto& rack : config.racks) {
        FUZZ_CHECK(is_id(rack.id, true) && ids.insert(rack.id).second,
                   "rack id \"" + fuzz::printable(rack.id) + "\"");
        FUZZ_CHECK(!rack.members.empty(), "rack without members");
        for (const auto& member : rack.members) {
            const auto* device = config.find_device(member.device);
            FUZZ_CHECK(device != nullptr &&
                           device->profile->device_role == profiles::DeviceRole::rack_pdu,
                       "rack member is not a rack PDU");
            FUZZ_CHECK(std::is_sorted(member.outlets.begin(), member.outlets.end()),
                       "outlets sorted");
            for (const int outlet : member.outlets) {
                FUZZ_CHECK(outlet >= 1 && outlet <= device->profile->max_index("outlet_power"),
                           "outlet " + std::to_string(outlet) + " out of range");
            }
        }
    }
    FUZZ_CHECK(config.mqtt.reconnect_min <= config.mqtt.reconnect_max, "mqtt reconnect order");
    FUZZ_CHECK(config.mqtt.qos >= 0 && config.mqtt.qos <= 2, "qos");
    const auto tick = config.accounting.settings.tick;
    FUZZ_CHECK(tick.count() > 0 && std::chrono::minutes(15) % tick == tick.zero(), "tick");
    FUZZ_CHECK(config.spool.max_size >= 64U * 1024U, "spool size");
    FUZZ_CHECK(config.alerts.cause_racks >= 1, "cause_racks");
}

void check_error(const common::ConfigError& err, std::string_view text) {
    const auto& where = err.where();
    FUZZ_CHECK(where.file == config_path.string() ||
                   where.file.rfind((work_dir / "profiles").string(), 0) == 0,
               "error located in \"" + where.file + "\": " + err.what());
    FUZZ_CHECK(where.line >= 1 && where.column >= 1,
               std::string("error without a precise location: ") + err.what());
    if (where.file == config_path.string()) {
        const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
        FUZZ_CHECK(where.line <= lines, "error at line " + std::to_string(where.line) +
                                            " of a file with " + std::to_string(lines) + " lines");
    }
    FUZZ_CHECK(!err.message().empty(), "empty message");
    FUZZ_CHECK(err.what() == common::format_location(where, err.message()), "what() format");
    const std::string_view what = err.what();
    FUZZ_CHECK(std::none_of(what.begin(), what.end(),
                            [](char c) {
                                const auto byte = static_cast<unsigned char>(c);
                                return byte < 0x20 || byte == 0x7F;
                            }),
               "control character in the message: " + fuzz::printable(what));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    std::string pattern = (fs::temp_directory_path() / "greenrack-fuzz-config-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        std::perror("mkdtemp");
        std::abort();
    }
    work_dir = pattern;
    config_path = work_dir / "site.toml";
    std::atexit(remove_work_dir);
    fs::create_directories(work_dir / "profiles");
    for (const auto& entry :
         fs::directory_iterator(fs::path(GREENRACK_SOURCE_DIR) / "config" / "profiles")) {
        if (entry.path().extension() == ".toml") {
            fs::copy_file(entry.path(), work_dir / "profiles" / entry.path().filename());
        }
    }
    std::ofstream(work_dir / "secret") << "hunter2\n";
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    {
        std::ofstream out(config_path, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    try {
        const config::Config config = config::load_config(config_path);
        check_config(config);
    } catch (const common::ConfigError& err) {
        check_error(err, text);
    } catch (const std::exception& err) {
        FUZZ_CHECK(false, std::string("exception other than ConfigError (greenrackd would "
                                      "abort): ") +
                              typeid(err).name() + ": " + err.what());
    }
    return 0;
}
