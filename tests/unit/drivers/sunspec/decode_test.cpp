#include "drivers/sunspec/decode.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Register blocks below are built by hand: data offsets (after ID and L) are written out from
// device-register-maps.md §1.6 ("Off" - 2), not taken from the tables under test.

using namespace greenrack::sunspec;

namespace {

using Regs = std::vector<std::uint16_t>;

std::uint16_t s16(int value) {
    return static_cast<std::uint16_t>(static_cast<std::int16_t>(value));
}

void put_u32(Regs& regs, std::size_t at, std::uint32_t value) {
    regs.at(at) = static_cast<std::uint16_t>(value >> 16);
    regs.at(at + 1) = static_cast<std::uint16_t>(value & 0xFFFFU);
}

void put_u64(Regs& regs, std::size_t at, std::uint64_t value) {
    put_u32(regs, at, static_cast<std::uint32_t>(value >> 32));
    put_u32(regs, at + 2, static_cast<std::uint32_t>(value & 0xFFFF'FFFFU));
}

void put_f32(Regs& regs, std::size_t at, float value) {
    put_u32(regs, at, std::bit_cast<std::uint32_t>(value));
}

// Two characters per register, first in the high byte, NUL padded to `count` registers.
void put_string(Regs& regs, std::size_t at, std::size_t count, std::string_view text) {
    for (std::size_t i = 0; i < count; ++i) {
        const auto byte = [&text](std::size_t k) -> std::uint16_t {
            return k < text.size() ? static_cast<unsigned char>(text[k]) : 0U;
        };
        regs.at(at + i) = static_cast<std::uint16_t>((byte(2 * i) << 8) | byte(2 * i + 1));
    }
}

const ModelDef& model(int id) {
    const ModelDef* def = find_model(id);
    REQUIRE(def != nullptr);
    return *def;
}

const DecodedPoint& point(const DecodedModel& decoded, std::string_view name) {
    const DecodedPoint* found = decoded.find(name);
    INFO("point " << name);
    REQUIRE(found != nullptr);
    return *found;
}

const DecodedPoint& group_point(const DecodedModel& decoded, std::size_t index,
                                std::string_view name) {
    const DecodedPoint* found = decoded.find("module", index, name);
    INFO("module " << index << " point " << name);
    REQUIRE(found != nullptr);
    return *found;
}

// Model 103 data offsets (after L).
constexpr std::size_t m103_a = 0, m103_a_sf = 4, m103_phv_a = 8, m103_phv_c = 10, m103_v_sf = 11,
                      m103_w = 12, m103_w_sf = 13, m103_hz = 14, m103_hz_sf = 15, m103_wh = 22,
                      m103_wh_sf = 24, m103_st = 36, m103_evt1 = 38;

} // namespace

TEST_CASE("103: W is scaled by W_SF from the same block, negative SF dividing", "[sunspec]") {
    Regs data(50, 0);
    data[m103_w] = 12345;
    data[m103_w_sf] = s16(-1);
    data[m103_hz] = 5002;
    data[m103_hz_sf] = s16(-2);
    const DecodedModel decoded = decode(model(103), data);

    CHECK_FALSE(point(decoded, "W").missing);
    CHECK(point(decoded, "W").value == 1234.5);
    CHECK(point(decoded, "W").resolution == Approx(0.1));
    CHECK(point(decoded, "Hz").value == 50.02);
    CHECK_FALSE(point(decoded, "W_SF").missing);
    CHECK(point(decoded, "W_SF").value == -1.0); // the scale factor itself: its exponent
    CHECK_FALSE(decoded.truncated);
    CHECK(decoded.trailing_registers == 0);
}

TEST_CASE("103: positive SF multiplies and int16 W keeps its sign", "[sunspec]") {
    Regs data(50, 0);
    data[m103_a] = 123;
    data[m103_a_sf] = 1;
    data[m103_w] = s16(-500);
    data[m103_w_sf] = 2;
    data[m103_wh] = 0x0001; // acc32 high word first: 0x0001'0002 = 65538
    data[m103_wh + 1] = 0x0002;
    data[m103_wh_sf] = 3;
    const DecodedModel decoded = decode(model(103), data);

    CHECK(point(decoded, "A").value == 1230.0);
    CHECK(point(decoded, "W").value == -50000.0);
    CHECK(point(decoded, "WH").value == 65538000.0);
}

TEST_CASE("103: each type's not-implemented value reads as missing", "[sunspec]") {
    Regs data(50, 0);
    data[m103_w] = 0x8000;                 // int16
    data[m103_a] = 0xFFFF;                 // uint16
    data[m103_st] = 0xFFFF;                // enum16
    put_u32(data, m103_evt1, 0xFFFF'FFFF); // bitfield32
    put_u32(data, m103_wh, 0);             // acc32
    data[m103_hz] = 5000;                  // a neighbour that is implemented
    const DecodedModel decoded = decode(model(103), data);

    CHECK(point(decoded, "W").missing);
    CHECK(point(decoded, "A").missing);
    CHECK(point(decoded, "St").missing);
    CHECK(point(decoded, "Evt1").missing);
    CHECK(point(decoded, "WH").missing);
    CHECK_FALSE(point(decoded, "Hz").missing);
    CHECK(point(decoded, "Hz").value == 5000.0);
}

TEST_CASE("103: an SF of 0x8000 makes every value using it missing, and only those", "[sunspec]") {
    Regs data(50, 0);
    data[m103_phv_a] = 2301;
    data[m103_phv_c] = 2299;
    data[m103_v_sf] = 0x8000;
    data[m103_w] = 1000;
    data[m103_w_sf] = 0;
    const DecodedModel decoded = decode(model(103), data);

    CHECK(point(decoded, "V_SF").missing);
    for (const char* name : {"PPVphAB", "PPVphBC", "PPVphCA", "PhVphA", "PhVphB", "PhVphC"}) {
        INFO(name);
        CHECK(point(decoded, name).missing);
    }
    CHECK_FALSE(point(decoded, "W").missing);
    CHECK(point(decoded, "W").value == 1000.0);
}

TEST_CASE("103: an SF outside -10..10 makes its values missing", "[sunspec]") {
    Regs data(50, 0);
    data[m103_w] = 1000;
    data[m103_w_sf] = 11;
    const DecodedModel decoded = decode(model(103), data);
    CHECK(point(decoded, "W_SF").missing);
    CHECK(point(decoded, "W").missing);
}

TEST_CASE("203: energy accumulators scale by TotWh_SF, a zero accumulator is missing",
          "[sunspec]") {
    // 203 data offsets: A 0, A_SF 4, Hz 14, W 16, W_SF 20, TotWhExp 36, TotWhImp 44,
    // TotWh_SF 52.
    Regs data(105, 0);
    data[0] = s16(-25);
    data[4] = s16(-1);
    data[14] = 0x8000;
    data[16] = s16(-4200);
    data[20] = 1;
    put_u32(data, 36, 0);
    put_u32(data, 44, 100000);
    data[52] = 1;
    const DecodedModel decoded = decode(model(203), data);

    CHECK(point(decoded, "A").value == -2.5); // meters use int16 currents
    CHECK(point(decoded, "Hz").missing);
    CHECK(point(decoded, "W").value == -42000.0);
    CHECK_FALSE(point(decoded, "TotWhImp").missing);
    CHECK(point(decoded, "TotWhImp").value == 1000000.0);
    CHECK(point(decoded, "TotWhImp").resolution == 10.0);
    CHECK(point(decoded, "TotWhExp").missing);
}

TEST_CASE("203: a TotWh_SF of 0x8000 hides every energy accumulator", "[sunspec]") {
    Regs data(105, 0);
    put_u32(data, 36, 500);
    put_u32(data, 44, 700);
    data[52] = 0x8000;
    const DecodedModel decoded = decode(model(203), data);
    CHECK(point(decoded, "TotWhExp").missing);
    CHECK(point(decoded, "TotWhImp").missing);
}

TEST_CASE("802: battery SoC with SoC_SF, signed W, uint32 cycles and their sentinels",
          "[sunspec]") {
    // 802 data offsets: SoC 9, NCyc 12, WarrDt 22, W 45, SoC_SF 54, W_SF 61.
    Regs data(62, 0);
    data[9] = 655;
    data[54] = s16(-1);
    data[45] = s16(-3000);
    data[61] = 0;
    put_u32(data, 12, 0x0001'0002);
    put_u32(data, 22, 0xFFFF'FFFF);
    const DecodedModel decoded = decode(model(802), data);

    CHECK(point(decoded, "SoC").value == 65.5);
    CHECK(point(decoded, "W").value == -3000.0);
    CHECK(point(decoded, "NCyc").value == 65538.0);
    CHECK(point(decoded, "WarrDt").missing);
}

TEST_CASE("802: SoC is missing when its SF register is not implemented", "[sunspec]") {
    Regs data(62, 0);
    data[9] = 655;
    data[54] = 0x8000;
    const DecodedModel decoded = decode(model(802), data);
    CHECK(point(decoded, "SoC").missing);
    CHECK(point(decoded, "SoCMax").missing);
}

TEST_CASE("160: two modules are decoded per index with the fixed block's scale factors",
          "[sunspec]") {
    // Fixed block: DCA_SF 0, DCV_SF 1, DCW_SF 2, DCWH_SF 3, Evt 4-5, N 6, TmsPer 7.
    // Module i starts at 8 + 20 i: ID 0, IDStr 1-8, DCA 9, DCV 10, DCW 11, DCWH 12-13,
    // Tms 14-15, Tmp 16, DCSt 17, DCEvt 18-19.
    Regs data(8 + 2 * 20, 0);
    data[0] = s16(-2);
    data[1] = s16(-1);
    data[2] = 0;
    data[3] = 1;
    data[6] = 2;
    data[7] = 0xFFFF;
    const std::size_t m0 = 8;
    data[m0] = 1;
    put_string(data, m0 + 1, 8, "PV1");
    data[m0 + 9] = 850;
    data[m0 + 10] = 6000;
    data[m0 + 11] = 5100;
    put_u32(data, m0 + 12, 12345);
    data[m0 + 16] = s16(-5);
    data[m0 + 17] = 4;
    const std::size_t m1 = 28;
    data[m1] = 2;
    put_string(data, m1 + 1, 8, "PV2");
    data[m1 + 9] = 0xFFFF;
    data[m1 + 10] = 5900;
    put_u32(data, m1 + 12, 0);
    const DecodedModel decoded = decode(model(160), data);

    REQUIRE(decoded.groups.size() == 1);
    CHECK(decoded.groups[0].instances.size() == 2);
    CHECK(decoded.trailing_registers == 0);
    CHECK(point(decoded, "N").value == 2.0);
    CHECK(point(decoded, "TmsPer").missing);

    CHECK(group_point(decoded, 0, "ID").value == 1.0);
    CHECK(group_point(decoded, 0, "IDStr").text == "PV1");
    CHECK(group_point(decoded, 0, "DCA").value == 8.5);
    CHECK(group_point(decoded, 0, "DCV").value == 600.0);
    CHECK(group_point(decoded, 0, "DCW").value == 5100.0);
    CHECK(group_point(decoded, 0, "DCWH").value == 123450.0);
    CHECK(group_point(decoded, 0, "Tmp").value == -5.0);
    CHECK(group_point(decoded, 0, "DCSt").value == 4.0);

    CHECK(group_point(decoded, 1, "ID").value == 2.0);
    CHECK(group_point(decoded, 1, "IDStr").text == "PV2");
    CHECK(group_point(decoded, 1, "DCA").missing);
    CHECK(group_point(decoded, 1, "DCV").value == 590.0);
    CHECK(group_point(decoded, 1, "DCWH").missing);
    CHECK(decoded.find("module", 2, "DCV") == nullptr);
}

TEST_CASE("160: the module count follows L and a partial instance is left over, not decoded",
          "[sunspec]") {
    const DecodedModel none = decode(model(160), Regs(8, 0));
    REQUIRE(none.groups.size() == 1);
    CHECK(none.groups[0].instances.empty());

    const DecodedModel partial = decode(model(160), Regs(8 + 20 + 7, 0));
    CHECK(partial.groups[0].instances.size() == 1);
    CHECK(partial.trailing_registers == 7);
    CHECK_FALSE(partial.truncated);
}

TEST_CASE("160: a module's value is missing when the shared SF is 0x8000", "[sunspec]") {
    Regs data(8 + 20, 0);
    data[1] = 0x8000; // DCV_SF
    data[8 + 10] = 6000;
    data[8 + 9] = 850; // DCA with DCA_SF 0
    const DecodedModel decoded = decode(model(160), data);
    CHECK(group_point(decoded, 0, "DCV").missing);
    CHECK(group_point(decoded, 0, "DCA").value == 850.0);
}

TEST_CASE("113: float32 values need no SF, and any NaN or infinity is missing", "[sunspec]") {
    // 113 data offsets: A 0, W 20, Hz 22, VA 24, PF 28, WH 30, St 46.
    Regs data(60, 0);
    put_f32(data, 0, 12.25F);
    put_f32(data, 20, -1500.5F);
    put_u32(data, 22, 0x7FC0'0000); // the quiet NaN SunSpec writes
    put_u32(data, 24, 0xFFC0'0001); // another NaN
    put_u32(data, 28, 0x7F80'0000); // +infinity
    put_f32(data, 30, 123456.0F);
    data[46] = 4;
    const DecodedModel decoded = decode(model(113), data);

    CHECK(point(decoded, "A").value == 12.25);
    CHECK(point(decoded, "W").value == -1500.5);
    CHECK(point(decoded, "Hz").missing);
    CHECK(point(decoded, "VA").missing);
    CHECK(point(decoded, "PF").missing);
    CHECK(point(decoded, "WH").value == 123456.0);
    CHECK(point(decoded, "St").value == 4.0);
}

TEST_CASE("1: strings lose trailing NULs and blanks, an all-zero string is missing", "[sunspec]") {
    // Model 1 data offsets: Mn 0 (16), Md 16 (16), Opt 32 (8), Vr 40 (8), SN 48 (16), DA 64,
    // Pad 65.
    Regs data(66, 0);
    put_string(data, 0, 16, "greenrack");
    put_string(data, 16, 16, "PV-3000 TL   ");
    put_string(data, 40, 8, "1.2.3");
    put_string(data, 48, 16, "SN0042  ");
    data[64] = 7;
    const DecodedModel decoded = decode(model(1), data);

    CHECK(point(decoded, "Mn").text == "greenrack");
    CHECK(point(decoded, "Md").text == "PV-3000 TL");
    CHECK(point(decoded, "Opt").missing);
    CHECK(point(decoded, "Vr").text == "1.2.3");
    CHECK(point(decoded, "SN").text == "SN0042");
    CHECK_FALSE(point(decoded, "SN").missing);
    CHECK(point(decoded, "DA").value == 7.0);
    CHECK(point(decoded, "Pad").missing); // a pad carries nothing
}

TEST_CASE("1: an older L = 65 block is truncated: DA decodes, Pad is missing", "[sunspec]") {
    Regs data(65, 0);
    put_string(data, 0, 16, "greenrack");
    data[64] = 3;
    const DecodedModel decoded = decode(model(1), data);
    CHECK(decoded.truncated);
    CHECK(point(decoded, "Mn").text == "greenrack");
    CHECK(point(decoded, "DA").value == 3.0);
    CHECK(point(decoded, "Pad").missing);
}

TEST_CASE("a block too short for a value and its SF leaves both missing", "[sunspec]") {
    Regs data(13, 0); // model 103 up to W (12); W_SF (13) is cut off
    data[m103_a] = 10;
    data[m103_w] = 100;
    const DecodedModel decoded = decode(model(103), data);
    CHECK(decoded.truncated);
    CHECK(point(decoded, "A").value == 10.0);
    CHECK(point(decoded, "W").missing);
    CHECK(point(decoded, "W_SF").missing);
    CHECK(point(decoded, "EvtVnd4").missing);
}

TEST_CASE("registers past the fixed block of a model without groups are counted, not decoded",
          "[sunspec]") {
    const DecodedModel decoded = decode(model(713), Regs(7 + 3, 0));
    CHECK(decoded.trailing_registers == 3);
    CHECK_FALSE(decoded.truncated);
    CHECK(decoded.points.size() == model(713).points.size());
}

namespace {

// A model made up for the tests: one point of every type, with values or sentinels put in
// by the test cases. Offsets after L.
using T = PointType;
constexpr auto all_type_points = std::to_array<PointDef>({
    {"i16", 0, 1, T::int16},    {"u16", 1, 1, T::uint16},
    {"cnt", 2, 1, T::count},    {"a16", 3, 1, T::acc16},
    {"e16", 4, 1, T::enum16},   {"b16", 5, 1, T::bitfield16},
    {"sf", 6, 1, T::sunssf},    {"i32", 7, 2, T::int32},
    {"u32", 9, 2, T::uint32},   {"a32", 11, 2, T::acc32},
    {"e32", 13, 2, T::enum32},  {"b32", 15, 2, T::bitfield32},
    {"f32", 17, 2, T::float32}, {"ip", 19, 2, T::ipaddr},
    {"i64", 21, 4, T::int64},   {"u64", 25, 4, T::uint64},
    {"a64", 29, 4, T::acc64},   {"f64", 33, 4, T::float64},
    {"mac", 37, 4, T::eui48},   {"ip6", 41, 8, T::ipv6addr},
    {"str", 49, 2, T::string},  {"fixed", 51, 1, T::int16, "", fixed_sf(-2)},
});
constexpr ModelDef all_types{64000, "all_types", 52, all_type_points, {}};

Regs all_sentinels() {
    Regs data(52, 0);
    data[0] = 0x8000;
    data[1] = 0xFFFF;
    data[2] = 0xFFFF;
    data[3] = 0;
    data[4] = 0xFFFF;
    data[5] = 0xFFFF;
    data[6] = 0x8000;
    put_u32(data, 7, 0x8000'0000);
    put_u32(data, 9, 0xFFFF'FFFF);
    put_u32(data, 11, 0);
    put_u32(data, 13, 0xFFFF'FFFF);
    put_u32(data, 15, 0xFFFF'FFFF);
    put_u32(data, 17, 0x7FC0'0000);
    put_u32(data, 19, 0);
    put_u64(data, 21, 0x8000'0000'0000'0000);
    put_u64(data, 25, 0xFFFF'FFFF'FFFF'FFFF);
    put_u64(data, 29, 0);
    put_u64(data, 33, 0x7FF8'0000'0000'0000);
    put_u64(data, 37, 0x0000'FFFF'FFFF'FFFF);
    // ip6 41..48 and str 49..50 stay all zero
    data[51] = 0x8000;
    return data;
}

} // namespace

TEST_CASE("every type's SunSpec not-implemented value is missing", "[sunspec]") {
    const DecodedModel decoded = decode(all_types, all_sentinels());
    for (const DecodedPoint& p : decoded.points) {
        INFO("point " << p.def->name << " value " << p.value << " text " << p.text);
        CHECK(p.missing);
    }
    CHECK(decoded.points.size() == all_type_points.size());
}

TEST_CASE("every type next to its sentinel is a value", "[sunspec]") {
    Regs data(52, 0);
    data[0] = 0x8001;
    data[1] = 0xFFFE;
    data[2] = 3;
    data[3] = 1;
    data[4] = 0xFFFE;
    data[5] = 0x7FFF;
    data[6] = s16(-10);
    put_u32(data, 7, 0x8000'0001);
    put_u32(data, 9, 0xFFFF'FFFE);
    put_u32(data, 11, 1);
    put_u32(data, 13, 7);
    put_u32(data, 15, 0x0000'0005);
    put_f32(data, 17, 0.5F);
    put_u32(data, 19, 0xC0A8'0102); // 192.168.1.2
    put_u64(data, 21, 0xFFFF'FFFF'FFFF'FFFE);
    put_u64(data, 25, 1'000'000'000'000ULL);
    put_u64(data, 29, 42);
    put_u64(data, 33, std::bit_cast<std::uint64_t>(-2.25));
    put_u64(data, 37, 0x0000'0011'22AA'BBCC);
    data[41] = 0x2001;
    data[42] = 0x0DB8;
    data[48] = 0x0001;
    put_string(data, 49, 2, "ok");
    data[51] = 12345;
    const DecodedModel decoded = decode(all_types, data);

    const auto value = [&decoded](std::string_view name) {
        const DecodedPoint& p = point(decoded, name);
        CHECK_FALSE(p.missing);
        return p.value;
    };
    const auto text = [&decoded](std::string_view name) {
        const DecodedPoint& p = point(decoded, name);
        CHECK_FALSE(p.missing);
        return p.text;
    };
    CHECK(value("i16") == -32767.0);
    CHECK(value("u16") == 65534.0);
    CHECK(value("cnt") == 3.0);
    CHECK(value("a16") == 1.0);
    CHECK(value("e16") == 65534.0);
    CHECK(value("b16") == 32767.0);
    CHECK(value("sf") == -10.0);
    CHECK(value("i32") == -2147483647.0);
    CHECK(value("u32") == 4294967294.0);
    CHECK(value("a32") == 1.0);
    CHECK(value("e32") == 7.0);
    CHECK(value("b32") == 5.0);
    CHECK(value("f32") == 0.5);
    CHECK(text("ip") == "192.168.1.2");
    CHECK(value("i64") == -2.0);
    CHECK(value("u64") == 1e12);
    CHECK(value("a64") == 42.0);
    CHECK(value("f64") == -2.25);
    CHECK(text("mac") == "00:11:22:AA:BB:CC");
    CHECK(text("ip6") == "2001:0DB8:0000:0000:0000:0000:0000:0001");
    CHECK(text("str") == "ok");
    CHECK(value("fixed") == 123.45); // the definition's own exponent, -2
}

TEST_CASE("an all-zero eui48 is missing too, as in pysunspec2", "[sunspec]") {
    Regs data = all_sentinels();
    put_u64(data, 37, 0);
    const DecodedModel decoded = decode(all_types, data);
    CHECK(point(decoded, "mac").missing);
}

namespace {

// A made-up model whose group has its own "X_SF" as well as the fixed block's.
constexpr auto scoped_fixed_points = std::to_array<PointDef>({
    {"X_SF", 0, 1, T::sunssf},
    {"Y_SF", 1, 1, T::sunssf},
});
constexpr auto scoped_group_points = std::to_array<PointDef>({
    {"X", 0, 1, T::int16, "", sf("X_SF")},
    {"Y", 1, 1, T::int16, "", sf("Y_SF")},
    {"X_SF", 2, 1, T::sunssf},
});
constexpr std::array<GroupDef, 1> scoped_groups{{{"g", 3, 0, scoped_group_points}}};
constexpr ModelDef scoped{64001, "scoped", 2, scoped_fixed_points, scoped_groups};

} // namespace

TEST_CASE("a group point's SF comes from its own instance first, else from the fixed block",
          "[sunspec]") {
    const Regs data{
        1, 2,         // fixed: X_SF = 1, Y_SF = 2
        5, 5, s16(-1) // instance 0: X = 5, Y = 5, its own X_SF = -1
    };
    const DecodedModel decoded = decode(scoped, data);
    REQUIRE(decoded.groups.size() == 1);
    REQUIRE(decoded.groups[0].instances.size() == 1);
    const auto* x = decoded.find("g", 0, "X");
    const auto* y = decoded.find("g", 0, "Y");
    REQUIRE(x != nullptr);
    REQUIRE(y != nullptr);
    CHECK(x->value == 0.5);
    CHECK(y->value == 500.0);
}
