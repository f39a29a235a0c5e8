#include "daemon/core/accounting/front_queue.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <random>

using greenrack::accounting::FrontQueue;

TEST_CASE("FrontQueue keeps the order of a deque through pushes, pops and random access",
          "[front_queue]") {
    FrontQueue<int> queue;
    std::deque<int> reference;
    std::mt19937 rng(7);
    int next = 0;
    for (int step = 0; step < 20'000; ++step) {
        // Mostly pushes early on, mostly pops later: the queue grows, shrinks and compacts.
        const bool push = reference.empty() || rng() % 100 < (step < 10'000 ? 60U : 40U);
        if (push) {
            queue.push_back(next);
            reference.push_back(next);
            ++next;
        } else {
            REQUIRE(queue.front() == reference.front());
            queue.pop_front();
            reference.pop_front();
        }
        REQUIRE(queue.size() == reference.size());
        REQUIRE(queue.empty() == reference.empty());
        if (!reference.empty()) {
            REQUIRE(queue.back() == reference.back());
            const std::size_t middle = reference.size() / 2;
            REQUIRE(queue[middle] == reference[middle]);
        }
    }
    REQUIRE(std::equal(queue.begin(), queue.end(), reference.begin(), reference.end()));
    // Sorted content: binary search over the queue's iterators works as on the deque.
    const auto at = std::partition_point(
        queue.begin(), queue.end(), [&](int v) { return v < reference[reference.size() / 2]; });
    CHECK(*at == reference[reference.size() / 2]);
    queue.clear();
    CHECK(queue.empty());
    CHECK(queue.size() == 0);
}

TEST_CASE("FrontQueue reuses popped slots instead of growing without bound", "[front_queue]") {
    FrontQueue<int> queue;
    // A steady window of 10: push one, pop one, a million times.
    for (int i = 0; i < 10; ++i) {
        queue.push_back(i);
    }
    std::size_t largest = 0;
    for (int i = 10; i < 1'000'000; ++i) {
        queue.push_back(i);
        queue.pop_front();
        REQUIRE(queue.size() == 10);
        REQUIRE(queue.front() == i - 9);
        largest = std::max(largest, queue.capacity());
    }
    // Compacted, not grown: the storage stays within a small multiple of the window.
    CHECK(largest <= 32);
}
