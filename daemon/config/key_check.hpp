#pragma once

#include "drivers/common/toml_reader.hpp"

#include <initializer_list>
#include <span>
#include <string_view>

namespace greenrack::config {

// Rejects the first key (in file order) of `reader` that is not one of `known`, suggesting the
// closest known key when it looks like a typo (throws common::ConfigError). Run before a table
// is read, so that a misspelt required key is reported as misspelt rather than missing.
// (TableReader::reject_unknown_keys() runs again after reading, as a check that every key
// present was read.)
void check_keys(const common::TableReader& reader, std::span<const std::string_view> known);
void check_keys(const common::TableReader& reader, std::initializer_list<std::string_view> known);

} // namespace greenrack::config
