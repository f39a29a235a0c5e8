// The shipped unit file passes systemd's own checks: `systemd-analyze verify` with no output at
// all (it exits 0 on unknown keys and bad values, so any output is a failure) and an exposure
// score of at most 2.0 from `systemd-analyze security --offline=true`. The unit is staged with
// ExecStart= pointing at the built greenrackd (verify needs an executable).

#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <string>

using namespace greenrack::test;

namespace {

std::filesystem::path staged_unit(const TempDir& dir) {
    std::string unit =
        read_file(std::filesystem::path(GREENRACK_SOURCE_DIR) / "systemd" / "greenrackd.service");
    const std::string installed = "/usr/bin/greenrackd";
    const auto at = unit.find(installed);
    REQUIRE(at != std::string::npos);
    unit.replace(at, installed.size(), GREENRACKD_BIN);
    const auto path = dir.path() / "greenrackd.service";
    write_file(path, unit);
    return path;
}

} // namespace

TEST_CASE("systemd unit: systemd-analyze verify has nothing to say about greenrackd.service",
          "[systemd]") {
    TempDir dir("greenrack-unit");
    const auto unit = staged_unit(dir);
    const auto result = run_program("systemd-analyze", {"verify", unit.string()});
    INFO(result.out << result.err);
    CHECK(result.status == 0);
    CHECK(result.out.empty());
    CHECK(result.err.empty());
}

TEST_CASE("systemd unit: the exposure score of greenrackd.service is at most 2.0", "[systemd]") {
    TempDir dir("greenrack-unit");
    const auto unit = staged_unit(dir);
    const auto result =
        run_program("systemd-analyze", {"security", "--offline=true", unit.string()});
    INFO(result.out << result.err);
    REQUIRE(result.status == 0);
    std::smatch match;
    const std::string text = result.out + result.err;
    REQUIRE(std::regex_search(text, match,
                              std::regex("Overall exposure level for greenrackd\\.service: "
                                         "([0-9]+\\.[0-9])")));
    CHECK(std::stod(match[1]) <= 2.0);
}
