// Engine persistence: save_state() / restore_state() (see engine.hpp).

#include "daemon/core/accounting/engine.hpp"

#include "daemon/core/accounting/state_json.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

namespace greenrack::accounting {

namespace {

constexpr const char* state_format = "greenrack-accounting-state";
constexpr int state_version = 1;

nlohmann::json rack_ids(const AccountingSettings& settings) {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& rack : settings.racks) {
        ids.push_back(rack.id);
    }
    return ids;
}

void require(bool condition, const std::string& message) {
    if (!condition) {
        throw std::invalid_argument("accounting state does not match the settings: " + message);
    }
}

} // namespace

nlohmann::json Engine::save_state() const {
    return {{"format", state_format},
            {"version", state_version},
            {"tick_ms", settings_.tick.count()},
            {"battery_model", to_string(settings_.battery_model)},
            {"racks", rack_ids(settings_)},
            {"last_tick_ms", last_tick_ms_},
            {"totals", totals_to_json(totals_)},
            {"battery", store_.to_json()},
            {"rollups", rollups_.to_json()}};
}

void Engine::restore_state(const nlohmann::json& state) {
    try {
        if (!state.is_object() || state.value("format", std::string()) != state_format) {
            throw std::invalid_argument("not a greenrack accounting state");
        }
        if (state.at("version").get<int>() != state_version) {
            throw std::invalid_argument("unsupported accounting state version " +
                                        state.at("version").dump());
        }
        require(state.at("tick_ms").get<std::int64_t>() == settings_.tick.count(),
                "it was saved with tick " + state.at("tick_ms").dump() + " ms, settings have " +
                    std::to_string(settings_.tick.count()) + " ms");
        require(state.at("battery_model").get<std::string>() == to_string(settings_.battery_model),
                "it was saved with battery model " + state.at("battery_model").dump() +
                    ", settings have \"" + std::string(to_string(settings_.battery_model)) + "\"");
        require(state.at("racks") == rack_ids(settings_),
                "it was saved with racks " + state.at("racks").dump() + ", settings have " +
                    rack_ids(settings_).dump());

        Totals totals = totals_from_json(state.at("totals"));
        require(totals.racks.size() == settings_.racks.size(), "rack totals do not match");
        Battery store = store_;
        store.load_json(state.at("battery"));
        RollupBook rollups = rollups_;
        rollups.load_json(state.at("rollups"));
        const std::int64_t last_tick = state.at("last_tick_ms").get<std::int64_t>();

        totals_ = std::move(totals);
        store_ = std::move(store);
        rollups_ = std::move(rollups);
        last_tick_ms_ = last_tick;
        battery_ = store_.status();
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("accounting state is malformed: ") + e.what());
    }
}

nlohmann::json remap_state_racks(nlohmann::json state, const std::vector<std::string>& rack_ids,
                                 std::vector<std::string>* dropped) {
    try {
        const nlohmann::json& saved_ids = state.at("racks");
        if (!saved_ids.is_array()) {
            return state;
        }
        std::vector<std::string> before;
        for (const auto& id : saved_ids) {
            before.push_back(id.get<std::string>());
        }
        if (before == rack_ids) {
            return state;
        }
        // new index -> old index (or none)
        std::vector<std::optional<std::size_t>> from(rack_ids.size());
        for (std::size_t i = 0; i < rack_ids.size(); ++i) {
            for (std::size_t j = 0; j < before.size(); ++j) {
                if (before[j] == rack_ids[i]) {
                    from[i] = j;
                }
            }
        }
        if (dropped != nullptr) {
            for (const auto& id : before) {
                if (std::find(rack_ids.begin(), rack_ids.end(), id) == rack_ids.end()) {
                    dropped->push_back(id);
                }
            }
        }
        const nlohmann::json zero = rack_totals_to_json(RackTotals{});
        auto remap = [&](nlohmann::json& racks) {
            if (!racks.is_array() || racks.size() != before.size()) {
                return; // left for restore_state() to reject
            }
            nlohmann::json out = nlohmann::json::array();
            for (const auto& j : from) {
                out.push_back(j ? racks.at(*j) : zero);
            }
            racks = std::move(out);
        };
        remap(state.at("totals").at("racks"));
        for (auto& open : state.at("rollups").at("open")) {
            remap(open.at("racks"));
        }
        state["racks"] = rack_ids;
    } catch (const nlohmann::json::exception&) {
        // A malformed state is returned as it is: restore_state() says what is wrong.
    }
    return state;
}

} // namespace greenrack::accounting
