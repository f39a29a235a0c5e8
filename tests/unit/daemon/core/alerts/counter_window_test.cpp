#include "daemon/core/alerts/counter_window.hpp"

#include <catch2/catch.hpp>

using greenrack::alerts::CounterWindow;
using namespace std::chrono_literals;

TEST_CASE("counter window: the first sample counts from zero") {
    CounterWindow window(10min);
    window.add(1'000, 7);
    CHECK(window.increase(1'000) == 7);
}

TEST_CASE("counter window: growth inside the window is summed, a flat counter adds nothing") {
    CounterWindow window(10s);
    window.add(0, 0);
    window.add(1'000, 3);
    window.add(2'000, 3);
    window.add(3'000, 5);
    CHECK(window.increase(3'000) == 5);
}

TEST_CASE("counter window: growth older than the window falls out") {
    CounterWindow window(10s);
    window.add(0, 4);     // +4 at 0 s
    window.add(5'000, 6); // +2 at 5 s
    CHECK(window.increase(9'999) == 6);
    CHECK(window.increase(10'000) == 2); // the step at 0 s is exactly one window old
    window.add(15'000, 6);
    CHECK(window.increase(15'000) == 0);
}

TEST_CASE("counter window: a lower total is a restart of the counter, not a negative step") {
    CounterWindow window(1min);
    window.add(0, 100);
    window.add(1'000, 2); // restarted and counted 2 since
    CHECK(window.increase(1'000) == 102);
    window.add(2'000, 5);
    CHECK(window.increase(2'000) == 105);
}
