#include "daemon/core/alerts/counter_window.hpp"

namespace greenrack::alerts {

void CounterWindow::add(std::int64_t now_ms, std::uint64_t total) {
    const std::uint64_t delta = total >= last_total_ ? total - last_total_ : total;
    last_total_ = total;
    if (delta > 0) {
        steps_.push_back({now_ms, delta});
    }
    while (!steps_.empty() && steps_.front().ts_ms <= now_ms - window_.count()) {
        steps_.pop_front();
    }
}

std::uint64_t CounterWindow::increase(std::int64_t now_ms) const {
    std::uint64_t sum = 0;
    for (const auto& step : steps_) {
        if (step.ts_ms > now_ms - window_.count() && step.ts_ms <= now_ms) {
            sum += step.delta;
        }
    }
    return sum;
}

} // namespace greenrack::alerts
