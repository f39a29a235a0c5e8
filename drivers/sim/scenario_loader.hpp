#pragma once

#include "drivers/common/config_error.hpp"
#include "drivers/sim/scenario.hpp"

#include <functional>
#include <memory>
#include <string_view>

namespace greenrack::sim {

// Finds a device profile by name; `where` is the location of the `profile = ...` value (for the
// error when it does not exist). main passes profiles::find_profile over the --profiles dirs;
// tests pass profiles built in code.
using ProfileResolver = std::function<std::shared_ptr<const profiles::DeviceProfile>(
    std::string_view name, const common::SourceLocation& where)>;

// Parses and validates a scenario (format: drivers/sim/README.md); source_name is the file name
// used in messages. Throws common::ConfigError ("file:line:column: message") on the first
// problem. Pure: no file access (main reads the file), the only outside call is the resolver.
Scenario parse_scenario(std::string_view toml_text, std::string_view source_name,
                        const ProfileResolver& resolve_profile);

} // namespace greenrack::sim
