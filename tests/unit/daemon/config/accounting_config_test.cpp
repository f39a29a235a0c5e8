#include "daemon/config/config.hpp"
#include "drivers/common/config_error.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using greenrack::common::ConfigError;
using greenrack::config::Config;
using greenrack::config::load_config;
using namespace std::chrono_literals;

namespace {

// A site with one device of each source kind the real profiles offer, plus a rack.
std::string site(const std::string& accounting) {
    return std::string(R"([site]
id = "t"
[daemon]
profile_dirs = [")") +
           GREENRACK_SOURCE_DIR + R"(/config/profiles"]
[[bus]]
id = "b"
host = "127.0.0.1"
[[device]]
id = "pdu"
bus = "b"
unit_id = 1
profile = "rack_pdu_px3_24"
[[device]]
id = "pv"
bus = "b"
unit_id = 2
profile = "pv_sunspec_103"
[[device]]
id = "grid"
bus = "b"
unit_id = 3
profile = "meter_grid_4q"
[[device]]
id = "bat"
bus = "b"
unit_id = 4
profile = "battery_generic"
[[rack]]
id = "r1"
tier = 1
outlets = [{ device = "pdu", from = 1, to = 12 }]
[[rack]]
id = "r2"
outlets = [{ device = "pdu", from = 13, to = 24 }]
)" + accounting;
}

class ConfigFile {
public:
    explicit ConfigFile(const std::string& text) {
        std::string pattern = (fs::temp_directory_path() / "greenrack-acct-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        path_ = dir_ / "greenrack.toml";
        std::ofstream(path_) << text;
    }
    ~ConfigFile() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    const fs::path& path() const { return path_; }
    std::string error() const {
        try {
            load_config(path_);
        } catch (const ConfigError& err) {
            return err.what();
        }
        return "";
    }

private:
    fs::path dir_;
    fs::path path_;
};

// Line of the [accounting] table's n-th line (1-based) in site(...).
int accounting_line(int n) {
    const std::string text = site("");
    return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + n;
}

} // namespace

TEST_CASE("accounting defaults follow the specification and sources come from device roles",
          "[config][accounting]") {
    ConfigFile file(site(""));
    Config config = load_config(file.path());
    const auto& acc = config.accounting;
    CHECK(acc.enabled);
    CHECK(acc.settings.tick == 5s);
    CHECK(acc.settings.allocation == greenrack::accounting::Allocation::priority);
    CHECK(acc.settings.battery_model == greenrack::accounting::BatteryModel::well_mixed);
    CHECK(acc.settings.grid_cfe_share == 0.0);
    CHECK(acc.settings.ef_avg_g_per_kwh == 554.3);
    CHECK(acc.settings.ef_residual_g_per_kwh == 609.6);
    CHECK_FALSE(acc.settings.retain_onsite_attributes);
    CHECK(acc.settings.charge_efficiency == 0.95);
    CHECK(acc.max_hold == 60s);
    CHECK(acc.max_span == 5min);
    CHECK(acc.pv == std::vector<std::string>{"pv"});
    CHECK(acc.grid == std::vector<std::string>{"grid"});
    CHECK(acc.battery == std::vector<std::string>{"bat"});
    CHECK(acc.facility.empty());
    CHECK(acc.wind.empty());
    REQUIRE(acc.settings.racks.size() == 2);
    CHECK(acc.settings.racks[0].id == "r1");
    CHECK(acc.settings.racks[0].tier == 1);
    CHECK(acc.settings.metering_category == 3); // every rack measured at outlets
}

TEST_CASE("accounting options are read and validated", "[config][accounting]") {
    ConfigFile file(site(R"([accounting]
tick = "10s"
allocation = "pool"
battery_model = "fifo"
grid_cfe_share = 0.3
retain_onsite_attributes = true
battery_capacity_wh = 200000
pv = ["pv"]
)"));
    Config config = load_config(file.path());
    const auto& s = config.accounting.settings;
    CHECK(s.tick == 10s);
    CHECK(s.allocation == greenrack::accounting::Allocation::pool);
    CHECK(s.battery_model == greenrack::accounting::BatteryModel::fifo);
    CHECK(s.grid_cfe_share == 0.3);
    CHECK(s.retain_onsite_attributes);
    CHECK(s.battery_capacity_wh == 200000.0);
}

TEST_CASE("a tick that does not divide 15 minutes is rejected", "[config][accounting]") {
    ConfigFile file(site("[accounting]\ntick = \"7s\"\n"));
    CHECK(file.error() == file.path().string() + ":" + std::to_string(accounting_line(2)) +
                              ":8: accounting.tick: must divide 15 minutes exactly (e.g. 1s, "
                              "5s, 10s, 30s, 1m), got \"7s\"");
}

TEST_CASE("accounting errors name the key and the problem", "[config][accounting]") {
    struct Case {
        const char* text;
        int line;
        int column;
        const char* message;
    };
    const Case cases[] = {
        {"allocation = \"fair\"\n", 2, 14,
         "accounting.allocation: unknown value \"fair\" (expected one of \"priority\", \"pool\")"},
        {"grid_cfe_share = 1.5\n", 2, 18,
         "accounting.grid_cfe_share: must be between 0 and 1, got 1.5"},
        {"charge_efficiency = 0\n", 2, 21,
         "accounting.charge_efficiency: must be between 0.01 and 1, got 0"},
        {"pv = [\"grid\"]\n", 2, 7,
         "accounting.pv[0]: \"grid\" is a grid_meter, not a pv_inverter"},
        {"wind = [\"nope\"]\n", 2, 9, "accounting.wind[0]: unknown device \"nope\""},
        {"pv = [\"pv\", \"pv\"]\n", 2, 13, "accounting.pv[1]: \"pv\" is listed twice"},
        {"persist_interval = \"5m\"\n", 2, 20,
         "accounting.persist_interval: must be at most 1m so a crash loses at most a minute of "
         "totals, got \"5m\""},
        {"colour = 1\n", 2, 10, "accounting.colour: unknown key (misspelt, or not valid here)"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        ConfigFile file(site(std::string("[accounting]\n") + c.text));
        CHECK(file.error() == file.path().string() + ":" + std::to_string(accounting_line(c.line)) +
                                  ":" + std::to_string(c.column) + ": " + c.message);
    }
}
