#include "daemon/sinks/metrics_renderer.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <sys/wait.h>

using namespace greenrack;
using accounting::Energy;
using accounting::SourceQuality;
using modbus::DataType;
using modbus::PointValue;
using modbus::Quality;
using std::chrono::milliseconds;
using std::chrono::system_clock;

namespace {

using LabelSet = std::map<std::string, std::string>;

struct Sample {
    std::string name;
    LabelSet labels;
    std::string value; // as written
};

// A minimal parser of the sample lines of the text format (enough to check the renderer).
std::vector<Sample> parse_samples(const std::string& text) {
    std::vector<Sample> samples;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        Sample sample;
        std::size_t i = line.find_first_of("{ ");
        sample.name = line.substr(0, i);
        if (line[i] == '{') {
            ++i;
            while (line[i] != '}') {
                const std::size_t eq = line.find('=', i);
                std::string key = line.substr(i, eq - i);
                std::string value;
                i = eq + 2; // skip ="
                while (line[i] != '"') {
                    if (line[i] == '\\') {
                        ++i;
                        value += line[i] == 'n' ? '\n' : line[i];
                    } else {
                        value += line[i];
                    }
                    ++i;
                }
                sample.labels[key] = value;
                ++i; // closing quote
                if (line[i] == ',') {
                    ++i;
                }
            }
            ++i; // '}'
        }
        sample.value = line.substr(i + 1);
        samples.push_back(sample);
    }
    return samples;
}

class Scrape {
public:
    explicit Scrape(std::string text) : text_(std::move(text)), samples_(parse_samples(text_)) {}

    // The value of the sample `name` whose labels are exactly site="demo" plus `labels`.
    std::optional<double> value(const std::string& name, LabelSet labels = {}) const {
        labels["site"] = "demo";
        for (const auto& s : samples_) {
            if (s.name == name && s.labels == labels) {
                return std::stod(s.value);
            }
        }
        return std::nullopt;
    }
    // Number of samples of `name` (any labels).
    std::size_t count(const std::string& name) const {
        std::size_t n = 0;
        for (const auto& s : samples_) {
            n += s.name == name ? 1 : 0;
        }
        return n;
    }
    const std::vector<Sample>& samples() const { return samples_; }
    const std::string& text() const { return text_; }

private:
    std::string text_;
    std::vector<Sample> samples_;
};

std::shared_ptr<profiles::DeviceProfile>
make_profile(std::string name, std::vector<std::tuple<std::string, DataType, std::string>> points) {
    auto profile = std::make_shared<profiles::DeviceProfile>();
    profile->name = std::move(name);
    for (auto& [point_name, type, unit] : points) {
        modbus::PointSpec point;
        point.name = point_name;
        point.type = type;
        point.unit = unit;
        profile->points.push_back(point);
    }
    return profile;
}

config::DeviceConfig make_device(std::string id, std::shared_ptr<profiles::DeviceProfile> profile) {
    config::DeviceConfig device;
    device.id = std::move(id);
    device.profile_name = profile->name;
    device.profile = std::move(profile);
    device.poll_interval = milliseconds(1000);
    return device;
}

Energy ok(double wh) {
    return Energy{wh, SourceQuality::ok};
}

const std::string degrees_c = "\u00B0C"; // UTF-8 in a label value

const system_clock::time_point now{milliseconds(1'764'340'000'000)};

// A small site: one fresh PV inverter, one stale meter, one offline device, one never read;
// two racks; a battery; every sink enabled.
struct Site {
    config::Config config;
    core::SampleStore samples{4};
    accounting::TickResult tick;
    accounting::Totals totals;
    accounting::Rollup hour;
    accounting::BatteryStatus battery;
    modbus::BusStats plant;
    sinks::MqttStats mqtt;
    sinks::InfluxStats influx;
    core::PollHistograms histograms{4};

    Site() {
        config.site.id = "demo";
        auto pv_profile = make_profile("pv_test", {{"ac_power_w", DataType::i16, "W"},
                                                   {"serial", DataType::string, ""},
                                                   {"var_var", DataType::i16, "var"},
                                                   {"energy_wh", DataType::acc32, "Wh"},
                                                   {"temp_c", DataType::f32, degrees_c}});
        config.devices.push_back(make_device("pv-1", pv_profile));
        config.devices.push_back(
            make_device("meter-1", make_profile("meter_test", {{"power_w", DataType::f32, "W"}})));
        config.devices.push_back(
            make_device("off-1", make_profile("meter_test", {{"power_w", DataType::f32, "W"}})));
        config.devices.push_back(
            make_device("never-1", make_profile("meter_test", {{"power_w", DataType::f32, "W"}})));
        config.racks.push_back(config::RackConfig{"r1", 1, {}});
        config.racks.push_back(config::RackConfig{"r2", 0, {}});

        core::DeviceReading pv;
        pv.device = 0;
        pv.ts = now - milliseconds(400);
        pv.requests_ok = 2;
        pv.duration = std::chrono::microseconds(3'000);
        pv.values = {PointValue{51230.0, Quality::ok, {}}, PointValue{0.0, Quality::ok, "SN-1"},
                     PointValue{0.0, Quality::missing, {}},
                     PointValue{9e12, Quality::implausible, {}}, PointValue{41.5, Quality::ok, {}}};
        samples.update(pv);
        histograms.observe(0, pv.duration);

        core::DeviceReading stale;
        stale.device = 1;
        stale.ts = now - milliseconds(10'000); // > 3 poll intervals
        stale.requests_ok = 1;
        stale.values = {PointValue{900.0, Quality::ok, {}}};
        samples.update(stale);

        core::DeviceReading offline;
        offline.device = 2;
        offline.ts = now - milliseconds(200);
        offline.requests_failed = 1;
        offline.values = {PointValue{0.0, Quality::error, {}}};
        samples.update(offline);

        tick.start_ms = 1'764'339'990'000;
        tick.tau_s = 5.0;
        tick.valid = true;
        tick.quality = SourceQuality::ok;
        tick.load = ok(100.0);
        tick.pv = ok(80.0);
        tick.wind = ok(0.0);
        tick.renewable = ok(80.0);
        tick.discharge = ok(10.0);
        tick.charge = ok(0.0);
        tick.grid_import = ok(10.0);
        tick.grid_export = ok(0.0);
        tick.it_wh = 80.0;
        tick.green_wh = 90.0;
        tick.nongreen_wh = 10.0;
        tick.coverage = 0.9;
        tick.onsite_share = 0.8;
        tick.headroom_free_w = 100.0;
        tick.headroom_total_w = 200.0;
        tick.headroom_storage_w = 300.0;
        tick.balance_residual_wh = 0.5;
        tick.carbon_location_g = 5.5;
        tick.carbon_residual_g = 6.0;
        tick.ipue = 1.25;
        accounting::RackTick r1;
        r1.id = "r1";
        r1.tier = 1;
        r1.it = ok(50.0);
        r1.burdened_wh = 62.5;
        r1.green_it_wh = 45.0;
        r1.nongreen_it_wh = 5.0;
        r1.green_wh = 56.25;
        r1.nongreen_wh = 6.25;
        r1.valid = true;
        accounting::RackTick r2;
        r2.id = "r2";
        r2.it = Energy{0.0, SourceQuality::missing};
        r2.valid = false;
        tick.racks = {r1, r2};

        totals.load_wh = 1000.0;
        totals.green_wh = 900.0;
        totals.nongreen_wh = 100.0;
        totals.carbon_location_g = 12.5;
        totals.carbon_residual_g = 15.0;
        totals.racks.resize(2);
        totals.racks[0].green_wh = 10.0;
        totals.racks[0].nongreen_wh = 2.0;
        totals.racks[0].green_it_wh = 8.0;
        totals.racks[0].nongreen_it_wh = 1.0;

        hour.cfe_interval = 0.875;

        battery.known = true;
        battery.stored_wh = 50'000.0;
        battery.green_wh = 20'000.0;
        battery.deliverable_green_wh = 19'000.0;
        battery.green_fraction = 0.4;

        plant.requests = 100;
        plant.timeouts = 2;
        plant.exceptions = 1;
        plant.link_errors = 3;
        plant.connect_failures = 4;
        plant.overruns = 5;
        mqtt.published = 10;
        mqtt.dropped = 1;
        influx.queue_lines = 7;
        influx.written_lines = 100;
        influx.rejected_lines = 2;
        influx.dropped_lines = 3;
    }

    sinks::MetricsInput input() const {
        sinks::MetricsInput in;
        in.config = &config;
        in.samples = &samples;
        in.last_tick = &tick;
        in.totals = &totals;
        in.open_hour = &hour;
        in.battery = &battery;
        in.buses = {{"plant", &plant}};
        in.mqtt = &mqtt;
        in.mqtt_connected = true;
        in.influx = &influx;
        in.poll_histograms = &histograms;
        in.version = "9.9.9-test";
        in.now = now;
        return in;
    }
};

struct Promtool {
    int status = -1;
    std::string output;
};

Promtool promtool_check(const std::string& text) {
    char pattern[] = "/tmp/greenrack-promtool-XXXXXX";
    const char* dir = mkdtemp(pattern);
    REQUIRE(dir != nullptr);
    const std::filesystem::path base(dir);
    std::ofstream(base / "metrics.txt", std::ios::binary) << text;
    const std::string command = "promtool check metrics < '" + (base / "metrics.txt").string() +
                                "' > '" + (base / "out.txt").string() + "' 2>&1";
    const int raw = std::system(command.c_str());
    Promtool result;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    std::ifstream in(base / "out.txt");
    std::ostringstream out;
    out << in.rdbuf();
    result.output = out.str();
    std::filesystem::remove_all(base);
    return result;
}

} // namespace

TEST_CASE("site power is tick energy over the tick, green flows included when valid", "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    const std::string power = "greenrack_site_power_watts";
    // W = Wh * 3600 / tau_s, tau = 5 s
    CHECK(m.value(power, {{"flow", "load"}}) == 72'000.0);
    CHECK(m.value(power, {{"flow", "it"}}) == 57'600.0);
    CHECK(m.value(power, {{"flow", "renewable"}}) == 57'600.0);
    CHECK(m.value(power, {{"flow", "pv"}}) == 57'600.0);
    CHECK(m.value(power, {{"flow", "wind"}}) == 0.0);
    CHECK(m.value(power, {{"flow", "battery_discharge"}}) == 7'200.0);
    CHECK(m.value(power, {{"flow", "battery_charge"}}) == 0.0);
    CHECK(m.value(power, {{"flow", "grid_import"}}) == 7'200.0);
    CHECK(m.value(power, {{"flow", "grid_export"}}) == 0.0);
    CHECK(m.value(power, {{"flow", "green"}}) == 64'800.0);
    CHECK(m.value(power, {{"flow", "nongreen"}}) == 7'200.0);
    CHECK(m.count(power) == 11);
    CHECK(m.value("greenrack_site_coverage_ratio") == 0.9);
    CHECK(m.value("greenrack_site_onsite_share_ratio") == 0.8);
    CHECK(m.value("greenrack_site_ipue_ratio") == 1.25);
    CHECK(m.value("greenrack_site_headroom_watts", {{"kind", "free"}}) == 100.0);
    CHECK(m.value("greenrack_site_headroom_watts", {{"kind", "total"}}) == 200.0);
    CHECK(m.value("greenrack_site_headroom_watts", {{"kind", "storage"}}) == 300.0);
    CHECK(m.value("greenrack_site_balance_residual_watts") == 360.0);
    // 5.5 g over 0.1 kWh
    CHECK(m.value("greenrack_site_carbon_intensity_grams_per_kwh", {{"scope", "location"}}) ==
          Approx(55.0));
    CHECK(m.value("greenrack_site_carbon_intensity_grams_per_kwh", {{"scope", "residual"}}) ==
          Approx(60.0));
    CHECK(m.value("greenrack_site_cfe_ratio", {{"window", "hour"}, {"method", "interval"}}) ==
          0.875);
    CHECK(m.count("greenrack_site_cfe_ratio") == 1); // cfe_hourly unknown: no sample
    CHECK(m.value("greenrack_site_tick_valid") == 1.0);
}

TEST_CASE("energy counters are the persisted totals in joules", "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    const std::string energy = "greenrack_site_energy_joules_total";
    CHECK(m.value(energy, {{"kind", "load"}}) == 3'600'000.0);
    CHECK(m.value(energy, {{"kind", "green"}}) == 3'240'000.0);
    CHECK(m.value(energy, {{"kind", "nongreen"}}) == 360'000.0);
    CHECK(m.value("greenrack_site_carbon_grams_total", {{"scope", "location"}}) == 12.5);
    CHECK(m.value("greenrack_site_carbon_grams_total", {{"scope", "residual"}}) == 15.0);
    const std::string rack = "greenrack_rack_energy_joules_total";
    CHECK(m.value(rack, {{"rack", "r1"}, {"view", "burdened"}, {"kind", "green"}}) == 36'000.0);
    CHECK(m.value(rack, {{"rack", "r1"}, {"view", "burdened"}, {"kind", "nongreen"}}) == 7'200.0);
    CHECK(m.value(rack, {{"rack", "r1"}, {"view", "it"}, {"kind", "green"}}) == 28'800.0);
    CHECK(m.value(rack, {{"rack", "r1"}, {"view", "it"}, {"kind", "nongreen"}}) == 3'600.0);
    CHECK(m.value(rack, {{"rack", "r2"}, {"view", "it"}, {"kind", "green"}}) == 0.0);
    CHECK(m.count(rack) == 8); // no unattributed energy yet: no pseudo-rack
}

TEST_CASE("rack power per view, and a rack without usable IT data has no samples", "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    const std::string power = "greenrack_rack_power_watts";
    const auto r1 = [&](const char* view, const char* kind) {
        return m.value(power, {{"rack", "r1"}, {"tier", "1"}, {"view", view}, {"kind", kind}});
    };
    CHECK(r1("it", "it") == 36'000.0);
    CHECK(r1("it", "green") == 32'400.0);
    CHECK(r1("it", "nongreen") == 3'600.0);
    CHECK(r1("burdened", "it") == 36'000.0);
    CHECK(r1("burdened", "green") == 40'500.0);
    CHECK(r1("burdened", "nongreen") == 4'500.0);
    CHECK(m.count(power) == 6); // r2: IT missing and not valid
}

TEST_CASE("a tick that is not valid publishes no green figures but keeps counters", "[metrics]") {
    Site site;
    site.tick.valid = false;
    site.tick.load = Energy{0.0, SourceQuality::missing};
    site.tick.coverage.reset();
    Scrape m(sinks::render_metrics(site.input()));
    const std::string power = "greenrack_site_power_watts";
    CHECK_FALSE(m.value(power, {{"flow", "green"}}));
    CHECK_FALSE(m.value(power, {{"flow", "nongreen"}}));
    CHECK_FALSE(m.value(power, {{"flow", "load"}})); // missing source: no number
    CHECK(m.value(power, {{"flow", "pv"}}) == 57'600.0);
    CHECK(m.value(power, {{"flow", "it"}}) == 57'600.0);
    // onsite_share still has a value in the TickResult, but the tick is not valid.
    for (const char* name :
         {"greenrack_site_coverage_ratio", "greenrack_site_onsite_share_ratio",
          "greenrack_site_headroom_watts", "greenrack_site_balance_residual_watts",
          "greenrack_site_carbon_intensity_grams_per_kwh"}) {
        INFO(name);
        CHECK(m.count(name) == 0);
    }
    CHECK(m.count("greenrack_rack_power_watts") == 2); // r1 it only (both views)
    CHECK(m.value("greenrack_site_tick_valid") == 0.0);
    CHECK(m.value("greenrack_site_energy_joules_total", {{"kind", "load"}}) == 3'600'000.0);
    CHECK(m.count("greenrack_rack_energy_joules_total") == 8);
}

TEST_CASE("battery energy in joules and green fraction, only when a battery is known",
          "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    CHECK(m.value("greenrack_battery_energy_joules", {{"kind", "stored"}}) == 180'000'000.0);
    CHECK(m.value("greenrack_battery_energy_joules", {{"kind", "green"}}) == 72'000'000.0);
    CHECK(m.value("greenrack_battery_energy_joules", {{"kind", "deliverable_green"}}) ==
          68'400'000.0);
    CHECK(m.value("greenrack_battery_green_fraction_ratio") == 0.4);

    site.battery.known = false;
    Scrape none(sinks::render_metrics(site.input()));
    CHECK(none.count("greenrack_battery_energy_joules") == 0);
    CHECK(none.count("greenrack_battery_green_fraction_ratio") == 0);
}

TEST_CASE("device values only for numeric points with quality ok of a fresh reading", "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    const std::string value = "greenrack_device_value";
    CHECK(m.value(value, {{"device", "pv-1"}, {"point", "ac_power_w"}, {"unit", "W"}}) == 51230.0);
    CHECK(m.value(value, {{"device", "pv-1"}, {"point", "temp_c"}, {"unit", degrees_c}}) == 41.5);
    // string, missing and implausible points, the stale meter and the offline device: nothing
    CHECK(m.count(value) == 2);

    const std::string up = "greenrack_device_up";
    CHECK(m.value(up, {{"device", "pv-1"}, {"profile", "pv_test"}}) == 1.0);
    CHECK(m.value(up, {{"device", "meter-1"}, {"profile", "meter_test"}}) == 0.0);
    CHECK(m.value(up, {{"device", "off-1"}, {"profile", "meter_test"}}) == 0.0);
    CHECK(m.value(up, {{"device", "never-1"}, {"profile", "meter_test"}}) == 0.0);
    CHECK(m.value("greenrack_self_stale_devices") == 3.0);

    const std::string last = "greenrack_device_last_poll_timestamp_seconds";
    CHECK(m.value(last, {{"device", "pv-1"}}) == 1'764'339'999.6);
    CHECK(m.value(last, {{"device", "meter-1"}}) == 1'764'339'990.0);
    CHECK(m.count(last) == 3); // never-1 was never polled
}

TEST_CASE("poll duration histogram per device", "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    const std::string bucket = "greenrack_self_poll_duration_seconds_bucket";
    CHECK(m.value(bucket, {{"device", "pv-1"}, {"le", "0.0025"}}) == 0.0);
    CHECK(m.value(bucket, {{"device", "pv-1"}, {"le", "0.005"}}) == 1.0);
    CHECK(m.value(bucket, {{"device", "pv-1"}, {"le", "+Inf"}}) == 1.0);
    CHECK(m.value("greenrack_self_poll_duration_seconds_sum", {{"device", "pv-1"}}) == 0.003);
    CHECK(m.value("greenrack_self_poll_duration_seconds_count", {{"device", "pv-1"}}) == 1.0);
    CHECK(m.value("greenrack_self_poll_duration_seconds_count", {{"device", "never-1"}}) == 0.0);
}

TEST_CASE("accounting tick compute time histogram, absent without accounting", "[metrics]") {
    Site site;
    core::PollHistograms ticks{1, core::default_compute_buckets()};
    ticks.observe(0, std::chrono::microseconds(300));
    ticks.observe(0, std::chrono::microseconds(1'500));
    auto input = site.input();
    input.accounting_tick = &ticks;
    Scrape m(sinks::render_metrics(input));
    const std::string bucket = "greenrack_self_accounting_tick_seconds_bucket";
    CHECK(m.value(bucket, {{"le", "0.00025"}}) == 0.0);
    CHECK(m.value(bucket, {{"le", "5e-04"}}) == 1.0); // the shortest form of 0.0005
    CHECK(m.value(bucket, {{"le", "0.002"}}) == 2.0);
    CHECK(m.value("greenrack_self_accounting_tick_seconds_count") == 2.0);
    CHECK(m.value("greenrack_self_accounting_tick_seconds_sum") == Approx(0.0018));

    Scrape without(sinks::render_metrics(site.input()));
    CHECK(without.count(bucket) == 0);
}

TEST_CASE("self metrics: bus counters, MQTT, InfluxDB and build info", "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    CHECK(m.value("greenrack_self_modbus_requests_total", {{"bus", "plant"}}) == 100.0);
    const std::string errors = "greenrack_self_modbus_errors_total";
    CHECK(m.value(errors, {{"bus", "plant"}, {"kind", "timeout"}}) == 2.0);
    CHECK(m.value(errors, {{"bus", "plant"}, {"kind", "exception"}}) == 1.0);
    CHECK(m.value(errors, {{"bus", "plant"}, {"kind", "link"}}) == 3.0);
    CHECK(m.value(errors, {{"bus", "plant"}, {"kind", "connect"}}) == 4.0);
    CHECK(m.value("greenrack_self_poll_overruns_total", {{"bus", "plant"}}) == 5.0);
    CHECK(m.value("greenrack_self_mqtt_connected") == 1.0);
    CHECK(m.value("greenrack_self_mqtt_messages_total", {{"result", "published"}}) == 10.0);
    CHECK(m.value("greenrack_self_mqtt_messages_total", {{"result", "dropped"}}) == 1.0);
    CHECK(m.value("greenrack_self_influx_queue_lines") == 7.0);
    CHECK(m.value("greenrack_self_influx_lines_total", {{"result", "written"}}) == 100.0);
    CHECK(m.value("greenrack_self_influx_lines_total", {{"result", "rejected"}}) == 2.0);
    CHECK(m.value("greenrack_self_influx_lines_total", {{"result", "dropped"}}) == 3.0);
    CHECK(m.value("greenrack_self_build_info", {{"version", "9.9.9-test"}}) == 1.0);
}

TEST_CASE("without accounting, MQTT or InfluxDB their metrics are left out", "[metrics]") {
    Site site;
    auto input = site.input();
    input.last_tick = nullptr;
    input.totals = nullptr;
    input.open_hour = nullptr;
    input.battery = nullptr;
    input.mqtt = nullptr;
    input.influx = nullptr;
    Scrape m(sinks::render_metrics(input));
    for (const auto& sample : m.samples()) {
        INFO(sample.name);
        CHECK(sample.name.rfind("greenrack_site_", 0) != 0);
        CHECK(sample.name.rfind("greenrack_rack_", 0) != 0);
        CHECK(sample.name.rfind("greenrack_battery_", 0) != 0);
        CHECK(sample.name.rfind("greenrack_self_mqtt_", 0) != 0);
        CHECK(sample.name.rfind("greenrack_self_influx_", 0) != 0);
    }
    CHECK(m.count("greenrack_device_up") == 4);
    CHECK(m.count("greenrack_self_build_info") == 1);
    CHECK(m.text().find("# HELP greenrack_site_power_watts") == std::string::npos);
}

TEST_CASE("every sample carries the site label and every family has HELP and TYPE once",
          "[metrics]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input()));
    REQUIRE(!m.samples().empty());
    for (const auto& sample : m.samples()) {
        INFO(sample.name);
        CHECK(sample.labels.count("site") == 1);
    }
    std::map<std::string, int> help;
    std::map<std::string, int> type;
    std::istringstream in(m.text());
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0) {
            ++help[line.substr(7, line.find(' ', 7) - 7)];
        } else if (line.rfind("# TYPE ", 0) == 0) {
            ++type[line.substr(7, line.find(' ', 7) - 7)];
        }
    }
    CHECK(help.size() == 28); // every metric of docs/output-schema.md
    for (const auto& [name, n] : help) {
        INFO(name);
        CHECK(n == 1);
        CHECK(type[name] == 1);
    }
    CHECK(m.text().back() == '\n');
}

TEST_CASE("promtool check metrics accepts a realistic rendered snapshot", "[metrics][promtool]") {
    Site site;
    // Add the unattributed pseudo-rack and a second bus to cover every family and label.
    accounting::RackTick unattributed;
    unattributed.id = "unattributed";
    unattributed.it = Energy{3.0, SourceQuality::inferred};
    unattributed.valid = true;
    unattributed.green_wh = 2.0;
    site.tick.unattributed = unattributed;
    site.totals.unattributed.it_wh = 3.0;
    site.hour.cfe_hourly = 0.8;
    modbus::BusStats pdus;
    auto input = site.input();
    input.buses.push_back({"pdus", &pdus});
    const std::string text = sinks::render_metrics(input);
    const auto result = promtool_check(text);
    INFO(text);
    INFO("promtool: " << result.output);
    CHECK(result.status == 0);
    CHECK(result.output.empty());
}

TEST_CASE("health: unhealthy only when no configured device answered recently", "[metrics]") {
    Site site;
    CHECK(sinks::device_health_problem(site.config, site.samples, now).empty());
    // 5 s later the PV reading is older than 3 poll intervals too.
    const auto later = now + milliseconds(5'000);
    const auto problem = sinks::device_health_problem(site.config, site.samples, later);
    CHECK(problem.find("no device answered") != std::string::npos);
    config::Config empty;
    core::SampleStore none(0);
    CHECK(sinks::device_health_problem(empty, none, now).empty());
}

TEST_CASE("device freshness is 3 poll intervals", "[metrics]") {
    Site site;
    const auto& pv = site.config.devices[0];
    core::DeviceReading reading;
    reading.ts = now;
    reading.requests_ok = 1;
    CHECK(sinks::device_up(pv, &reading, now + milliseconds(3'000)));
    CHECK_FALSE(sinks::device_up(pv, &reading, now + milliseconds(3'001)));
    CHECK_FALSE(sinks::device_up(pv, nullptr, now));
}

namespace {

alerts::AlertStatus alert_status(std::string rule, std::string subject, alerts::Scope scope,
                                 alerts::AlertState state, std::string severity) {
    alerts::AlertStatus status;
    status.rule = std::move(rule);
    status.subject = std::move(subject);
    status.scope = scope;
    status.state = state;
    status.severity = std::move(severity);
    status.since_ms = 1'764'339'000'000;
    status.value = 1500.0;
    status.summary = "a summary with \"quotes\"\nand a line break is not a label";
    return status;
}

// One alert in each state, and the transitions that led there.
struct AlertInputs {
    std::vector<alerts::AlertStatus> statuses{
        alert_status("site_nongreen", "demo", alerts::Scope::site, alerts::AlertState::firing,
                     "critical"),
        alert_status("rack_nongreen", "r1", alerts::Scope::rack, alerts::AlertState::pending,
                     "warning"),
        alert_status("rack_nongreen", "r2", alerts::Scope::rack, alerts::AlertState::resolved,
                     "warning"),
        alert_status("device_stale", "pv-1", alerts::Scope::device, alerts::AlertState::inactive,
                     "warning"),
        alert_status("battery_green_low", "battery", alerts::Scope::battery,
                     alerts::AlertState::firing, "info"),
    };
    std::map<std::pair<std::string, std::string>, std::uint64_t> transitions{
        {{"site_nongreen", "pending"}, 2},
        {{"site_nongreen", "firing"}, 2},
        {{"site_nongreen", "resolved"}, 1},
        {{"rack_nongreen", "pending"}, 2},
        {{"rack_nongreen", "inactive"}, 3}};
    sinks::AlertmanagerStats alertmanager;

    AlertInputs() {
        alertmanager.posts_ok = 12;
        alertmanager.posts_failed = 3;
        alertmanager.alerts_sent = 20;
        alertmanager.alerts_rejected = 1;
        alertmanager.resolves_dropped = 4;
        alertmanager.firing = 2;
    }

    void add_to(sinks::MetricsInput& input) const {
        input.alerts = &statuses;
        input.alert_transitions = &transitions;
        input.alertmanager = &alertmanager;
    }
};

} // namespace

TEST_CASE("greenrack_alerts is 1 for every pending or firing alert and absent otherwise",
          "[metrics][alerts]") {
    Site site;
    AlertInputs alerts;
    auto input = site.input();
    alerts.add_to(input);
    Scrape m(sinks::render_metrics(input));
    const std::string name = "greenrack_alerts";
    CHECK(m.value(name, {{"alertname", "site_nongreen"},
                         {"scope", "site"},
                         {"subject", "demo"},
                         {"severity", "critical"},
                         {"alertstate", "firing"}}) == 1.0);
    CHECK(m.value(name, {{"alertname", "rack_nongreen"},
                         {"scope", "rack"},
                         {"subject", "r1"},
                         {"severity", "warning"},
                         {"alertstate", "pending"}}) == 1.0);
    CHECK(m.value(name, {{"alertname", "battery_green_low"},
                         {"scope", "battery"},
                         {"subject", "battery"},
                         {"severity", "info"},
                         {"alertstate", "firing"}}) == 1.0);
    // The resolved r2 alert and the inactive device alert have no sample at all.
    CHECK(m.count(name) == 3);
    for (const auto& sample : m.samples()) {
        if (sample.name == name) {
            INFO(sample.labels.at("subject"));
            CHECK(sample.labels.size() == 6); // site + the five alert labels, no summary or value
            CHECK(sample.value == "1");
        }
    }
}

TEST_CASE("greenrack_alerts has no family at all while no alert is pending or firing",
          "[metrics][alerts]") {
    Site site;
    AlertInputs alerts;
    for (auto& status : alerts.statuses) {
        status.state = alerts::AlertState::inactive;
    }
    alerts.statuses[0].state = alerts::AlertState::resolved;
    auto input = site.input();
    alerts.add_to(input);
    Scrape m(sinks::render_metrics(input));
    CHECK(m.count("greenrack_alerts") == 0);
    CHECK(m.text().find("# HELP greenrack_alerts ") == std::string::npos);
    CHECK(m.count("greenrack_alert_transitions_total") == 5); // the counters stay
}

TEST_CASE("greenrack_alert_transitions_total counts transitions by alertname and state entered",
          "[metrics][alerts]") {
    Site site;
    AlertInputs alerts;
    auto input = site.input();
    alerts.add_to(input);
    Scrape m(sinks::render_metrics(input));
    const std::string name = "greenrack_alert_transitions_total";
    CHECK(m.value(name, {{"alertname", "site_nongreen"}, {"to", "pending"}}) == 2.0);
    CHECK(m.value(name, {{"alertname", "site_nongreen"}, {"to", "firing"}}) == 2.0);
    CHECK(m.value(name, {{"alertname", "site_nongreen"}, {"to", "resolved"}}) == 1.0);
    CHECK(m.value(name, {{"alertname", "rack_nongreen"}, {"to", "pending"}}) == 2.0);
    CHECK(m.value(name, {{"alertname", "rack_nongreen"}, {"to", "inactive"}}) == 3.0);
    CHECK(m.count(name) == 5); // one sample per (rule, state) seen, no zero samples
    CHECK(m.text().find("# TYPE greenrack_alert_transitions_total counter\n") != std::string::npos);
    CHECK(m.text().find("# TYPE greenrack_alerts gauge\n") != std::string::npos);
}

TEST_CASE("Alertmanager self metrics: posts and alerts by result and the firing gauge",
          "[metrics][alerts]") {
    Site site;
    AlertInputs alerts;
    auto input = site.input();
    alerts.add_to(input);
    Scrape m(sinks::render_metrics(input));
    const std::string posts = "greenrack_self_alertmanager_posts_total";
    const std::string sent = "greenrack_self_alertmanager_alerts_total";
    CHECK(m.value(posts, {{"result", "ok"}}) == 12.0);
    CHECK(m.value(posts, {{"result", "failed"}}) == 3.0);
    CHECK(m.count(posts) == 2);
    CHECK(m.value(sent, {{"result", "sent"}}) == 20.0);
    CHECK(m.value(sent, {{"result", "rejected"}}) == 1.0);
    CHECK(m.value(sent, {{"result", "dropped"}}) == 4.0);
    CHECK(m.count(sent) == 3);
    CHECK(m.value("greenrack_self_alertmanager_firing") == 2.0);
    CHECK(m.text().find("# TYPE greenrack_self_alertmanager_firing gauge\n") != std::string::npos);
    CHECK(m.text().find("# TYPE greenrack_self_alertmanager_posts_total counter\n") !=
          std::string::npos);
}

TEST_CASE("without alerting or Alertmanager their metrics and families are left out",
          "[metrics][alerts]") {
    Site site;
    Scrape m(sinks::render_metrics(site.input())); // alerts, transitions, alertmanager: null
    for (const char* name :
         {"greenrack_alerts", "greenrack_alert_transitions_total",
          "greenrack_self_alertmanager_posts_total", "greenrack_self_alertmanager_alerts_total",
          "greenrack_self_alertmanager_firing"}) {
        INFO(name);
        CHECK(m.count(name) == 0);
        CHECK(m.text().find(std::string("# HELP ") + name + " ") == std::string::npos);
    }

    // Alerting on, Alertmanager off.
    AlertInputs alerts;
    auto input = site.input();
    alerts.add_to(input);
    input.alertmanager = nullptr;
    Scrape only_alerts(sinks::render_metrics(input));
    CHECK(only_alerts.count("greenrack_alerts") == 3);
    CHECK(only_alerts.count("greenrack_self_alertmanager_posts_total") == 0);
    CHECK(only_alerts.count("greenrack_self_alertmanager_firing") == 0);
}

TEST_CASE("with alerts every sample carries the site label and every family has HELP and TYPE "
          "once",
          "[metrics][alerts]") {
    Site site;
    AlertInputs alerts;
    auto input = site.input();
    alerts.add_to(input);
    Scrape m(sinks::render_metrics(input));
    for (const auto& sample : m.samples()) {
        INFO(sample.name);
        CHECK(sample.labels.count("site") == 1);
    }
    std::map<std::string, int> help;
    std::map<std::string, int> type;
    std::istringstream in(m.text());
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0) {
            ++help[line.substr(7, line.find(' ', 7) - 7)];
        } else if (line.rfind("# TYPE ", 0) == 0) {
            ++type[line.substr(7, line.find(' ', 7) - 7)];
        }
    }
    CHECK(help.size() == 33); // the 28 families without alerting plus 5 alert families
    for (const auto& [name, n] : help) {
        INFO(name);
        CHECK(n == 1);
        CHECK(type[name] == 1);
    }
}

TEST_CASE("promtool check metrics accepts a snapshot with alerts and Alertmanager counters",
          "[metrics][promtool][alerts]") {
    Site site;
    AlertInputs alerts;
    auto input = site.input();
    alerts.add_to(input);
    const std::string text = sinks::render_metrics(input);
    REQUIRE(text.find("greenrack_alerts{") != std::string::npos);
    REQUIRE(text.find("greenrack_self_alertmanager_firing{") != std::string::npos);
    const auto result = promtool_check(text);
    INFO(text);
    INFO("promtool: " << result.output);
    CHECK(result.status == 0);
    CHECK(result.output.empty());
}

TEST_CASE("fleet metrics: an aggregator's parts by shard and result, a shard's parts published",
          "[metrics]") {
    Site site;
    fleet::FleetStats stats;
    stats.shards.push_back(
        fleet::ShardPartStats{"hall-a", 120, 3, 1, 2, 0, 0, 4, 1'800'000'005'000});
    stats.ticks_complete = 118;
    stats.ticks_partial = 4;
    stats.corrections = 1;
    stats.takeovers = 2;
    stats.lease_epoch = 7;
    stats.active = true;
    stats.parts_published = 99;

    auto input = site.input();
    input.fleet = &stats;
    Scrape single(sinks::render_metrics(input)); // a single daemon's config: no fleet samples
    CHECK(single.count("greenrack_fleet_parts_total") == 0);

    site.config.fleet.role = config::FleetRole::aggregator;
    site.config.fleet.instance = "agg-1";
    Scrape m(sinks::render_metrics(input));
    const std::string parts = "greenrack_fleet_parts_total";
    CHECK(m.value(parts, {{"shard", "hall-a"}, {"result", "accepted"}}) == 120.0);
    CHECK(m.value(parts, {{"shard", "hall-a"}, {"result", "duplicate"}}) == 3.0);
    CHECK(m.value(parts, {{"shard", "hall-a"}, {"result", "correction"}}) == 1.0);
    CHECK(m.value(parts, {{"shard", "hall-a"}, {"result", "too_late"}}) == 2.0);
    CHECK(m.value("greenrack_fleet_shard_missing_ticks_total", {{"shard", "hall-a"}}) == 4.0);
    CHECK(m.value("greenrack_fleet_shard_last_tick_timestamp_seconds", {{"shard", "hall-a"}}) ==
          1'800'000'005.0);
    CHECK(m.value("greenrack_fleet_ticks_total", {{"result", "complete"}}) == 118.0);
    CHECK(m.value("greenrack_fleet_ticks_total", {{"result", "partial"}}) == 4.0);
    CHECK(m.value("greenrack_fleet_aggregator_active", {{"instance", "agg-1"}}) == 1.0);
    CHECK(m.value("greenrack_fleet_takeovers_total", {{"instance", "agg-1"}}) == 2.0);
    CHECK(m.value("greenrack_fleet_lease_epoch") == 7.0);
    CHECK(m.count("greenrack_fleet_parts_published_total") == 0);

    site.config.fleet.role = config::FleetRole::shard;
    site.config.fleet.shard = "hall-a";
    Scrape shard(sinks::render_metrics(input));
    CHECK(shard.value("greenrack_fleet_parts_published_total", {{"shard", "hall-a"}}) == 99.0);
    CHECK(shard.count(parts) == 0);
    CHECK(promtool_check(m.text()).status == 0);
}
