#include "drivers/sim/cli_options.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace greenrack::sim;

namespace {

CliOptions parse(std::vector<const char*> args) {
    args.insert(args.begin(), "greenrack-sim");
    return parse_cli(static_cast<int>(args.size()), args.data());
}

} // namespace

TEST_CASE("command line: defaults bind loopback and search ../profiles next to the scenario") {
    const CliOptions o = parse({"--scenario", "config/examples/demo-site.sim.toml"});
    REQUIRE(o.scenario == "config/examples/demo-site.sim.toml");
    REQUIRE(o.bind == "127.0.0.1");
    REQUIRE_FALSE(o.seed.has_value());
    REQUIRE_FALSE(o.speed.has_value());
    REQUIRE_FALSE(o.freeze);
    REQUIRE_FALSE(o.snapshot.has_value());
    REQUIRE(profile_search_dirs(o) ==
            std::vector<std::filesystem::path>{"config/examples/../profiles"});
}

TEST_CASE("command line: every option is read, --profiles repeats in order") {
    const CliOptions o =
        parse({"--scenario", "s.toml", "--profiles", "a", "--profiles", "b", "--seed", "9",
               "--speed", "60", "--freeze", "--bind", "0.0.0.0", "--snapshot", "snap.json",
               "--ready-file", "ready.json", "--stats"});
    REQUIRE(profile_search_dirs(o) == std::vector<std::filesystem::path>{"a", "b"});
    REQUIRE(*o.seed == 9);
    REQUIRE(*o.speed == 60.0);
    REQUIRE(o.freeze);
    REQUIRE(o.bind == "0.0.0.0");
    REQUIRE(*o.snapshot == "snap.json");
    REQUIRE(*o.ready_file == "ready.json");
    REQUIRE(o.stats);
}

TEST_CASE("command line: missing scenario, bad numbers and unknown options are usage errors") {
    REQUIRE_THROWS_AS(parse({}), CliError);
    REQUIRE_THROWS_AS(parse({"--scenario", "s.toml", "--speed", "0"}), CliError);
    REQUIRE_THROWS_AS(parse({"--scenario", "s.toml", "--seed", "many"}), CliError);
    REQUIRE_THROWS_AS(parse({"--scenario", "s.toml", "--colour"}), CliError);
    // --help and --version need nothing else.
    REQUIRE(parse({"--help"}).help);
    REQUIRE(parse({"--version"}).version);
}

TEST_CASE("help text names every option") {
    const std::string help = cli_help();
    for (const char* option : {"--scenario", "--profiles", "--seed", "--speed", "--freeze",
                               "--bind", "--snapshot", "--ready-file", "--stats", "--version"}) {
        REQUIRE_THAT(help, Catch::Matchers::Contains(option));
    }
}
