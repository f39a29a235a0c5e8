#pragma once

#include "daemon/config/config.hpp"

#include <string_view>

namespace greenrack::config {

// The part of `site` that the daemon of one fleet shard polls: its devices and their buses, the
// racks (all of them, in the site's order) with only the shard's members, and the accounting
// sources among its devices. Pure.
Config shard_view(const Config& site, std::string_view shard);

// The config a daemon runs with for its [fleet] role: single: `site` unchanged; shard: its
// shard_view; aggregator: no devices, buses or rack members (the accounting source lists keep
// their ids, so the site's sources stay known). fleet.site then holds the whole site. Pure.
Config role_view(const Config& site);

} // namespace greenrack::config
