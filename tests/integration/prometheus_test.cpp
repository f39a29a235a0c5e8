// The real daemon against the simulated site, scraped over HTTP like Prometheus would: /metrics
// passes `promtool check metrics` and carries plausible site, rack, battery, device and self
// metrics; /healthz answers 200 once devices answer.

#include "greenrack/version.hpp"
#include "tests/integration/site_harness.hpp"
#include "tests/support/free_port.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <optional>
#include <sstream>

using namespace greenrack::test;
using namespace std::chrono_literals;

namespace {

using LabelSet = std::map<std::string, std::string>;

struct Sample {
    std::string name;
    LabelSet labels;
    double value = 0.0;
};

// The sample lines of a text-format document (label values here need no unescaping).
std::vector<Sample> parse_samples(const std::string& text) {
    std::vector<Sample> samples;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        Sample sample;
        const auto brace = line.find('{');
        const auto space = line.rfind(' ');
        sample.name = line.substr(0, std::min(brace, space));
        if (brace != std::string::npos) {
            const auto close = line.rfind('}');
            std::istringstream labels(line.substr(brace + 1, close - brace - 1));
            std::string pair;
            while (std::getline(labels, pair, ',')) {
                const auto eq = pair.find('=');
                sample.labels[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
            }
        }
        sample.value = std::stod(line.substr(space + 1));
        samples.push_back(sample);
    }
    return samples;
}

// The value of `name` whose labels include `labels`, when there is exactly such a sample.
std::optional<double> find(const std::vector<Sample>& samples, const std::string& name,
                           const LabelSet& labels = {}) {
    for (const auto& s : samples) {
        if (s.name != name) {
            continue;
        }
        bool match = true;
        for (const auto& [key, value] : labels) {
            auto it = s.labels.find(key);
            match = match && it != s.labels.end() && it->second == value;
        }
        if (match) {
            return s.value;
        }
    }
    return std::nullopt;
}

struct HttpReply {
    int code = 0;
    std::string body;
};

HttpReply curl(const std::string& url) {
    static const std::string program = find_program("curl");
    const auto result = run_program(
        program, {"-sS", "--max-time", "3", "-w", "\n%{http_code}", url}, std::chrono::seconds(10));
    HttpReply reply;
    if (result.status != 0) {
        return reply;
    }
    const auto last = result.out.rfind('\n');
    reply.code = std::stoi(result.out.substr(last + 1));
    reply.body = result.out.substr(0, last);
    return reply;
}

} // namespace

TEST_CASE("the daemon's /metrics passes promtool with plausible site, rack, battery, device "
          "and self metrics, and /healthz answers 200",
          "[e2e][prometheus]") {
    SiteHarness site;
    const auto port = free_port();
    site.write_config("[accounting]\ntick = \"1s\"\n\n[prometheus]\nlisten = \"127.0.0.1:" +
                      std::to_string(port) + "\"\n");
    auto daemon = site.start_daemon();
    const std::string base = "http://127.0.0.1:" + std::to_string(port);

    // A few valid ticks: the balance is computed and the racks have energy.
    HttpReply scrape;
    std::vector<Sample> samples;
    const bool ready = wait_until(
        [&] {
            scrape = curl(base + "/metrics");
            if (scrape.code != 200) {
                return false;
            }
            samples = parse_samples(scrape.body + "\n");
            const auto green = find(samples, "greenrack_rack_energy_joules_total",
                                    {{"rack", "r2"}, {"view", "burdened"}, {"kind", "green"}});
            const auto nongreen =
                find(samples, "greenrack_rack_energy_joules_total",
                     {{"rack", "r2"}, {"view", "burdened"}, {"kind", "nongreen"}});
            return find(samples, "greenrack_site_tick_valid") == 1.0 && green && nongreen &&
                   *green + *nongreen > 0.0;
        },
        40s);
    INFO("daemon stderr: " << daemon->err());
    INFO("last scrape (" << scrape.code << "):\n" << scrape.body);
    REQUIRE(ready);

    { // promtool check metrics accepts the scrape
        const auto file = site.dir() / "scrape.txt";
        write_file(file, scrape.body + "\n");
        const auto check = run_program(find_program("sh"),
                                       {"-c", "promtool check metrics < '" + file.string() + "'"});
        INFO("promtool: " << check.out << check.err);
        CHECK(check.status == 0);
        CHECK(check.out.empty());
        CHECK(check.err.empty());
    }

    { // every sample is labelled with the site
        for (const auto& s : samples) {
            INFO(s.name);
            CHECK(s.labels.at("site") == "it");
        }
    }

    { // site balance: load, IT and renewables are positive and green + nongreen = load
        const auto power = [&](const std::string& flow) {
            return find(samples, "greenrack_site_power_watts", {{"flow", flow}});
        };
        REQUIRE(power("load"));
        REQUIRE(power("it"));
        REQUIRE(power("green"));
        REQUIRE(power("nongreen"));
        // Racks of 8 kW and 5 kW (sim), plus cooling on the facility meter.
        CHECK(*power("it") > 10'000.0);
        CHECK(*power("it") < 16'000.0);
        CHECK(*power("load") > *power("it"));
        CHECK(*power("green") + *power("nongreen") == Approx(*power("load")).epsilon(0.01));
        CHECK(power("pv").value_or(-1) >= 0.0);
        const auto coverage = find(samples, "greenrack_site_coverage_ratio");
        REQUIRE(coverage);
        CHECK(*coverage >= 0.0);
        CHECK(*coverage <= 1.0);
        const auto load_j = find(samples, "greenrack_site_energy_joules_total", {{"kind", "load"}});
        REQUIRE(load_j);
        CHECK(*load_j > 0.0);
    }

    { // rack power per view for both racks
        for (const std::string rack : {"r1", "r2"}) {
            INFO(rack);
            const auto it = find(samples, "greenrack_rack_power_watts",
                                 {{"rack", rack}, {"view", "it"}, {"kind", "it"}});
            REQUIRE(it);
            CHECK(*it > 1'000.0);
            CHECK(*it < 12'000.0);
            const auto green = find(samples, "greenrack_rack_power_watts",
                                    {{"rack", rack}, {"view", "burdened"}, {"kind", "green"}});
            const auto nongreen =
                find(samples, "greenrack_rack_power_watts",
                     {{"rack", rack}, {"view", "burdened"}, {"kind", "nongreen"}});
            REQUIRE(green);
            REQUIRE(nongreen);
            // The burdened view carries the rack's share of the facility overhead.
            CHECK(*green + *nongreen >= *it * 0.99);
        }
    }

    { // battery energy is within the simulated 100 kWh capacity
        const auto stored = find(samples, "greenrack_battery_energy_joules", {{"kind", "stored"}});
        REQUIRE(stored);
        CHECK(*stored > 0.0);
        CHECK(*stored <= 100'000.0 * 3600.0 * 1.01);
        const auto fraction = find(samples, "greenrack_battery_green_fraction_ratio");
        REQUIRE(fraction);
        CHECK(*fraction >= 0.0);
        CHECK(*fraction <= 1.0);
    }

    { // every device is up, recently polled, with values and a poll histogram
        const double now_s =
            static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
        for (const std::string device :
             {"pdu-1", "pv-1", "wind-1", "battery-1", "grid-meter", "facility-meter"}) {
            INFO(device);
            CHECK(find(samples, "greenrack_device_up", {{"device", device}}) == 1.0);
            const auto last =
                find(samples, "greenrack_device_last_poll_timestamp_seconds", {{"device", device}});
            REQUIRE(last);
            CHECK(std::abs(*last - now_s) < 10.0);
            CHECK(find(samples, "greenrack_device_value", {{"device", device}}));
            const auto polls =
                find(samples, "greenrack_self_poll_duration_seconds_count", {{"device", device}});
            REQUIRE(polls);
            CHECK(*polls >= 1.0);
        }
        CHECK(find(samples, "greenrack_device_value",
                   {{"device", "battery-1"}, {"point", "soc_pct"}, {"unit", "%"}})
                  .has_value());
        CHECK(find(samples, "greenrack_self_stale_devices") == 0.0);
        CHECK(find(samples, "greenrack_self_modbus_requests_total", {{"bus", "plant"}}) > 0.0);
        CHECK(find(samples, "greenrack_self_modbus_requests_total", {{"bus", "pdus"}}) > 0.0);
    }

    { // build info carries the daemon's version
        CHECK(find(samples, "greenrack_self_build_info",
                   {{"version", greenrack::version_string}}) == 1.0);
    }

    { // counters grow between scrapes
        const auto first = find(samples, "greenrack_site_energy_joules_total", {{"kind", "load"}});
        REQUIRE(first);
        std::optional<double> later;
        CHECK(wait_until(
            [&] {
                const auto again = curl(base + "/metrics");
                later = find(parse_samples(again.body + "\n"), "greenrack_site_energy_joules_total",
                             {{"kind", "load"}});
                return later && *later > *first;
            },
            10s));
    }

    { // /healthz is 200 ok; other paths 404
        const auto health = curl(base + "/healthz");
        CHECK(health.code == 200);
        CHECK(health.body == "ok\n");
        CHECK(curl(base + "/nope").code == 404);
    }

    CHECK(daemon->stop(SIGTERM, 10s) == 0);
}
