#include "drivers/modbus/read_planner.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

// How the plan is built (all steps linear in the number of points, apart from the sort, which is
// skipped for points already in address order):
//
// 1. Points linked by scale_factor are merged (union-find) into atomic groups. A group is read
//    by one request, so its hull [first address, last end) must fit a request on its own.
// 2. Per register kind, the points in address order are cut into clusters wherever more than
//    max_gap registers belong to no point at all. No request may cross such a hole, and any
//    request inside a cluster satisfies the gap rule (registers of other requests' points are
//    not gap registers).
// 3. Inside a cluster the groups are taken in order of their first address. Each goes to the
//    oldest open request whose window [start, start + max_registers) contains its hull, or
//    opens a new request starting at its first address. This is optimal: the request holding
//    the lowest group G of any plan starts at G's address, so its members all lie in G's window;
//    giving it *every* remaining group that fits there never costs a request. Open windows have
//    strictly increasing ends and distinct starts, so at most max_registers are open at a time.

namespace greenrack::modbus {

namespace {

constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
constexpr std::size_t max_names_in_message = 8;
constexpr std::uint32_t address_space = 0x10000;

class DisjointSets {
public:
    explicit DisjointSets(std::size_t size) : parent_(size), size_(size, 1) {
        std::iota(parent_.begin(), parent_.end(), std::size_t{0});
    }

    std::size_t find(std::size_t x) {
        while (parent_[x] != x) {
            parent_[x] = parent_[parent_[x]];
            x = parent_[x];
        }
        return x;
    }

    void unite(std::size_t a, std::size_t b) {
        a = find(a);
        b = find(b);
        if (a == b) {
            return;
        }
        if (size_[a] < size_[b]) {
            std::swap(a, b);
        }
        parent_[b] = a;
        size_[a] += size_[b];
    }

    std::size_t size_of(std::size_t x) { return size_[find(x)]; }

private:
    std::vector<std::size_t> parent_;
    std::vector<std::size_t> size_;
};

struct Group {
    std::uint32_t start = address_space; // lowest address of its points
    std::uint32_t end = 0;               // highest end() of its points
    std::size_t first_cluster = npos;
    std::size_t last_cluster = 0;
    std::size_t request = npos;
};

struct OpenWindow {
    std::size_t request;
    std::uint32_t end; // start + limit: every group ending at or before it fits the request
};

std::string quoted_names(std::span<const PointSpec> points, std::span<const std::size_t> indices) {
    std::string text;
    const std::size_t shown = std::min(indices.size(), max_names_in_message);
    for (std::size_t i = 0; i < shown; ++i) {
        text += i == 0 ? "'" : ", '";
        text += points[indices[i]].name;
        text += "'";
    }
    if (indices.size() > shown) {
        text += ", ... (" + std::to_string(indices.size() - shown) + " more)";
    }
    return text;
}

std::string range_text(std::uint32_t start, std::uint32_t end) {
    return std::to_string(start) + ".." + std::to_string(end - 1);
}

class Planner {
public:
    Planner(std::span<const PointSpec> points, const PlanOptions& options)
        : points_(points), options_(options), sets_(points.size()), groups_(points.size()),
          cluster_(points.size(), 0) {}

    std::variant<ReadPlan, PlanError> run() {
        if (auto error = check_options()) {
            return *error;
        }
        if (auto error = check_points()) {
            return *error;
        }
        link_scale_factors();
        order_points();
        for (const auto& order :
             {std::span<const std::size_t>(holding_), std::span<const std::size_t>(input_)}) {
            find_clusters(order);
        }
        compute_groups();
        for (const auto& order :
             {std::span<const std::size_t>(holding_), std::span<const std::size_t>(input_)}) {
            if (auto error = check_groups(order)) {
                return *error;
            }
        }
        for (const auto& order :
             {std::span<const std::size_t>(holding_), std::span<const std::size_t>(input_)}) {
            assign(order);
        }
        finish_requests();
        return std::move(plan_);
    }

private:
    std::uint32_t align_down(std::uint32_t address) const {
        return options_.even_alignment ? address & ~std::uint32_t{1} : address;
    }
    std::uint32_t align_up(std::uint32_t address) const {
        return options_.even_alignment ? (address + 1) & ~std::uint32_t{1} : address;
    }

    std::optional<PlanError> check_options() {
        if (options_.max_registers == 0 || options_.max_registers > max_read_registers) {
            return PlanError{"max_registers is " + std::to_string(options_.max_registers) +
                             "; it must be between 1 and " + std::to_string(max_read_registers)};
        }
        limit_ = options_.max_registers;
        if (options_.even_alignment) {
            limit_ &= ~std::uint32_t{1};
            if (limit_ == 0) {
                return PlanError{"max_registers must be at least 2 with even_alignment"};
            }
        }
        return std::nullopt;
    }

    std::optional<PlanError> check_points() const {
        for (std::size_t i = 0; i < points_.size(); ++i) {
            const PointSpec& point = points_[i];
            if (point.registers == 0) {
                return PlanError{"point '" + point.name + "' occupies no registers"};
            }
            if (point.end() > address_space) {
                return PlanError{"point '" + point.name + "' (" + std::to_string(point.address) +
                                 " + " + std::to_string(point.registers) +
                                 " registers) runs past register 65535"};
            }
            if (!point.scale_factor) {
                continue;
            }
            const std::size_t sf = *point.scale_factor;
            if (sf >= points_.size()) {
                return PlanError{"point '" + point.name + "' refers to scale factor #" +
                                 std::to_string(sf) + ", but there are only " +
                                 std::to_string(points_.size()) + " points"};
            }
            if (points_[sf].function != point.function) {
                return PlanError{"point '" + point.name + "' (" +
                                 std::string(to_string(point.function)) +
                                 ") and its scale factor '" + points_[sf].name + "' (" +
                                 std::string(to_string(points_[sf].function)) +
                                 ") are in different register tables and cannot be read in "
                                 "one request"};
            }
        }
        return std::nullopt;
    }

    void link_scale_factors() {
        for (std::size_t i = 0; i < points_.size(); ++i) {
            if (points_[i].scale_factor) {
                sets_.unite(i, *points_[i].scale_factor);
            }
        }
    }

    void order_points() {
        for (std::size_t i = 0; i < points_.size(); ++i) {
            (points_[i].function == RegisterKind::holding ? holding_ : input_).push_back(i);
        }
        const auto by_address = [this](std::size_t a, std::size_t b) {
            return points_[a].address < points_[b].address;
        };
        for (auto* order : {&holding_, &input_}) {
            if (!std::is_sorted(order->begin(), order->end(), by_address)) {
                std::stable_sort(order->begin(), order->end(), by_address);
            }
        }
    }

    // Numbers the clusters: a new one starts where more than max_gap registers belong to no
    // point of this kind.
    void find_clusters(std::span<const std::size_t> order) {
        std::uint32_t covered_end = 0;
        bool first = true;
        for (const std::size_t i : order) {
            const PointSpec& point = points_[i];
            if (first || point.address > covered_end + options_.max_gap) {
                ++cluster_count_;
                first = false;
            }
            covered_end = std::max(covered_end, point.end());
            cluster_[i] = cluster_count_;
        }
    }

    void compute_groups() {
        for (std::size_t i = 0; i < points_.size(); ++i) {
            Group& group = groups_[sets_.find(i)];
            group.start = std::min<std::uint32_t>(group.start, points_[i].address);
            group.end = std::max(group.end, points_[i].end());
            group.first_cluster = std::min(group.first_cluster, cluster_[i]);
            group.last_cluster = std::max(group.last_cluster, cluster_[i]);
        }
    }

    std::vector<std::size_t> members_of(std::size_t root) {
        std::vector<std::size_t> members;
        for (std::size_t i = 0; i < points_.size(); ++i) {
            if (sets_.find(i) == root) {
                members.push_back(i);
            }
        }
        return members;
    }

    // Every group must be readable by one request on its own; reports the lowest one that is not.
    std::optional<PlanError> check_groups(std::span<const std::size_t> order) {
        for (const std::size_t i : order) {
            const std::size_t root = sets_.find(i);
            const Group& group = groups_[root];
            const std::uint32_t span = align_up(group.end) - align_down(group.start);
            const bool too_long = span > limit_;
            const bool has_hole = group.first_cluster != group.last_cluster;
            if (!too_long && !has_hole) {
                continue;
            }
            const std::string where = "FC0" + std::to_string(function_code(points_[i].function)) +
                                      " " + range_text(group.start, group.end);
            const std::string limit_text = "max_registers " + std::to_string(limit_) +
                                           (options_.even_alignment ? " with even alignment" : "");
            if (sets_.size_of(i) == 1) {
                return PlanError{"point '" + points_[i].name + "' (" + where + ") spans " +
                                 std::to_string(span) + " registers, more than " + limit_text};
            }
            const auto members = members_of(root);
            std::string message = "points " + quoted_names(points_, members) +
                                  " share a scale factor and must be read in one request, but ";
            if (too_long) {
                message += "they span " + std::to_string(span) + " registers (" + where +
                           "), more than " + limit_text;
            } else {
                message += "between them (" + where + ") lie more than max_gap " +
                           std::to_string(options_.max_gap) +
                           " registers that belong to no point; raise max_gap or add the "
                           "points in between";
            }
            return PlanError{message};
        }
        return std::nullopt;
    }

    void assign(std::span<const std::size_t> order) {
        std::vector<OpenWindow> open; // [head, size) are open, ends strictly increasing
        std::size_t head = 0;
        std::size_t current_cluster = npos;
        for (const std::size_t i : order) {
            Group& group = groups_[sets_.find(i)];
            if (group.request == npos) {
                if (cluster_[i] != current_cluster) {
                    current_cluster = cluster_[i];
                    head = open.size();
                }
                // Groups come in start order: a window ending at or before this start is full.
                while (head < open.size() && open[head].end <= group.start) {
                    ++head;
                }
                const auto fit = std::lower_bound(
                    open.begin() + static_cast<std::ptrdiff_t>(head), open.end(), group.end,
                    [](const OpenWindow& window, std::uint32_t end) { return window.end < end; });
                if (fit != open.end()) {
                    group.request = fit->request;
                } else {
                    const std::uint32_t start = align_down(group.start);
                    group.request = plan_.requests.size();
                    ReadRequest request;
                    request.function = points_[i].function;
                    request.start = static_cast<std::uint16_t>(start);
                    plan_.requests.push_back(std::move(request));
                    request_end_.push_back(start);
                    open.push_back({group.request, start + limit_});
                }
            }
            plan_.requests[group.request].points.push_back(i);
            request_end_[group.request] = std::max(request_end_[group.request], points_[i].end());
        }
    }

    void finish_requests() {
        for (std::size_t r = 0; r < plan_.requests.size(); ++r) {
            ReadRequest& request = plan_.requests[r];
            request.count = static_cast<std::uint16_t>(align_up(request_end_[r]) - request.start);
            if (!std::is_sorted(request.points.begin(), request.points.end())) {
                std::sort(request.points.begin(), request.points.end());
            }
        }
    }

    std::span<const PointSpec> points_;
    PlanOptions options_;
    std::uint32_t limit_ = 0; // largest count a request may have
    DisjointSets sets_;
    std::vector<Group> groups_;        // indexed by the group's root point
    std::vector<std::size_t> cluster_; // per point
    std::size_t cluster_count_ = 0;
    std::vector<std::size_t> holding_; // point indices in address order
    std::vector<std::size_t> input_;
    std::vector<std::uint32_t> request_end_; // per request: highest end() of its points
    ReadPlan plan_;
};

} // namespace

std::size_t ReadPlan::registers_read() const {
    std::size_t total = 0;
    for (const ReadRequest& request : requests) {
        total += request.count;
    }
    return total;
}

std::variant<ReadPlan, PlanError> plan_reads(std::span<const PointSpec> points,
                                             const PlanOptions& options) {
    return Planner(points, options).run();
}

std::string describe(const ReadPlan& plan, std::span<const PointSpec> points) {
    std::string text;
    for (const ReadRequest& request : plan.requests) {
        if (!text.empty()) {
            text += '\n';
        }
        const std::uint32_t end = std::uint32_t{request.start} + request.count;
        text += "FC0" + std::to_string(function_code(request.function)) + " " +
                range_text(request.start, std::max(end, std::uint32_t{request.start} + 1)) + " (" +
                std::to_string(request.count) + " regs):";
        const std::size_t shown = std::min(request.points.size(), max_names_in_message);
        for (std::size_t i = 0; i < shown; ++i) {
            const std::size_t index = request.points[i];
            text += i == 0 ? " " : ", ";
            text += index < points.size() ? points[index].name : "#" + std::to_string(index);
        }
        if (request.points.size() > shown) {
            text += ", ... (" + std::to_string(request.points.size() - shown) + " more)";
        }
    }
    return text;
}

} // namespace greenrack::modbus
