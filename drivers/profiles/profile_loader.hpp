#pragma once

#include "drivers/common/config_error.hpp"
#include "drivers/profiles/profile.hpp"

#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

namespace greenrack::profiles {

// Parses and validates a device profile (format: config/profiles/README.md). Throws
// common::ConfigError with file:line:column on any problem. source_name is used in messages
// and as the profile name's expected file stem.
DeviceProfile parse_profile(std::string_view toml_text, std::string_view source_name);
DeviceProfile load_profile_file(const std::filesystem::path& path);

// Finds "<name>.toml" in the directories, in order, and loads it. Throws ConfigError (at
// `where`) naming the directories searched when none has it.
std::shared_ptr<const DeviceProfile> find_profile(std::string_view name,
                                                  std::span<const std::filesystem::path> dirs,
                                                  const common::SourceLocation& where);

} // namespace greenrack::profiles
