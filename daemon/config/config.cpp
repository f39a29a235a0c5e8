#include "daemon/config/config.hpp"

#include <algorithm>

namespace greenrack::config {

namespace {

template <typename T> const T* find_by_id(const std::vector<T>& items, std::string_view id) {
    auto it =
        std::find_if(items.begin(), items.end(), [id](const T& item) { return item.id == id; });
    return it == items.end() ? nullptr : &*it;
}

} // namespace

const BusConfig* Config::find_bus(std::string_view id) const {
    return find_by_id(buses, id);
}

const DeviceConfig* Config::find_device(std::string_view id) const {
    return find_by_id(devices, id);
}

const RackConfig* Config::find_rack(std::string_view id) const {
    return find_by_id(racks, id);
}

} // namespace greenrack::config
