#include "daemon/core/poll_histograms.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <stdexcept>

using greenrack::core::default_poll_buckets;
using greenrack::core::PollHistograms;
using std::chrono::microseconds;

TEST_CASE("poll histogram puts a duration in the first bucket whose bound is >= it",
          "[poll_histograms]") {
    PollHistograms histograms(2, {0.01, 0.1, 1.0});
    histograms.observe(0, microseconds(5'000));     // 0.005 s -> le 0.01
    histograms.observe(0, microseconds(10'000));    // exactly 0.01 s -> le 0.01
    histograms.observe(0, microseconds(10'001));    // just above -> le 0.1
    histograms.observe(0, microseconds(999'999));   // -> le 1
    histograms.observe(0, microseconds(2'500'000)); // above every bound -> +Inf bucket

    const auto& h = histograms.device(0);
    CHECK(h.counts == std::vector<std::uint64_t>{2, 1, 1, 1});
    CHECK(h.count == 5);
    CHECK(h.sum_s == Approx(0.005 + 0.01 + 0.010001 + 0.999999 + 2.5));
}

TEST_CASE("poll histograms are kept per device", "[poll_histograms]") {
    PollHistograms histograms(3);
    histograms.observe(2, microseconds(3'000));
    CHECK(histograms.device(0).count == 0);
    CHECK(histograms.device(1).count == 0);
    CHECK(histograms.device(2).count == 1);
    CHECK(histograms.device(0).counts.size() == default_poll_buckets().size() + 1);
    CHECK(histograms.size() == 3);
}

TEST_CASE("poll histogram ignores unknown devices and counts negative durations as zero",
          "[poll_histograms]") {
    PollHistograms histograms(1, {0.5});
    histograms.observe(7, microseconds(1'000));
    histograms.observe(0, microseconds(-20));
    CHECK(histograms.device(0).counts == std::vector<std::uint64_t>{1, 0});
    CHECK(histograms.device(0).sum_s == 0.0);
}

TEST_CASE("poll histogram rejects bounds that are not strictly increasing", "[poll_histograms]") {
    CHECK_THROWS_AS(PollHistograms(1, {0.1, 0.1}), std::invalid_argument);
    CHECK_THROWS_AS(PollHistograms(1, {1.0, 0.5}), std::invalid_argument);
    CHECK_THROWS_AS(PollHistograms(1, {0.1, std::numeric_limits<double>::infinity()}),
                    std::invalid_argument);
}

TEST_CASE("default poll buckets span 1 ms to 10 s in increasing order", "[poll_histograms]") {
    const auto bounds = default_poll_buckets();
    REQUIRE(!bounds.empty());
    CHECK(bounds.front() == 0.001);
    CHECK(bounds.back() == 10.0);
    CHECK(std::is_sorted(bounds.begin(), bounds.end()));
}
