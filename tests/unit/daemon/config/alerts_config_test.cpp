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
using namespace greenrack::alerts;
using namespace std::chrono_literals;

namespace {

// A small site (one PDU split in two racks, PV, grid meter); `extra` is appended. The site part
// is 30 lines long, so the first line of `extra` is line 31.
std::string site(const std::string& extra) {
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
[[rack]]
id = "r1"
outlets = [{ device = "pdu", from = 1, to = 12 }]
[[rack]]
id = "r2"
outlets = [{ device = "pdu", from = 13, to = 24 }]
[prometheus]
enabled = false
)" + extra;
}

class ConfigFile {
public:
    explicit ConfigFile(const std::string& text) {
        std::string pattern = (fs::temp_directory_path() / "greenrack-alerts-XXXXXX").string();
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
    // The error without the file name: "line:column: message" ("" when it loads).
    std::string error() const {
        try {
            load_config(path_);
        } catch (const ConfigError& err) {
            const std::string text = err.what();
            const std::string prefix = path_.string() + ":";
            REQUIRE(text.rfind(prefix, 0) == 0);
            return text.substr(prefix.size());
        }
        return "";
    }

private:
    fs::path dir_;
    fs::path path_;
};

const RuleSpec* find(const Config& config, std::string_view name) {
    for (const auto& rule : config.alerts.rules) {
        if (rule.name == name) {
            return &rule;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("without alert sections every built-in rule runs with its defaults", "[config][alerts]") {
    ConfigFile file(site(""));
    const Config config = load_config(file.path());
    CHECK(config.alerts.enabled);
    CHECK(config.alerts.cause_window == 15min);
    CHECK(config.alerts.cause_racks == 3);
    REQUIRE(config.alerts.rules.size() == 9);
    const RuleSpec* rack = find(config, "rack_nongreen");
    REQUIRE(rack != nullptr);
    CHECK(rack->enabled);
    CHECK(rack->condition.threshold == 500.0);
    CHECK(rack->for_duration == 60s);
    CHECK_FALSE(config.alertmanager.enabled);
    CHECK(config.alertmanager.urls == std::vector<std::string>{"http://127.0.0.1:9093"});
}

TEST_CASE("a built-in rule can be tuned or disabled", "[config][alerts]") {
    ConfigFile file(site(R"([alerts]
cause_window = "30m"
cause_racks = 5
[alerts.builtin.rack_nongreen]
threshold = 2000
clear_threshold = 1500
for = "2m"
severity = "critical"
labels = { team = "dc-ops" }
subjects = ["r2"]
[alerts.builtin.balance_residual]
enabled = false
)"));
    const Config config = load_config(file.path());
    CHECK(config.alerts.cause_window == 30min);
    CHECK(config.alerts.cause_racks == 5);
    const RuleSpec* rack = find(config, "rack_nongreen");
    REQUIRE(rack != nullptr);
    CHECK(rack->condition.threshold == 2000.0);
    CHECK(rack->clear_threshold == 1500.0);
    CHECK(rack->for_duration == 2min);
    CHECK(rack->clear_for == 30s); // untouched default
    CHECK(rack->severity == "critical");
    CHECK(rack->labels == std::map<std::string, std::string>{{"team", "dc-ops"}});
    CHECK(rack->subjects == std::vector<std::string>{"r2"});
    CHECK_FALSE(find(config, "balance_residual")->enabled);
}

TEST_CASE("a custom rule takes every field", "[config][alerts]") {
    ConfigFile file(site(R"([[alert]]
name = "r1_on_grid"
scope = "rack"
output = "nongreen_it_w"
op = ">="
threshold = 100
clear_threshold = 50.5
for = "10s"
clear_for = "1m"
severity = "info"
summary = "{subject}: {value:.0f} W"
subjects = ["r1", "unattributed"]
missing = "alerting"
when = { output = "it_w", op = ">", threshold = 10 }
[alertmanager]
enabled = true
urls = ["http://127.0.0.1:9093", "http://10.0.0.2:9093/am"]
resend_interval = "30s"
generator_url = "http://gw-7:9464/metrics"
)"));
    const Config config = load_config(file.path());
    REQUIRE(config.alerts.rules.size() == 10);
    const RuleSpec& rule = config.alerts.rules.back();
    CHECK(rule.name == "r1_on_grid");
    CHECK(rule.scope == Scope::rack);
    CHECK(rule.condition.output == "nongreen_it_w");
    CHECK(rule.condition.op == Comparator::ge);
    CHECK(rule.condition.threshold == 100.0);
    CHECK(rule.clear_threshold == 50.5);
    CHECK(rule.for_duration == 10s);
    CHECK(rule.clear_for == 1min);
    CHECK(rule.severity == "info");
    CHECK(rule.summary == "{subject}: {value:.0f} W");
    CHECK(rule.subjects == std::vector<std::string>{"r1", "unattributed"});
    CHECK(rule.missing == MissingPolicy::alerting);
    REQUIRE(rule.when);
    CHECK(rule.when->output == "it_w");
    CHECK(rule.when->threshold == 10.0);
    CHECK_FALSE(rule.builtin);
    CHECK(config.alertmanager.enabled);
    CHECK(config.alertmanager.urls.size() == 2);
    CHECK(config.alertmanager.resend_interval == 30s);
    CHECK(config.alertmanager.generator_url == "http://gw-7:9464/metrics");
}

TEST_CASE("invalid alert rules stop start-up at the value at fault", "[config][alerts][error]") {
    struct Case {
        std::string text;
        std::string error;
    };
    const std::vector<Case> cases{
        {"[[alert]]\nname = \"x\"\nscope = \"rack\"\noutput = \"nongreen_kw\"\nop = \">\"\n"
         "threshold = 1\n",
         "34:10: alert[0].output: 'nongreen_kw' is not an output of scope rack (known: it_w, "
         "burdened_w, green_w, nongreen_w, green_it_w, nongreen_it_w, coverage, tier, "
         "headroom_free_w, headroom_total_w, headroom_storage_w)"},
        {"[[alert]]\nname = \"x\"\nscope = \"planet\"\noutput = \"a\"\nop = \">\"\n",
         "33:9: alert[0].scope: expected one of \"site\", \"rack\", \"battery\", \"device\", got "
         "\"planet\""},
        {"[[alert]]\nname = \"x\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \"=>\"\n"
         "threshold = 1\n",
         "35:6: alert[0].op: expected one of \">\", \">=\", \"<\", \"<=\", got \"=>\""},
        {"[[alert]]\nname = \"x\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 100\nclear_threshold = 200\n",
         "37:19: alert[0].clear_threshold: clear_threshold 200 must not be above threshold 100 "
         "for a '>' rule (it is where the alert clears)"},
        {"[[alert]]\nname = \"x\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 1\nsummary = \"now {valeu} W\"\n",
         "37:16: alert[0].summary: unknown placeholder 'valeu' (not an output of this rule's "
         "scope)"},
        {"[[alert]]\nname = \"x\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 1\nfor = \"soon\"\n",
         "37:7: alert[0].for: expected a duration like \"500ms\", \"5s\" or \"2m\", got "
         "\"soon\""},
        {"[[alert]]\nname = \"x\"\nscope = \"rack\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 1\nsubjects = [\"r1\", \"r9\"]\n",
         "37:19: alert[0].subjects[1]: no rack \"r9\" is configured"},
        {"[[alert]]\nname = \"x\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 1\nsubjects = [\"t\"]\n",
         "37:12: alert[0].subjects: only rack and device rules take subjects"},
        {"[[alert]]\nname = \"site_nongreen\"\nscope = \"site\"\noutput = \"nongreen_w\"\n"
         "op = \">\"\nthreshold = 1\n",
         "32:8: alert[0].name: rule \"site_nongreen\" is built in: tune it with "
         "[alerts.builtin.site_nongreen] instead"},
        {"[[alert]]\nname = \"x\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 1\nlabels = { site = \"y\" }\n",
         "37:10: alert[0].labels: label 'site' is set by greenrack and cannot be overridden"},
        {"[[alert]]\nname = \"x\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 1\nthreshhold = 2\n",
         "37:14: alert[0].threshhold: unknown key (did you mean \"threshold\"?)"},
        {"[alerts.builtin.rack_nongren]\nthreshold = 1\n",
         "31:1: alerts.builtin.rack_nongren: no built-in rule \"rack_nongren\" (built-in rules: "
         "rack_nongreen, site_nongreen, site_coverage_low, device_stale, data_gap, "
         "balance_residual, spool_dropping, spool_filling, battery_green_low; define new rules "
         "with [[alert]])"},
        {"[alerts.builtin.rack_nongreen]\noutput = \"it_w\"\n",
         "32:10: alerts.builtin.rack_nongreen.output: unknown key (misspelt, or not valid here)"},
        {"[alerts.builtin.battery_green_low]\nwhen = { output = \"dischrage_w\", op = \">\", "
         "threshold = 1 }\n",
         "32:19: alerts.builtin.battery_green_low.when.output: 'dischrage_w' is not an output of "
         "scope battery (known: green_fraction, discharge_w, charge_w, stored_wh, green_wh, "
         "nongreen_to_load_w)"},
        {"[alertmanager]\nurls = [\"https://am:9093\"]\n",
         "32:9: alertmanager.urls[0]: expected http://host:port[/prefix], got "
         "\"https://am:9093\" (TLS to Alertmanager is not supported yet)"},
        {"[[alert]]\nname = \"dup\"\nscope = \"site\"\noutput = \"nongreen_w\"\nop = \">\"\n"
         "threshold = 1\n[[alert]]\nname = \"dup\"\nscope = \"site\"\noutput = \"load_w\"\n"
         "op = \">\"\nthreshold = 1\n",
         "38:8: alert[1].name: duplicate rule name \"dup\" (first defined at line 32)"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        ConfigFile file(site(c.text));
        CHECK(file.error() == c.error);
    }
}
