#include "drivers/sim/request_stats.hpp"

#include <cstdio>
#include <numeric>

namespace greenrack::sim {

namespace {

std::string hex2(std::size_t value) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%02zx", value);
    return buffer;
}

} // namespace

std::uint64_t RequestStats::total() const {
    return std::accumulate(by_function_.begin(), by_function_.end(), std::uint64_t{0});
}

std::string RequestStats::summary() const {
    std::string out = "requests=" + std::to_string(total());
    for (std::size_t fc = 0; fc < by_function_.size(); ++fc) {
        if (by_function_[fc] != 0) {
            out += " fc" + hex2(fc) + "=" + std::to_string(by_function_[fc]);
        }
    }
    out += " exceptions:";
    bool any = false;
    for (std::size_t code = 0; code < by_exception_.size(); ++code) {
        if (by_exception_[code] != 0) {
            out += " " + hex2(code) + "=" + std::to_string(by_exception_[code]);
            any = true;
        }
    }
    if (!any) {
        out += " none";
    }
    out += " writes_rejected=" + std::to_string(writes_rejected_);
    out += " unanswered=" + std::to_string(unanswered_);
    return out;
}

} // namespace greenrack::sim
