#include "daemon/core/alerts/cause_tracker.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::alerts;
using namespace std::chrono_literals;

TEST_CASE("the cause names the racks with the most non-green energy in the window") {
    CauseTracker tracker(60s, 2);
    tracker.add(10'000, {{"a", 5.0}, {"b", 1.0}, {"c", 0.0}});
    tracker.add(20'000, {{"a", 0.0}, {"b", 3.0}, {"c", 2.0}});
    auto top = tracker.top(20'000);
    REQUIRE(top.size() == 2);
    CHECK(top[0].rack == "a");
    CHECK(top[0].nongreen_wh == Approx(5.0));
    CHECK(top[0].share == Approx(5.0 / 11.0));
    CHECK(top[1].rack == "b");
    CHECK(top[1].nongreen_wh == Approx(4.0));
    CHECK(describe(top) == "a 0.01 kWh (45%), b 0.00 kWh (36%)");
}

TEST_CASE("ticks older than the window no longer count towards the cause") {
    CauseTracker tracker(60s, 3);
    tracker.add(0, {{"old", 100.0}});
    tracker.add(30'000, {{"new", 1.0}});
    CHECK(tracker.top(59'999).size() == 2);
    auto top = tracker.top(60'000); // the tick ending at 0 is out of (0, 60 s]
    REQUIRE(top.size() == 1);
    CHECK(top[0].rack == "new");
    CHECK(top[0].share == Approx(1.0));
    tracker.add(200'000, {{"new", 0.0}});
    CHECK(tracker.top(200'000).empty());
    CHECK(describe(tracker.top(200'000)) == "none");
}

TEST_CASE("a tick that is not newer than the last one is ignored") {
    CauseTracker tracker(60s, 3);
    tracker.add(10'000, {{"a", 1.0}});
    tracker.add(10'000, {{"a", 50.0}});
    tracker.add(5'000, {{"a", 50.0}});
    REQUIRE(tracker.top(10'000).size() == 1);
    CHECK(tracker.top(10'000)[0].nongreen_wh == Approx(1.0));
}
