#pragma once

// Battery state of green charge (green-accounting.md §4): stored energy E_b (DC side), its green
// part E_g and embedded carbon M_b, as a queue of slices. The well-mixed model keeps a single
// slice (every charge is mixed in); the fifo model keeps one slice per charge and discharges
// oldest first.
//
// Conservative choices (never over-claim green energy):
// * Energy of unknown origin is non-green and carries grid carbon, as if charged from the grid
//   with g = 0: the content found at the first stored-energy reading (cold start), a gain found
//   by a reading after a span whose flows were not metered, a gain into an empty model, and a
//   discharge beyond the modelled content (it then leaves at green fraction 0).
// * A gain found by a reading while the flows were all metered is a recalibration: E_g and M_b
//   are scaled with E_b (phi kept), as the spec requires. A loss is always scaled (phi kept).
// * Carbon: carbon_location_g is M_b of the spec, grid-charged energy adding i_C x EF_avg. The
//   residual scope is tracked alongside, grid-charged energy adding (i_C - supplier green) x
//   EF_res, so each scope's battery share uses its own factor.
// * cold_start: true until a stored-energy reading has been seen and the energy found at that
//   reading has left storage once (cumulative DC outflow and scaled-down losses >= that content),
//   or the content found was zero. Without any reading it stays true: the history is unknown.
// * fifo: the queue is capped (max_slices); beyond that the two adjacent slices with the closest
//   green fractions are merged. Energy, green energy and carbon are conserved; only the order
//   inside the merged pair is lost.

#include "daemon/core/accounting/accounting_types.hpp"

#include <cstddef>
#include <deque>
#include <nlohmann/json.hpp>

namespace greenrack::accounting {

// A parcel of stored energy (DC side) with its green part and embedded carbon.
struct BatterySlice {
    double wh = 0.0;
    double green_wh = 0.0;
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
};

// What one discharge took out of storage (DC side).
struct BatteryOutflow {
    double dc_wh = 0.0;
    double green_dc_wh = 0.0;
    double carbon_location_g = 0.0;
    double carbon_residual_g = 0.0;
    double unknown_dc_wh = 0.0; // drawn beyond the modelled content: unknown origin, non-green
    double green_fraction() const { return dc_wh > 0.0 ? green_dc_wh / dc_wh : 0.0; }
};

struct BatteryParameters {
    BatteryModel model = BatteryModel::well_mixed;
    double charge_efficiency = 0.95;    // eta_c
    double discharge_efficiency = 0.95; // eta_d
    // Carbon of stored energy of unknown origin, per DC Wh (grid-charged: EF / eta_c).
    double unknown_location_g_per_wh = 0.0;
    double unknown_residual_g_per_wh = 0.0;
    std::size_t max_slices = 1024; // fifo queue cap
};

class Battery {
public:
    explicit Battery(BatteryParameters parameters);

    // Stores eta_c x ac_wh with green part eta_c x green_ac_wh; all the carbon is embedded.
    void charge(double ac_wh, double green_ac_wh, double carbon_location_g,
                double carbon_residual_g);

    // Takes ac_wh / eta_d out of storage (oldest first in fifo).
    BatteryOutflow discharge(double ac_wh);

    // A stored-energy reading (SoC x capacity): the content becomes stored_wh (see the header
    // comment for scaling and unknown origin). Returns the difference stored_wh - previous E_b.
    double resync(double stored_wh);

    // The battery's flows were not metered for a while: the next reading's gain is of unknown
    // origin.
    void mark_flows_unknown() { flows_unknown_ = true; }
    void mark_known() { known_ = true; }

    double stored_wh() const;
    double green_wh() const;
    double carbon_location_g() const;
    double carbon_residual_g() const;
    double green_fraction() const; // phi = E_g / E_b, 0 when empty
    double losses_wh() const { return losses_wh_; }
    bool synced() const { return synced_; }
    bool cold_start() const { return cold_start_; }
    bool known() const { return known_; }
    const std::deque<BatterySlice>& slices() const { return slices_; }
    const BatteryParameters& parameters() const { return parameters_; }

    BatteryStatus status() const;

    nlohmann::json to_json() const;
    // Replaces the state by a saved one; throws nlohmann::json exceptions on malformed input.
    void load_json(const nlohmann::json& state);

private:
    void add_back(const BatterySlice& slice);
    void add_front(const BatterySlice& slice);
    void merge_closest_pair();
    void scale(double factor);
    void drew_from_storage(double dc_wh);

    BatteryParameters parameters_;
    std::deque<BatterySlice> slices_;
    double losses_wh_ = 0.0;       // cumulative input - output - change of content
    double cold_unknown_wh_ = 0.0; // energy found at the first reading not yet drawn out
    bool synced_ = false;          // a stored-energy reading has been seen
    bool flows_unknown_ = false;   // flows not metered since the last reading
    bool cold_start_ = true;
    bool known_ = false;
};

} // namespace greenrack::accounting
