#include "drivers/sim/solar_position.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace greenrack::sim {

namespace {

constexpr double deg = std::numbers::pi / 180.0;

} // namespace

double solar_elevation_deg(double latitude_deg, double longitude_deg, SimTime time) {
    const double hour = utc_hours(time);
    const double gamma =
        2.0 * std::numbers::pi / 365.0 * (day_of_year(time) - 1 + (hour - 12.0) / 24.0);
    const double eqtime_min =
        229.18 * (0.000075 + 0.001868 * std::cos(gamma) - 0.032077 * std::sin(gamma) -
                  0.014615 * std::cos(2 * gamma) - 0.040849 * std::sin(2 * gamma));
    const double decl = 0.006918 - 0.399912 * std::cos(gamma) + 0.070257 * std::sin(gamma) -
                        0.006758 * std::cos(2 * gamma) + 0.000907 * std::sin(2 * gamma) -
                        0.002697 * std::cos(3 * gamma) + 0.00148 * std::sin(3 * gamma);
    const double true_solar_min = hour * 60.0 + eqtime_min + 4.0 * longitude_deg;
    const double hour_angle = (true_solar_min / 4.0 - 180.0) * deg;
    const double lat = latitude_deg * deg;
    const double cos_zenith =
        std::sin(lat) * std::sin(decl) + std::cos(lat) * std::cos(decl) * std::cos(hour_angle);
    return 90.0 - std::acos(std::clamp(cos_zenith, -1.0, 1.0)) / deg;
}

double clear_sky_irradiance(double elevation_deg) {
    if (elevation_deg <= 0.0) {
        return 0.0;
    }
    const double sin_elevation = std::sin(elevation_deg * deg);
    const double air_mass =
        1.0 / (sin_elevation + 0.50572 * std::pow(elevation_deg + 6.07995, -1.6364));
    return 1361.0 * std::pow(0.7, std::pow(air_mass, 0.678)) * sin_elevation;
}

double local_solar_hours(double longitude_deg, SimTime time) {
    const double hours = utc_hours(time) + longitude_deg / 15.0;
    return std::fmod(std::fmod(hours, 24.0) + 24.0, 24.0);
}

} // namespace greenrack::sim
