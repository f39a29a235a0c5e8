#include "daemon/core/alerts/alert_engine.hpp"
#include "daemon/core/alerts/builtin_rules.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::alerts;

namespace {

constexpr std::int64_t t0 = 1'790'000'000'000;
constexpr std::int64_t tick = 5'000;

const RuleSpec& find_rule(const std::vector<RuleSpec>& rules, std::string_view name) {
    for (const auto& rule : rules) {
        if (rule.name == name) {
            return rule;
        }
    }
    FAIL("no built-in rule " << name);
    return rules.front();
}

// Runs one built-in rule alone over `ticks` evaluations of the same observation and returns
// the tick index at which it fired (-1: never).
int fires_at(std::string_view name, const Observations& base, int ticks) {
    AlertEngine engine("qh", {find_rule(builtin_rules(), name)});
    for (int i = 0; i < ticks; ++i) {
        Observations obs = base;
        obs.now_ms = t0 + i * tick;
        for (const auto& event : engine.evaluate(obs)) {
            if (event.to == AlertState::firing) {
                return i;
            }
        }
    }
    return -1;
}

Observations site(Values values) {
    Observations obs;
    obs.site = std::vector<SubjectValues>{{"qh", std::move(values)}};
    return obs;
}

} // namespace

TEST_CASE("the built-in rules are valid, unique, enabled and documented names") {
    const auto rules = builtin_rules();
    std::vector<std::string> names;
    for (const auto& rule : rules) {
        CAPTURE(rule.name);
        CHECK_FALSE(validate_rule(rule));
        CHECK(rule.builtin);
        CHECK(rule.enabled);
        CHECK_FALSE(rule.summary.empty());
        names.push_back(rule.name);
    }
    CHECK(names == std::vector<std::string>{"rack_nongreen", "site_nongreen", "site_coverage_low",
                                            "device_stale", "data_gap", "balance_residual",
                                            "spool_dropping", "spool_filling",
                                            "battery_green_low"});
    CHECK_NOTHROW(AlertEngine("qh", rules));
}

TEST_CASE("rack_nongreen fires after 60 s of a rack above 500 W non-green") {
    Observations obs;
    obs.racks = std::vector<SubjectValues>{{"r1", {{"nongreen_w", 800.0}, {"coverage", 0.6}}},
                                           {"r2", {{"nongreen_w", 100.0}}}};
    CHECK(fires_at("rack_nongreen", obs, 20) == 12); // 60 s / 5 s ticks
    obs.racks->front().values["nongreen_w"] = 400.0;
    CHECK(fires_at("rack_nongreen", obs, 20) == -1);
}

TEST_CASE("site_nongreen fires after 60 s of more than 1 kW non-green") {
    CHECK(fires_at("site_nongreen", site({{"nongreen_w", 5000.0}}), 20) == 12);
    CHECK(fires_at("site_nongreen", site({{"nongreen_w", 900.0}}), 20) == -1);
}

TEST_CASE("site_coverage_low fires after 5 min below 90 percent coverage") {
    CHECK(fires_at("site_coverage_low", site({{"coverage", 0.85}}), 70) == 60);
    CHECK(fires_at("site_coverage_low", site({{"coverage", 0.92}}), 70) == -1);
}

TEST_CASE("device_stale fires after 30 s without a good reading") {
    Observations obs;
    obs.devices = std::vector<SubjectValues>{{"pv1", {{"stale", 1.0}, {"up", 0.0}}},
                                             {"pv2", {{"stale", 0.0}, {"up", 1.0}}}};
    CHECK(fires_at("device_stale", obs, 10) == 6);
    obs.devices->front().values["stale"] = 0.0;
    CHECK(fires_at("device_stale", obs, 10) == -1);
}

TEST_CASE("data_gap fires after 60 s without green figures") {
    CHECK(fires_at("data_gap", site({{"data_gap", 1.0}}), 20) == 12);
    CHECK(fires_at("data_gap", site({{"data_gap", 0.0}}), 20) == -1);
}

TEST_CASE("balance_residual fires after 5 min of a residual above 5 percent of the load") {
    CHECK(fires_at("balance_residual",
                   site({{"balance_residual_ratio", 0.08}, {"balance_residual_w", 800.0}}),
                   70) == 60);
    CHECK(fires_at("balance_residual", site({{"balance_residual_ratio", 0.01}}), 70) == -1);
}

TEST_CASE("spool_dropping fires at the first evaluation that sees dropped records") {
    CHECK(
        fires_at(
            "spool_dropping",
            site({{"spool_dropped_recent", 3.0}, {"spool_fill", 1.0}, {"spool_backlog_s", 600.0}}),
            5) == 0);
    CHECK(fires_at("spool_dropping", site({{"spool_dropped_recent", 0.0}, {"spool_fill", 1.0}}),
                   20) == -1);
}

TEST_CASE("spool_dropping resolves once the window holds no drop") {
    AlertEngine engine("qh", {find_rule(builtin_rules(), "spool_dropping")});
    Observations obs = site({{"spool_dropped_recent", 2.0}, {"spool_fill", 1.0}});
    obs.now_ms = t0;
    REQUIRE(engine.evaluate(obs).size() == 1);
    REQUIRE(engine.statuses().front().state == AlertState::firing);
    obs = site({{"spool_dropped_recent", 0.0}, {"spool_fill", 0.2}});
    obs.now_ms = t0 + tick;
    const auto events = engine.evaluate(obs);
    REQUIRE(events.size() == 1);
    CHECK(events.front().to == AlertState::resolved);
}

TEST_CASE("spool_filling warns after 60 s above 80 percent and clears below 50 percent") {
    CHECK(fires_at("spool_filling", site({{"spool_fill", 0.85}, {"spool_backlog_s", 900.0}}), 20) ==
          12);
    CHECK(fires_at("spool_filling", site({{"spool_fill", 0.75}}), 20) == -1);
    const auto rules = builtin_rules();
    const auto& rule = find_rule(rules, "spool_filling");
    REQUIRE(rule.clear_threshold);
    CHECK(*rule.clear_threshold == 0.5);
}

TEST_CASE("battery_green_low fires only while the battery discharges") {
    Observations obs;
    obs.battery = std::vector<SubjectValues>{
        {"battery", {{"green_fraction", 0.3}, {"discharge_w", 20'000.0}}}};
    CHECK(fires_at("battery_green_low", obs, 20) == 12);
    obs.battery->front().values["discharge_w"] = 0.0;
    CHECK(fires_at("battery_green_low", obs, 20) == -1);
    obs.battery->front().values = {{"green_fraction", 0.9}, {"discharge_w", 20'000.0}};
    CHECK(fires_at("battery_green_low", obs, 20) == -1);
}
