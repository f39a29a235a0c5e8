#include "drivers/sim/snapshot.hpp"

#include "drivers/modbus/codec.hpp"

#include <nlohmann/json.hpp>

namespace greenrack::sim {

namespace {

nlohmann::ordered_json point_json(const RegisterImage& image, const modbus::PointSpec& point) {
    const auto& points = image.profile().points;
    std::optional<std::uint16_t> sf_register;
    if (point.scale_factor && *point.scale_factor < points.size()) {
        sf_register = image.point_registers(points[*point.scale_factor])[0];
    }
    const modbus::PointValue value =
        modbus::decode_point(point, image.point_registers(point), sf_register);
    if (value.quality == modbus::Quality::missing || value.quality == modbus::Quality::error) {
        return nullptr;
    }
    if (point.type == modbus::DataType::string) {
        return value.text;
    }
    return value.value;
}

} // namespace

std::string snapshot_json(const Simulator& simulator,
                          std::span<const std::uint16_t> listener_ports) {
    const Scenario& scenario = simulator.scenario();
    nlohmann::ordered_json devices = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < scenario.devices.size(); ++i) {
        const DeviceSpec& d = scenario.devices[i];
        const RegisterImage& image = simulator.image(i);
        nlohmann::ordered_json points = nlohmann::ordered_json::object();
        for (const auto& point : image.profile().points) {
            points[point.name] = point_json(image, point);
        }
        const std::uint16_t port = d.listener_index < listener_ports.size()
                                       ? listener_ports[d.listener_index]
                                       : scenario.listeners[d.listener_index].port;
        nlohmann::ordered_json device = {{"unit_id", d.unit_id}, {"listener", d.listener}};
        const ListenerSpec& listener = scenario.listeners[d.listener_index];
        if (listener.is_serial()) {
            device["serial"] = listener.serial;
        } else {
            device["port"] = port;
        }
        device["profile"] = d.profile->name;
        device["online"] = !simulator.device_offline(i);
        device["points"] = std::move(points);
        devices[d.id] = std::move(device);
    }
    const BusBalance& b = simulator.balance();
    nlohmann::ordered_json site = {
        {"renewable_w", b.renewable_w},
        {"discharge_w", b.discharge_w},
        {"import_w", b.import_w},
        {"load_w", b.load_w},
        {"charge_w", b.charge_w},
        {"export_w", b.export_w},
        {"it_w", b.it_w},
        {"cooling_w", b.cooling_w},
    };
    nlohmann::ordered_json root = {
        {"sim_time", format_rfc3339_utc(simulator.now())},
        {"devices", std::move(devices)},
        {"site", std::move(site)},
    };
    return root.dump(2) + "\n";
}

} // namespace greenrack::sim
