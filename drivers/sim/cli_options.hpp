#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenrack::sim {

// Command line of greenrack-sim (see cli_help()).
struct CliOptions {
    std::filesystem::path scenario;
    std::vector<std::filesystem::path> profile_dirs; // empty = <scenario dir>/../profiles
    std::optional<std::uint64_t> seed;
    std::optional<double> speed;
    bool freeze = false;
    std::string bind = "127.0.0.1";
    std::optional<std::filesystem::path> snapshot;
    std::optional<std::filesystem::path> ready_file;
    bool stats = false;
    bool help = false;
    bool version = false;
};

// A usage error (main prints it with the help hint and exits 64).
class CliError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses argv; --help / --version set their flags and skip the other checks. Throws CliError.
CliOptions parse_cli(int argc, const char* const* argv);

std::string cli_help();

// The profile directories to search: the --profiles values, or <scenario dir>/../profiles.
std::vector<std::filesystem::path> profile_search_dirs(const CliOptions& options);

} // namespace greenrack::sim
