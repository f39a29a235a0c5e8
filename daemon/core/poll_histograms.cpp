#include "daemon/core/poll_histograms.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace greenrack::core {

std::vector<double> default_poll_buckets() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

std::vector<double> default_compute_buckets() {
    return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1.0};
}

PollHistograms::PollHistograms(std::size_t devices, std::vector<double> bounds)
    : bounds_(std::move(bounds)) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
            throw std::invalid_argument(
                "poll histogram bounds must be finite and strictly increasing");
        }
    }
    DurationHistogram empty;
    empty.counts.assign(bounds_.size() + 1, 0);
    histograms_.assign(devices, empty);
}

void PollHistograms::observe(std::size_t device, std::chrono::microseconds duration) {
    if (device >= histograms_.size()) {
        return;
    }
    const double seconds =
        std::max<double>(0.0, static_cast<double>(duration.count()) / 1'000'000.0);
    auto& histogram = histograms_[device];
    // First bound >= value: "le" semantics (a value equal to a bound belongs to that bucket).
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin());
    ++histogram.counts[bucket];
    histogram.sum_s += seconds;
    ++histogram.count;
}

} // namespace greenrack::core
