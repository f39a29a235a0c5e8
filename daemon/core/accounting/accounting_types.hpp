#pragma once

// Vocabulary of the green-accounting engine (../shared/docs/green-accounting.md). Pure data:
// every energy is Wh (double), power W, ratios 0..1, carbon grams CO2eq, time UTC milliseconds
// since the Unix epoch.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::accounting {

// Quality of one source in one tick, from best to worst (§2).
enum class SourceQuality : std::uint8_t {
    ok,       // measured during the tick
    held,     // covered by a value held from before the tick (zero-order hold, within H)
    inferred, // derived from the bus balance (§3)
    stale,    // part of the tick is beyond the hold limit: the source contributes *missing*
    missing,  // no data
};

std::string_view to_string(SourceQuality quality);
SourceQuality worst(SourceQuality a, SourceQuality b);
// ok, held and inferred values are numbers the engine may use; stale and missing are not.
constexpr bool usable(SourceQuality q) {
    return q <= SourceQuality::inferred;
}

// Energy of one quantity over one tick.
struct Energy {
    double wh = 0.0;
    SourceQuality quality = SourceQuality::missing;
    bool usable() const { return accounting::usable(quality); }
    bool operator==(const Energy&) const = default;
};

enum class Allocation : std::uint8_t { priority, pool };
enum class BatteryModel : std::uint8_t { well_mixed, fifo };

std::string_view to_string(Allocation allocation);
std::string_view to_string(BatteryModel model);

// Flags raised on a tick (bit set). Names (for JSON) from flag_names().
enum TickFlag : std::uint32_t {
    flag_data_gap = 1U << 0,           // green figures cannot be computed this tick
    flag_inferred_renewable = 1U << 1, // R inferred from the bus balance
    flag_estimated_load = 1U << 2,     // no facility meter: L = sum(E_i) + infrastructure estimate
    flag_balance = 1U << 3,            // |epsilon| above max(eps_abs, eps_rel * L)
    flag_counter_reset = 1U << 4,      // a counter went backwards without a known wrap
    flag_battery_resync = 1U << 5,     // battery state rescaled to SoC x capacity
    flag_battery_cold_start = 1U << 6, // battery history unknown: phi starts at 0
    flag_clamped = 1U << 7,            // an implausible value was clamped and excluded
    flag_unattributed = 1U << 8,       // some IT energy could not be given to a rack
};
std::vector<std::string_view> flag_names(std::uint32_t flags);

struct RackSettings {
    std::string id;
    int tier = 0;
};

struct AccountingSettings {
    std::chrono::milliseconds tick{5'000}; // tau: must divide 900 s
    Allocation allocation = Allocation::priority;
    BatteryModel battery_model = BatteryModel::well_mixed;
    double grid_cfe_share = 0.0;               // g, 0..1
    double ef_avg_g_per_kwh = 554.3;           // location-based grid emission factor
    double ef_residual_g_per_kwh = 609.6;      // residual-mix emission factor
    bool retain_onsite_attributes = false;     // REF counts on-site green only when retained
    double charge_efficiency = 0.95;           // eta_c
    double discharge_efficiency = 0.95;        // eta_d
    std::optional<double> battery_capacity_wh; // else from the battery's capacity point
    std::optional<double> battery_max_discharge_w;
    double balance_abs_w = 50.0; // eps_abs = balance_abs_w * tau
    double balance_rel = 0.02;   // eps_rel
    std::chrono::milliseconds headroom_horizon{3'600'000};
    double infrastructure_fraction = 0.0; // without a facility meter: L = (1 + f) * sum(E_i)
    // On-site renewable nameplate (W): pv + wind above 1.1 x nameplate x tau is implausible and
    // excluded (§7.6). Unset: no nameplate check.
    std::optional<double> renewable_nameplate_w;
    int metering_category = 2; // iPUE label: 2 = PDU inlets, 3 = PDU outlets
    std::vector<RackSettings> racks;
};

// What the time base hands the engine for one tick [start_ms, start_ms + tau).
struct TickInputs {
    std::int64_t start_ms = 0; // a multiple of tau
    Energy pv;                 // on-site renewable AC output by source (>= 0)
    Energy wind;
    std::optional<Energy> renewable_available; // R_avail incl. curtailed, when known
    Energy discharge;                          // D, AC side, >= 0
    Energy charge;                             // C, AC side, >= 0
    Energy grid_import;                        // I, >= 0
    Energy grid_export;                        // X, >= 0
    Energy load;                               // L from the facility meter (missing: none)
    bool facility_metered = true;              // false: estimate L from the racks
    std::vector<Energy> rack_it;               // E_i, one per AccountingSettings::racks entry
    std::optional<Energy> site_it;             // a site IT meter, when there is one
    std::optional<double> battery_stored_wh;   // SoC x capacity when known (resync, §4)
    std::optional<double> battery_max_discharge_w;
    std::uint32_t flags = 0; // raised by the time base (e.g. flag_counter_reset)
};

// One rack in one tick. Views: IT-only (G_i, N_i) and facility-burdened (G_i*, N_i*).
struct RackTick {
    std::string id; // "unattributed" for the pseudo-rack
    int tier = 0;
    Energy it;                   // E_i
    double burdened_wh = 0.0;    // E_i* = k * E_i
    double green_it_wh = 0.0;    // G_i = c * E_i
    double nongreen_it_wh = 0.0; // N_i = (1 - c) * E_i
    double green_wh = 0.0;       // G_i* (burdened view, tiers applied)
    double nongreen_wh = 0.0;    // N_i*
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
    bool valid = false; // green figures computed for this rack
};

struct BatteryStatus {
    double stored_wh = 0.0;            // E_b (DC side)
    double green_wh = 0.0;             // E_g
    double carbon_g = 0.0;             // M_b, location-based scope
    double carbon_residual_g = 0.0;    // M_b, residual scope
    double green_fraction = 0.0;       // phi
    double deliverable_green_wh = 0.0; // E_g * eta_d
    double losses_wh = 0.0;            // cumulative (input - output), resync differences included
    bool known = false;                // a battery is configured / seen
    bool cold_start = true;            // history unknown: phi started at 0
};

struct TickResult {
    std::int64_t start_ms = 0;
    double tau_s = 0.0;
    bool ignored = false; // start_ms <= last_tick_ms(): already accounted, nothing changed
    bool valid = false;   // green outputs computed (false = data_gap)
    SourceQuality quality = SourceQuality::missing; // worst of the sources used
    std::uint32_t flags = 0;

    Energy load;      // L
    Energy renewable; // R = pv + wind (maybe inferred)
    Energy pv;
    Energy wind;
    Energy discharge; // D
    Energy charge;    // C
    Energy grid_import;
    Energy grid_export;
    double it_wh = 0.0; // sum of E_i incl. unattributed

    // Allocation (§3), Wh.
    double renewable_to_load_wh = 0.0;    // r_L
    double battery_to_load_wh = 0.0;      // d_L
    double grid_to_load_wh = 0.0;         // i_L
    double renewable_to_battery_wh = 0.0; // r_C
    double grid_to_battery_wh = 0.0;      // i_C
    double renewable_to_export_wh = 0.0;  // r_X
    double curtailed_wh = 0.0;            // max(0, R_avail - R)
    double green_wh = 0.0;                // G_L
    double nongreen_wh = 0.0;             // N_L
    double nongreen_w = 0.0;              // N_L / tau
    double green_to_battery_wh = 0.0;     // green part of C (AC side)
    double green_to_export_wh = 0.0;      // green part of X (never counted as green use)
    double battery_green_fraction = 0.0;  // phi applied to this tick's discharge
    std::optional<double> coverage;       // G_L / L (missing when L = 0 or invalid)
    std::optional<double> onsite_share;   // (r_L + phi * d_L) / L
    double balance_residual_wh = 0.0;     // epsilon
    double balance_residual_w = 0.0;      // epsilon / tau
    double carbon_location_g = 0.0;       // M_L, location-based scope
    double carbon_residual_g = 0.0;       // M_L, residual scope
    std::optional<double> carbon_intensity_location_g_per_kwh; // M_L / L (missing when L = 0)
    std::optional<double> carbon_intensity_residual_g_per_kwh;
    double headroom_free_w = 0.0;           // (r_X + curtail) / tau
    double headroom_total_w = 0.0;          // (R_avail - r_L) / tau, or (R - r_L) / tau
    bool headroom_total_lower_bound = true; // R_avail unknown
    double headroom_storage_w = 0.0;        // min(P_dis_max - D, E_g * eta_d / horizon)
    std::optional<double> ipue;             // L / sum(E_IT) in the tick

    std::vector<RackTick> racks;          // one per AccountingSettings::racks entry
    std::optional<RackTick> unattributed; // the pseudo-rack, when IT energy is unassigned
    BatteryStatus battery;                // after the tick
};

// Monotonic cumulative totals since the state was first created (persisted).
struct RackTotals {
    double it_wh = 0.0;
    double green_wh = 0.0; // burdened view
    double nongreen_wh = 0.0;
    double green_it_wh = 0.0; // IT-only view
    double nongreen_it_wh = 0.0;
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
};

struct Totals {
    double load_wh = 0.0;
    double green_wh = 0.0;
    double nongreen_wh = 0.0;
    double renewable_wh = 0.0;
    double pv_wh = 0.0;
    double wind_wh = 0.0;
    double discharge_wh = 0.0;
    double charge_wh = 0.0;
    double import_wh = 0.0;
    double export_wh = 0.0;
    double it_wh = 0.0;
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
    std::uint64_t ticks = 0;
    std::uint64_t ticks_valid = 0;
    std::vector<RackTotals> racks; // one per AccountingSettings::racks entry
    RackTotals unattributed;
};

enum class Window : std::uint8_t { quarter_hour, hour, day };
std::string_view to_string(Window window); // "15m", "1h", "1d"

// A closed roll-up window (UTC-aligned), §6.
struct Rollup {
    Window window = Window::hour;
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    std::uint64_t seq = 0; // per window kind, increasing across restarts
    double load_wh = 0.0;
    double green_wh = 0.0;
    double nongreen_wh = 0.0;
    double renewable_wh = 0.0;
    double it_wh = 0.0;
    double import_wh = 0.0;
    double export_wh = 0.0;
    std::optional<double> cfe_interval; // sum G_L / sum L
    std::optional<double> cfe_hourly;   // sum_h CFE_h / sum_h L_h (window < 1 h: the window)
    std::optional<double> ref;          // REF formula over the window (not a 12-month REF)
    std::optional<double> ipue;         // sum L / sum E_IT
    int metering_category = 2;
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
    std::optional<double> cue_location_kg_per_kwh;  // sum M_L / sum E_IT
    double data_coverage = 0.0;                     // ticks ok|held / ticks in the window
    SourceQuality quality = SourceQuality::missing; // worst over the window
    std::uint64_t ticks = 0;
    std::uint64_t ticks_valid = 0; // ticks with green figures (data_gap ticks excluded)
    std::uint64_t ticks_expected = 0;
    std::vector<RackTotals> racks; // per rack sums over the window
    RackTotals unattributed;       // the pseudo-rack's sums over the window
};

} // namespace greenrack::accounting
