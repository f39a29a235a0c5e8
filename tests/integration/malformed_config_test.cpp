// The real greenrackd --check-config against configurations with one mistake each
// (tests/fixtures/malformed-configs/*.toml): TOML syntax, wrong types, typos, out-of-range
// numbers, bad durations, duplicate ids, unknown profiles, bad URIs, bad alert rules, bad outlet
// ranges, missing keys, invalid UTF-8, NUL bytes, deep nesting, a password file that is a
// device... Each must be refused with exit status 78 and exactly one located error on stderr,
// never a crash or a hang.
//
// The first line of every fixture says what greenrackd must print after the file name:
//   # expect: <line>:<column>: <message>
// where {repo} in the message stands for the source tree (for messages that name a resolved
// path). Profile directories in the fixtures are relative to the fixture
// ("../../../config/profiles"), as relative paths in a config resolve against its directory.

#include "tests/support/process.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
// g++ 12 with -fsanitize reports a false -Wmaybe-uninitialized in <regex> (the std::function
// in its NFA states).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <string>
#include <vector>

namespace fs = std::filesystem;
using greenrack::test::run_program;
using greenrack::test::TempDir;

namespace {

constexpr int exit_config = 78;

const fs::path fixtures_dir =
    fs::path(GREENRACK_SOURCE_DIR) / "tests" / "fixtures" / "malformed-configs";

std::vector<fs::path> fixture_files() {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fixtures_dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".toml") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

struct Expectation {
    int line = 0;
    int column = 0;
    std::string message;
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
        text.replace(pos, from.size(), to);
        pos += to.size();
    }
    return text;
}

// "# expect: 12:9: bus[0].port: must be between 1 and 65535, got 70000" on the first line.
std::optional<Expectation> read_expectation(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string first;
    std::getline(in, first);
    static const std::regex form(R"(^# expect: ([0-9]+):([0-9]+): (.+)$)");
    std::smatch match;
    if (!std::regex_match(first, match, form)) {
        return std::nullopt;
    }
    return Expectation{std::stoi(match[1].str()), std::stoi(match[2].str()),
                       replace_all(match[3].str(), "{repo}", GREENRACK_SOURCE_DIR)};
}

int line_count(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return static_cast<int>(std::count(text.begin(), text.end(), '\n')) +
           (text.empty() || text.back() == '\n' ? 0 : 1);
}

greenrack::test::RunResult check_config(const fs::path& file) {
    return run_program(GREENRACKD_BIN, {"--check-config", "--config", file.string()},
                       std::chrono::seconds(30));
}

// "<file>:<line>:<column>: <message>\n", nothing else.
bool is_one_located_error(const std::string& err, const std::string& file) {
    if (err.rfind(file + ":", 0) != 0 || err.empty() || err.back() != '\n') {
        return false;
    }
    const std::string rest = err.substr(file.size() + 1, err.size() - file.size() - 2);
    static const std::regex form(R"(^[1-9][0-9]*:[1-9][0-9]*: [^\n]+$)");
    return std::regex_match(rest, form);
}

} // namespace

TEST_CASE("the malformed config fixtures cover at least 30 mistakes, each with an expectation",
          "[malformed_config]") {
    const auto files = fixture_files();
    CHECK(files.size() >= 30);
    for (const auto& file : files) {
        INFO(file.filename().string());
        const auto expected = read_expectation(file);
        REQUIRE(expected.has_value());
        CHECK(expected->line >= 1);
        CHECK(expected->line <= std::max(1, line_count(file)));
        CHECK(expected->column >= 1);
    }
}

TEST_CASE("greenrackd --check-config refuses every malformed config with exit 78 and the exact "
          "file:line:column error",
          "[malformed_config]") {
    for (const auto& file : fixture_files()) {
        const auto expected = read_expectation(file);
        REQUIRE(expected.has_value());
        const auto result = check_config(file);
        INFO(file.filename().string() << "\nstderr: " << result.err << "\nstdout: " << result.out);
        CHECK(result.status == exit_config);
        CHECK(result.out.empty());
        CHECK(is_one_located_error(result.err, file.string()));
        CHECK(result.err == file.string() + ":" + std::to_string(expected->line) + ":" +
                                std::to_string(expected->column) + ": " + expected->message + "\n");
    }
}

TEST_CASE("a malformed config of zero bytes is refused at 1:1 for its missing site table",
          "[malformed_config]") {
    const TempDir dir("greenrack-empty-config");
    const fs::path file = dir.path() / "empty.toml";
    std::ofstream(file).close();
    const auto result = check_config(file);
    INFO("stderr: " << result.err);
    CHECK(result.status == exit_config);
    CHECK(result.err == file.string() + ":1:1: site: required table is missing\n");
}

TEST_CASE("a malformed config path (missing, empty, a directory, endless) is refused with exit 78",
          "[malformed_config]") {
    const TempDir dir("greenrack-odd-config");
    const fs::path absent = dir.path() / "absent.toml";
    struct Case {
        std::string path;
        std::string err;
    };
    const Case cases[] = {
        {absent.string(), absent.string() + ": cannot open file\n"},
        {"", "<config>: cannot open file\n"},
        {dir.path().string(), dir.path().string() + ": cannot read: is a directory\n"},
        {"/dev/zero", "/dev/zero: cannot read: larger than 16777216 bytes\n"},
    };
    for (const auto& c : cases) {
        const auto result = check_config(c.path);
        INFO("config \"" << c.path << "\", stderr: " << result.err);
        CHECK(result.status == exit_config);
        CHECK(result.err == c.err);
    }
}
