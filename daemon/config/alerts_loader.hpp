#pragma once

#include "daemon/config/config.hpp"
#include "drivers/common/toml_reader.hpp"

namespace greenrack::config {

// Reads [alerts] (with [alerts.builtin.<name>] overrides), the [[alert]] rules and
// [alertmanager] into `config`. Racks and devices must be loaded already (rule subjects are
// checked against them). `alerts`, `rules` and `alertmanager` are the sections (an empty table
// when absent). Throws common::ConfigError located at the offending value.
void load_alerts(const common::TableReader& alerts, const std::vector<common::TableReader>& rules,
                 const common::TableReader& alertmanager, Config& config);

} // namespace greenrack::config
