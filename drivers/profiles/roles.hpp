#pragma once

#include <span>
#include <string_view>

namespace greenrack::profiles {

// The vocabulary of point roles. A role says what a value means physically, independent of the
// device's register layout; the site model (accounting) and the simulator work with roles.
// Sign conventions are fixed here: a device with the opposite sign uses scale = -1.
//
//  rack PDU:   inlet_power (W), inlet_energy (Wh, counter), inlet_voltage (V), inlet_current (A),
//              inlet_apparent_power (VA), inlet_power_factor (ratio),
//              outlet_power, outlet_energy, outlet_voltage, outlet_current,
//              outlet_apparent_power, outlet_power_factor   (index = outlet number, 1-based)
//  generators: ac_power (W, + = generation), ac_energy (Wh counter, produced),
//              ac_power_available (W, incl. curtailed), dc_power (W), wind_speed (m/s)
//  battery:    battery_power (W, + = discharge, - = charge), soc (%), capacity (Wh),
//              charge_energy (Wh counter), discharge_energy (Wh counter),
//              max_charge_power (W), max_discharge_power (W)
//  meters:     import_power (W >= 0), export_power (W >= 0), import_energy, export_energy
//              (Wh counters), net_power (W, + = import), load_power (W), load_energy (Wh counter)
//  any device: voltage (V), current (A), frequency (Hz), apparent_power (VA), power_factor,
//              temperature (degC), status (enum/bitfield), manufacturer, model, serial,
//              version (strings)
std::span<const std::string_view> known_point_roles();
bool is_known_point_role(std::string_view role);

} // namespace greenrack::profiles
