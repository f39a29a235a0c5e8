#pragma once

#include "daemon/core/accounting/partial_inputs.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::fleet {

// One shard's part of one accounting tick as published on <prefix>/<site>/fleet/part/<shard>
// (QoS 1, not retained; docs/fleet.md has the format). seq is the tick number,
// start_ms / tick_ms: it needs no stored state, survives restarts, and a gap in it is a tick the
// shard did not send.
struct PartMessage {
    std::string site;
    std::string shard;
    std::uint64_t seq = 0;
    std::int64_t tick_ms = 0;
    std::int64_t sent_ms = 0;
    accounting::PartialInputs part;
};

// JSON, racks by id (`rack_ids`: the site's racks in order, part.rack_it parallel to it; racks
// the part has nothing for are left out). Pure.
std::string encode_part(const PartMessage& message, const std::vector<std::string>& rack_ids);

struct DecodedPart {
    std::optional<PartMessage> message;
    std::string error; // why there is none: malformed JSON, wrong version, unknown rack, ...
};

// Decodes a part for a site whose racks are `rack_ids` (in the site's order): part.rack_it gets
// one entry per site rack. A rack id the site does not have, a bad quality name, a seq that does
// not match start and tick, or any malformed field is an error (the whole part is refused). Pure.
DecodedPart decode_part(std::string_view payload, const std::vector<std::string>& rack_ids);

} // namespace greenrack::fleet
