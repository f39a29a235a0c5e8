#pragma once

#include "drivers/modbus/transport.hpp"
#include "drivers/profiles/profile.hpp"
#include "tools/scan/found_device.hpp"
#include "tools/scan/profile_match.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace greenrack::scan {

struct ScanOptions {
    int first_unit = 1;
    int last_unit = 247;
    std::chrono::milliseconds response_timeout{300};
    std::chrono::milliseconds connect_timeout{2'000};
};

// One shipped profile with its read plan.
struct CandidateProfile {
    std::shared_ptr<const profiles::DeviceProfile> profile;
    modbus::ReadPlan plan;
};

// Every <name>.toml in `dirs` that loads and plans (the first of a name wins, like the daemon's
// search order); the ones that do not are reported through `warn`.
std::vector<CandidateProfile> load_candidates(const std::vector<std::filesystem::path>& dirs,
                                              const std::function<void(std::string)>& warn);

// The best matching candidate for what `read` answers, or nullopt (pure given the reader).
struct BestMatch {
    const CandidateProfile* candidate = nullptr;
    ProfileReading reading;
    ProfileMatch match;
};
std::optional<BestMatch> best_profile(const std::vector<CandidateProfile>& candidates,
                                      const RegisterReader& read);

// Scans the unit ids of one bus (reads only: functions 03 and 04). For each unit: SunSpec
// discovery, then every candidate profile's plan judged for plausibility. A unit that answers
// nothing costs one response timeout. `progress(unit)` is called before each unit.
class Scanner {
public:
    Scanner(modbus::Endpoint endpoint, ScanOptions options,
            std::vector<CandidateProfile> candidates);

    // Opens the link; returns the error when it cannot.
    std::error_code open();
    std::vector<FoundDevice> scan(const std::function<void(int unit)>& progress);
    // One unit, for --inspect: what was found and the best profile's full reading.
    std::optional<FoundDevice> probe(int unit, std::optional<BestMatch>* best = nullptr);

    // Every candidate's verdict for one unit (for --inspect: why nothing matched).
    std::vector<std::pair<std::string, ProfileMatch>> verdicts(int unit);

    const std::vector<CandidateProfile>& candidates() const { return candidates_; }

private:
    RegisterReader reader(int unit);

    modbus::ModbusLink link_;
    ScanOptions options_;
    std::vector<CandidateProfile> candidates_;
};

} // namespace greenrack::scan
