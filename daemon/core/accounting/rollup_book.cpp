#include "daemon/core/accounting/rollup_book.hpp"

#include "daemon/core/accounting/state_json.hpp"
#include "daemon/core/accounting/units.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace greenrack::accounting {

namespace {

constexpr std::array<Window, 3> all_windows{Window::quarter_hour, Window::hour, Window::day};

} // namespace

RollupBook::RollupBook(RollupParameters parameters) : parameters_(parameters) {}

void RollupBook::add(const TickResult& tick, const TickContribution& contribution) {
    for (std::size_t k = 0; k < kinds; ++k) {
        const Window window = all_windows[k];
        const std::int64_t start = floor_to(tick.start_ms, window_length_ms(window));
        auto& open = open_[k];
        if (open && open->start_ms() != start) {
            Rollup closed = open->summarize(parameters_, open->end_ms());
            closed.seq = next_seq_[k]++;
            closed_.push_back(std::move(closed));
            open.reset();
        }
        if (!open) {
            open.emplace(window, start, parameters_.rack_count);
        }
        open->add(tick, contribution);
    }
}

std::vector<Rollup> RollupBook::take_closed() {
    std::vector<Rollup> out;
    out.swap(closed_);
    return out;
}

std::vector<Rollup> RollupBook::open(std::int64_t covered_until_ms) const {
    std::vector<Rollup> out;
    for (const auto& window : open_) {
        if (window) {
            out.push_back(window->summarize(parameters_, covered_until_ms));
        }
    }
    return out;
}

nlohmann::json RollupBook::to_json() const {
    nlohmann::json open = nlohmann::json::array();
    nlohmann::json seq = nlohmann::json::object();
    for (std::size_t k = 0; k < kinds; ++k) {
        if (open_[k]) {
            open.push_back(open_[k]->to_json());
        }
        seq[std::string(to_string(all_windows[k]))] = next_seq_[k];
    }
    nlohmann::json closed = nlohmann::json::array();
    for (const auto& r : closed_) {
        closed.push_back(rollup_to_json(r));
    }
    return {{"open", open}, {"next_seq", seq}, {"closed", closed}};
}

void RollupBook::load_json(const nlohmann::json& state) {
    std::array<std::optional<RollupAccumulator>, kinds> open;
    for (const auto& j : state.at("open")) {
        RollupAccumulator a = RollupAccumulator::from_json(j, parameters_.rack_count);
        for (std::size_t k = 0; k < kinds; ++k) {
            if (all_windows[k] == a.window()) {
                open[k] = std::move(a);
                break;
            }
        }
    }
    std::array<std::uint64_t, kinds> seq{};
    for (std::size_t k = 0; k < kinds; ++k) {
        seq[k] =
            state.at("next_seq").at(std::string(to_string(all_windows[k]))).get<std::uint64_t>();
    }
    std::vector<Rollup> closed;
    for (const auto& j : state.at("closed")) {
        closed.push_back(rollup_from_json(j));
    }
    open_ = std::move(open);
    next_seq_ = seq;
    closed_ = std::move(closed);
}

} // namespace greenrack::accounting
