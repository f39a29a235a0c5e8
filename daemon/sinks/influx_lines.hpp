#pragma once

#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/device_reading.hpp"
#include "daemon/sinks/line_protocol.hpp"
#include "drivers/profiles/profile.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

namespace greenrack::sinks {

// The InfluxDB measurements of docs/output-schema.md, appended to a LineBuilder. Pure: the
// site id, the profile and the time are inputs. Powers are tick averages derived from the
// tick's energies (W = Wh * 3600 / tau_s), exactly like the MQTT JSON payloads; a value the
// JSON payload would give as null is left out. Every numeric field is a float, counts are
// integers.

// `device`: one line per poll (ts = when the poll completed).
void append_device_line(LineBuilder& out, std::string_view site, std::string_view device_id,
                        const profiles::DeviceProfile& profile, const core::DeviceReading& reading);

// `site`: one line per tick (ts = tick end). `hour_so_far` (the open 1 h window, may be null)
// gives hour_cfe_interval_ratio and hour_cfe_hourly_ratio.
void append_site_line(LineBuilder& out, std::string_view site, const accounting::TickResult& tick,
                      const accounting::Totals& totals, const accounting::Rollup* hour_so_far);

// `rack`: two lines per rack and tick (view=it and view=burdened), plus the `unattributed`
// pseudo-rack when the tick has one. `totals.racks` is indexed like `tick.racks`.
void append_rack_lines(LineBuilder& out, std::string_view site, const accounting::TickResult& tick,
                       const accounting::Totals& totals);

// `battery`: one line per tick when the site has a battery (tick.battery.known).
void append_battery_line(LineBuilder& out, std::string_view site,
                         const accounting::TickResult& tick);

// site + rack + battery for one tick; nothing for an ignored tick.
void append_tick_lines(LineBuilder& out, std::string_view site, const accounting::TickResult& tick,
                       const accounting::Totals& totals, const accounting::Rollup* hour_so_far);

// `rollup`: one line per closed window (ts = window end).
void append_rollup_line(LineBuilder& out, std::string_view site, const accounting::Rollup& rollup);

// `greenrack_self`: the daemon's own counters (every 10 s).
struct SelfBusCounters {
    std::string_view bus;
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t exceptions = 0;
    std::uint64_t overruns = 0;
};
struct SelfSiteCounters {
    std::uint64_t devices_stale = 0;
    std::uint64_t mqtt_published = 0;
    std::uint64_t mqtt_dropped = 0;
    std::uint64_t influx_queue_lines = 0;
    std::uint64_t influx_dropped_lines = 0;
};
void append_self_lines(LineBuilder& out, std::string_view site,
                       std::span<const SelfBusCounters> buses, const SelfSiteCounters& counters,
                       std::chrono::system_clock::time_point ts);

// UTC milliseconds since the epoch as a time point (the accounting types carry ms).
std::chrono::system_clock::time_point from_unix_ms(std::int64_t ms);

} // namespace greenrack::sinks
