#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace greenrack::alerts {

// How much a monotonic counter (e.g. records dropped since start) grew within the last
// `window`, from samples of its running total. A total lower than the previous sample is a
// reset (the counter started again from 0), as in Prometheus' increase(). The first sample
// counts from 0, so what happened before it (since the counter's start) is included. Pure: time
// comes in from the caller (UTC milliseconds).
class CounterWindow {
public:
    explicit CounterWindow(std::chrono::milliseconds window) : window_(window) {}

    void add(std::int64_t now_ms, std::uint64_t total);
    // Growth within (now - window, now].
    std::uint64_t increase(std::int64_t now_ms) const;
    std::chrono::milliseconds window() const { return window_; }

private:
    struct Step {
        std::int64_t ts_ms;
        std::uint64_t delta;
    };
    std::chrono::milliseconds window_;
    std::uint64_t last_total_ = 0;
    std::deque<Step> steps_; // only steps with delta > 0, oldest first
};

} // namespace greenrack::alerts
