#include "tools/scan/profile_match.hpp"

#include "drivers/modbus/request_decoder.hpp"

#include <array>
#include <cmath>

namespace greenrack::scan {

namespace {

bool near_mains(double volts) {
    static constexpr std::array<double, 7> nominal{120.0, 208.0, 230.0, 240.0, 277.0, 400.0, 480.0};
    for (double v : nominal) {
        if (std::abs(volts - v) <= 0.15 * v) {
            return true;
        }
    }
    return false;
}

} // namespace

ProfileReading read_profile(const profiles::DeviceProfile& profile, const modbus::ReadPlan& plan,
                            const RegisterReader& read, std::size_t give_up_after) {
    ProfileReading out;
    out.values.resize(profile.points.size());
    std::vector<std::uint16_t> registers;
    for (const auto& request : plan.requests) {
        if (out.requests_failed >= give_up_after) {
            ++out.requests_skipped;
            continue;
        }
        registers.assign(request.count, 0);
        if (auto ec = read(request.function, request.start, registers)) {
            ++out.requests_failed;
            if (!out.first_error) {
                out.first_error = ec;
            }
            continue;
        }
        ++out.requests_ok;
        modbus::decode_request(profile.points, request, registers, out.values);
    }
    return out;
}

ProfileMatch judge(const profiles::DeviceProfile& profile, const ProfileReading& reading) {
    ProfileMatch match;
    if (reading.requests_failed > 0 || reading.requests_ok == 0) {
        match.reason = std::to_string(reading.requests_failed) + " of " +
                       std::to_string(reading.requests_failed + reading.requests_ok) +
                       " requests tried failed" +
                       (reading.first_error ? " (" + reading.first_error.message() + ")" : "") +
                       (reading.requests_skipped > 0
                            ? ", " + std::to_string(reading.requests_skipped) + " not tried"
                            : "");
        return match;
    }
    // AC devices show a mains voltage; DC ones (a battery, a wind controller) do not.
    const bool ac = profile.device_role != profiles::DeviceRole::battery &&
                    profile.device_role != profiles::DeviceRole::wind_turbine;
    int ranged_ok = 0;
    int voltage_points = 0;
    int mains = 0;
    for (std::size_t i = 0; i < profile.points.size(); ++i) {
        const auto& point = profile.points[i];
        const auto& value = reading.values[i];
        if (value.quality == modbus::Quality::implausible) {
            match.reason = point.name + " = " + std::to_string(value.value) + " " + point.unit +
                           " is outside its plausible range";
            return match;
        }
        if (value.quality == modbus::Quality::ok && (point.min || point.max)) {
            ++ranged_ok;
        }
        if (ac && point.unit == "V" && point.type != modbus::DataType::sunssf) {
            ++voltage_points;
            if (value.quality == modbus::Quality::ok && near_mains(value.value)) {
                ++mains;
            }
        }
    }
    if (voltage_points > 0 && mains == 0) {
        match.reason = "no voltage near a mains voltage";
        return match;
    }
    if (ranged_ok == 0) {
        match.reason = "no point with a plausible range decoded";
        return match;
    }
    match.matches = true;
    match.score = ranged_ok + 5 * mains;
    match.reason = std::to_string(ranged_ok) + " points plausible" +
                   (mains > 0 ? ", " + std::to_string(mains) + " mains voltages" : "");
    return match;
}

} // namespace greenrack::scan
