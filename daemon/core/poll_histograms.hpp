#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace greenrack::core {

// One histogram of durations in seconds. counts[i] is the number of
// observations in bucket i (non-cumulative): bucket i < bounds.size() holds values
// <= bounds[i] and > bounds[i - 1]; the last bucket (counts.back()) holds the rest (+Inf).
struct DurationHistogram {
    std::vector<std::uint64_t> counts; // bounds.size() + 1 entries
    double sum_s = 0.0;
    std::uint64_t count = 0;
};

// Default upper bounds (seconds) for Modbus poll durations: 1 ms .. 10 s.
std::vector<double> default_poll_buckets();
// Upper bounds (seconds) for in-process computations (an accounting tick): 50 us .. 1 s.
std::vector<double> default_compute_buckets();

// Per-device poll-duration histograms (index = Config::devices index). Pure: the caller feeds
// every completed reading's duration; lives on the event loop like the SampleStore.
class PollHistograms {
public:
    // `bounds` must be strictly increasing and finite; throws std::invalid_argument otherwise.
    explicit PollHistograms(std::size_t devices,
                            std::vector<double> bounds = default_poll_buckets());

    // Counts one poll of `device`. An out-of-range device is ignored; a negative duration
    // counts as 0.
    void observe(std::size_t device, std::chrono::microseconds duration);

    // Takes over another histogram with the same bounds (a device kept across a reload).
    void adopt(std::size_t device, const DurationHistogram& histogram) {
        if (device < histograms_.size() && histogram.counts.size() == bounds_.size() + 1) {
            histograms_[device] = histogram;
        }
    }

    std::span<const double> bounds() const { return bounds_; }
    std::size_t size() const { return histograms_.size(); }
    const DurationHistogram& device(std::size_t index) const { return histograms_.at(index); }

private:
    std::vector<double> bounds_;
    std::vector<DurationHistogram> histograms_;
};

} // namespace greenrack::core
