#pragma once

// A [[device]] with profile = "sunspec": its register map is found on the device. This wires
// the pure parts (drivers/sunspec: discovery, role binding) to a bus worker (a Resolver that
// discovers the model chain over the worker's link) and keeps the chain found in
// <state_directory>/sunspec/<device id>.json, so a device that is offline when greenrackd starts
// is read with the map found by an earlier run as soon as it answers.

#include "drivers/modbus/bus_worker.hpp"
#include "drivers/sunspec/discovery.hpp"
#include "drivers/sunspec/role_binding.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::app {

// The chain of one device as kept on disk. It belongs to the device only while the device is
// configured at the same endpoint and unit id.
struct CachedChain {
    std::string device;   // device id
    std::string endpoint; // modbus::describe(endpoint)
    int unit_id = 1;
    std::uint16_t base = 0;
    std::vector<sunspec::ModelHeader> models;
    std::optional<sunspec::DeviceIdentity> identity;

    bool operator==(const CachedChain&) const = default;
};

// JSON text of the cache file, and back (nullopt with `error` set for anything malformed).
std::string encode_cached_chain(const CachedChain& chain);
std::optional<CachedChain> parse_cached_chain(std::string_view text, std::string& error);

// <state_directory>/sunspec/<device id>.json
std::filesystem::path sunspec_cache_file(const std::filesystem::path& state_directory,
                                         std::string_view device_id);

// The read map binding `options.role` to `chain`; null with `message` set when the chain has
// no model for the role (or a model cannot be read with the request limits).
std::shared_ptr<const modbus::ReadMap> make_read_map(std::span<const sunspec::ModelHeader> chain,
                                                     const sunspec::BindOptions& options,
                                                     std::string& message);

struct SunSpecDevice {
    std::string id;
    std::string endpoint; // modbus::describe(endpoint)
    int unit_id = 1;
    sunspec::BindOptions bind;
    std::filesystem::path cache_file; // empty: nothing is cached
};

// The map cached for this device by an earlier run, or null; `note` says what happened (no
// cache, cache of another endpoint or unit, unreadable cache, chain no longer bindable).
std::shared_ptr<const modbus::ReadMap> load_cached_map(const SunSpecDevice& device,
                                                       std::string& note);

// A Resolver that runs SunSpec discovery (function 03 only) over the worker's link, binds the
// role to the chain found and, when the chain differs from the one cached, rewrites the cache.
modbus::Resolver make_sunspec_resolver(SunSpecDevice device);

} // namespace greenrack::app
