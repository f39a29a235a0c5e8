#include "daemon/sinks/prometheus_exposition.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>

using namespace greenrack::sinks;

namespace {

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Promtool {
    int status = -1;
    std::string output;
};

// Runs `promtool check metrics < text` and returns its exit status and output.
Promtool promtool_check(const std::string& text) {
    char pattern[] = "/tmp/greenrack-promtool-XXXXXX";
    const char* dir = mkdtemp(pattern);
    REQUIRE(dir != nullptr);
    const std::filesystem::path base(dir);
    {
        std::ofstream out(base / "metrics.txt", std::ios::binary);
        out << text;
    }
    const std::string command = "promtool check metrics < '" + (base / "metrics.txt").string() +
                                "' > '" + (base / "out.txt").string() + "' 2>&1";
    const int raw = std::system(command.c_str());
    Promtool result;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.output = slurp(base / "out.txt");
    std::filesystem::remove_all(base);
    return result;
}

} // namespace

TEST_CASE("exposition writes HELP and TYPE once per family, samples grouped by family",
          "[prometheus]") {
    ExpositionWriter writer;
    writer.declare("a_total", MetricType::counter, "Things counted.");
    writer.declare("b_ratio", MetricType::gauge, "A ratio.");
    writer.sample("a_total", {{"x", "1"}}, 3);
    writer.sample("b_ratio", {}, 0.5);
    writer.sample("a_total", {{"x", "2"}}, 4); // added later, still written with its family
    CHECK(writer.text() == "# HELP a_total Things counted.\n"
                           "# TYPE a_total counter\n"
                           "a_total{x=\"1\"} 3\n"
                           "a_total{x=\"2\"} 4\n"
                           "# HELP b_ratio A ratio.\n"
                           "# TYPE b_ratio gauge\n"
                           "b_ratio 0.5\n");
}

TEST_CASE("exposition leaves out a declared family without samples", "[prometheus]") {
    ExpositionWriter writer;
    writer.declare("empty", MetricType::gauge, "Nothing here.");
    writer.declare("one", MetricType::gauge, "One.");
    writer.sample("one", {}, 1);
    CHECK(writer.text() == "# HELP one One.\n# TYPE one gauge\none 1\n");
    CHECK(ExpositionWriter().text().empty());
}

TEST_CASE("exposition escapes backslash, quote and newline in label values", "[prometheus]") {
    ExpositionWriter writer;
    writer.declare("info", MetricType::gauge, "Path C:\\dir\nsecond line");
    writer.sample("info", {{"path", "C:\\dir"}, {"note", "say \"hi\"\nnext"}}, 1);
    CHECK(writer.text() == "# HELP info Path C:\\\\dir\\nsecond line\n"
                           "# TYPE info gauge\n"
                           "info{path=\"C:\\\\dir\",note=\"say \\\"hi\\\"\\nnext\"} 1\n");
}

TEST_CASE("exposition keeps valid UTF-8 and replaces invalid bytes", "[prometheus]") {
    CHECK(escape_label_value("\xC2\xB0"
                             "C") == "\xC2\xB0"
                                     "C");
    CHECK(escape_label_value("a\xFF"
                             "b") == "a\xEF\xBF\xBD"
                                     "b");
    CHECK(escape_label_value("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD"); // truncated sequence
    CHECK(escape_help("\"quoted\"") == "\"quoted\""); // quotes are not escaped in HELP
}

TEST_CASE("exposition formats numbers the way Prometheus parses them", "[prometheus]") {
    CHECK(format_value(1027) == "1027");
    CHECK(format_value(0.1) == "0.1");
    CHECK(format_value(-2.5) == "-2.5");
    CHECK(format_value(1.8e8) == "180000000"); // whole numbers in plain digits
    CHECK(format_value(9007199254740991.0) == "9007199254740991");
    CHECK(format_value(1e21) == "1e+21");
    CHECK(format_value(1.5e-7) == "1.5e-07");
    CHECK(format_value(123456789.125) == "123456789.125");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(format_value(std::nan("")) == "NaN");
    // Shortest text that reads back as the same double.
    const double third = 1.0 / 3.0;
    CHECK(std::stod(format_value(third)) == third);
}

TEST_CASE("exposition writes a histogram as cumulative buckets with +Inf, sum and count",
          "[prometheus]") {
    ExpositionWriter writer;
    writer.declare("poll_seconds", MetricType::histogram, "Poll time.");
    const double bounds[] = {0.05, 0.1};
    const std::uint64_t counts[] = {24, 9, 1};
    writer.histogram("poll_seconds", {{"device", "d1"}}, bounds, counts, 2.7);
    CHECK(writer.text() == "# HELP poll_seconds Poll time.\n"
                           "# TYPE poll_seconds histogram\n"
                           "poll_seconds_bucket{device=\"d1\",le=\"0.05\"} 24\n"
                           "poll_seconds_bucket{device=\"d1\",le=\"0.1\"} 33\n"
                           "poll_seconds_bucket{device=\"d1\",le=\"+Inf\"} 34\n"
                           "poll_seconds_sum{device=\"d1\"} 2.7\n"
                           "poll_seconds_count{device=\"d1\"} 34\n");
}

TEST_CASE("exposition rejects misuse as a programming error", "[prometheus]") {
    ExpositionWriter writer;
    CHECK_THROWS_AS(writer.declare("requests", MetricType::counter, "no _total"),
                    std::invalid_argument);
    CHECK_THROWS_AS(writer.declare("bad-name", MetricType::gauge, "h"), std::invalid_argument);
    CHECK_THROWS_AS(writer.declare("9lives", MetricType::gauge, "h"), std::invalid_argument);
    writer.declare("g", MetricType::gauge, "h");
    writer.declare("g", MetricType::gauge, "h"); // the same declaration again is fine
    CHECK_THROWS_AS(writer.declare("g", MetricType::histogram, "h"), std::invalid_argument);
    CHECK_THROWS_AS(writer.sample("undeclared", {}, 1), std::invalid_argument);
    CHECK_THROWS_AS(writer.sample("g", {{"bad-label", "x"}}, 1), std::invalid_argument);
    CHECK_THROWS_AS(writer.sample("g", {{"__reserved", "x"}}, 1), std::invalid_argument);
    CHECK_THROWS_AS(writer.sample("g", {{"a", "1"}, {"a", "2"}}, 1), std::invalid_argument);
    writer.declare("h", MetricType::histogram, "h");
    const double bounds[] = {1.0};
    const std::uint64_t counts[] = {1, 0};
    const std::uint64_t short_counts[] = {1};
    CHECK_THROWS_AS(writer.sample("h", {}, 1), std::invalid_argument);
    CHECK_THROWS_AS(writer.histogram("g", {}, bounds, counts, 0), std::invalid_argument);
    CHECK_THROWS_AS(writer.histogram("h", {{"le", "1"}}, bounds, counts, 0), std::invalid_argument);
    CHECK_THROWS_AS(writer.histogram("h", {}, bounds, short_counts, 0), std::invalid_argument);
    CHECK(writer.text() == ""); // nothing half-written
}

TEST_CASE("promtool accepts every construct the writer produces", "[prometheus][promtool]") {
    ExpositionWriter writer;
    writer.declare("x_requests_total", MetricType::counter, "Requests.");
    writer.declare("x_temperature_celsius", MetricType::gauge, "Temperature \\ \"quoted\".");
    writer.declare("x_poll_duration_seconds", MetricType::histogram, "Poll time.");
    writer.sample("x_requests_total", {{"bus", "plant"}}, 1e21);
    writer.sample("x_temperature_celsius", {{"path", "C:\\dir"}, {"note", "say \"hi\"\nnext"}},
                  std::nan(""));
    writer.sample("x_temperature_celsius", {{"path", "+"}},
                  std::numeric_limits<double>::infinity());
    writer.sample("x_temperature_celsius", {{"path", "-"}},
                  -std::numeric_limits<double>::infinity());
    writer.sample("x_temperature_celsius",
                  {{"unit", "\xC2\xB0"
                            "C"}},
                  -0.0);
    const double bounds[] = {0.001, 0.25, 10};
    const std::uint64_t counts[] = {0, 3, 1, 2};
    writer.histogram("x_poll_duration_seconds", {{"device", "pv-1"}}, bounds, counts, 31.5);
    const auto result = promtool_check(writer.text());
    INFO(writer.text());
    INFO("promtool: " << result.output);
    CHECK(result.status == 0);
    CHECK(result.output.empty());
}

TEST_CASE("the promtool check used by these tests reports a lint problem", "[promtool]") {
    // Proves the check is live: a counter without _total and a family without HELP fail.
    const auto result = promtool_check("# TYPE x_requests counter\nx_requests 1\n");
    CHECK(result.status != 0);
    CHECK(result.output.find("_total") != std::string::npos);
}
