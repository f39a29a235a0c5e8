// Fuzz target: device profiles (drivers/profiles/profile_loader.hpp), TOML text as input, then the
// read planner and the codec on every point of a profile that loads.
//
// Invariants: parse_profile either returns a profile or throws common::ConfigError located in
// the profile (line and column >= 1); any other exception is a finding. A profile that loads
// keeps the promises of config/profiles/README.md: unique valid point names, every point inside
// the register space and within max_registers, scale finite and non-zero, every scale factor a
// sunssf point of the same register kind, constants inside the register space. plan_reads on it
// either fails cleanly or covers every point exactly once within the request limits, and every
// point decodes from arbitrary registers without crashing.

#include "drivers/common/config_error.hpp"
#include "drivers/modbus/codec.hpp"
#include "drivers/modbus/read_planner.hpp"
#include "drivers/profiles/profile_loader.hpp"
#include "fuzz/fuzz_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <toml++/toml.h>
#include <typeinfo>
#include <variant>

using namespace greenrack;

namespace {

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// The profile's own name, so that inputs derived from the shipped profiles pass the
// "name equals the file stem" check and reach the points.
std::string source_name(std::string_view text) {
    try {
        const toml::table table = toml::parse(text);
        if (const auto name = table["profile"]["name"].value<std::string>()) {
            if (valid_name(*name)) {
                return *name + ".toml";
            }
        }
    } catch (const toml::parse_error&) {
    }
    return "fuzz.toml";
}

void check_profile(const profiles::DeviceProfile& profile, std::string_view text) {
    FUZZ_CHECK(!profile.points.empty(), "a profile has points");
    FUZZ_CHECK(profile.max_registers >= 1 && profile.max_registers <= modbus::max_read_registers,
               "max_registers " + std::to_string(profile.max_registers));
    std::set<std::string> names;
    for (const auto& point : profile.points) {
        const std::string what = "point \"" + fuzz::printable(point.name) + "\"";
        FUZZ_CHECK(valid_name(point.name), what + ": invalid name");
        FUZZ_CHECK(names.insert(point.name).second, what + ": duplicate name");
        FUZZ_CHECK(point.registers >= 1 && point.registers <= profile.max_registers,
                   what + ": " + std::to_string(point.registers) + " registers");
        FUZZ_CHECK(point.type == modbus::DataType::string ||
                       point.registers == modbus::register_count(point.type),
                   what + ": register count does not match the type");
        FUZZ_CHECK(point.end() <= 65536, what + ": past register 65535");
        FUZZ_CHECK(std::isfinite(point.scale) && point.scale != 0.0, what + ": scale");
        FUZZ_CHECK(std::isfinite(point.offset), what + ": offset");
        if (point.scale_factor) {
            FUZZ_CHECK(*point.scale_factor < profile.points.size(), what + ": scale factor index");
            const auto& sf = profile.points[*point.scale_factor];
            FUZZ_CHECK(sf.type == modbus::DataType::sunssf && sf.function == point.function,
                       what + ": scale factor is not a sunssf point of the same kind");
        }
    }
    for (const auto& block : profile.constants) {
        FUZZ_CHECK(!block.values.empty() && block.address + block.values.size() <= 65536,
                   "constant block outside the register space");
    }

    const modbus::PlanOptions options{profile.max_registers, profile.max_gap,
                                      profile.even_alignment};
    const auto plan = modbus::plan_reads(profile.points, options);
    if (const auto* error = std::get_if<modbus::PlanError>(&plan)) {
        FUZZ_CHECK(!error->message.empty(), "plan error without message");
        return;
    }
    const auto& requests = std::get<modbus::ReadPlan>(plan).requests;
    std::vector<int> carried(profile.points.size(), 0);
    for (const auto& request : requests) {
        FUZZ_CHECK(request.count >= 1 && request.count <= profile.max_registers,
                   "request of " + std::to_string(request.count) + " registers");
        FUZZ_CHECK(static_cast<std::uint32_t>(request.start) + request.count <= 65536,
                   "request past register 65535");
        if (profile.even_alignment) {
            FUZZ_CHECK(request.start % 2 == 0 && request.count % 2 == 0,
                       "even_alignment request at " + std::to_string(request.start) + "+" +
                           std::to_string(request.count));
        }
        for (const std::size_t index : request.points) {
            const auto& point = profile.points[index];
            FUZZ_CHECK(point.function == request.function && point.address >= request.start &&
                           point.end() <= static_cast<std::uint32_t>(request.start) + request.count,
                       "point \"" + point.name + "\" outside the request carrying it");
            if (point.scale_factor) {
                FUZZ_CHECK(std::find(request.points.begin(), request.points.end(),
                                     *point.scale_factor) != request.points.end(),
                           "point \"" + point.name + "\" read without its scale factor");
            }
            ++carried[index];
        }
    }
    for (std::size_t i = 0; i < carried.size(); ++i) {
        FUZZ_CHECK(carried[i] >= 1, "point \"" + profile.points[i].name + "\" is never read");
    }

    // Decode every point from registers taken from the input text.
    std::vector<std::uint16_t> regs;
    for (std::size_t i = 0; i < profile.points.size(); ++i) {
        const auto& point = profile.points[i];
        regs.assign(point.registers, 0);
        for (std::size_t r = 0; r < regs.size() && !text.empty(); ++r) {
            const std::size_t k = (i * 7 + r * 3) % text.size();
            regs[r] =
                static_cast<std::uint16_t>((static_cast<unsigned char>(text[k]) << 8) |
                                           static_cast<unsigned char>(text[(k + 1) % text.size()]));
        }
        const auto sf = point.scale_factor
                            ? std::optional<std::uint16_t>(static_cast<std::uint16_t>(i * 0x1111))
                            : std::nullopt;
        const auto value = modbus::decode_point(point, regs, sf);
        FUZZ_CHECK(value.quality != modbus::Quality::error,
                   "point \"" + point.name + "\" with its own registers decodes as error");
        if (value.quality == modbus::Quality::ok && point.type != modbus::DataType::string) {
            FUZZ_CHECK(std::isfinite(value.value), "ok value is finite");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string name = source_name(text);
    try {
        const profiles::DeviceProfile profile = profiles::parse_profile(text, name);
        check_profile(profile, text);
    } catch (const common::ConfigError& err) {
        FUZZ_CHECK(err.where().file == name, "error in file \"" + err.where().file + "\"");
        FUZZ_CHECK(err.where().line >= 1 && err.where().column >= 1,
                   std::string("error without a precise location: ") + err.what());
        FUZZ_CHECK(!err.message().empty(), "empty message");
    } catch (const std::exception& err) {
        FUZZ_CHECK(false, std::string("exception other than ConfigError: ") + typeid(err).name() +
                              ": " + err.what());
    }
    return 0;
}
