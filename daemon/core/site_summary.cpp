#include "daemon/core/site_summary.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace greenrack::core {

namespace {

using profiles::DeviceRole;

// Sum of the ok values of `role` in one reading; nullopt when the device has no such point or
// any of them is not ok.
std::optional<double> role_sum(const profiles::DeviceProfile& profile, const DeviceReading& reading,
                               std::string_view role) {
    bool found = false;
    double sum = 0.0;
    for (std::size_t i = 0; i < profile.points.size() && i < reading.values.size(); ++i) {
        if (profile.points[i].role != role) {
            continue;
        }
        found = true;
        if (reading.values[i].quality != modbus::Quality::ok) {
            return std::nullopt;
        }
        sum += reading.values[i].value;
    }
    if (!found) {
        return std::nullopt;
    }
    return sum;
}

bool has_role(const profiles::DeviceProfile& profile, std::string_view role) {
    for (const auto& point : profile.points) {
        if (point.role == role) {
            return true;
        }
    }
    return false;
}

// Adds the role's value; with `part` +1 (or -1) only its positive (negative) part, as a
// magnitude: import and export from a meter's net power (+ = import), as the site model does.
void add(Contribution& c, const profiles::DeviceProfile& profile, const DeviceReading* reading,
         std::string_view role, int part = 0) {
    if (!has_role(profile, role)) {
        return;
    }
    ++c.expected;
    if (reading == nullptr) {
        return;
    }
    if (auto value = role_sum(profile, *reading, role)) {
        c.value += part == 0 ? *value : std::max(0.0, part * *value);
        ++c.have;
    }
}

std::string kw(const Contribution& c) {
    if (c.expected == 0) {
        return "-";
    }
    char buffer[64];
    if (c.have == 0) {
        return "n/a";
    }
    std::snprintf(buffer, sizeof buffer, "%.1f kW%s", c.value / 1000.0,
                  c.complete() ? "" : " (partial)");
    return buffer;
}

} // namespace

SiteSummary summarize(const config::Config& config, const SampleStore& store,
                      std::chrono::system_clock::time_point now,
                      std::chrono::milliseconds max_age) {
    SiteSummary s;
    for (std::size_t d = 0; d < config.devices.size(); ++d) {
        const auto& device = config.devices[d];
        const auto& profile = *device.profile;
        const DeviceReading* reading = store.latest(d);
        ++s.devices;
        if (reading != nullptr && now - reading->ts > max_age) {
            reading = nullptr; // stale: does not count
        }
        const ReadingQuality quality =
            reading != nullptr ? reading_quality(*reading) : ReadingQuality::offline;
        if (quality == ReadingQuality::ok) {
            ++s.devices_ok;
        } else if (quality == ReadingQuality::partial) {
            ++s.devices_partial;
        } else {
            ++s.devices_offline;
            reading = nullptr;
        }
        switch (profile.device_role) {
        case DeviceRole::rack_pdu:
            add(s.it_w, profile, reading,
                has_role(profile, "inlet_power") ? "inlet_power" : "outlet_power");
            break;
        case DeviceRole::facility_meter:
            add(s.load_w, profile, reading, "load_power");
            break;
        case DeviceRole::pv_inverter:
            add(s.pv_w, profile, reading, "ac_power");
            break;
        case DeviceRole::wind_turbine:
            add(s.wind_w, profile, reading, "ac_power");
            break;
        case DeviceRole::battery:
            add(s.battery_w, profile, reading, "battery_power");
            add(s.soc_pct, profile, reading, "soc");
            break;
        case DeviceRole::grid_meter:
            if (has_role(profile, "import_power")) {
                add(s.grid_import_w, profile, reading, "import_power");
            } else {
                add(s.grid_import_w, profile, reading, "net_power", 1);
            }
            if (has_role(profile, "export_power")) {
                add(s.grid_export_w, profile, reading, "export_power");
            } else {
                add(s.grid_export_w, profile, reading, "net_power", -1);
            }
            break;
        }
    }
    if (s.soc_pct.have > 0) {
        s.soc_pct.value /= s.soc_pct.have;
    }
    return s;
}

std::string format_summary(const SiteSummary& s, std::chrono::system_clock::time_point now) {
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char clock[16];
    std::strftime(clock, sizeof clock, "%H:%M:%SZ", &utc);

    std::string line = clock;
    line += " devices " + std::to_string(s.devices_ok) + "/" + std::to_string(s.devices) + " ok";
    if (s.devices_partial > 0) {
        line += ", " + std::to_string(s.devices_partial) + " partial";
    }
    if (s.devices_offline > 0) {
        line += ", " + std::to_string(s.devices_offline) + " offline";
    }
    line += " | load " + kw(s.load_w) + ", IT " + kw(s.it_w);
    line += " | PV " + kw(s.pv_w) + ", wind " + kw(s.wind_w);
    line += " | battery " + kw(s.battery_w);
    if (s.soc_pct.have > 0) {
        char soc[32];
        std::snprintf(soc, sizeof soc, " SoC %.1f %%", s.soc_pct.value);
        line += soc;
    }
    line += " | grid import " + kw(s.grid_import_w) + ", export " + kw(s.grid_export_w);
    return line;
}

std::string format_balance(const accounting::TickResult& tick) {
    auto kw = [&](double wh) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.1f kW", wh * 3.6 / tick.tau_s);
        return std::string(buffer);
    };
    const auto end = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(tick.start_ms + static_cast<std::int64_t>(tick.tau_s * 1000)));
    std::time_t t = std::chrono::system_clock::to_time_t(end);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char clock[16];
    std::strftime(clock, sizeof clock, "%H:%M:%SZ", &utc);

    std::string line = std::string("balance to ") + clock + ":";
    if (!tick.valid) {
        return line + " data gap (a source needed for the balance is stale or missing)";
    }
    char buffer[64];
    if (tick.coverage) {
        std::snprintf(buffer, sizeof buffer, " clean %.1f %%", *tick.coverage * 100.0);
        line += buffer;
    } else {
        line += " clean n/a";
    }
    line += ", non-green " + kw(tick.nongreen_wh);
    std::snprintf(buffer, sizeof buffer, ", battery green %.0f %%",
                  tick.battery.green_fraction * 100.0);
    line += buffer;
    std::vector<const accounting::RackTick*> racks;
    for (const auto& rack : tick.racks) {
        if (rack.valid && rack.nongreen_wh > 0.0) {
            racks.push_back(&rack);
        }
    }
    std::sort(racks.begin(), racks.end(),
              [](const auto* a, const auto* b) { return a->nongreen_wh > b->nongreen_wh; });
    if (!racks.empty()) {
        line += ", top non-green";
        for (std::size_t i = 0; i < racks.size() && i < 3; ++i) {
            line += (i == 0 ? " " : ", ") + racks[i]->id + " " + kw(racks[i]->nongreen_wh);
        }
    }
    return line;
}

} // namespace greenrack::core
