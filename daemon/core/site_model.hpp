#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/accounting/partial_inputs.hpp"
#include "daemon/core/accounting/time_base.hpp"
#include "daemon/core/device_reading.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace greenrack::core {

// Maps device readings onto the accounting's sources (green-accounting.md §1) and turns them
// into per-tick inputs. Pure: fed readings in time order, asked for ticks by start time.
//
// Sources, by device role and point role (signs normalised at ingestion):
//   PV / wind    ac_power (negative night draw is not negative generation: clamped to 0),
//                ac_energy counter
//   battery      discharge D = max(battery_power, 0), charge C = max(-battery_power, 0);
//                discharge_energy / charge_energy counters; soc x capacity for resync;
//                max_discharge_power for the storage headroom
//   grid         import I = import_power (or max(net_power, 0)), import_energy counter;
//                export X = export_power (or max(-net_power, 0)), export_energy counter
//   facility     load L = load_power, load_energy counter
//   racks        per member PDU: inlet_power / inlet_energy (whole PDU) or
//                outlet_power / outlet_energy of the listed outlets
class SiteModel {
public:
    // `config` must outlive the model.
    explicit SiteModel(const config::Config& config);

    // Live reload: takes over the recent samples of `old` (built from the previous config) for
    // every source that is the same device, point, poll interval and profile, so the tick in
    // progress keeps its coverage. Sources that changed start afresh.
    void adopt_history(const SiteModel& old);

    void add(const DeviceReading& reading);
    accounting::TickInputs tick_inputs(std::int64_t tick_start_ms) const;
    // The same tick as the part of the site this model's config polls (a fleet shard's share,
    // accounting/partial_inputs.hpp); tick_inputs() is merge_parts(layout(), {partial_inputs()}).
    accounting::PartialInputs partial_inputs(std::int64_t tick_start_ms) const;
    // Which sources this model's config has devices for.
    accounting::SourceLayout layout() const;
    void forget_before(std::int64_t ms);

    std::size_t channel_count() const { return channels_.size(); }

private:
    enum class Transform : std::uint8_t { identity, positive_part, negative_part };

    struct Channel {
        accounting::SourceSeries series;
        std::size_t device = 0;
        std::optional<std::size_t> power_point;
        std::optional<std::size_t> counter_point;
        Transform transform = Transform::identity;
    };

    // Recent battery readings (for resync and headroom), oldest first.
    struct BatterySample {
        std::int64_t ts_ms = 0;
        std::optional<double> stored_wh; // SoC x capacity
        std::optional<double> max_discharge_w;
    };
    struct BatteryInfo {
        std::size_t device = 0;
        std::optional<std::size_t> soc_point;
        std::optional<std::size_t> capacity_point;
        std::optional<std::size_t> max_discharge_point;
        std::deque<BatterySample> samples;
        // The latest sample taken inside [start, end), if any.
        const BatterySample* latest_in(std::int64_t start, std::int64_t end) const;
    };

    std::size_t add_channel(std::size_t device, std::optional<std::size_t> power,
                            std::optional<std::size_t> counter, Transform transform);
    std::vector<std::size_t> channels_for(const std::vector<std::string>& device_ids,
                                          std::string_view power_role,
                                          std::string_view counter_role, Transform transform);
    accounting::Energy sum(const std::vector<std::size_t>& channels, std::int64_t tick_start_ms,
                           std::uint32_t& flags) const;
    std::optional<accounting::Energy> part_sum(const std::vector<std::size_t>& channels,
                                               std::int64_t tick_start_ms,
                                               std::uint32_t& flags) const;

    const config::Config* config_;
    std::vector<Channel> channels_;
    std::vector<std::vector<std::size_t>> by_device_; // device -> channels fed by it
    std::vector<std::size_t> pv_, wind_, discharge_, charge_, import_, export_, load_;
    std::vector<std::vector<std::size_t>> racks_; // per config rack
    std::vector<BatteryInfo> batteries_;
    bool facility_metered_ = false;
};

} // namespace greenrack::core
