#include "daemon/config/key_check.hpp"

#include "drivers/common/config_error.hpp"

#include <algorithm>
#include <vector>

namespace greenrack::config {

using common::quote;
using common::TableReader;

namespace {

// Levenshtein distance, for "did you mean" hints on misspelt keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

bool comes_before(const toml::node& a, const toml::node& b) {
    const auto& x = a.source().begin;
    const auto& y = b.source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
}

} // namespace

void check_keys(const TableReader& reader, std::span<const std::string_view> known) {
    const toml::node* first = nullptr;
    std::string_view first_key;
    for (const auto& [key, value] : reader.table()) {
        if (std::find(known.begin(), known.end(), key.str()) != known.end()) {
            continue;
        }
        if (first == nullptr || comes_before(value, *first)) {
            first = &value;
            first_key = key.str();
        }
    }
    if (first == nullptr) {
        return;
    }
    std::string_view best;
    std::size_t best_distance = std::string_view::npos;
    for (std::string_view candidate : known) {
        const std::size_t distance = edit_distance(first_key, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    const std::size_t tolerance = std::clamp<std::size_t>(first_key.size() / 4, 1, 2);
    if (best_distance <= tolerance) {
        reader.fail(first_key, "unknown key (did you mean " + quote(best) + "?)");
    }
    reader.fail(first_key, "unknown key (misspelt, or not valid here)");
}

void check_keys(const TableReader& reader, std::initializer_list<std::string_view> known) {
    check_keys(reader, std::span<const std::string_view>(known.begin(), known.size()));
}

} // namespace greenrack::config
