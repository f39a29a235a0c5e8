#include "daemon/core/accounting/battery.hpp"

#include "daemon/core/accounting/units.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace greenrack::accounting {

namespace {

double fraction(double part, double whole) {
    return whole > negligible_wh ? part / whole : 0.0;
}

bool same_mix(const BatterySlice& a, const BatterySlice& b) {
    constexpr double tolerance = 1e-12;
    const auto close = [](double x, double y) {
        return std::abs(x - y) <= tolerance * std::max({1.0, std::abs(x), std::abs(y)});
    };
    return close(fraction(a.green_wh, a.wh), fraction(b.green_wh, b.wh)) &&
           close(fraction(a.carbon_location_g, a.wh), fraction(b.carbon_location_g, b.wh)) &&
           close(fraction(a.carbon_residual_g, a.wh), fraction(b.carbon_residual_g, b.wh));
}

void absorb(BatterySlice& into, const BatterySlice& from) {
    into.wh += from.wh;
    into.green_wh += from.green_wh;
    into.carbon_location_g += from.carbon_location_g;
    into.carbon_residual_g += from.carbon_residual_g;
}

} // namespace

Battery::Battery(BatteryParameters parameters) : parameters_(parameters) {}

double Battery::stored_wh() const {
    double sum = 0.0;
    for (const auto& s : slices_) {
        sum += s.wh;
    }
    return sum;
}

double Battery::green_wh() const {
    double sum = 0.0;
    for (const auto& s : slices_) {
        sum += s.green_wh;
    }
    return sum;
}

double Battery::carbon_location_g() const {
    double sum = 0.0;
    for (const auto& s : slices_) {
        sum += s.carbon_location_g;
    }
    return sum;
}

double Battery::carbon_residual_g() const {
    double sum = 0.0;
    for (const auto& s : slices_) {
        sum += s.carbon_residual_g;
    }
    return sum;
}

double Battery::green_fraction() const {
    return std::clamp(fraction(green_wh(), stored_wh()), 0.0, 1.0);
}

void Battery::add_back(const BatterySlice& slice) {
    if (slices_.empty()) {
        slices_.push_back(slice);
        return;
    }
    if (parameters_.model == BatteryModel::well_mixed || same_mix(slices_.back(), slice)) {
        absorb(slices_.back(), slice);
        return;
    }
    slices_.push_back(slice);
    if (slices_.size() > std::max<std::size_t>(parameters_.max_slices, 2)) {
        merge_closest_pair();
    }
}

void Battery::add_front(const BatterySlice& slice) {
    if (slices_.empty()) {
        slices_.push_back(slice);
        return;
    }
    if (parameters_.model == BatteryModel::well_mixed || same_mix(slices_.front(), slice)) {
        absorb(slices_.front(), slice);
        return;
    }
    slices_.push_front(slice);
    if (slices_.size() > std::max<std::size_t>(parameters_.max_slices, 2)) {
        merge_closest_pair();
    }
}

void Battery::merge_closest_pair() {
    std::size_t best = 0;
    double best_distance = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i + 1 < slices_.size(); ++i) {
        const double distance = std::abs(fraction(slices_[i].green_wh, slices_[i].wh) -
                                         fraction(slices_[i + 1].green_wh, slices_[i + 1].wh));
        if (distance < best_distance) {
            best_distance = distance;
            best = i;
        }
    }
    absorb(slices_[best], slices_[best + 1]);
    slices_.erase(slices_.begin() + static_cast<std::ptrdiff_t>(best + 1));
}

void Battery::scale(double factor) {
    for (auto& s : slices_) {
        s.wh *= factor;
        s.green_wh *= factor;
        s.carbon_location_g *= factor;
        s.carbon_residual_g *= factor;
    }
    if (factor <= 0.0) {
        slices_.clear();
    }
}

void Battery::drew_from_storage(double dc_wh) {
    if (!cold_start_ || !synced_) {
        return;
    }
    cold_unknown_wh_ -= dc_wh;
    if (cold_unknown_wh_ <= negligible_wh || stored_wh() <= negligible_wh) {
        cold_unknown_wh_ = 0.0;
        cold_start_ = false;
    }
}

void Battery::charge(double ac_wh, double green_ac_wh, double carbon_location_g,
                     double carbon_residual_g) {
    if (ac_wh <= 0.0) {
        return;
    }
    BatterySlice slice;
    slice.wh = parameters_.charge_efficiency * ac_wh;
    slice.green_wh = std::clamp(parameters_.charge_efficiency * green_ac_wh, 0.0, slice.wh);
    slice.carbon_location_g = std::max(0.0, carbon_location_g);
    slice.carbon_residual_g = std::max(0.0, carbon_residual_g);
    losses_wh_ += ac_wh - slice.wh;
    add_back(slice);
}

BatteryOutflow Battery::discharge(double ac_wh) {
    BatteryOutflow out;
    if (ac_wh <= 0.0) {
        return out;
    }
    out.dc_wh = ac_wh / parameters_.discharge_efficiency;
    double remaining = out.dc_wh;
    while (remaining > 0.0 && !slices_.empty()) {
        BatterySlice& front = slices_.front();
        if (front.wh <= remaining + negligible_wh) {
            out.green_dc_wh += front.green_wh;
            out.carbon_location_g += front.carbon_location_g;
            out.carbon_residual_g += front.carbon_residual_g;
            remaining -= front.wh;
            slices_.pop_front();
            continue;
        }
        const double share = remaining / front.wh;
        const double green = front.green_wh * share;
        const double carbon_location = front.carbon_location_g * share;
        const double carbon_residual = front.carbon_residual_g * share;
        out.green_dc_wh += green;
        out.carbon_location_g += carbon_location;
        out.carbon_residual_g += carbon_residual;
        front.wh -= remaining;
        front.green_wh -= green;
        front.carbon_location_g -= carbon_location;
        front.carbon_residual_g -= carbon_residual;
        remaining = 0.0;
    }
    if (remaining > negligible_wh) {
        out.unknown_dc_wh = remaining;
        out.carbon_location_g += remaining * parameters_.unknown_location_g_per_wh;
        out.carbon_residual_g += remaining * parameters_.unknown_residual_g_per_wh;
    }
    out.green_dc_wh = std::min(out.green_dc_wh, out.dc_wh);
    losses_wh_ += out.dc_wh - out.unknown_dc_wh - ac_wh;
    drew_from_storage(out.dc_wh - out.unknown_dc_wh);
    return out;
}

double Battery::resync(double stored) {
    stored = std::max(0.0, stored);
    const double before = stored_wh();
    const double diff = stored - before;
    const bool first = !synced_;
    if (diff > negligible_wh && (first || flows_unknown_ || before <= negligible_wh)) {
        BatterySlice unknown;
        unknown.wh = diff;
        unknown.carbon_location_g = diff * parameters_.unknown_location_g_per_wh;
        unknown.carbon_residual_g = diff * parameters_.unknown_residual_g_per_wh;
        add_front(unknown); // consumed first in fifo: the conservative end
    } else if (before > negligible_wh) {
        const double factor = stored / before;
        scale(factor);
        if (!first && factor < 1.0) {
            cold_unknown_wh_ *= factor;
        }
    } else {
        slices_.clear();
    }
    if (!first || diff < 0.0) {
        losses_wh_ -= diff; // a loss (diff < 0) raises losses, a gain lowers them
    }
    if (first) {
        cold_unknown_wh_ = std::max(0.0, diff);
        cold_start_ = cold_unknown_wh_ > negligible_wh;
    }
    synced_ = true;
    flows_unknown_ = false;
    known_ = true;
    if (stored <= negligible_wh) {
        cold_unknown_wh_ = 0.0;
        cold_start_ = false;
    }
    return diff;
}

BatteryStatus Battery::status() const {
    BatteryStatus status;
    status.stored_wh = stored_wh();
    status.green_wh = green_wh();
    status.carbon_g = carbon_location_g();
    status.carbon_residual_g = carbon_residual_g();
    status.green_fraction = green_fraction();
    status.deliverable_green_wh = status.green_wh * parameters_.discharge_efficiency;
    status.losses_wh = losses_wh_;
    status.known = known_;
    status.cold_start = cold_start_;
    return status;
}

nlohmann::json Battery::to_json() const {
    nlohmann::json slices = nlohmann::json::array();
    for (const auto& s : slices_) {
        slices.push_back({s.wh, s.green_wh, s.carbon_location_g, s.carbon_residual_g});
    }
    return {{"slices", slices},
            {"losses_wh", losses_wh_},
            {"cold_unknown_wh", cold_unknown_wh_},
            {"synced", synced_},
            {"flows_unknown", flows_unknown_},
            {"cold_start", cold_start_},
            {"known", known_}};
}

void Battery::load_json(const nlohmann::json& state) {
    std::deque<BatterySlice> slices;
    for (const auto& s : state.at("slices")) {
        slices.push_back({s.at(0).get<double>(), s.at(1).get<double>(), s.at(2).get<double>(),
                          s.at(3).get<double>()});
    }
    const double losses = state.at("losses_wh").get<double>();
    const double cold_unknown = state.at("cold_unknown_wh").get<double>();
    const bool synced = state.at("synced").get<bool>();
    const bool flows_unknown = state.at("flows_unknown").get<bool>();
    const bool cold_start = state.at("cold_start").get<bool>();
    const bool known = state.at("known").get<bool>();
    slices_ = std::move(slices);
    losses_wh_ = losses;
    cold_unknown_wh_ = cold_unknown;
    synced_ = synced;
    flows_unknown_ = flows_unknown;
    cold_start_ = cold_start;
    known_ = known;
}

} // namespace greenrack::accounting
