#include "daemon/app/sunspec_device.hpp"

#include "daemon/app/state_file.hpp"
#include "drivers/sunspec/link_reader.hpp"

#include <nlohmann/json.hpp>

namespace greenrack::app {

namespace {

using nlohmann::json;
using sunspec::ModelHeader;

constexpr int cache_format = 1;

std::string identity_text(const sunspec::DeviceIdentity& identity) {
    std::string out = identity.manufacturer;
    if (!identity.model.empty()) {
        out += (out.empty() ? "" : " ") + identity.model;
    }
    if (out.empty()) {
        out = "(no name)";
    }
    if (!identity.serial.empty()) {
        out += " serial " + identity.serial;
    }
    if (!identity.version.empty()) {
        out += " version " + identity.version;
    }
    return out;
}

} // namespace

std::string encode_cached_chain(const CachedChain& chain) {
    json models = json::array();
    for (const ModelHeader& model : chain.models) {
        models.push_back({{"id", model.id}, {"address", model.address}, {"length", model.length}});
    }
    json out = {{"format", cache_format},   {"device", chain.device}, {"endpoint", chain.endpoint},
                {"unit_id", chain.unit_id}, {"base", chain.base},     {"models", models}};
    if (chain.identity) {
        const auto& id = *chain.identity;
        out["identity"] = {{"manufacturer", id.manufacturer},
                           {"model", id.model},
                           {"options", id.options},
                           {"version", id.version},
                           {"serial", id.serial}};
        if (id.device_address) {
            out["identity"]["device_address"] = *id.device_address;
        }
    }
    return out.dump(2) + "\n";
}

std::optional<CachedChain> parse_cached_chain(std::string_view text, std::string& error) {
    try {
        const json in = json::parse(text);
        if (in.at("format").get<int>() != cache_format) {
            error = "format " + in.at("format").dump() + " (this version reads " +
                    std::to_string(cache_format) + ")";
            return std::nullopt;
        }
        CachedChain chain;
        chain.device = in.at("device").get<std::string>();
        chain.endpoint = in.at("endpoint").get<std::string>();
        chain.unit_id = in.at("unit_id").get<int>();
        chain.base = in.at("base").get<std::uint16_t>();
        for (const json& model : in.at("models")) {
            ModelHeader header;
            header.id = model.at("id").get<std::uint16_t>();
            header.address = model.at("address").get<std::uint16_t>();
            header.length = model.at("length").get<std::uint16_t>();
            if (static_cast<std::uint32_t>(header.address) + 2 + header.length > 65536) {
                error = "model " + std::to_string(header.id) + " runs past register 65535";
                return std::nullopt;
            }
            chain.models.push_back(header);
        }
        if (const auto it = in.find("identity"); it != in.end()) {
            sunspec::DeviceIdentity id;
            id.manufacturer = it->at("manufacturer").get<std::string>();
            id.model = it->at("model").get<std::string>();
            id.options = it->at("options").get<std::string>();
            id.version = it->at("version").get<std::string>();
            id.serial = it->at("serial").get<std::string>();
            if (const auto da = it->find("device_address"); da != it->end()) {
                id.device_address = da->get<std::uint16_t>();
            }
            chain.identity = std::move(id);
        }
        return chain;
    } catch (const json::exception& e) {
        error = e.what();
        return std::nullopt;
    }
}

std::filesystem::path sunspec_cache_file(const std::filesystem::path& state_directory,
                                         std::string_view device_id) {
    return state_directory / "sunspec" / (std::string(device_id) + ".json");
}

std::shared_ptr<const modbus::ReadMap> make_read_map(std::span<const ModelHeader> chain,
                                                     const sunspec::BindOptions& options,
                                                     std::string& message) {
    auto bound = sunspec::bind_role(chain, options);
    if (const auto* error = std::get_if<sunspec::BindError>(&bound)) {
        message = error->message;
        return nullptr;
    }
    auto& binding = std::get<sunspec::Binding>(bound);
    auto map = std::make_shared<modbus::ReadMap>();
    std::vector<std::string> lacking;
    std::size_t delivered = 0;
    for (const std::string& source : binding.sources) {
        if (const auto colon = source.find(": not in"); colon != std::string::npos) {
            lacking.push_back(source.substr(0, colon));
        } else {
            ++delivered;
        }
    }
    message = std::to_string(delivered) + " of " + std::to_string(binding.sources.size()) +
              " points in " + std::to_string(binding.plan.requests.size()) + " requests";
    if (!lacking.empty()) {
        message += "; not in its models: ";
        for (std::size_t i = 0; i < lacking.size(); ++i) {
            message += (i == 0 ? "" : ", ") + lacking[i];
        }
    }
    map->plan = std::move(binding.plan);
    map->output = std::move(binding.output);
    map->profile = std::make_shared<const profiles::DeviceProfile>(std::move(binding.read_profile));
    map->description = message;
    return map;
}

std::shared_ptr<const modbus::ReadMap> load_cached_map(const SunSpecDevice& device,
                                                       std::string& note) {
    if (device.cache_file.empty()) {
        note = "no SunSpec cache";
        return nullptr;
    }
    std::error_code ec;
    const auto text = read_whole_file(device.cache_file, ec);
    if (!text) {
        note = ec == std::errc::no_such_file_or_directory
                   ? "no SunSpec chain cached yet"
                   : "cannot read " + device.cache_file.string() + ": " + ec.message();
        return nullptr;
    }
    std::string error;
    const auto chain = parse_cached_chain(*text, error);
    if (!chain) {
        note = "ignoring " + device.cache_file.string() + ": " + error;
        return nullptr;
    }
    if (chain->endpoint != device.endpoint || chain->unit_id != device.unit_id) {
        note = "ignoring " + device.cache_file.string() + ": it was found at " + chain->endpoint +
               " unit " + std::to_string(chain->unit_id);
        return nullptr;
    }
    std::string message;
    auto map = make_read_map(chain->models, device.bind, message);
    if (!map) {
        note = "ignoring " + device.cache_file.string() + ": " + message;
        return nullptr;
    }
    note = "SunSpec chain cached at " + device.cache_file.string() + ": " +
           sunspec::describe_chain(chain->models) + "; " + message;
    return map;
}

modbus::Resolver make_sunspec_resolver(SunSpecDevice device) {
    // The chain last written to (or read from) the cache: rewritten only when it changes.
    auto cached = std::make_shared<std::vector<ModelHeader>>();
    if (!device.cache_file.empty()) {
        std::error_code ec;
        std::string error;
        if (const auto text = read_whole_file(device.cache_file, ec)) {
            if (const auto chain = parse_cached_chain(*text, error);
                chain && chain->endpoint == device.endpoint && chain->unit_id == device.unit_id) {
                *cached = chain->models;
            }
        }
    }
    return [device = std::move(device), cached](modbus::ModbusLink& link,
                                                const modbus::DeviceSettings& settings) {
        modbus::Resolution resolution;
        std::error_code last_error;
        const auto read = sunspec::make_link_reader(link, settings.unit_id,
                                                    settings.response_timeout, &last_error);
        sunspec::DiscoveryOptions options;
        options.max_registers = device.bind.max_registers;
        auto found = sunspec::discover(read, options);
        if (const auto* error = std::get_if<sunspec::DiscoveryError>(&found)) {
            resolution.message = "SunSpec discovery failed: " + error->message;
            if (error->kind == sunspec::DiscoveryError::Kind::read_failed) {
                resolution.error =
                    last_error ? last_error : make_error_code(modbus::ModbusErrc::timeout);
            } else {
                resolution.error = make_error_code(modbus::ModbusErrc::no_register_map);
            }
            return resolution;
        }
        const auto& discovery = std::get<sunspec::Discovery>(found);
        const std::string who =
            "SunSpec " +
            (discovery.identity ? identity_text(*discovery.identity) : std::string("device")) +
            " at base " + std::to_string(discovery.base) + ", models " +
            sunspec::describe_chain(discovery.models);
        std::string message;
        resolution.map = make_read_map(discovery.models, device.bind, message);
        if (!resolution.map) {
            resolution.error = make_error_code(modbus::ModbusErrc::no_register_map);
            resolution.message = who + ": " + message;
            return resolution;
        }
        resolution.message = who + ": " + message;
        for (const std::string& warning : discovery.warnings) {
            resolution.message += "; " + warning;
        }
        if (!device.cache_file.empty() && *cached != discovery.models) {
            CachedChain chain{device.id,      device.endpoint,  device.unit_id,
                              discovery.base, discovery.models, discovery.identity};
            if (const auto ec =
                    write_file_atomically(device.cache_file, encode_cached_chain(chain))) {
                resolution.message += "; cannot cache the chain in " + device.cache_file.string() +
                                      ": " + ec.message();
            } else {
                *cached = discovery.models;
            }
        }
        return resolution;
    };
}

} // namespace greenrack::app
