#include "daemon/core/accounting/settings_checks.hpp"

#include "daemon/core/accounting/rack_attribution.hpp"

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

namespace greenrack::accounting {

namespace {

void require(bool condition, const std::string& message) {
    if (!condition) {
        throw std::invalid_argument("accounting settings: " + message);
    }
}

bool finite_in(double value, double low, double high) {
    return std::isfinite(value) && value >= low && value <= high;
}

} // namespace

void check_settings(const AccountingSettings& s) {
    const auto tick = s.tick.count();
    require(tick > 0 && 900'000 % tick == 0, "tick must be > 0 and divide 900 s");
    require(finite_in(s.grid_cfe_share, 0.0, 1.0), "grid_cfe_share must be within 0..1");
    require(finite_in(s.ef_avg_g_per_kwh, 0.0, 1e6), "ef_avg_g_per_kwh must be >= 0");
    require(finite_in(s.ef_residual_g_per_kwh, 0.0, 1e6), "ef_residual_g_per_kwh must be >= 0");
    require(finite_in(s.charge_efficiency, 1e-6, 1.0), "charge_efficiency must be within (0, 1]");
    require(finite_in(s.discharge_efficiency, 1e-6, 1.0),
            "discharge_efficiency must be within (0, 1]");
    require(!s.battery_capacity_wh || finite_in(*s.battery_capacity_wh, 0.0, 1e15),
            "battery_capacity_wh must be >= 0");
    require(!s.battery_max_discharge_w || finite_in(*s.battery_max_discharge_w, 0.0, 1e15),
            "battery_max_discharge_w must be >= 0");
    require(!s.renewable_nameplate_w || finite_in(*s.renewable_nameplate_w, 0.0, 1e15),
            "renewable_nameplate_w must be >= 0");
    require(finite_in(s.balance_abs_w, 0.0, 1e15), "balance_abs_w must be >= 0");
    require(finite_in(s.balance_rel, 0.0, 1.0), "balance_rel must be within 0..1");
    require(s.headroom_horizon.count() > 0, "headroom_horizon must be > 0");
    require(finite_in(s.infrastructure_fraction, 0.0, 100.0),
            "infrastructure_fraction must be >= 0");
    std::set<std::string> ids;
    for (const auto& rack : s.racks) {
        require(!rack.id.empty(), "rack ids must not be empty");
        require(rack.id != unattributed_rack_id,
                "rack id '" + rack.id + "' is reserved for the pseudo-rack");
        require(ids.insert(rack.id).second, "duplicate rack id '" + rack.id + "'");
    }
}

} // namespace greenrack::accounting
