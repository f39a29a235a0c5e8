#include "drivers/modbus/read_planner.hpp"

#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace greenrack::modbus;

namespace {

constexpr RegisterKind holding = RegisterKind::holding;
constexpr RegisterKind input = RegisterKind::input;

PointSpec pt(const std::string& name, std::uint16_t address, std::uint16_t registers = 1,
             RegisterKind kind = holding) {
    PointSpec point;
    point.name = name;
    point.function = kind;
    point.address = address;
    point.registers = registers;
    point.type = registers == 1 ? DataType::u16 : registers == 2 ? DataType::u32 : DataType::u64;
    if (registers != 1 && registers != 2 && registers != 4) {
        point.type = DataType::string;
    }
    return point;
}

PointSpec with_sf(PointSpec point, std::size_t sf) {
    point.scale_factor = sf;
    return point;
}

PlanOptions opts(std::uint16_t max_registers, std::uint16_t max_gap, bool even = false) {
    PlanOptions options;
    options.max_registers = max_registers;
    options.max_gap = max_gap;
    options.even_alignment = even;
    return options;
}

std::string error_of(const std::variant<ReadPlan, PlanError>& result) {
    const auto* error = std::get_if<PlanError>(&result);
    return error != nullptr ? error->message : std::string("(no error)");
}

// Compact form of a plan for hand-written expectations: "H<start>+<count>:<points>" per
// request, holding "H" / input "I", space separated.
std::string summary(const ReadPlan& plan) {
    std::string text;
    for (const ReadRequest& request : plan.requests) {
        if (!text.empty()) {
            text += ' ';
        }
        text += request.function == holding ? 'H' : 'I';
        text += std::to_string(request.start) + "+" + std::to_string(request.count) + ":";
        for (std::size_t i = 0; i < request.points.size(); ++i) {
            text += (i == 0 ? "" : ",") + std::to_string(request.points[i]);
        }
    }
    return text;
}

std::string dump(const std::vector<PointSpec>& points, const PlanOptions& options) {
    std::ostringstream out;
    out << "max_registers=" << options.max_registers << " max_gap=" << options.max_gap
        << " even=" << options.even_alignment << "\n";
    for (std::size_t i = 0; i < points.size(); ++i) {
        const PointSpec& p = points[i];
        out << "  #" << i << " " << (p.function == holding ? "H" : "I") << p.address << "+"
            << p.registers;
        if (p.scale_factor) {
            out << " sf=#" << *p.scale_factor;
        }
        out << "\n";
    }
    return out.str();
}

std::uint32_t effective_limit(const PlanOptions& options) {
    std::uint32_t limit = std::min<std::uint32_t>(options.max_registers, max_read_registers);
    return options.even_alignment ? limit & ~1u : limit;
}

std::uint32_t down(std::uint32_t a, bool even) {
    return even ? a - a % 2 : a;
}
std::uint32_t up(std::uint32_t a, bool even) {
    return even ? a + a % 2 : a;
}

// Registers covered by at least one point, per register kind.
struct Coverage {
    std::vector<bool> holding_regs = std::vector<bool>(0x10000 + 8, false);
    std::vector<bool> input_regs = std::vector<bool>(0x10000 + 8, false);

    explicit Coverage(const std::vector<PointSpec>& points) {
        for (const PointSpec& p : points) {
            auto& regs = p.function == holding ? holding_regs : input_regs;
            for (std::uint32_t r = p.address; r < p.end() && r < regs.size(); ++r) {
                regs[r] = true;
            }
        }
    }

    // Longest run of registers in [from, to) that belong to no point of `kind`.
    std::uint32_t longest_hole(RegisterKind kind, std::uint32_t from, std::uint32_t to) const {
        const auto& regs = kind == holding ? holding_regs : input_regs;
        std::uint32_t longest = 0;
        std::uint32_t run = 0;
        for (std::uint32_t r = from; r < to; ++r) {
            run = regs[r] ? 0 : run + 1;
            longest = std::max(longest, run);
        }
        return longest;
    }
};

// Every rule a plan must obey, checked independently of the planner. Empty = valid.
std::vector<std::string> violations(const std::vector<PointSpec>& points,
                                    const PlanOptions& options, const ReadPlan& plan) {
    std::vector<std::string> problems;
    const auto complain = [&problems](const std::string& what) { problems.push_back(what); };
    const std::uint32_t limit = effective_limit(options);
    const bool even = options.even_alignment;
    const Coverage coverage(points);
    std::vector<std::size_t> request_of(points.size(), std::numeric_limits<std::size_t>::max());
    std::size_t total = 0;
    for (std::size_t r = 0; r < plan.requests.size(); ++r) {
        const ReadRequest& request = plan.requests[r];
        const std::string where = "request " + std::to_string(r) + ": ";
        const std::uint32_t start = request.start;
        const std::uint32_t end = start + request.count;
        total += request.count;
        if (request.count == 0 || request.count > limit) {
            complain(where + "count " + std::to_string(request.count));
        }
        if (end > 0x10000) {
            complain(where + "runs past 65535");
        }
        if (even && (start % 2 != 0 || request.count % 2 != 0)) {
            complain(where + "not even-aligned");
        }
        if (request.points.empty()) {
            complain(where + "carries no point");
            continue;
        }
        if (!std::is_sorted(request.points.begin(), request.points.end()) ||
            std::adjacent_find(request.points.begin(), request.points.end()) !=
                request.points.end()) {
            complain(where + "point list not strictly sorted");
        }
        std::uint32_t lo = 0x10000;
        std::uint32_t hi = 0;
        for (const std::size_t i : request.points) {
            if (i >= points.size()) {
                complain(where + "unknown point " + std::to_string(i));
                continue;
            }
            const PointSpec& p = points[i];
            if (request_of[i] != std::numeric_limits<std::size_t>::max()) {
                complain("point " + std::to_string(i) + " read twice");
            }
            request_of[i] = r;
            if (p.function != request.function) {
                complain(where + "point " + std::to_string(i) + " of the other register kind");
            }
            if (p.address < start || p.end() > end) {
                complain(where + "does not contain point " + std::to_string(i));
            }
            lo = std::min<std::uint32_t>(lo, p.address);
            hi = std::max(hi, p.end());
        }
        if (lo < hi) {
            if (start != down(lo, even) || end != up(hi, even)) {
                complain(where + "reads more than its points need");
            }
            const std::uint32_t hole = coverage.longest_hole(request.function, lo, hi);
            if (hole > options.max_gap) {
                complain(where + "gap of " + std::to_string(hole) + " registers");
            }
        }
    }
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (request_of[i] == std::numeric_limits<std::size_t>::max()) {
            complain("point " + std::to_string(i) + " not read");
        } else if (points[i].scale_factor && *points[i].scale_factor < points.size() &&
                   request_of[*points[i].scale_factor] != request_of[i]) {
            complain("point " + std::to_string(i) + " read apart from its scale factor");
        }
    }
    if (total != plan.registers_read()) {
        complain("registers_read() is not the sum of the counts");
    }
    return problems;
}

// The fewest requests of any valid grouping, by exhaustive search over every subset of the
// points as a candidate request (dynamic programming over subsets, so every partition is
// considered). nullopt when no grouping is valid. Only for a handful of points.
std::optional<std::size_t> minimum_requests(const std::vector<PointSpec>& points,
                                            const PlanOptions& options) {
    const std::size_t n = points.size();
    const std::uint32_t full = (1u << n) - 1;
    const std::uint32_t limit = effective_limit(options);
    const bool even = options.even_alignment;
    const Coverage coverage(points);
    std::vector<bool> valid(full + 1, false);
    for (std::uint32_t mask = 1; mask <= full; ++mask) {
        bool ok = true;
        // A point and its scale factor on different sides of the cut: not a valid request.
        // (Kept as a loop of its own: folded into the loop below, GCC 12.2 at -O1 miscompiled
        // this check.)
        for (std::size_t i = 0; i < n; ++i) {
            const auto& sf = points[i].scale_factor;
            if (sf && *sf < n && (((mask >> i) ^ (mask >> *sf)) & 1u) != 0) {
                ok = false;
            }
        }
        std::uint32_t lo = 0x10000;
        std::uint32_t hi = 0;
        std::optional<RegisterKind> kind;
        for (std::size_t i = 0; i < n; ++i) {
            if (((mask >> i) & 1u) == 0) {
                continue;
            }
            if (kind && *kind != points[i].function) {
                ok = false;
            }
            kind = points[i].function;
            lo = std::min<std::uint32_t>(lo, points[i].address);
            hi = std::max(hi, points[i].end());
        }
        ok = ok && up(hi, even) - down(lo, even) <= limit &&
             coverage.longest_hole(*kind, lo, hi) <= options.max_gap;
        valid[mask] = ok;
    }
    constexpr std::size_t infinite = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> best(full + 1, infinite);
    best[0] = 0;
    for (std::uint32_t mask = 1; mask <= full; ++mask) {
        const std::uint32_t lowest = mask & (~mask + 1);
        // Every subset of mask that holds its lowest point is a candidate first request.
        for (std::uint32_t sub = mask; sub != 0; sub = (sub - 1) & mask) {
            if ((sub & lowest) != 0 && valid[sub] && best[mask ^ sub] != infinite) {
                best[mask] = std::min(best[mask], best[mask ^ sub] + 1);
            }
        }
    }
    if (best[full] == infinite) {
        return std::nullopt;
    }
    return best[full];
}

std::vector<PointSpec> random_map(std::mt19937& rng, PlanOptions& options) {
    const auto uniform = [&rng](int lo, int hi) {
        return std::uniform_int_distribution<int>(lo, hi)(rng);
    };
    const std::size_t n = static_cast<std::size_t>(uniform(1, 8));
    std::vector<PointSpec> points;
    for (std::size_t i = 0; i < n; ++i) {
        static constexpr std::array<std::uint16_t, 6> sizes{1, 1, 2, 2, 4, 0};
        std::uint16_t registers = sizes[static_cast<std::size_t>(uniform(0, 5))];
        if (registers == 0) {
            registers = static_cast<std::uint16_t>(uniform(1, 6)); // a string
        }
        const RegisterKind kind = uniform(0, 3) == 0 ? input : holding;
        points.push_back(pt("p" + std::to_string(i), static_cast<std::uint16_t>(uniform(0, 40)),
                            registers, kind));
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (uniform(0, 9) < 3) {
            std::size_t sf = static_cast<std::size_t>(uniform(0, static_cast<int>(n) - 1));
            // Mostly a scale factor of the same kind; now and then one of the other kind.
            if (points[sf].function != points[i].function && uniform(0, 9) != 0) {
                continue;
            }
            points[i].scale_factor = sf;
        }
    }
    options.max_registers = uniform(0, 9) == 0 ? 125 : static_cast<std::uint16_t>(uniform(1, 24));
    options.max_gap = static_cast<std::uint16_t>(uniform(0, 8));
    options.even_alignment = uniform(0, 3) == 0;
    return points;
}

std::vector<unsigned> seeds() {
    std::vector<unsigned> list{1, 2, 3, 42, 1234, 99991, 20240601, 0xC0FFEE};
    if (Catch::rngSeed() != 0) {
        list.push_back(Catch::rngSeed()); // --rng-seed <n> adds a seed of your choice
    }
    return list;
}

ReadPlan plan_of(const std::variant<ReadPlan, PlanError>& result) {
    INFO(error_of(result));
    REQUIRE(std::holds_alternative<ReadPlan>(result));
    return std::get<ReadPlan>(result);
}

} // namespace

TEST_CASE("contiguous points are merged into one request") {
    const std::vector<PointSpec> points{pt("a", 0), pt("b", 1, 2), pt("c", 3, 2)};
    const auto result = plan_reads(points, opts(125, 0));
    CHECK(summary(plan_of(result)) == "H0+5:0,1,2");
}

TEST_CASE("a hole of exactly max_gap registers is read through, one more splits the request") {
    // max_gap 3: registers 11..13 belong to no point.
    const std::vector<PointSpec> at_limit{pt("a", 10), pt("b", 14)};
    CHECK(summary(plan_of(plan_reads(at_limit, opts(125, 3)))) == "H10+5:0,1");
    const std::vector<PointSpec> over_limit{pt("a", 10), pt("b", 15)};
    CHECK(summary(plan_of(plan_reads(over_limit, opts(125, 3)))) == "H10+1:0 H15+1:1");
}

TEST_CASE("with max_gap 0 only adjacent points share a request") {
    const std::vector<PointSpec> adjacent{pt("a", 10), pt("b", 11)};
    CHECK(summary(plan_of(plan_reads(adjacent, opts(125, 0)))) == "H10+2:0,1");
    const std::vector<PointSpec> one_apart{pt("a", 10), pt("b", 12)};
    CHECK(summary(plan_of(plan_reads(one_apart, opts(125, 0)))) == "H10+1:0 H12+1:1");
}

TEST_CASE("requests never exceed the protocol's 125 registers") {
    std::vector<PointSpec> points;
    for (std::uint16_t a = 0; a < 125; ++a) {
        points.push_back(pt("r" + std::to_string(a), a));
    }
    const ReadPlan one = plan_of(plan_reads(points, PlanOptions{}));
    REQUIRE(one.requests.size() == 1);
    CHECK(one.requests[0].start == 0);
    CHECK(one.requests[0].count == 125);

    points.push_back(pt("r125", 125));
    const ReadPlan two = plan_of(plan_reads(points, PlanOptions{}));
    REQUIRE(two.requests.size() == 2);
    CHECK(two.requests[0].count == 125);
    CHECK(two.requests[1].start == 125);
    CHECK(two.requests[1].count == 1);
    CHECK(two.requests[1].points == std::vector<std::size_t>{125});
}

TEST_CASE("a multi-register value is never cut at the request limit") {
    // 63 u32 at 0, 2, ..., 124: the one at 124 would end at 126.
    std::vector<PointSpec> points;
    for (std::uint16_t a = 0; a <= 124; a += 2) {
        points.push_back(pt("v" + std::to_string(a), a, 2));
    }
    const ReadPlan plan = plan_of(plan_reads(points, PlanOptions{}));
    REQUIRE(plan.requests.size() == 2);
    CHECK(plan.requests[0].start == 0);
    CHECK(plan.requests[0].count == 124);
    CHECK(plan.requests[0].points.size() == 62);
    CHECK(plan.requests[1].start == 124);
    CHECK(plan.requests[1].count == 2);
}

TEST_CASE("a device limit of 80 registers splits an Eastron-style float map") {
    // 42 float32 input registers at 0, 2, ..., 82 (84 registers).
    std::vector<PointSpec> points;
    for (std::uint16_t a = 0; a <= 82; a += 2) {
        points.push_back(pt("f" + std::to_string(a), a, 2, input));
    }
    const ReadPlan plan = plan_of(plan_reads(points, opts(80, 16, true)));
    REQUIRE(plan.requests.size() == 2);
    CHECK(plan.requests[0].function == input);
    CHECK(plan.requests[0].start == 0);
    CHECK(plan.requests[0].count == 80);
    CHECK(plan.requests[0].points.size() == 40);
    CHECK(plan.requests[1].start == 80);
    CHECK(plan.requests[1].count == 4);
}

TEST_CASE("holding and input registers are planned separately, holding first") {
    const std::vector<PointSpec> points{pt("i0", 0, 1, input), pt("h0", 0), pt("i1", 1, 1, input),
                                        pt("h1", 1)};
    CHECK(summary(plan_of(plan_reads(points, PlanOptions{}))) == "H0+2:1,3 I0+2:0,2");
}

TEST_CASE("a value stays with its scale factor even when that moves a split elsewhere") {
    // Address order alone would read a, b, w in 0..9 and leave w_sf alone.
    const std::vector<PointSpec> points{pt("a", 0), pt("b", 5), with_sf(pt("w", 8), 3),
                                        pt("w_sf", 12)};
    CHECK(summary(plan_of(plan_reads(points, opts(10, 16)))) == "H0+6:0,1 H8+5:2,3");
}

TEST_CASE("points sharing one scale factor are read as one block") {
    const std::vector<PointSpec> points{pt("sf", 20),
                                        with_sf(pt("p", 10), 0),
                                        with_sf(pt("q", 15), 0),
                                        with_sf(pt("r", 25), 0),
                                        pt("x", 0),
                                        pt("y", 30)};
    // x + group would span 0..25 (26 registers), group + y 10..30 (21): three requests.
    CHECK(summary(plan_of(plan_reads(points, opts(16, 16)))) == "H0+1:4 H10+16:0,1,2,3 H30+1:5");
}

TEST_CASE("interleaved scale-factor groups get overlapping requests") {
    // Groups {p, q} at 0..9 and {r, s} at 5..14 cannot share a 10-register request.
    const std::vector<PointSpec> points{with_sf(pt("p", 0), 1), pt("q", 9), with_sf(pt("r", 5), 3),
                                        pt("s", 14)};
    CHECK(summary(plan_of(plan_reads(points, opts(10, 16)))) == "H0+10:0,1 H5+10:2,3");
}

TEST_CASE("even alignment starts requests on even addresses and reads even counts") {
    const std::vector<PointSpec> points{pt("a", 1), pt("b", 3, 2)};
    CHECK(summary(plan_of(plan_reads(points, opts(125, 16, true)))) == "H0+6:0,1");
    const std::vector<PointSpec> top{pt("last", 65535)};
    CHECK(summary(plan_of(plan_reads(top, opts(125, 16, true)))) == "H65534+2:0");
}

TEST_CASE("even alignment rounds an odd max_registers down") {
    std::vector<PointSpec> points;
    for (std::uint16_t a = 0; a <= 80; a += 2) {
        points.push_back(pt("f" + std::to_string(a), a, 2, input));
    }
    const ReadPlan plan = plan_of(plan_reads(points, opts(81, 16, true)));
    REQUIRE(plan.requests.size() == 2);
    CHECK(plan.requests[0].count == 80);
    CHECK(plan.requests[1].start == 80);
    CHECK(plan.requests[1].count == 2);
}

TEST_CASE("overlapping points reading the same registers share a request") {
    const std::vector<PointSpec> points{pt("as_u16", 0), pt("as_i16", 0), pt("as_u32", 0, 2),
                                        pt("next", 1)};
    CHECK(summary(plan_of(plan_reads(points, opts(125, 0)))) == "H0+2:0,1,2,3");
}

TEST_CASE("points given out of address order give the same plan with sorted point lists") {
    const std::vector<PointSpec> points{pt("c", 10, 2), pt("b", 1, 2), pt("a", 0), pt("d", 40)};
    CHECK(summary(plan_of(plan_reads(points, opts(125, 16)))) == "H0+12:0,1,2 H40+1:3");
}

TEST_CASE("a scale-factor group longer than max_registers is a PlanError naming its points") {
    const std::vector<PointSpec> points{with_sf(pt("w", 0), 1), pt("w_sf", 130)};
    const std::string message = error_of(plan_reads(points, opts(125, 200)));
    CHECK_THAT(message, Catch::Contains("'w'") && Catch::Contains("'w_sf'") &&
                            Catch::Contains("131 registers") && Catch::Contains("125"));
}

TEST_CASE("a scale-factor group across a hole wider than max_gap is a PlanError") {
    const std::vector<PointSpec> points{pt("w_sf", 0), with_sf(pt("w", 30), 0)};
    const std::string message = error_of(plan_reads(points, opts(125, 16)));
    CHECK_THAT(message, Catch::Contains("'w'") && Catch::Contains("'w_sf'") &&
                            Catch::Contains("max_gap 16"));
    // Points of other groups in between close the hole.
    std::vector<PointSpec> filled = points;
    filled.push_back(pt("fill", 15));
    CHECK(summary(plan_of(plan_reads(filled, opts(125, 16)))) == "H0+31:0,1,2");
}

TEST_CASE("a point larger than max_registers is a PlanError naming it") {
    const std::vector<PointSpec> points{pt("serial", 0, 40)};
    const std::string message = error_of(plan_reads(points, opts(32, 16)));
    CHECK_THAT(message, Catch::Contains("'serial'") && Catch::Contains("40 registers"));
}

TEST_CASE("invalid options and points are PlanErrors") {
    const std::vector<PointSpec> one{pt("a", 0)};
    CHECK_THAT(error_of(plan_reads(one, opts(0, 16))), Catch::Contains("max_registers"));
    CHECK_THAT(error_of(plan_reads(one, opts(126, 16))), Catch::Contains("max_registers"));
    CHECK_THAT(error_of(plan_reads(one, opts(1, 16, true))), Catch::Contains("even"));
    CHECK(std::holds_alternative<ReadPlan>(plan_reads(one, opts(1, 16))));

    const std::vector<PointSpec> empty_point{pt("nothing", 5, 0)};
    CHECK_THAT(error_of(plan_reads(empty_point, PlanOptions{})), Catch::Contains("'nothing'"));
    const std::vector<PointSpec> past_end{pt("tail", 65535, 2)};
    CHECK_THAT(error_of(plan_reads(past_end, PlanOptions{})), Catch::Contains("'tail'"));
    const std::vector<PointSpec> bad_index{with_sf(pt("w", 0), 7)};
    CHECK_THAT(error_of(plan_reads(bad_index, PlanOptions{})), Catch::Contains("'w'"));
    const std::vector<PointSpec> other_kind{with_sf(pt("w", 0), 1), pt("w_sf", 1, 1, input)};
    CHECK_THAT(error_of(plan_reads(other_kind, PlanOptions{})),
               Catch::Contains("'w'") && Catch::Contains("'w_sf'"));
}

TEST_CASE("no points give an empty plan") {
    const ReadPlan plan = plan_of(plan_reads(std::vector<PointSpec>{}, PlanOptions{}));
    CHECK(plan.requests.empty());
    CHECK(plan.registers_read() == 0);
}

TEST_CASE("registers_read is the sum of the request counts") {
    ReadPlan plan;
    plan.requests.resize(3);
    plan.requests[0].count = 5;
    plan.requests[1].count = 125;
    plan.requests[2].count = 2;
    CHECK(plan.registers_read() == 132);
}

TEST_CASE("describe prints one line per request with function code, range and point names") {
    const std::vector<PointSpec> points{pt("w", 40070), pt("w_sf", 40073), pt("v", 0, 2, input)};
    const ReadPlan plan = plan_of(plan_reads(points, PlanOptions{}));
    CHECK(describe(plan, points) == "FC03 40070..40073 (4 regs): w, w_sf\n"
                                    "FC04 0..1 (2 regs): v");
}

TEST_CASE("describe truncates long point lists") {
    std::vector<PointSpec> points;
    for (std::uint16_t a = 0; a < 10; ++a) {
        points.push_back(pt("p" + std::to_string(a), a));
    }
    const ReadPlan plan = plan_of(plan_reads(points, PlanOptions{}));
    CHECK(describe(plan, points) ==
          "FC03 0..9 (10 regs): p0, p1, p2, p3, p4, p5, p6, p7, ... (2 more)");
}

TEST_CASE("on random small maps the plan is valid and as small as exhaustive search finds") {
    for (const unsigned seed : seeds()) {
        std::mt19937 rng(seed);
        for (int round = 0; round < 2500; ++round) {
            PlanOptions options;
            const std::vector<PointSpec> points = random_map(rng, options);
            CAPTURE(seed, round);
            INFO(dump(points, options));
            const auto result = plan_reads(points, options);
            const std::optional<std::size_t> best = minimum_requests(points, options);
            INFO("planner: " << (std::holds_alternative<ReadPlan>(result)
                                     ? summary(std::get<ReadPlan>(result))
                                     : error_of(result)));
            INFO("exhaustive minimum: " << (best ? std::to_string(*best) : "infeasible"));
            REQUIRE(std::holds_alternative<ReadPlan>(result) == best.has_value());
            if (!best) {
                continue;
            }
            const ReadPlan& plan = std::get<ReadPlan>(result);
            const auto problems = violations(points, options, plan);
            CAPTURE(problems);
            REQUIRE(problems.empty());
            REQUIRE(plan.requests.size() == *best);
        }
    }
}

TEST_CASE("planning 100,000 points gives a valid plan, given in address order or shuffled") {
    // SunSpec-like blocks: ten values, each also read as a second type (overlapping points), all
    // sharing the scale factor that follows them; then a hole of 0..10 registers.
    std::mt19937 rng(7);
    std::vector<PointSpec> sorted;
    for (const RegisterKind kind : {holding, input}) {
        std::uint32_t address = 0;
        const std::size_t target = kind == holding ? 50'000u : 100'000u;
        while (sorted.size() < target) {
            const std::size_t sf = sorted.size() + 20;
            for (std::uint32_t v = 0; v < 10; ++v) {
                const std::uint16_t size = (v % 3 == 0) ? 2 : 1;
                for (int reading = 0; reading < 2; ++reading) {
                    sorted.push_back(
                        with_sf(pt("v", static_cast<std::uint16_t>(address), size, kind), sf));
                }
                address += size;
            }
            sorted.push_back(pt("sf", static_cast<std::uint16_t>(address), 1, kind));
            address += 1 + std::uniform_int_distribution<std::uint32_t>(0, 10)(rng);
            REQUIRE(address < 0x10000u);
        }
    }
    REQUIRE(sorted.size() >= 100'000u);
    const PlanOptions options = opts(100, 8);

    const ReadPlan in_order = plan_of(plan_reads(sorted, options));
    CHECK(violations(sorted, options, in_order).empty());
    CHECK(in_order.requests.size() > 1000u);

    // The same map in random order, scale-factor indices following their points.
    std::vector<std::size_t> position(sorted.size());
    std::iota(position.begin(), position.end(), std::size_t{0});
    std::shuffle(position.begin(), position.end(), rng);
    std::vector<PointSpec> shuffled(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        shuffled[position[i]] = sorted[i];
        if (sorted[i].scale_factor) {
            shuffled[position[i]].scale_factor = position[*sorted[i].scale_factor];
        }
    }
    const ReadPlan any_order = plan_of(plan_reads(shuffled, options));
    CHECK(violations(shuffled, options, any_order).empty());
    CHECK(any_order.requests.size() == in_order.requests.size());
    CHECK(any_order.registers_read() == in_order.registers_read());
}
