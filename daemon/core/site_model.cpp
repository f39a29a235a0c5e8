#include "daemon/core/site_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace greenrack::core {

namespace {

std::optional<std::size_t> find_role(const profiles::DeviceProfile& profile, std::string_view role,
                                     int index = 0) {
    for (std::size_t i = 0; i < profile.points.size(); ++i) {
        if (profile.points[i].role == role && profile.points[i].index == index) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<double> ok_value(const DeviceReading& reading, std::optional<std::size_t> point) {
    if (!point || *point >= reading.values.size() ||
        reading.values[*point].quality != modbus::Quality::ok) {
        return std::nullopt;
    }
    return reading.values[*point].value;
}

std::int64_t to_ms(std::chrono::system_clock::time_point ts) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count();
}

} // namespace

SiteModel::SiteModel(const config::Config& config) : config_(&config) {
    by_device_.resize(config_->devices.size());
    const auto& acc = config_->accounting;
    using T = Transform;

    pv_ = channels_for(acc.pv, "ac_power", "ac_energy", T::positive_part);
    wind_ = channels_for(acc.wind, "ac_power", "ac_energy", T::positive_part);
    discharge_ = channels_for(acc.battery, "battery_power", "discharge_energy", T::positive_part);
    charge_ = channels_for(acc.battery, "battery_power", "charge_energy", T::negative_part);
    load_ = channels_for(acc.facility, "load_power", "load_energy", T::positive_part);
    facility_metered_ = !acc.facility.empty();

    for (const auto& id : acc.grid) {
        const config::DeviceConfig* device = config_->find_device(id);
        const std::size_t d = static_cast<std::size_t>(device - config_->devices.data());
        const auto& profile = *device->profile;
        if (auto import_power = find_role(profile, "import_power")) {
            import_.push_back(add_channel(d, import_power, find_role(profile, "import_energy"),
                                          T::positive_part));
        } else {
            import_.push_back(add_channel(d, find_role(profile, "net_power"),
                                          find_role(profile, "import_energy"), T::positive_part));
        }
        if (auto export_power = find_role(profile, "export_power")) {
            export_.push_back(add_channel(d, export_power, find_role(profile, "export_energy"),
                                          T::positive_part));
        } else {
            export_.push_back(add_channel(d, find_role(profile, "net_power"),
                                          find_role(profile, "export_energy"), T::negative_part));
        }
    }

    for (const auto& id : acc.battery) {
        const config::DeviceConfig* device = config_->find_device(id);
        BatteryInfo info;
        info.device = static_cast<std::size_t>(device - config_->devices.data());
        info.soc_point = find_role(*device->profile, "soc");
        info.capacity_point = find_role(*device->profile, "capacity");
        info.max_discharge_point = find_role(*device->profile, "max_discharge_power");
        batteries_.push_back(info);
    }

    for (const auto& rack : config_->racks) {
        std::vector<std::size_t> channels;
        for (const auto& member : rack.members) {
            const config::DeviceConfig* device = config_->find_device(member.device);
            const std::size_t d = static_cast<std::size_t>(device - config_->devices.data());
            const auto& profile = *device->profile;
            if (member.outlets.empty() && find_role(profile, "inlet_power")) {
                channels.push_back(add_channel(d, find_role(profile, "inlet_power"),
                                               find_role(profile, "inlet_energy"),
                                               T::positive_part));
                continue;
            }
            std::vector<int> outlets = member.outlets;
            if (outlets.empty()) { // a whole PDU without an inlet meter: all of its outlets
                for (int n = 1; n <= profile.max_index("outlet_power"); ++n) {
                    outlets.push_back(n);
                }
            }
            for (int n : outlets) {
                channels.push_back(add_channel(d, find_role(profile, "outlet_power", n),
                                               find_role(profile, "outlet_energy", n),
                                               T::positive_part));
            }
        }
        racks_.push_back(std::move(channels));
    }
}

std::size_t SiteModel::add_channel(std::size_t device, std::optional<std::size_t> power,
                                   std::optional<std::size_t> counter, Transform transform) {
    const auto& acc = config_->accounting;
    accounting::SeriesSettings settings;
    settings.tick_ms = acc.settings.tick.count();
    settings.max_hold_ms = std::min<std::int64_t>(
        3 * config_->devices[device].poll_interval.count(), acc.max_hold.count());
    settings.max_span_ms = acc.max_span.count();
    settings.counter_resolution_fraction = acc.counter_resolution_fraction;
    // A counter measures one direction only; with a transform on a signed power, the counter
    // of that direction is the matching one (charge_energy for the negative part, ...).
    channels_.push_back(
        Channel{accounting::SourceSeries(settings), device, power, counter, transform});
    const std::size_t index = channels_.size() - 1;
    by_device_[device].push_back(index);
    return index;
}

std::vector<std::size_t> SiteModel::channels_for(const std::vector<std::string>& device_ids,
                                                 std::string_view power_role,
                                                 std::string_view counter_role,
                                                 Transform transform) {
    std::vector<std::size_t> out;
    for (const auto& id : device_ids) {
        const config::DeviceConfig* device = config_->find_device(id);
        const std::size_t d = static_cast<std::size_t>(device - config_->devices.data());
        out.push_back(add_channel(d, find_role(*device->profile, power_role),
                                  find_role(*device->profile, counter_role), transform));
    }
    return out;
}

void SiteModel::add(const DeviceReading& reading) {
    if (reading.device >= by_device_.size()) {
        return;
    }
    const std::int64_t ts = to_ms(reading.ts);
    const auto& profile = *config_->devices[reading.device].profile;
    for (std::size_t c : by_device_[reading.device]) {
        Channel& channel = channels_[c];
        std::optional<double> power = ok_value(reading, channel.power_point);
        if (power) {
            switch (channel.transform) {
            case Transform::identity:
                break;
            case Transform::positive_part:
                power = std::max(*power, 0.0);
                break;
            case Transform::negative_part:
                power = std::max(-*power, 0.0);
                break;
            }
        }
        std::optional<double> counter = ok_value(reading, channel.counter_point);
        double resolution = 0.0;
        std::optional<double> wrap;
        if (counter) {
            const auto& point = profile.points[*channel.counter_point];
            resolution = reading.values[*channel.counter_point].resolution;
            if (!modbus::is_float(point.type) && resolution > 0.0) {
                // An unsigned register of n bits wraps after 2^n steps.
                wrap = std::ldexp(resolution, 16 * point.registers);
            }
        }
        channel.series.add(ts, power, counter, resolution, wrap);
    }
    for (auto& battery : batteries_) {
        if (battery.device != reading.device) {
            continue;
        }
        BatterySample sample;
        sample.ts_ms = ts;
        const auto soc = ok_value(reading, battery.soc_point);
        std::optional<double> capacity = config_->accounting.settings.battery_capacity_wh;
        if (!capacity) {
            capacity = ok_value(reading, battery.capacity_point);
        }
        if (soc && capacity) {
            sample.stored_wh = *soc / 100.0 * *capacity;
        }
        sample.max_discharge_w = config_->accounting.settings.battery_max_discharge_w;
        if (!sample.max_discharge_w) {
            sample.max_discharge_w = ok_value(reading, battery.max_discharge_point);
        }
        battery.samples.push_back(sample);
    }
}

accounting::Energy SiteModel::sum(const std::vector<std::size_t>& channels,
                                  std::int64_t tick_start_ms, std::uint32_t& flags) const {
    std::vector<accounting::Energy> parts;
    parts.reserve(channels.size());
    for (std::size_t c : channels) {
        parts.push_back(channels_[c].series.tick_energy(tick_start_ms, &flags));
    }
    return accounting::sum_energies(parts);
}

std::optional<accounting::Energy> SiteModel::part_sum(const std::vector<std::size_t>& channels,
                                                      std::int64_t tick_start_ms,
                                                      std::uint32_t& flags) const {
    if (channels.empty()) {
        return std::nullopt; // no device of this part feeds the quantity
    }
    return sum(channels, tick_start_ms, flags);
}

accounting::SourceLayout SiteModel::layout() const {
    accounting::SourceLayout layout;
    layout.has_pv = !pv_.empty();
    layout.has_wind = !wind_.empty();
    layout.has_battery = !batteries_.empty();
    layout.facility_metered = facility_metered_;
    layout.racks = racks_.size();
    return layout;
}

accounting::PartialInputs SiteModel::partial_inputs(std::int64_t tick_start_ms) const {
    accounting::PartialInputs part;
    part.start_ms = tick_start_ms;
    std::uint32_t flags = 0;
    part.pv = part_sum(pv_, tick_start_ms, flags);
    part.wind = part_sum(wind_, tick_start_ms, flags);
    part.discharge = part_sum(discharge_, tick_start_ms, flags);
    part.charge = part_sum(charge_, tick_start_ms, flags);
    part.grid_import = part_sum(import_, tick_start_ms, flags);
    part.grid_export = part_sum(export_, tick_start_ms, flags);
    part.load = part_sum(load_, tick_start_ms, flags);
    part.rack_it.reserve(racks_.size());
    for (const auto& rack : racks_) {
        part.rack_it.push_back(part_sum(rack, tick_start_ms, flags));
    }
    // Battery state for resync: the latest reading inside this tick, summed over batteries.
    const std::int64_t tick_end = tick_start_ms + config_->accounting.settings.tick.count();
    part.has_battery = !batteries_.empty();
    double stored = 0.0;
    double max_discharge = 0.0;
    bool stored_known = part.has_battery;
    bool max_known = part.has_battery;
    for (const auto& battery : batteries_) {
        const BatterySample* sample = battery.latest_in(tick_start_ms, tick_end);
        stored_known = stored_known && sample != nullptr && sample->stored_wh.has_value();
        max_known = max_known && sample != nullptr && sample->max_discharge_w.has_value();
        if (sample != nullptr) {
            stored += sample->stored_wh.value_or(0.0);
            max_discharge += sample->max_discharge_w.value_or(0.0);
        }
    }
    if (stored_known) {
        part.battery_stored_wh = stored;
    }
    if (max_known) {
        part.battery_max_discharge_w = max_discharge;
    }
    part.flags = flags;
    return part;
}

accounting::TickInputs SiteModel::tick_inputs(std::int64_t tick_start_ms) const {
    // One daemon polling the whole site is the fleet with a single part: the same merge.
    const accounting::PartialInputs whole = partial_inputs(tick_start_ms);
    return accounting::merge_parts(layout(), tick_start_ms, {&whole});
}

const SiteModel::BatterySample* SiteModel::BatteryInfo::latest_in(std::int64_t start,
                                                                  std::int64_t end) const {
    for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
        if (it->ts_ms < end && it->ts_ms >= start) {
            return &*it;
        }
        if (it->ts_ms < start) {
            break;
        }
    }
    return nullptr;
}

void SiteModel::forget_before(std::int64_t ms) {
    for (auto& channel : channels_) {
        channel.series.forget_before(ms);
    }
    for (auto& battery : batteries_) {
        while (!battery.samples.empty() && battery.samples.front().ts_ms < ms) {
            battery.samples.pop_front();
        }
    }
}

void SiteModel::adopt_history(const SiteModel& old) {
    const auto& a = old.config_->accounting;
    const auto& b = config_->accounting;
    if (a.max_hold != b.max_hold || a.max_span != b.max_span ||
        a.counter_resolution_fraction != b.counter_resolution_fraction) {
        return; // other series settings: every source starts afresh
    }
    auto same_source = [&](std::size_t old_device, std::size_t device) {
        const config::DeviceConfig& x = old.config_->devices[old_device];
        const config::DeviceConfig& y = config_->devices[device];
        return x.id == y.id && x.poll_interval == y.poll_interval &&
               (x.profile == y.profile || *x.profile == *y.profile);
    };
    for (auto& channel : channels_) {
        for (const auto& before : old.channels_) {
            if (before.power_point == channel.power_point &&
                before.counter_point == channel.counter_point &&
                before.transform == channel.transform &&
                same_source(before.device, channel.device)) {
                channel.series = before.series;
                break;
            }
        }
    }
    for (auto& battery : batteries_) {
        for (const auto& before : old.batteries_) {
            if (same_source(before.device, battery.device)) {
                battery.samples = before.samples;
                break;
            }
        }
    }
}

} // namespace greenrack::core
