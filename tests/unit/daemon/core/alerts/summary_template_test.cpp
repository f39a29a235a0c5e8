#include "daemon/core/alerts/summary_template.hpp"

#include <catch2/catch.hpp>

using namespace greenrack::alerts;

namespace {

SummaryTemplate parse_ok(std::string_view text) {
    auto parsed = SummaryTemplate::parse(text, [](std::string_view name) {
        return name == "value" || name == "subject" || name == "coverage";
    });
    REQUIRE(std::holds_alternative<SummaryTemplate>(parsed));
    return std::get<SummaryTemplate>(parsed);
}

std::string render(const SummaryTemplate& t) {
    return t.render([](std::string_view name) -> std::variant<std::monostate, double, std::string> {
        if (name == "value") {
            return 1234.5678;
        }
        if (name == "subject") {
            return std::string("r7");
        }
        return std::monostate{};
    });
}

} // namespace

TEST_CASE("summary placeholders render numbers, texts, percentages and n/a") {
    CHECK(render(parse_ok("{subject}: {value} W")) == "r7: 1234.568 W");
    CHECK(render(parse_ok("{value:.0f}|{value:.2f}")) == "1235|1234.57");
    CHECK(render(parse_ok("{coverage:.1%}")) == "n/a");
    CHECK(render(parse_ok("{{literal}} {value:.0%}")) == "{literal} 123457%");
    CHECK(render(parse_ok("")) == "");
}

TEST_CASE("summary template errors give the byte offset and the reason") {
    auto known = [](std::string_view name) { return name == "value"; };
    auto error = [&](std::string_view text) {
        auto parsed = SummaryTemplate::parse(text, known);
        REQUIRE(std::holds_alternative<SummaryTemplate::Error>(parsed));
        return std::get<SummaryTemplate::Error>(parsed);
    };
    CHECK(error("abc {nope}").offset == 4);
    CHECK_THAT(error("abc {nope}").message, Catch::Contains("unknown placeholder 'nope'"));
    CHECK_THAT(error("{value").message, Catch::Contains("not closed"));
    CHECK_THAT(error("x }").message, Catch::Contains("unmatched"));
    CHECK_THAT(error("{value:.2e}").message, Catch::Contains("not supported"));
    CHECK_THAT(error("{}").message, Catch::Contains("empty"));
    CHECK_THAT(error("{Value}").message, Catch::Contains("a-z"));
}

TEST_CASE("format_number trims the default format and never prints minus zero") {
    CHECK(format_number(2.5) == "2.5");
    CHECK(format_number(-0.0001) == "0");
    CHECK(format_number(-0.0001, 2) == "0.00");
    CHECK(format_number(0.873, 1, true) == "87.3%");
    CHECK(format_number(std::numeric_limits<double>::quiet_NaN()) == "n/a");
}
