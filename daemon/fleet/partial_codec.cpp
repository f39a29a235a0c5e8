#include "daemon/fleet/partial_codec.hpp"

#include "daemon/core/accounting/state_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

namespace greenrack::fleet {

namespace {

constexpr int format_version = 1;

using accounting::Energy;
using nlohmann::json;

json energy_json(const Energy& energy) {
    return json{{"wh", energy.wh}, {"q", accounting::to_string(energy.quality)}};
}

Energy energy_from(const json& value) {
    Energy energy;
    energy.wh = value.at("wh").get<double>();
    energy.quality = accounting::source_quality_from_string(value.at("q").get<std::string>());
    if (!std::isfinite(energy.wh) || energy.wh < 0.0) {
        throw std::invalid_argument("energy must be a finite number >= 0");
    }
    return energy;
}

struct Field {
    const char* name;
    std::optional<Energy> accounting::PartialInputs::*member;
};

constexpr Field fields[] = {
    {"pv", &accounting::PartialInputs::pv},
    {"wind", &accounting::PartialInputs::wind},
    {"discharge", &accounting::PartialInputs::discharge},
    {"charge", &accounting::PartialInputs::charge},
    {"grid_import", &accounting::PartialInputs::grid_import},
    {"grid_export", &accounting::PartialInputs::grid_export},
    {"load", &accounting::PartialInputs::load},
};

} // namespace

std::string encode_part(const PartMessage& message, const std::vector<std::string>& rack_ids) {
    const auto& part = message.part;
    json out{{"v", format_version},     {"site", message.site},        {"shard", message.shard},
             {"seq", message.seq},      {"tick_start", part.start_ms}, {"tick_ms", message.tick_ms},
             {"sent", message.sent_ms}, {"flags", part.flags}};
    json sources = json::object();
    for (const Field& field : fields) {
        if (const auto& energy = part.*field.member) {
            sources[field.name] = energy_json(*energy);
        }
    }
    out["sources"] = std::move(sources);
    json racks = json::object();
    for (std::size_t r = 0; r < part.rack_it.size() && r < rack_ids.size(); ++r) {
        if (part.rack_it[r]) {
            racks[rack_ids[r]] = energy_json(*part.rack_it[r]);
        }
    }
    out["racks"] = std::move(racks);
    if (part.has_battery) {
        json battery = json::object();
        battery["stored_wh"] = part.battery_stored_wh ? json(*part.battery_stored_wh) : json();
        battery["max_discharge_w"] =
            part.battery_max_discharge_w ? json(*part.battery_max_discharge_w) : json();
        out["battery"] = std::move(battery);
    }
    return out.dump();
}

DecodedPart decode_part(std::string_view payload, const std::vector<std::string>& rack_ids) {
    DecodedPart result;
    try {
        const json in = json::parse(payload);
        if (!in.is_object()) {
            throw std::invalid_argument("not a JSON object");
        }
        if (in.value("v", 0) != format_version) {
            throw std::invalid_argument("unsupported format version " +
                                        in.value("v", json()).dump());
        }
        PartMessage message;
        message.site = in.at("site").get<std::string>();
        message.shard = in.at("shard").get<std::string>();
        message.seq = in.at("seq").get<std::uint64_t>();
        message.tick_ms = in.at("tick_ms").get<std::int64_t>();
        message.sent_ms = in.value("sent", std::int64_t{0});
        auto& part = message.part;
        part.start_ms = in.at("tick_start").get<std::int64_t>();
        part.flags = in.value("flags", std::uint32_t{0});
        if (message.tick_ms <= 0 || part.start_ms < 0 || part.start_ms % message.tick_ms != 0 ||
            static_cast<std::uint64_t>(part.start_ms / message.tick_ms) != message.seq) {
            throw std::invalid_argument("seq " + std::to_string(message.seq) +
                                        " does not match tick_start / tick_ms");
        }
        const json& sources = in.at("sources");
        for (auto it = sources.begin(); it != sources.end(); ++it) {
            bool known = false;
            for (const Field& field : fields) {
                if (it.key() == field.name) {
                    part.*field.member = energy_from(it.value());
                    known = true;
                }
            }
            if (!known) {
                throw std::invalid_argument("unknown source \"" + it.key() + "\"");
            }
        }
        std::unordered_map<std::string, std::size_t> index;
        for (std::size_t r = 0; r < rack_ids.size(); ++r) {
            index.emplace(rack_ids[r], r);
        }
        part.rack_it.assign(rack_ids.size(), std::nullopt);
        const json& racks = in.at("racks");
        for (auto it = racks.begin(); it != racks.end(); ++it) {
            auto found = index.find(it.key());
            if (found == index.end()) {
                throw std::invalid_argument("rack \"" + it.key() + "\" is not in this site");
            }
            part.rack_it[found->second] = energy_from(it.value());
        }
        if (auto battery = in.find("battery"); battery != in.end()) {
            part.has_battery = true;
            const json& stored = battery->at("stored_wh");
            const json& max_discharge = battery->at("max_discharge_w");
            if (!stored.is_null()) {
                part.battery_stored_wh = stored.get<double>();
            }
            if (!max_discharge.is_null()) {
                part.battery_max_discharge_w = max_discharge.get<double>();
            }
        }
        result.message = std::move(message);
    } catch (const std::exception& err) {
        result.error = err.what();
    }
    return result;
}

} // namespace greenrack::fleet
