#pragma once

#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/alerts/alert_types.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::alerts {

// The live values of one subject (the site, a rack, the battery, a device) by output name. A
// name that is absent has no value now (missing).
using Values = std::map<std::string, double, std::less<>>;

struct SubjectValues {
    std::string id;
    Values values;
};

// Everything one evaluation sees. A scope left unset is not evaluated this time (its alerts keep
// their state), e.g. device-only evaluations when accounting is off.
struct Observations {
    std::int64_t now_ms = 0;
    std::optional<std::vector<SubjectValues>> site; // exactly one subject when set
    std::optional<std::vector<SubjectValues>> racks;
    std::optional<std::vector<SubjectValues>> battery; // at most one subject
    std::optional<std::vector<SubjectValues>> devices;
    std::optional<Cause> cause;
};

// The outputs a rule of `scope` may watch (and use in its summary), with a one-line meaning.
struct OutputInfo {
    std::string_view name;
    std::string_view meaning;
};
const std::vector<OutputInfo>& outputs_of(Scope scope);
bool is_output_of(Scope scope, std::string_view name);

// Builders from the accounting tick (pure). Power outputs are W, ratios 0..1, flags 0/1.
//   site: see outputs_of(Scope::site); hour_so_far may be null; devices_stale is a count.
SubjectValues site_values(std::string site_id, const accounting::TickResult& tick,
                          const accounting::Rollup* hour_so_far, int devices_stale);
SubjectValues rack_values(const accounting::TickResult& tick, const accounting::RackTick& rack);
SubjectValues battery_values(const accounting::TickResult& tick);

// The store-and-forward spools of the sinks (see daemon/sinks/spool.hpp), for the site's
// spool_* outputs: records dropped by a cap in the recent window (all sinks), the fill of the
// fullest spool (bytes on disk / its max_size) and the append time of the oldest record still
// waiting for delivery (unset: nothing waits).
struct SpoolHealth {
    std::uint64_t dropped_recent = 0;
    double fill = 0.0;
    std::optional<std::int64_t> oldest_pending_ms;
};
// Adds spool_dropped_recent, spool_fill and spool_backlog_s to `values`.
void put_spool_values(Values& values, const SpoolHealth& health, std::int64_t now_ms);

// Device health at `now_ms`: stale (0/1), up (0/1), age_s (absent before the first answer).
struct DeviceHealth {
    std::string id;
    bool up = false;                          // the last poll got an answer
    std::optional<std::int64_t> last_good_ms; // last reading with good values
    std::int64_t stale_after_ms = 0;          // 3 x the poll interval
};
SubjectValues device_values(const DeviceHealth& health, std::int64_t now_ms);

} // namespace greenrack::alerts
