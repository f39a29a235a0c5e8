#pragma once

#include "daemon/config/config.hpp"
#include "daemon/core/accounting/accounting_types.hpp"
#include "daemon/core/sample_store.hpp"

#include <chrono>
#include <string>

namespace greenrack::core {

// A sum over the devices that should contribute to a quantity: how many did (fresh, ok value).
struct Contribution {
    double value = 0.0;
    int have = 0;
    int expected = 0;
    bool complete() const { return expected > 0 && have == expected; }
};

// Raw site picture from the latest readings, by device and point role (no accounting: that is
// the accounting engine's job). Used for the live console line of the demo and --summary.
struct SiteSummary {
    int devices = 0;
    int devices_ok = 0;
    int devices_partial = 0;
    int devices_offline = 0; // offline, stale or never read
    Contribution it_w;       // rack PDU inlets
    Contribution load_w;     // facility meter
    Contribution pv_w;
    Contribution wind_w;
    Contribution battery_w; // + = discharge
    Contribution soc_pct;   // mean over batteries
    Contribution grid_import_w;
    Contribution grid_export_w;
};

// Pure: `now` and `max_age` decide which readings still count.
SiteSummary summarize(const config::Config& config, const SampleStore& store,
                      std::chrono::system_clock::time_point now, std::chrono::milliseconds max_age);

// One console line, e.g.
// "12:00:01Z devices 14/14 | load 92.3 kW IT 71.0 kW | PV 85.2 kW wind 12.1 kW |
//  battery -5.0 kW SoC 61.2 % | grid import 0.0 kW export 0.0 kW"
std::string format_summary(const SiteSummary& summary, std::chrono::system_clock::time_point now);

// The accounting part of the live line, from the last computed tick: clean coverage, non-green
// power, battery green fraction and the three racks drawing the most non-green power, e.g.
// "balance to 12:00:05Z: clean 86.2 %, non-green 13.5 kW, battery green 42 %, top non-green
// r04 2.1 kW, r02 1.8 kW, r07 1.6 kW".
std::string format_balance(const accounting::TickResult& tick);

} // namespace greenrack::core
