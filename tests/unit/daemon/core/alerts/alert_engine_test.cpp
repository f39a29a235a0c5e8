#include "daemon/core/alerts/alert_engine.hpp"
#include "daemon/core/alerts/builtin_rules.hpp"
#include "daemon/core/alerts/cause_tracker.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::alerts;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t t0 = 1'790'000'000'000; // any UTC ms
constexpr std::int64_t tick = 5'000;

RuleSpec site_rule(double threshold, std::optional<double> clear, milliseconds for_duration,
                   milliseconds clear_for) {
    RuleSpec rule;
    rule.name = "grid";
    rule.scope = Scope::site;
    rule.condition = {"nongreen_w", Comparator::gt, threshold};
    rule.clear_threshold = clear;
    rule.for_duration = for_duration;
    rule.clear_for = clear_for;
    rule.summary = "{subject} draws {value:.0f} W";
    return rule;
}

Observations site_obs(std::int64_t now, std::optional<double> nongreen) {
    Observations obs;
    obs.now_ms = now;
    SubjectValues site{"qh", {}};
    if (nongreen) {
        site.values["nongreen_w"] = *nongreen;
    }
    obs.site = std::vector<SubjectValues>{site};
    return obs;
}

// Feeds one value per tick and returns every event, in order.
std::vector<AlertEvent> run(AlertEngine& engine, const std::vector<std::optional<double>>& values,
                            std::int64_t start = t0) {
    std::vector<AlertEvent> all;
    for (std::size_t i = 0; i < values.size(); ++i) {
        auto events =
            engine.evaluate(site_obs(start + static_cast<std::int64_t>(i) * tick, values[i]));
        all.insert(all.end(), events.begin(), events.end());
    }
    return all;
}

std::vector<std::string> transitions(const std::vector<AlertEvent>& events) {
    std::vector<std::string> out;
    for (const auto& event : events) {
        out.push_back(std::string(to_string(event.from)) + ">" + std::string(to_string(event.to)) +
                      "@" + std::to_string((event.ts_ms - t0) / tick));
    }
    return out;
}

} // namespace

TEST_CASE("a breach becomes pending at once and fires when it has held for the for duration") {
    AlertEngine engine("qh", {site_rule(1000, std::nullopt, 20s, 0s)});
    // 20 s = 4 ticks: pending at tick 1, firing at tick 5.
    auto events = run(engine, {0, 1500, 1500, 1500, 1500, 1500, 1500});
    CHECK(transitions(events) ==
          std::vector<std::string>{"inactive>pending@1", "pending>firing@5"});
    REQUIRE(events.size() == 2);
    CHECK(events[1].status.active_at_ms == t0 + tick);
    CHECK(events[1].status.fired_at_ms == t0 + 5 * tick);
    CHECK(events[1].status.summary == "qh draws 1500 W");
    CHECK(events[1].status.labels.at("site") == "qh");
}

TEST_CASE("a pending alert that stops breaching goes back to inactive without firing") {
    AlertEngine engine("qh", {site_rule(1000, 200.0, 20s, 0s)});
    auto events = run(engine, {1500, 1500, 900, 1500, 1500, 1500, 1500, 1500});
    // No hysteresis before firing: 900 (between the clear and trigger thresholds) ends pending.
    CHECK(transitions(events) ==
          std::vector<std::string>{"inactive>pending@0", "pending>inactive@2", "inactive>pending@3",
                                   "pending>firing@7"});
}

TEST_CASE("a firing alert does not flap while the value oscillates around the threshold") {
    AlertEngine engine("qh", {site_rule(1000, 200.0, 10s, 15s)});
    std::vector<std::optional<double>> values{1500, 1500, 1500};
    for (int i = 0; i < 40; ++i) {
        values.push_back(i % 2 == 0 ? 950.0 : 1050.0); // around the trigger threshold
    }
    auto events = run(engine, values);
    CHECK(transitions(events) ==
          std::vector<std::string>{"inactive>pending@0", "pending>firing@2"});
}

TEST_CASE("brief dips below the clear threshold shorter than clear_for do not resolve") {
    AlertEngine engine("qh", {site_rule(1000, 200.0, 0s, 15s)});
    // clear_for 15 s = 3 ticks: two ticks below 200, a relapse, then three below: resolved.
    auto events = run(engine, {1500, 100, 100, 300, 100, 100, 100, 100});
    CHECK(transitions(events) ==
          std::vector<std::string>{"inactive>firing@0", "firing>resolved@7"});
    REQUIRE(events.size() == 2);
    CHECK(events[1].status.resolved_at_ms == t0 + 7 * tick);
    CHECK(events[1].status.fired_at_ms == t0);
}

TEST_CASE("a resolved alert can fire again, one event per transition") {
    AlertEngine engine("qh", {site_rule(1000, std::nullopt, 0s, 0s)});
    auto events = run(engine, {1500, 500, 1500, 1500, 500});
    CHECK(transitions(events) == std::vector<std::string>{"inactive>firing@0", "firing>resolved@1",
                                                          "resolved>firing@2",
                                                          "firing>resolved@4"});
}

TEST_CASE("without a clear threshold the trigger threshold clears the alert") {
    AlertEngine engine("qh", {site_rule(1000, std::nullopt, 0s, 0s)});
    // > 1000 fires; exactly 1000 no longer satisfies "> 1000": cleared.
    auto events = run(engine, {1001, 1000});
    CHECK(transitions(events) ==
          std::vector<std::string>{"inactive>firing@0", "firing>resolved@1"});
}

TEST_CASE("every comparator triggers and clears on its own side") {
    struct Case {
        Comparator op;
        double threshold;
        double clear;
        double breach;
        double between;
        double good;
    };
    for (const Case& c :
         {Case{Comparator::gt, 10, 5, 11, 7, 4}, Case{Comparator::ge, 10, 5, 10, 7, 4},
          Case{Comparator::lt, 10, 15, 9, 12, 16}, Case{Comparator::le, 10, 15, 10, 12, 16}}) {
        CAPTURE(to_string(c.op));
        RuleSpec rule = site_rule(c.threshold, c.clear, 0s, 0s);
        rule.condition.op = c.op;
        AlertEngine engine("qh", {rule});
        auto events = run(engine, {c.between, c.breach, c.between, c.good});
        CHECK(transitions(events) ==
              std::vector<std::string>{"inactive>firing@1", "firing>resolved@3"});
    }
}

TEST_CASE("missing values keep the state by default, or count as ok or alerting") {
    SECTION("keep: a data gap neither fires nor resolves") {
        AlertEngine engine("qh", {site_rule(1000, std::nullopt, 10s, 0s)});
        auto events = run(engine, {1500, std::nullopt, std::nullopt, std::nullopt, 1500});
        CHECK(transitions(events) ==
              std::vector<std::string>{"inactive>pending@0", "pending>firing@4"});
        auto after = run(engine, {std::nullopt, std::nullopt}, t0 + 5 * tick);
        CHECK(after.empty());
        CHECK(engine.active().size() == 1);
    }
    SECTION("ok: a gap counts as not breaching") {
        RuleSpec rule = site_rule(1000, std::nullopt, 0s, 0s);
        rule.missing = MissingPolicy::ok;
        AlertEngine engine("qh", {rule});
        auto events = run(engine, {1500, std::nullopt});
        CHECK(transitions(events) ==
              std::vector<std::string>{"inactive>firing@0", "firing>resolved@1"});
    }
    SECTION("alerting: a gap counts as breaching") {
        RuleSpec rule = site_rule(1000, std::nullopt, 10s, 0s);
        rule.missing = MissingPolicy::alerting;
        AlertEngine engine("qh", {rule});
        auto events = run(engine, {std::nullopt, std::nullopt, std::nullopt});
        CHECK(transitions(events) ==
              std::vector<std::string>{"inactive>pending@0", "pending>firing@2"});
        CHECK(events.back().status.summary == "qh draws n/a W");
    }
}

TEST_CASE("a when guard that does not hold counts as not breaching and clears") {
    RuleSpec rule;
    rule.name = "battery_low";
    rule.scope = Scope::battery;
    rule.condition = {"green_fraction", Comparator::lt, 0.5};
    rule.when = Condition{"discharge_w", Comparator::gt, 100.0};
    AlertEngine engine("qh", {rule});
    auto obs = [](std::int64_t i, double fraction, double discharge) {
        Observations o;
        o.now_ms = t0 + i * tick;
        o.battery = std::vector<SubjectValues>{
            {"battery", {{"green_fraction", fraction}, {"discharge_w", discharge}}}};
        return o;
    };
    CHECK(engine.evaluate(obs(0, 0.2, 0)).empty()); // low fraction, idle: nothing
    auto fired = engine.evaluate(obs(1, 0.2, 5000));
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].to == AlertState::firing);
    CHECK(fired[0].status.subject == "battery");
    auto stopped = engine.evaluate(obs(2, 0.2, 0)); // stops discharging: resolved
    REQUIRE(stopped.size() == 1);
    CHECK(stopped[0].to == AlertState::resolved);
}

TEST_CASE("rack rules run per rack and respect the subject filter") {
    RuleSpec rule;
    rule.name = "rack_grid";
    rule.scope = Scope::rack;
    rule.condition = {"nongreen_w", Comparator::gt, 100};
    rule.subjects = {"r1", "r3"};
    rule.summary = "{subject}";
    AlertEngine engine("qh", {rule});
    Observations obs;
    obs.now_ms = t0;
    obs.racks = std::vector<SubjectValues>{
        {"r1", {{"nongreen_w", 500}}}, {"r2", {{"nongreen_w", 500}}}, {"r3", {{"nongreen_w", 50}}}};
    auto events = engine.evaluate(obs);
    REQUIRE(events.size() == 1);
    CHECK(events[0].status.subject == "r1");
    CHECK(events[0].status.labels.at("rack") == "r1");
    CHECK(engine.statuses().size() == 2); // r1 and r3 are tracked, r2 is filtered out
}

TEST_CASE("a scope that is not observed in an evaluation keeps its alerts as they are") {
    AlertEngine engine("qh", {site_rule(1000, std::nullopt, 0s, 0s)});
    run(engine, {1500});
    Observations devices_only;
    devices_only.now_ms = t0 + tick;
    devices_only.devices = std::vector<SubjectValues>{};
    CHECK(engine.evaluate(devices_only).empty());
    CHECK(engine.active().size() == 1);
}

TEST_CASE("site and rack alerts carry the cause and the live summary") {
    RuleSpec rule = site_rule(1000, std::nullopt, 0s, 0s);
    rule.summary = "{value:.0f} W non-green, top racks: {cause}, headroom {headroom_total_w:.0f} W";
    AlertEngine engine("qh", {rule});
    CauseTracker tracker(15min, 2);
    tracker.add(t0, {{"r1", 10.0}, {"r2", 30.0}, {"r3", 0.0}});
    tracker.add(t0 + tick, {{"r1", 0.0}, {"r2", 40.0}, {"r3", 20.0}});
    Observations obs = site_obs(t0 + tick, 4000);
    obs.site->front().values["headroom_total_w"] = 0.0;
    obs.cause = Cause{15min, tracker.top(t0 + tick), 0.0, 0.0, 0.0};
    auto events = engine.evaluate(obs);
    REQUIRE(events.size() == 1);
    const auto& cause = events[0].status.cause;
    REQUIRE(cause);
    REQUIRE(cause->racks.size() == 2);
    CHECK(cause->racks[0].rack == "r2");
    CHECK(cause->racks[0].nongreen_wh == Approx(70.0));
    CHECK(cause->racks[0].share == Approx(0.7));
    CHECK(cause->racks[1].rack == "r3");
    CHECK(events[0].status.summary ==
          "4000 W non-green, top racks: r2 0.07 kWh (70%), r3 0.02 kWh (20%), headroom 0 W");
}

TEST_CASE("a restored firing alert stays firing without a duplicate event") {
    const auto rules = std::vector<RuleSpec>{site_rule(1000, 200.0, 10s, 0s)};
    AlertEngine before("qh", rules);
    run(before, {1500, 1500, 1500});
    REQUIRE(before.active().size() == 1);
    const auto saved = before.save_state();

    AlertEngine after("qh", rules);
    auto ended =
        after.restore_state(saved, t0 + 10 * tick, [](Scope, std::string_view) { return true; });
    CHECK(ended.empty());
    REQUIRE(after.active().size() == 1);
    CHECK(after.active()[0].state == AlertState::firing);
    CHECK(after.active()[0].fired_at_ms == t0 + 2 * tick);
    // Still breaching after the restart: no event at all.
    CHECK(run(after, {1500, 1500}, t0 + 10 * tick).empty());
    // Then it clears: one resolved event that keeps the original fired_at.
    auto resolved = run(after, {100}, t0 + 12 * tick);
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].to == AlertState::resolved);
    CHECK(resolved[0].status.fired_at_ms == t0 + 2 * tick);
}

TEST_CASE("a restored pending alert keeps its start so the for duration is not restarted") {
    const auto rules = std::vector<RuleSpec>{site_rule(1000, std::nullopt, 20s, 0s)};
    AlertEngine before("qh", rules);
    run(before, {1500, 1500});
    AlertEngine after("qh", rules);
    after.restore_state(before.save_state(), t0 + 2 * tick,
                        [](Scope, std::string_view) { return true; });
    auto events = run(after, {1500, 1500, 1500}, t0 + 2 * tick);
    CHECK(transitions(events) == std::vector<std::string>{"pending>firing@4"});
}

TEST_CASE("a firing alert whose rule or subject is gone after a restart is resolved") {
    AlertEngine before("qh", {site_rule(1000, std::nullopt, 0s, 0s)});
    run(before, {1500});
    const auto saved = before.save_state();
    SECTION("rule removed") {
        RuleSpec other = site_rule(1000, std::nullopt, 0s, 0s);
        other.name = "other";
        AlertEngine after("qh", {other});
        auto ended =
            after.restore_state(saved, t0 + tick, [](Scope, std::string_view) { return true; });
        REQUIRE(ended.size() == 1);
        CHECK(ended[0].from == AlertState::firing);
        CHECK(ended[0].to == AlertState::resolved);
        CHECK(ended[0].status.rule == "grid");
        CHECK(ended[0].status.resolved_at_ms == t0 + tick);
        CHECK(after.statuses().empty());
    }
    SECTION("rule disabled") {
        RuleSpec disabled = site_rule(1000, std::nullopt, 0s, 0s);
        disabled.enabled = false;
        AlertEngine after("qh", {disabled});
        CHECK(after.restore_state(saved, t0 + tick, [](Scope, std::string_view) { return true; })
                  .size() == 1);
    }
    SECTION("subject gone") {
        AlertEngine after("qh", {site_rule(1000, std::nullopt, 0s, 0s)});
        CHECK(after.restore_state(saved, t0 + tick, [](Scope, std::string_view) { return false; })
                  .size() == 1);
    }
}

TEST_CASE("a malformed alert state is refused and leaves the engine unchanged") {
    AlertEngine engine("qh", {site_rule(1000, std::nullopt, 0s, 0s)});
    run(engine, {1500});
    auto exists = [](Scope, std::string_view) { return true; };
    CHECK_THROWS_AS(engine.restore_state(nlohmann::json{{"version", 99}}, t0, exists),
                    std::invalid_argument);
    CHECK_THROWS_AS(engine.restore_state(nlohmann::json{{"version", 1},
                                                        {"alerts",
                                                         {{{"rule", "grid"},
                                                           {"subject", "qh"},
                                                           {"scope", "planet"},
                                                           {"state", "firing"}}}}},
                                         t0, exists),
                    std::invalid_argument);
    CHECK(engine.active().size() == 1);
}

TEST_CASE("invalid rules are refused with the field at fault") {
    auto error_of = [](RuleSpec rule) { return validate_rule(rule); };
    RuleSpec good = site_rule(1000, 200.0, 60s, 30s);
    CHECK_FALSE(error_of(good));

    RuleSpec r = good;
    r.name = "Bad Name";
    CHECK(error_of(r)->key == "name");
    r = good;
    r.condition.output = "nongreen_kw";
    CHECK(error_of(r)->key == "output");
    CHECK_THAT(error_of(r)->message, Catch::Contains("nongreen_w"));
    r = good;
    r.clear_threshold = 2000.0;
    CHECK(error_of(r)->key == "clear_threshold");
    r = good;
    r.condition.op = Comparator::lt;
    r.clear_threshold = 500.0;
    CHECK(error_of(r)->key == "clear_threshold");
    r = good;
    r.severity = "page";
    CHECK(error_of(r)->key == "severity");
    r = good;
    r.labels["rack"] = "x";
    CHECK(error_of(r)->key == "labels");
    r = good;
    r.labels["9team"] = "x";
    CHECK(error_of(r)->key == "labels");
    r = good;
    r.summary = "{value} and {stale}";
    auto summary_error = error_of(r);
    REQUIRE(summary_error);
    CHECK(summary_error->key == "summary");
    CHECK(summary_error->offset == 12);
    r = good;
    r.when = Condition{"age_s", Comparator::gt, 1};
    CHECK(error_of(r)->key == "when");
    r = good;
    r.for_duration = -1s;
    CHECK(error_of(r)->key == "for");

    CHECK_THROWS_AS(AlertEngine("qh", {good, good}), std::invalid_argument);
}
