#include "daemon/fleet/partial_codec.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace greenrack;
using accounting::Energy;
using accounting::SourceQuality;

namespace {

const std::vector<std::string> racks{"r1", "r2", "r3"};

fleet::PartMessage sample() {
    fleet::PartMessage m;
    m.site = "qh";
    m.shard = "hall-a";
    m.tick_ms = 5000;
    m.part.start_ms = 1'800'000'000'000;
    m.seq = 1'800'000'000'000 / 5000;
    m.sent_ms = 1'800'000'007'003;
    m.part.pv = Energy{12.5, SourceQuality::ok};
    m.part.load = Energy{0.0, SourceQuality::missing};
    m.part.grid_import = Energy{3.25, SourceQuality::held};
    m.part.rack_it = {Energy{1.5, SourceQuality::ok}, std::nullopt,
                      Energy{0.0, SourceQuality::stale}};
    m.part.has_battery = true;
    m.part.battery_stored_wh = 40'000.0;
    m.part.flags = 16;
    return m;
}

} // namespace

TEST_CASE("a part survives encoding and decoding unchanged", "[fleet]") {
    const auto message = sample();
    const std::string text = fleet::encode_part(message, racks);
    const auto decoded = fleet::decode_part(text, racks);
    REQUIRE(decoded.message.has_value());
    CHECK(decoded.error.empty());
    CHECK(decoded.message->site == "qh");
    CHECK(decoded.message->shard == "hall-a");
    CHECK(decoded.message->seq == message.seq);
    CHECK(decoded.message->sent_ms == message.sent_ms);
    CHECK(decoded.message->part == message.part);
    // Racks the shard has nothing for are not in the message at all.
    CHECK_FALSE(nlohmann::json::parse(text).at("racks").contains("r2"));
}

TEST_CASE("racks are matched by id, whatever their order in the message", "[fleet]") {
    const auto message = sample();
    const std::vector<std::string> reordered{"r3", "r1", "r2"};
    const auto decoded = fleet::decode_part(fleet::encode_part(message, racks), reordered);
    REQUIRE(decoded.message.has_value());
    CHECK(decoded.message->part.rack_it[0] == message.part.rack_it[2]);
    CHECK(decoded.message->part.rack_it[1] == message.part.rack_it[0]);
    CHECK_FALSE(decoded.message->part.rack_it[2].has_value());
}

TEST_CASE("a malformed part is refused whole with the reason", "[fleet]") {
    const std::string good = fleet::encode_part(sample(), racks);
    auto edit = [&](auto change) {
        auto json = nlohmann::json::parse(good);
        change(json);
        return fleet::decode_part(json.dump(), racks);
    };
    auto unknown_rack = fleet::decode_part(good, {"r1", "r2"});
    CHECK_FALSE(unknown_rack.message);
    CHECK(unknown_rack.error.find("r3") != std::string::npos);

    auto bad_seq = edit([](auto& j) { j["seq"] = 1; });
    CHECK_FALSE(bad_seq.message);
    CHECK(bad_seq.error.find("seq") != std::string::npos);

    CHECK_FALSE(edit([](auto& j) { j["sources"]["pv"]["q"] = "great"; }).message);
    CHECK_FALSE(edit([](auto& j) { j["sources"]["pv"]["wh"] = -1.0; }).message);
    CHECK_FALSE(edit([](auto& j) { j["sources"]["sun"] = j["sources"]["pv"]; }).message);
    CHECK_FALSE(edit([](auto& j) { j["v"] = 2; }).message);
    CHECK_FALSE(edit([](auto& j) { j.erase("racks"); }).message);
    CHECK_FALSE(fleet::decode_part("{\"v\":1", racks).message);
    CHECK_FALSE(fleet::decode_part("[]", racks).message);
}
