#include "daemon/fleet/tick_assembler.hpp"

#include <catch2/catch.hpp>

using namespace greenrack;
using accounting::Energy;
using accounting::PartialInputs;
using accounting::SourceQuality;
using fleet::Offer;

namespace {

constexpr std::int64_t t0 = 1'800'000'000'000; // a multiple of 5 s
constexpr std::int64_t due = t0 + 5000 + 2000; // the shards publish tick t0 then
constexpr std::int64_t deadline = due + 3000;

// Two shards: "a" has PV and rack 0, "b" the grid meter and rack 1.
PartialInputs part_a(std::int64_t start, double pv_wh, double rack_wh) {
    PartialInputs p;
    p.start_ms = start;
    p.pv = Energy{pv_wh, SourceQuality::ok};
    p.rack_it = {Energy{rack_wh, SourceQuality::ok}, std::nullopt};
    return p;
}

PartialInputs part_b(std::int64_t start, double import_wh, double rack_wh) {
    PartialInputs p;
    p.start_ms = start;
    p.grid_import = Energy{import_wh, SourceQuality::ok};
    p.grid_export = Energy{0.0, SourceQuality::ok};
    p.rack_it = {std::nullopt, Energy{rack_wh, SourceQuality::ok}};
    return p;
}

fleet::TickAssembler make() {
    accounting::SourceLayout layout;
    layout.has_pv = true;
    layout.racks = 2;
    fleet::TickAssembler assembler(fleet::TickAssembler::Settings{5000, 2000, 3000, 60'000}, layout,
                                   {"a", "b"}, {part_a(0, 0, 0), part_b(0, 0, 0)});
    assembler.start_at(t0);
    return assembler;
}

} // namespace

TEST_CASE("a tick is assembled as soon as every shard sent its part", "[fleet]") {
    auto assembler = make();
    CHECK(assembler.offer("b", part_b(t0, 4.0, 2.0), due, nullptr) == Offer::accepted);
    CHECK(assembler.take_ready(due).empty());
    CHECK(assembler.offer("a", part_a(t0, 3.0, 1.0), due + 5, nullptr) == Offer::accepted);
    auto ready = assembler.take_ready(due + 5); // long before the deadline
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].missing.empty());
    CHECK(ready[0].inputs.start_ms == t0);
    CHECK(ready[0].inputs.pv.wh == 3.0);
    CHECK(ready[0].inputs.grid_import.wh == 4.0);
    CHECK(ready[0].inputs.rack_it[0].wh == 1.0);
    CHECK(ready[0].inputs.rack_it[1].wh == 2.0);
    CHECK(assembler.next_tick_ms() == t0 + 5000);
}

TEST_CASE("at the deadline a tick is assembled with the silent shard's quantities missing",
          "[fleet]") {
    auto assembler = make();
    CHECK(assembler.offer("a", part_a(t0, 3.0, 1.0), due, nullptr) == Offer::accepted);
    CHECK(assembler.take_ready(deadline - 1).empty());
    auto ready = assembler.take_ready(deadline);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].missing == std::vector<std::string>{"b"});
    CHECK(ready[0].inputs.rack_it[0].quality == SourceQuality::ok);
    CHECK(ready[0].inputs.rack_it[1].quality == SourceQuality::missing);
    CHECK(ready[0].inputs.grid_import.quality == SourceQuality::missing);
    CHECK(ready[0].inputs.grid_export.quality == SourceQuality::missing);
}

TEST_CASE("a tick nobody reported is assembled all missing, and ticks go in order", "[fleet]") {
    auto assembler = make();
    // Tick t0 + 5 s is complete early, but t0 waits for its deadline first.
    CHECK(assembler.offer("a", part_a(t0 + 5000, 1, 1), due + 5000, nullptr) == Offer::accepted);
    CHECK(assembler.offer("b", part_b(t0 + 5000, 1, 1), due + 5000, nullptr) == Offer::accepted);
    CHECK(assembler.take_ready(deadline - 1).empty());
    auto ready = assembler.take_ready(deadline);
    REQUIRE(ready.size() == 2);
    CHECK(ready[0].inputs.start_ms == t0);
    CHECK(ready[0].missing.size() == 2);
    CHECK(ready[0].inputs.pv.quality == SourceQuality::missing);
    CHECK(ready[1].inputs.start_ms == t0 + 5000);
    CHECK(ready[1].missing.empty());
}

TEST_CASE("duplicates from at-least-once delivery are dropped before and after assembly",
          "[fleet]") {
    auto assembler = make();
    CHECK(assembler.offer("a", part_a(t0, 3.0, 1.0), due, nullptr) == Offer::accepted);
    CHECK(assembler.offer("a", part_a(t0, 99.0, 99.0), due, nullptr) == Offer::duplicate);
    CHECK(assembler.offer("b", part_b(t0, 4.0, 2.0), due, nullptr) == Offer::accepted);
    auto ready = assembler.take_ready(due);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].inputs.pv.wh == 3.0); // the first copy
    CHECK(assembler.offer("b", part_b(t0, 4.0, 2.0), due + 100, nullptr) == Offer::duplicate);
}

TEST_CASE("a part after its deadline yields a correction, once, within the window", "[fleet]") {
    auto assembler = make();
    CHECK(assembler.offer("a", part_a(t0, 3.0, 1.0), due, nullptr) == Offer::accepted);
    auto ready = assembler.take_ready(deadline);
    REQUIRE(ready.size() == 1);
    fleet::Correction correction;
    CHECK(assembler.offer("b", part_b(t0, 4.0, 2.0), deadline + 500, &correction) ==
          Offer::correction);
    CHECK(correction.start_ms == t0);
    CHECK(correction.shard == "b");
    CHECK(correction.before.rack_it[1].quality == SourceQuality::missing);
    CHECK(correction.after.rack_it[1].quality == SourceQuality::ok);
    CHECK(correction.after.rack_it[1].wh == 2.0);
    CHECK(correction.after.grid_import.wh == 4.0);
    CHECK(correction.after.rack_it[0].wh == 1.0); // shard a's part is still in
    CHECK(assembler.offer("b", part_b(t0, 4.0, 2.0), deadline + 600, nullptr) == Offer::duplicate);
}

TEST_CASE("parts beyond the correction window, before the start or far ahead are refused",
          "[fleet]") {
    auto assembler = make();
    CHECK(assembler.offer("a", part_a(t0 - 5000, 1, 1), due, nullptr) == Offer::too_late);
    CHECK(assembler.offer("a", part_a(t0, 1, 1), due, nullptr) == Offer::accepted);
    REQUIRE(assembler.take_ready(deadline).size() == 1);
    CHECK(assembler.offer("b", part_b(t0, 1, 1), t0 + 5000 + 60'001, nullptr) == Offer::too_late);
    // A tick that ends more than two ticks after now: a shard's clock is off.
    CHECK(assembler.offer("a", part_a(t0 + 20'000, 1, 1), t0 + 10'000, nullptr) ==
          Offer::too_early);
    CHECK(assembler.offer("c", part_a(t0 + 5000, 1, 1), due + 5000, nullptr) ==
          Offer::unknown_shard);
}

TEST_CASE("skip_to drops the ticks before it without assembling them", "[fleet]") {
    auto assembler = make();
    assembler.skip_to(t0 + 60'000);
    CHECK(assembler.next_tick_ms() == t0 + 60'000);
    CHECK(assembler.take_ready(t0 + 60'000 + 9999).empty());
    CHECK(assembler.take_ready(t0 + 60'000 + 10'000).size() == 1);
    CHECK(assembler.offer("a", part_a(t0 + 5000, 1, 1), t0 + 70'000, nullptr) == Offer::too_late);
}

TEST_CASE("merging refuses a part with another number of racks than the site", "[fleet]") {
    accounting::SourceLayout layout;
    layout.racks = 2;
    PartialInputs wrong;
    wrong.rack_it = {std::nullopt};
    CHECK_THROWS_AS(accounting::merge_parts(layout, t0, {&wrong}), std::invalid_argument);
}
