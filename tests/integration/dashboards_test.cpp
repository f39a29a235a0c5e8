// The Grafana dashboards against real data: a real influxd (1.x, InfluxQL) on free loopback
// ports (tests/support/influxd.hpp), greenrackd writing the simulated site into it, then every
// InfluxQL query of every dashboard (template variables and panel targets) run through influxd's
// /query with the variables substituted the way Grafana does. Every query must run without an error
// and return data, except the few listed in `may_be_empty` below.

#include "tests/integration/site_harness.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/influxd.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::filesystem::path source_dir = GREENRACK_SOURCE_DIR;

// The first statement result of a query ({"series": [...]}, or {"error": "..."} for any failure).
json query_result(const Influxd& influxd, const std::string& q) {
    const auto reply = influxd.query(q, "greenrack");
    if (reply.status == 0) {
        return json{{"error", "influxd not reachable"}};
    }
    auto body = json::parse(reply.body, nullptr, false);
    if (body.is_discarded()) {
        return json{{"error", "HTTP " + std::to_string(reply.status) + ": " + reply.body}};
    }
    if (body.contains("error")) {
        return json{{"error", body["error"]}};
    }
    return body["results"][0];
}

// The value of a single-value count query (0 when there is no series).
std::size_t count(const Influxd& influxd, const std::string& q) {
    const auto result = query_result(influxd, q);
    if (!result.contains("series") || result["series"].empty()) {
        return 0;
    }
    return static_cast<std::size_t>(result["series"][0]["values"][0][1].get<double>());
}

std::size_t series_count(const json& result) {
    return result.contains("series") ? result["series"].size() : 0;
}

// Grafana's regex escaping of a variable value inside /^...$/.
std::string regex_escape(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (std::string("\\^$.|?*+()[]{}/-").find(c) != std::string::npos) {
            out += '\\';
        }
        out += c;
    }
    return out;
}

// Replaces every $name by its value (a lone $ stays); fails on an unknown name.
std::string substitute(const std::string& query, const std::map<std::string, std::string>& vars) {
    std::string out;
    for (std::size_t i = 0; i < query.size(); ++i) {
        if (query[i] != '$') {
            out += query[i];
            continue;
        }
        std::size_t end = i + 1;
        while (end < query.size() &&
               (std::isalnum(static_cast<unsigned char>(query[end])) != 0 || query[end] == '_')) {
            ++end;
        }
        const auto name = query.substr(i + 1, end - i - 1);
        if (name.empty()) { // a regex anchor, as in /^$site$/
            out += '$';
            continue;
        }
        const auto it = vars.find(name);
        if (it == vars.end()) {
            FAIL("no value for $" << name << " in: " << query);
        }
        out += it->second;
        i = end - 1;
    }
    return out;
}

// Panel targets that may legitimately return no data in a short run: queries on `rollup`, whose
// lines are written when a UTC-aligned window closes (15 minutes at the shortest), which a run
// of a few seconds usually does not cross. They must still run without an error, and only
// queries on "rollup" may be listed here.
const std::set<std::tuple<std::string, std::string, std::string>> may_be_empty = {
    {"site-overview.json", "Hourly CFE", "B"},
};

} // namespace

TEST_CASE("every InfluxQL query of every dashboard returns data for a running site",
          "[dashboards][influxdb]") {
    TempDir influx_dir("greenrack-dash-influxd");
    Influxd influxd(influx_dir.path(), {.database = "greenrack"});
    SiteHarness site;
    std::ostringstream extra;
    extra << "[influxdb]\nenabled = true\nurl = \"http://127.0.0.1:" << influxd.port()
          << "\"\ndatabase = \"greenrack\"\nflush_interval = \"200ms\"\n\n"
          << "[accounting]\ntick = \"1s\"\n\n"
          << "[prometheus]\nlisten = \"127.0.0.1:" << free_port() << "\"\n";
    site.write_config(extra.str());
    auto daemon = site.start_daemon();

    // Every measurement the dashboards read must have data; greenrack_self is written every
    // 10 s and the difference/derivative panels need two of its lines, hence up to a minute.
    const std::vector<std::pair<std::string, std::size_t>> ready_when = {
        {"SELECT count(\"poll_ms\") FROM \"device\"", 5},
        {"SELECT count(\"green_w\") FROM \"site\"", 5},
        {"SELECT count(\"green_w\") FROM \"rack\" WHERE \"rack\" = 'r1'", 5},
        {"SELECT count(\"stored_wh\") FROM \"battery\"", 5},
        {"SELECT count(\"devices_stale\") FROM \"greenrack_self\"", 2},
        {"SELECT count(\"modbus_requests_total\") FROM \"greenrack_self\" WHERE \"bus\" = 'plant'",
         2},
    };
    std::string missing;
    const auto started = std::chrono::steady_clock::now();
    const bool ready = wait_until(
        [&] {
            missing.clear();
            for (const auto& [q, at_least] : ready_when) {
                if (count(influxd, q) < at_least) {
                    missing += q + " < " + std::to_string(at_least) + "\n";
                }
            }
            return missing.empty() && std::chrono::steady_clock::now() - started >= 10s;
        },
        60s);
    {
        INFO("greenrackd stderr:\n" << daemon->err());
        INFO("not enough data in InfluxDB yet (is greenrackd's [influxdb] sink running?):\n"
             << missing);
        REQUIRE(daemon->running());
        REQUIRE(ready);
    }

    const std::map<std::string, std::string> builtins = {
        {"timeFilter", "time > now() - 5m"},
        {"__interval", "1s"},
        {"__interval_ms", "1000"},
    };
    // The values a user selects: site and rack as the harness's, every other query variable
    // "All" (every value it offers), custom variables each of their values in turn.
    const std::map<std::string, std::string> fixed = {{"site", "(it)"}, {"rack", "(r1|r2)"}};
    std::size_t queries_run = 0;
    std::set<std::tuple<std::string, std::string, std::string>> exempted_seen;
    const std::vector<std::string> files = {"site-overview.json", "racks.json",
                                            "devices-health.json"};
    for (const auto& file : files) {
        const auto dashboard = json::parse(read_file(source_dir / "dashboards" / file));
        std::map<std::string, std::string> vars = builtins;
        std::vector<std::pair<std::string, std::vector<std::string>>> custom;
        for (const auto& v : dashboard["templating"]["list"]) {
            const auto name = v["name"].get<std::string>();
            INFO(file << " variable $" << name);
            if (v["type"] == "custom") {
                std::vector<std::string> values;
                for (const auto& option : v["options"]) {
                    values.push_back(option["value"].get<std::string>());
                }
                custom.emplace_back(name, values);
                continue;
            }
            const auto q = substitute(v["query"].get<std::string>(), vars);
            INFO("query: " << q);
            const auto result = query_result(influxd, q);
            REQUIRE(!result.contains("error"));
            REQUIRE(series_count(result) >= 1);
            std::set<std::string> offered;
            for (const auto& row : result["series"][0]["values"]) {
                offered.insert(row[1].get<std::string>());
            }
            if (fixed.count(name) != 0) {
                if (name == "site") {
                    CHECK(offered.count("it") == 1);
                } else if (name == "rack") {
                    CHECK(offered.count("r1") == 1);
                    CHECK(offered.count("r2") == 1);
                }
                vars[name] = fixed.at(name);
            } else {
                std::string all;
                for (const auto& value : offered) {
                    all += (all.empty() ? "" : "|") + regex_escape(value);
                }
                vars[name] = "(" + all + ")";
            }
            ++queries_run;
        }
        // One pass per value of the (at most one) custom variable.
        std::vector<std::map<std::string, std::string>> passes;
        if (custom.empty()) {
            passes.push_back(vars);
        }
        for (const auto& [name, values] : custom) {
            for (const auto& value : values) {
                auto pass = vars;
                pass[name] = value;
                passes.push_back(pass);
            }
        }
        for (const auto& pass : passes) {
            for (const auto& panel : dashboard["panels"]) {
                for (const auto& target : panel["targets"]) {
                    const auto title = panel["title"].get<std::string>();
                    const auto ref_id = target["refId"].get<std::string>();
                    const auto q = substitute(target["query"].get<std::string>(), pass);
                    INFO(file << " panel \"" << title << "\" refId " << ref_id << "\nquery: " << q);
                    const auto result = query_result(influxd, q);
                    CHECK(!result.contains("error"));
                    const auto key = std::make_tuple(file, title, ref_id);
                    if (may_be_empty.count(key) != 0) {
                        CHECK(q.find("FROM \"rollup\"") != std::string::npos);
                        exempted_seen.insert(key);
                    } else {
                        CHECK(series_count(result) >= 1);
                    }
                    ++queries_run;
                }
            }
        }
    }
    // The exemption list names real targets only.
    CHECK(exempted_seen == may_be_empty);
    CHECK(queries_run >= 40);
    CHECK(daemon->stop(SIGTERM, 10s) == 0);
}
