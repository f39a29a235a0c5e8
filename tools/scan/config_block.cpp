#include "tools/scan/config_block.hpp"

#include "drivers/sunspec/role_binding.hpp"

#include <algorithm>
#include <sstream>

namespace greenrack::scan {

namespace {

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

// One line of comment text: no line breaks, no control characters.
std::string comment_text(std::string text) {
    std::replace_if(
        text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    return text;
}

std::string sunspec_summary(const sunspec::Discovery& found) {
    std::string out = "SunSpec at " + std::to_string(found.base) + ", models";
    for (std::size_t i = 0; i < found.models.size(); ++i) {
        out += (i == 0 ? " " : ", ") + std::to_string(found.models[i].id);
    }
    if (found.identity) {
        const auto& id = *found.identity;
        out += ": " + id.manufacturer + " " + id.model;
        if (!id.version.empty()) {
            out += " version " + id.version;
        }
        if (!id.serial.empty()) {
            out += " serial " + id.serial;
        }
    }
    return comment_text(out);
}

bool binds(const sunspec::Discovery& found, profiles::DeviceRole role) {
    sunspec::BindOptions options;
    options.role = role;
    return std::holds_alternative<sunspec::Binding>(sunspec::bind_role(found.models, options));
}

bool has_model(const sunspec::Discovery& found, std::initializer_list<int> ids) {
    return std::any_of(found.models.begin(), found.models.end(), [&](const auto& model) {
        return std::find(ids.begin(), ids.end(), model.id) != ids.end();
    });
}

// What to tell the installer about a role the scan cannot know.
std::string role_comment(profiles::DeviceRole role) {
    switch (role) {
    case profiles::DeviceRole::pv_inverter:
    case profiles::DeviceRole::wind_turbine:
        return "# role: pv_inverter or wind_turbine (SunSpec does not say what feeds an inverter)";
    case profiles::DeviceRole::grid_meter:
    case profiles::DeviceRole::facility_meter:
        return "# role: grid_meter or facility_meter (what the meter measures); set invert_power "
               "= true if it reads import as negative";
    default:
        return "# role: battery; set invert_power = true if it reads discharge as negative";
    }
}

} // namespace

std::optional<profiles::DeviceRole> sunspec_role(const sunspec::Discovery& found,
                                                 std::optional<profiles::DeviceRole> hint) {
    using profiles::DeviceRole;
    if (hint && sunspec::supports_role(*hint) && binds(found, *hint)) {
        return hint;
    }
    if (has_model(found, {201, 202, 203, 204}) && binds(found, DeviceRole::grid_meter)) {
        return DeviceRole::grid_meter;
    }
    if (has_model(found, {124, 713, 802}) && binds(found, DeviceRole::battery)) {
        return DeviceRole::battery;
    }
    if (binds(found, DeviceRole::pv_inverter)) {
        return DeviceRole::pv_inverter;
    }
    return std::nullopt;
}

std::string device_id(const FoundDevice& device) {
    std::string role = device.role ? std::string(profiles::to_string(*device.role)) : "device";
    std::replace(role.begin(), role.end(), '_', '-');
    return role + "-u" + std::to_string(device.unit_id);
}

std::string render_config(const modbus::Endpoint& endpoint, const std::string& bus_id,
                          const std::vector<FoundDevice>& devices) {
    std::ostringstream out;
    out << "# greenrack-scan of " << modbus::describe(endpoint) << "\n";
    out << "[[bus]]\nid = " << quoted(bus_id) << "\n";
    if (const auto* tcp = std::get_if<modbus::TcpEndpoint>(&endpoint)) {
        out << "host = " << quoted(tcp->host) << "\nport = " << tcp->port << "\n";
    } else {
        const auto& rtu = std::get<modbus::RtuEndpoint>(endpoint);
        out << "type = \"rtu\"\ndevice = " << quoted(rtu.device) << "\nbaud = " << rtu.baud
            << "\nparity = \"" << rtu.parity << "\"\ndata_bits = " << rtu.data_bits
            << "\nstop_bits = " << rtu.stop_bits << "\n";
    }
    for (const auto& device : devices) {
        out << "\n";
        if (device.sunspec) {
            out << "# " << sunspec_summary(*device.sunspec) << "\n";
            if (const auto role = sunspec_role(*device.sunspec, device.role)) {
                if (!device.profile.empty()) {
                    out << "# also matches the shipped profile " << device.profile << " ("
                        << comment_text(device.evidence) << ")\n";
                }
                FoundDevice as_sunspec = device;
                as_sunspec.role = role;
                out << role_comment(*role) << "\n";
                out << "[[device]]\nid = " << quoted(device_id(as_sunspec))
                    << "\nbus = " << quoted(bus_id) << "\nunit_id = " << device.unit_id
                    << "\nprofile = \"sunspec\"\nrole = \"" << profiles::to_string(*role) << "\"\n";
                continue;
            }
        }
        if (device.profile.empty()) {
            out << "# unit " << device.unit_id
                << " answered but matches no shipped profile: write one (config/profiles/"
                   "README.md) and add a [[device]] for it\n";
            continue;
        }
        out << "# " << comment_text(device.evidence) << "\n";
        out << "[[device]]\nid = " << quoted(device_id(device)) << "\nbus = " << quoted(bus_id)
            << "\nunit_id = " << device.unit_id << "\nprofile = " << quoted(device.profile) << "\n";
    }
    return out.str();
}

} // namespace greenrack::scan
