#include "drivers/sim/scenario_loader.hpp"

#include "drivers/common/toml_reader.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>

namespace greenrack::sim {

namespace {

using common::ConfigError;
using common::TableReader;
using profiles::DeviceRole;

constexpr double huge = std::numeric_limits<double>::max();

double positive_number(const TableReader& t, std::string_view key) {
    const double value = t.require_number(key, 0.0, huge);
    if (value <= 0.0) {
        t.fail(key, "must be greater than 0");
    }
    return value;
}

double optional_positive(const TableReader& t, std::string_view key, double fallback) {
    if (!t.has(key)) {
        t.mark_used(key);
        return fallback;
    }
    return positive_number(t, key);
}

SimDuration require_duration(const TableReader& t, std::string_view key, SimDuration min,
                             SimDuration max) {
    auto value = t.optional_duration(key, min, max);
    if (!value) {
        t.fail(key, "required key is missing");
    }
    return *value;
}

SimSettings read_sim(const TableReader& root) {
    SimSettings sim;
    auto t = root.optional_sub_table("sim");
    if (!t) {
        return sim;
    }
    sim.seed = static_cast<std::uint64_t>(t->get_int("seed", 1, 0));
    const std::string start = t->get_string("start", "now");
    if (start != "now") {
        sim.start = parse_rfc3339_utc(start);
        if (!sim.start) {
            t->fail("start", "expected an RFC 3339 UTC time like \"2026-06-21T02:00:00Z\" or "
                             "\"now\", got \"" +
                                 start + "\"");
        }
    }
    sim.speed = t->get_number("speed", 1.0, 0.0, 1.0e6);
    if (sim.speed <= 0.0) {
        t->fail("speed", "must be greater than 0");
    }
    sim.step = t->get_duration("step", SimDuration{1000}, SimDuration{10}, std::chrono::hours{1});
    t->reject_unknown_keys();
    return sim;
}

SiteSettings read_site(const TableReader& root) {
    SiteSettings site;
    auto t = root.optional_sub_table("site");
    if (!t) {
        return site;
    }
    site.latitude_deg = t->get_number("latitude", site.latitude_deg, -90.0, 90.0);
    site.longitude_deg = t->get_number("longitude", site.longitude_deg, -180.0, 180.0);
    t->reject_unknown_keys();
    return site;
}

void read_serial_settings(const TableReader& t, ListenerSpec& listener) {
    listener.baud = static_cast<int>(t.get_int("baud", listener.baud, 1, 4000000));
    constexpr int bauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};
    if (std::find(std::begin(bauds), std::end(bauds), listener.baud) == std::end(bauds)) {
        t.fail("baud", "unsupported baud rate " + std::to_string(listener.baud) +
                           " (1200, 2400, 4800, 9600, 19200, 38400, 57600 or 115200)");
    }
    listener.parity = t.get_enum("parity", "E", {"N", "E", "O"})[0];
    listener.data_bits = static_cast<int>(t.get_int("data_bits", 8, 7, 8));
    listener.stop_bits = static_cast<int>(t.get_int("stop_bits", 1, 1, 2));
}

std::vector<ListenerSpec> read_listeners(const TableReader& root) {
    std::vector<ListenerSpec> listeners;
    std::set<std::string> names;
    std::set<std::int64_t> ports;
    for (const TableReader& t : root.table_array("listener")) {
        ListenerSpec listener;
        listener.name = t.require_string("name");
        if (!names.insert(listener.name).second) {
            t.fail("name", "duplicate listener name \"" + listener.name + "\"");
        }
        listener.where = t.location();
        listener.serial = t.get_string("serial", "");
        if (listener.is_serial()) {
            if (t.has("port")) {
                t.fail("port", "a listener has either a TCP port or a serial device, not both");
            }
            read_serial_settings(t, listener);
        } else {
            const std::int64_t port = t.require_int("port", 0, 65535);
            if (port != 0 && !ports.insert(port).second) {
                t.fail("port", "port " + std::to_string(port) + " is used by another listener");
            }
            listener.port = static_cast<std::uint16_t>(port);
        }
        t.reject_unknown_keys();
        listeners.push_back(std::move(listener));
    }
    return listeners;
}

LoadPattern parse_pattern(const TableReader& t) {
    const std::string text =
        t.get_enum("pattern", "constant", {"constant", "diurnal", "random_walk"});
    if (text == "diurnal") {
        return LoadPattern::diurnal;
    }
    if (text == "random_walk") {
        return LoadPattern::random_walk;
    }
    return LoadPattern::constant;
}

PduParams read_pdu(const TableReader& t, const profiles::DeviceProfile& profile,
                   std::set<std::string>& rack_names) {
    PduParams pdu;
    pdu.voltage_v = optional_positive(t, "voltage_v", pdu.voltage_v);
    const int outlets = profile.max_index("outlet_power");
    std::vector<bool> used(static_cast<std::size_t>(std::max(outlets, 0)) + 1, false);
    int next_outlet = 1;
    const auto racks = t.table_array("racks");
    if (racks.empty()) {
        t.fail("racks", "a rack PDU needs at least one rack, e.g. racks = [{ name = \"r01\", "
                        "base_load_w = 8000, outlets = 12 }]");
    }
    for (const TableReader& r : racks) {
        RackSpec rack;
        rack.name = r.require_string("name");
        if (!rack_names.insert(rack.name).second) {
            r.fail("name", "duplicate rack name \"" + rack.name + "\"");
        }
        rack.base_load_w = r.require_number("base_load_w", 0.0, 1.0e6);
        rack.pattern = parse_pattern(r);
        rack.amplitude =
            r.get_number("amplitude", rack.pattern == LoadPattern::constant ? 0.0 : 0.1, 0.0, 1.0);
        if (outlets <= 0) {
            // A PDU (or panel) metered at its inlet only: the racks feed the inlet directly.
            for (const char* key : {"outlets", "first_outlet"}) {
                if (r.has(key)) {
                    r.fail(key, "profile \"" + profile.name +
                                    "\" has no metered outlets: its racks are measured at the "
                                    "inlet only, leave out outlets and first_outlet");
                }
            }
            rack.first_outlet = 1;
            rack.outlet_count = 0;
            r.reject_unknown_keys();
            pdu.racks.push_back(std::move(rack));
            continue;
        }
        rack.first_outlet =
            static_cast<int>(r.get_int("first_outlet", next_outlet, 1, std::max(outlets, 1)));
        rack.outlet_count = static_cast<int>(r.require_int("outlets", 1, 4096));
        const int last = rack.first_outlet + rack.outlet_count - 1;
        if (last > outlets) {
            r.fail("outlets", "outlets " + std::to_string(rack.first_outlet) + ".." +
                                  std::to_string(last) + " do not exist: profile \"" +
                                  profile.name + "\" has " + std::to_string(outlets) + " outlets");
        }
        for (int o = rack.first_outlet; o <= last; ++o) {
            if (used[static_cast<std::size_t>(o)]) {
                r.fail("outlets", "outlet " + std::to_string(o) + " already feeds another rack");
            }
            used[static_cast<std::size_t>(o)] = true;
        }
        next_outlet = last + 1;
        r.reject_unknown_keys();
        pdu.racks.push_back(std::move(rack));
    }
    return pdu;
}

PvParams read_pv(const TableReader& t) {
    PvParams pv;
    pv.nameplate_w = positive_number(t, "nameplate_w");
    pv.cloudiness = t.get_number("cloudiness", pv.cloudiness, 0.0, 1.0);
    return pv;
}

WindParams read_wind(const TableReader& t) {
    WindParams wind;
    wind.rated_w = positive_number(t, "rated_w");
    wind.mean_wind_ms = t.get_number("mean_wind_ms", wind.mean_wind_ms, 0.0, 60.0);
    wind.gustiness = t.get_number("gustiness", wind.gustiness, 0.0, 2.0);
    wind.cut_in_ms = t.get_number("cut_in_ms", wind.cut_in_ms, 0.0, 60.0);
    wind.rated_wind_ms = t.get_number("rated_wind_ms", wind.rated_wind_ms, 0.0, 60.0);
    wind.cut_out_ms = t.get_number("cut_out_ms", wind.cut_out_ms, 0.0, 100.0);
    wind.voltage_v = optional_positive(t, "voltage_v", wind.voltage_v);
    if (!(wind.cut_in_ms < wind.rated_wind_ms && wind.rated_wind_ms < wind.cut_out_ms)) {
        t.fail("rated_wind_ms", "wind speeds must satisfy cut_in_ms < rated_wind_ms < cut_out_ms");
    }
    return wind;
}

BatteryParams read_battery(const TableReader& t) {
    BatteryParams b;
    b.capacity_wh = positive_number(t, "capacity_wh");
    b.max_charge_w = t.require_number("max_charge_w", 0.0, huge);
    b.max_discharge_w = t.require_number("max_discharge_w", 0.0, huge);
    b.initial_soc_pct = t.get_number("initial_soc", b.initial_soc_pct, 0.0, 100.0);
    b.min_soc_pct = t.get_number("min_soc", b.min_soc_pct, 0.0, 100.0);
    b.max_soc_pct = t.get_number("max_soc", b.max_soc_pct, 0.0, 100.0);
    b.charge_efficiency = t.get_number("charge_efficiency", b.charge_efficiency, 0.01, 1.0);
    b.discharge_efficiency =
        t.get_number("discharge_efficiency", b.discharge_efficiency, 0.01, 1.0);
    b.voltage_v = optional_positive(t, "voltage_v", b.voltage_v);
    if (b.min_soc_pct >= b.max_soc_pct) {
        t.fail("min_soc", "min_soc must be below max_soc");
    }
    return b;
}

FacilityMeterParams read_facility(const TableReader& t) {
    FacilityMeterParams f;
    f.cooling_fraction = t.get_number("cooling_fraction", f.cooling_fraction, 0.0, 10.0);
    f.cooling_fixed_w = t.get_number("cooling_fixed_w", f.cooling_fixed_w, 0.0, huge);
    return f;
}

void read_identity(const TableReader& t, DeviceSpec& device) {
    device.identity["manufacturer"] = t.get_string("manufacturer", "greenrack-sim");
    device.identity["model"] = t.get_string("model", device.profile->name);
    device.identity["serial"] = t.get_string("serial", "SIM-" + device.id);
    device.identity["version"] = t.get_string("version", "1.0.0");
}

void read_point_lists(const TableReader& t, DeviceSpec& device) {
    const auto& profile = *device.profile;
    if (const toml::array* list = t.optional_array("unimplemented")) {
        for (const toml::node& element : *list) {
            const auto where = common::location_of(element, t.file());
            if (!element.is_string()) {
                throw ConfigError(where,
                                  t.key_path("unimplemented") + ": expected point names (strings)");
            }
            std::string name(element.as_string()->get());
            if (!profile.find(name)) {
                throw ConfigError(where, t.key_path("unimplemented") + ": profile \"" +
                                             profile.name + "\" has no point \"" + name + "\"");
            }
            device.unimplemented.push_back(std::move(name));
        }
    }
    if (auto values = t.optional_sub_table("values")) {
        for (const auto& [key, node] : values->table()) {
            const std::string name(key.str());
            if (!profile.find(name)) {
                values->fail(name,
                             "profile \"" + profile.name + "\" has no point \"" + name + "\"");
            }
            device.fixed_values[name] = values->require_number(name);
        }
    }
}

struct DeviceContext {
    const std::vector<ListenerSpec>& listeners;
    std::set<std::string> ids;
    std::set<std::pair<std::string, int>> units;
    std::set<std::string> rack_names;
    int facility_meters = 0;
};

DeviceSpec read_device(const TableReader& t, const ProfileResolver& resolve, DeviceContext& ctx) {
    DeviceSpec device;
    device.where = t.location();
    device.id = t.require_string("id");
    if (device.id.empty() || !ctx.ids.insert(device.id).second) {
        t.fail("id", device.id.empty() ? "must not be empty"
                                       : "duplicate device id \"" + device.id + "\"");
    }
    const std::string profile_name = t.require_string("profile");
    device.profile = resolve(profile_name, t.location_of_key("profile"));
    if (!device.profile) {
        t.fail("profile", "unknown profile \"" + profile_name + "\"");
    }
    device.listener = t.require_string("listener");
    auto listener = std::find_if(ctx.listeners.begin(), ctx.listeners.end(),
                                 [&](const ListenerSpec& l) { return l.name == device.listener; });
    if (listener == ctx.listeners.end()) {
        t.fail("listener", "no [[listener]] is named \"" + device.listener + "\"");
    }
    device.listener_index = static_cast<std::size_t>(listener - ctx.listeners.begin());
    device.unit_id = static_cast<std::uint8_t>(t.require_int("unit_id", 1, 247));
    if (!ctx.units.insert({device.listener, device.unit_id}).second) {
        t.fail("unit_id", "unit id " + std::to_string(device.unit_id) +
                              " is already used on listener \"" + device.listener + "\"");
    }
    device.initial_energy_wh =
        t.get_number("initial_energy_wh", device.initial_energy_wh, 0.0, 1.0e15);
    read_identity(t, device);
    read_point_lists(t, device);

    switch (device.profile->device_role) {
    case DeviceRole::rack_pdu:
        device.params = read_pdu(t, *device.profile, ctx.rack_names);
        break;
    case DeviceRole::pv_inverter:
        device.params = read_pv(t);
        break;
    case DeviceRole::wind_turbine:
        device.params = read_wind(t);
        break;
    case DeviceRole::battery:
        device.params = read_battery(t);
        break;
    case DeviceRole::facility_meter:
        if (++ctx.facility_meters > 1) {
            t.fail("profile", "only one facility meter is supported (it measures the whole load)");
        }
        device.params = read_facility(t);
        break;
    case DeviceRole::grid_meter:
        // Any number: each one measures the same point of common coupling (a revenue meter and
        // check meters), with its own energy counters. The bus balance is closed once.
        device.params = GridMeterParams{};
        break;
    }
    t.reject_unknown_keys();
    return device;
}

const DeviceSpec* find_device(const std::vector<DeviceSpec>& devices, std::string_view id) {
    for (const auto& d : devices) {
        if (d.id == id) {
            return &d;
        }
    }
    return nullptr;
}

// Optional `device` of an event; when given it must exist and have the expected role.
std::string read_event_device(const TableReader& t, const std::vector<DeviceSpec>& devices,
                              std::optional<DeviceRole> role, bool required) {
    std::string id = required ? t.require_string("device") : t.get_string("device", "");
    if (id.empty() && !required) {
        return id;
    }
    const DeviceSpec* device = find_device(devices, id);
    if (device == nullptr) {
        t.fail("device", "no [[device]] has id \"" + id + "\"");
    }
    if (role && device->profile->device_role != *role) {
        t.fail("device", "device \"" + id + "\" is a " +
                             std::string(profiles::to_string(device->profile->device_role)) +
                             ", expected a " + std::string(profiles::to_string(*role)));
    }
    return id;
}

EventSpec read_event(const TableReader& t, const std::vector<DeviceSpec>& devices,
                     const std::set<std::string>& rack_names) {
    constexpr SimDuration year = std::chrono::hours{24 * 366};
    EventSpec event;
    event.at = require_duration(t, "at", SimDuration{0}, year);
    if (!t.has("kind")) {
        t.fail("kind", "required key is missing");
    }
    const std::string kind = t.get_enum(
        "kind", "", {"cloud", "rack_load", "device_offline", "wind_calm", "battery_limit"});
    event.duration = t.optional_duration("duration", SimDuration{1}, year);
    if (kind == "cloud") {
        event.kind = EventKind::cloud;
        event.factor = t.require_number("factor", 0.0, 1.0);
        event.device = read_event_device(t, devices, DeviceRole::pv_inverter, false);
    } else if (kind == "rack_load") {
        event.kind = EventKind::rack_load;
        event.rack = t.require_string("rack");
        if (rack_names.count(event.rack) == 0) {
            t.fail("rack", "no device feeds a rack named \"" + event.rack + "\"");
        }
        event.load_w = t.require_number("load_w", 0.0, 1.0e6);
    } else if (kind == "device_offline") {
        event.kind = EventKind::device_offline;
        event.device = read_event_device(t, devices, std::nullopt, true);
    } else if (kind == "wind_calm") {
        event.kind = EventKind::wind_calm;
        event.device = read_event_device(t, devices, DeviceRole::wind_turbine, false);
    } else {
        event.kind = EventKind::battery_limit;
        event.device = read_event_device(t, devices, DeviceRole::battery, true);
        event.max_charge_w = t.optional_number("max_charge_w", 0.0, huge);
        event.max_discharge_w = t.optional_number("max_discharge_w", 0.0, huge);
        if (!event.max_charge_w && !event.max_discharge_w) {
            t.fail_here("battery_limit needs max_charge_w and/or max_discharge_w");
        }
    }
    t.reject_unknown_keys();
    return event;
}

} // namespace

Scenario parse_scenario(std::string_view toml_text, std::string_view source_name,
                        const ProfileResolver& resolve_profile) {
    const toml::table table = common::parse_toml_text(toml_text, source_name);
    const TableReader root(table, std::string(source_name), "");
    Scenario scenario;
    scenario.source_file = std::string(source_name);
    scenario.sim = read_sim(root);
    scenario.site = read_site(root);
    scenario.listeners = read_listeners(root);
    DeviceContext ctx{scenario.listeners, {}, {}, {}, 0};
    for (const TableReader& t : root.table_array("device")) {
        scenario.devices.push_back(read_device(t, resolve_profile, ctx));
    }
    for (const TableReader& t : root.table_array("event")) {
        scenario.events.push_back(read_event(t, scenario.devices, ctx.rack_names));
    }
    root.reject_unknown_keys();
    return scenario;
}

} // namespace greenrack::sim
