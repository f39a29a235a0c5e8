#include "daemon/config/fleet_view.hpp"

#include <algorithm>
#include <memory>
#include <set>

namespace greenrack::config {

std::string_view to_string(FleetRole role) {
    switch (role) {
    case FleetRole::shard:
        return "shard";
    case FleetRole::aggregator:
        return "aggregator";
    case FleetRole::single:
        break;
    }
    return "single";
}

namespace {

void keep_known(std::vector<std::string>& ids, const std::set<std::string>& known) {
    std::erase_if(ids, [&known](const std::string& id) { return known.count(id) == 0; });
}

} // namespace

Config shard_view(const Config& site, std::string_view shard) {
    Config view = site;
    view.fleet.site.reset();
    std::erase_if(view.devices, [shard](const DeviceConfig& d) { return d.shard != shard; });
    std::set<std::string> devices;
    std::set<std::string> buses;
    for (const auto& device : view.devices) {
        devices.insert(device.id);
        buses.insert(device.bus);
    }
    std::erase_if(view.buses, [&buses](const BusConfig& b) { return buses.count(b.id) == 0; });
    for (auto& rack : view.racks) {
        std::erase_if(rack.members, [&devices](const RackMember& member) {
            return devices.count(member.device) == 0;
        });
    }
    auto& acc = view.accounting;
    for (auto* ids : {&acc.pv, &acc.wind, &acc.battery, &acc.grid, &acc.facility}) {
        keep_known(*ids, devices);
    }
    return view;
}

Config role_view(const Config& site) {
    switch (site.fleet.role) {
    case FleetRole::single:
        return site;
    case FleetRole::shard: {
        Config view = shard_view(site, site.fleet.shard);
        view.fleet.site = std::make_shared<const Config>(site);
        return view;
    }
    case FleetRole::aggregator: {
        Config view = site;
        view.devices.clear();
        view.buses.clear();
        for (auto& rack : view.racks) {
            rack.members.clear();
        }
        view.fleet.site = std::make_shared<const Config>(site);
        return view;
    }
    }
    return site;
}

} // namespace greenrack::config
