#include "tools/scan/scanner.hpp"

#include "drivers/common/config_error.hpp"
#include "drivers/profiles/profile_loader.hpp"
#include "drivers/sunspec/link_reader.hpp"

#include <algorithm>
#include <set>

namespace greenrack::scan {

std::vector<CandidateProfile> load_candidates(const std::vector<std::filesystem::path>& dirs,
                                              const std::function<void(std::string)>& warn) {
    std::vector<CandidateProfile> out;
    std::set<std::string> seen;
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) {
            continue;
        }
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".toml") {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            if (!seen.insert(file.stem().string()).second) {
                continue;
            }
            try {
                auto profile = std::make_shared<const profiles::DeviceProfile>(
                    profiles::load_profile_file(file));
                modbus::PlanOptions options;
                options.max_registers = profile->max_registers;
                options.max_gap = profile->max_gap;
                options.even_alignment = profile->even_alignment;
                auto plan = modbus::plan_reads(profile->points, options);
                if (const auto* error = std::get_if<modbus::PlanError>(&plan)) {
                    warn(file.string() + ": " + error->message);
                    continue;
                }
                out.push_back({std::move(profile), std::get<modbus::ReadPlan>(std::move(plan))});
            } catch (const std::exception& err) {
                warn(err.what());
            }
        }
    }
    return out;
}

std::optional<BestMatch> best_profile(const std::vector<CandidateProfile>& candidates,
                                      const RegisterReader& read) {
    std::optional<BestMatch> best;
    for (const auto& candidate : candidates) {
        ProfileReading reading = read_profile(*candidate.profile, candidate.plan, read);
        ProfileMatch match = judge(*candidate.profile, reading);
        if (match.matches && (!best || match.score > best->match.score)) {
            best = BestMatch{&candidate, std::move(reading), std::move(match)};
        }
    }
    return best;
}

Scanner::Scanner(modbus::Endpoint endpoint, ScanOptions options,
                 std::vector<CandidateProfile> candidates)
    : link_(std::move(endpoint)), options_(options), candidates_(std::move(candidates)) {}

std::error_code Scanner::open() {
    return link_.open(options_.connect_timeout);
}

RegisterReader Scanner::reader(int unit) {
    return [this, unit](modbus::RegisterKind kind, std::uint16_t start,
                        std::span<std::uint16_t> out) -> std::error_code {
        if (!link_.is_open()) {
            if (auto ec = link_.open(options_.connect_timeout)) {
                return ec;
            }
        }
        auto ec = link_.read(unit, kind, start, out, options_.response_timeout);
        if (ec == modbus::ModbusErrc::timeout) {
            link_.flush(); // a late answer must not be taken for the next one
        } else if (ec && modbus::is_link_failure(ec)) {
            link_.close(); // reopened by the next read
        }
        return ec;
    };
}

std::optional<FoundDevice> Scanner::probe(int unit, std::optional<BestMatch>* best_out) {
    // Is anything there? One register at 40000: data or any exception but a gateway's "no
    // such target" is an answer; a timeout or 0A/0B means nothing answers at this unit.
    std::uint16_t first[1] = {0};
    const auto ec = reader(unit)(modbus::RegisterKind::holding, 40000, first);
    if (ec == modbus::ModbusErrc::timeout || ec == modbus::ModbusErrc::gateway_path_unavailable ||
        ec == modbus::ModbusErrc::gateway_target_failed || (ec && !modbus::is_exception(ec))) {
        return std::nullopt;
    }

    FoundDevice found;
    found.unit_id = unit;
    auto discovered =
        sunspec::discover(sunspec::make_link_reader(link_, unit, options_.response_timeout));
    if (auto* map = std::get_if<sunspec::Discovery>(&discovered)) {
        found.sunspec = std::move(*map);
    }
    auto best = best_profile(candidates_, reader(unit));
    if (best) {
        found.profile = best->candidate->profile->name;
        found.role = best->candidate->profile->device_role;
        found.evidence = found.profile + ": " + best->match.reason;
    }
    if (best_out != nullptr) {
        *best_out = std::move(best);
    }
    return found;
}

std::vector<std::pair<std::string, ProfileMatch>> Scanner::verdicts(int unit) {
    std::vector<std::pair<std::string, ProfileMatch>> out;
    for (const auto& candidate : candidates_) {
        out.emplace_back(candidate.profile->name,
                         judge(*candidate.profile,
                               read_profile(*candidate.profile, candidate.plan, reader(unit))));
    }
    return out;
}

std::vector<FoundDevice> Scanner::scan(const std::function<void(int unit)>& progress) {
    std::vector<FoundDevice> out;
    for (int unit = options_.first_unit; unit <= options_.last_unit; ++unit) {
        if (progress) {
            progress(unit);
        }
        if (auto found = probe(unit)) {
            out.push_back(std::move(*found));
        }
    }
    return out;
}

} // namespace greenrack::scan
