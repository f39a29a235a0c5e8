#pragma once

#include "drivers/sim/sim_time.hpp"

namespace greenrack::sim {

// Sun elevation above the horizon in degrees (negative at night) for a place and a UTC time,
// from the NOAA "general solar position" approximation (good to well under a degree).
double solar_elevation_deg(double latitude_deg, double longitude_deg, SimTime time);

// Clear-sky global irradiance on a horizontal-ish collector, W/m^2, from the elevation:
// Meinel's air-mass attenuation with the Kasten-Young air mass. 0 when the sun is down.
double clear_sky_irradiance(double elevation_deg);

// Local mean solar time in hours [0, 24) (UTC shifted by longitude / 15).
double local_solar_hours(double longitude_deg, SimTime time);

} // namespace greenrack::sim
