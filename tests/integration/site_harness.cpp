#include "tests/integration/site_harness.hpp"

#include "tests/support/free_port.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <sstream>
#include <stdexcept>

namespace greenrack::test {

namespace {

const std::string source_dir = GREENRACK_SOURCE_DIR;

// One device of every shipped profile, on two listeners (ports chosen by the OS).
const char* const scenario_text = R"(
[sim]
seed = 7
start = "2026-06-21T05:00:00Z"
speed = 1.0
step = "1s"

[site]
latitude = 36.6
longitude = 101.8

[[listener]]
name = "pdus"
port = 0

[[listener]]
name = "plant"
port = 0

[[device]]
id = "pdu-1"
profile = "rack_pdu_px3_24"
listener = "pdus"
unit_id = 3
racks = [
    { name = "r1", base_load_w = 8000, pattern = "constant", outlets = 12 },
    { name = "r2", base_load_w = 5000, pattern = "constant", outlets = 12 },
]
values = { register_set_version = 1, inlet_count = 1, ocp_count = 2, outlet_count = 24 }

[[device]]
id = "pv-1"
profile = "pv_sunspec_103"
listener = "plant"
unit_id = 1
nameplate_w = 60000
manufacturer = "Test Solar"
model = "TS-60"
serial = "TS0001"
version = "1.0"
unimplemented = ["reactive_power_var"]

[[device]]
id = "wind-1"
profile = "wind_midnite_classic"
listener = "plant"
unit_id = 10
rated_w = 20000

[[device]]
id = "battery-1"
profile = "battery_generic"
listener = "plant"
unit_id = 20
capacity_wh = 100000
max_charge_w = 30000
max_discharge_w = 30000
initial_soc = 40

[[device]]
id = "grid-meter"
profile = "meter_grid_4q"
listener = "plant"
unit_id = 30

[[device]]
id = "facility-meter"
profile = "meter_facility_umg604"
listener = "plant"
unit_id = 31
cooling_fraction = 0.3
)";

} // namespace

void check_matches_snapshot(const nlohmann::json& state, const nlohmann::json& served) {
    const auto& points = state["points"];
    CHECK(points.size() == served["points"].size());
    bool any_missing = false;
    for (const auto& [name, expected] : served["points"].items()) {
        INFO("point " << name << " served " << expected.dump());
        REQUIRE(points.contains(name));
        const auto& got = points[name];
        INFO("published " << got.dump());
        if (expected.is_null()) {
            any_missing = true;
            CHECK(got["quality"] == "missing");
            CHECK(got["value"].is_null());
        } else if (expected.is_string()) {
            CHECK(got["quality"] == "ok");
            CHECK(got["value"] == expected);
        } else {
            CHECK(got["quality"] == "ok");
            REQUIRE(got["value"].is_number());
            const double want = expected.get<double>();
            CHECK(std::fabs(want - got["value"].get<double>()) <=
                  1e-6 * std::max(1.0, std::fabs(want)));
        }
    }
    // The whole reading is "ok" unless the simulator serves a sentinel somewhere.
    CHECK(state["quality"] == (any_missing ? "partial" : "ok"));
}

SiteHarness::SiteHarness(std::vector<std::string> extra_sim_args, MosquittoOptions broker)
    : dir_("greenrack-it") {
    broker_ = std::make_unique<MosquittoBroker>(dir(), std::move(broker));
    const auto scenario = dir() / "site.sim.toml";
    write_file(scenario, scenario_text);
    std::vector<std::string> args = {
        "--scenario", scenario.string(),        "--profiles",   source_dir + "/config/profiles",
        "--snapshot", snapshot_path().string(), "--ready-file", (dir() / "sim.ready").string()};
    args.insert(args.end(), extra_sim_args.begin(), extra_sim_args.end());
    sim_ = std::make_unique<Process>(GREENRACK_SIM_BIN, args, dir(), "sim");
    if (!wait_until([&] { return std::filesystem::exists(dir() / "sim.ready"); },
                    std::chrono::seconds(15))) {
        throw std::runtime_error("greenrack-sim did not become ready: " + sim_->err());
    }
    auto ready = nlohmann::json::parse(read_file(dir() / "sim.ready"));
    for (const auto& [name, port] : ready["listeners"].items()) {
        ports_[name] = port.get<std::uint16_t>();
    }
    if (!wait_until([&] { return std::filesystem::exists(snapshot_path()); },
                    std::chrono::seconds(15))) {
        throw std::runtime_error("greenrack-sim wrote no snapshot: " + sim_->err());
    }
    write_config();
}

SiteHarness::~SiteHarness() = default;

ScriptedSite::ScriptedSite(const std::filesystem::path& dir, const std::string& site_id,
                           const std::string& broker_uri, const std::string& scenario,
                           const std::string& extra_config)
    : dir_(dir) {
    write_file(dir_ / "site.sim.toml", scenario);
    sim_ = std::make_unique<Process>(
        GREENRACK_SIM_BIN,
        std::vector<std::string>{"--scenario", (dir_ / "site.sim.toml").string(), "--profiles",
                                 source_dir + "/config/profiles", "--snapshot",
                                 snapshot_path().string(), "--ready-file",
                                 (dir_ / "sim.ready").string()},
        dir_, "sim");
    if (!wait_until([&] { return std::filesystem::exists(dir_ / "sim.ready"); },
                    std::chrono::seconds(15))) {
        throw std::runtime_error("greenrack-sim did not become ready: " + sim_->err());
    }
    const auto port =
        nlohmann::json::parse(read_file(dir_ / "sim.ready"))["listeners"]["site"].get<int>();
    std::ostringstream config;
    config << "[site]\nid = \"" << site_id << "\"\n"
           << "[daemon]\nstate_directory = \"state\"\nprofile_dirs = [\"" << source_dir
           << "/config/profiles\"]\n"
           << "[mqtt]\nuri = \"" << broker_uri << "\"\n"
           << "[prometheus]\nlisten = \"127.0.0.1:" << free_port() << "\"\n"
           << "[[bus]]\nid = \"site\"\nhost = \"127.0.0.1\"\nport = " << port << "\n";
    const char* devices[][3] = {{"pdu-1", "1", "rack_pdu_px3_24"},
                                {"pv-1", "2", "pv_sunspec_103"},
                                {"battery-1", "3", "battery_generic"},
                                {"grid-meter", "4", "meter_grid_4q"},
                                {"facility-meter", "5", "meter_facility_umg604"}};
    for (const auto& d : devices) {
        config << "[[device]]\nid = \"" << d[0] << "\"\nbus = \"site\"\nunit_id = " << d[1]
               << "\nprofile = \"" << d[2] << "\"\npoll_interval = \"500ms\"\n";
    }
    config << "[[rack]]\nid = \"a\"\noutlets = [{ device = \"pdu-1\", from = 1, to = 12 }]\n"
           << "[[rack]]\nid = \"b\"\noutlets = [{ device = \"pdu-1\", from = 13, to = 24 }]\n"
           << extra_config;
    write_file(config_path(), config.str());
}

std::unique_ptr<Process> ScriptedSite::start_daemon() const {
    return std::make_unique<Process>(GREENRACKD_BIN,
                                     std::vector<std::string>{"--config", config_path().string()},
                                     dir_, "greenrackd");
}

nlohmann::json SiteHarness::snapshot() const {
    return nlohmann::json::parse(read_file(snapshot_path()));
}

FrozenSim::FrozenSim(const std::filesystem::path& scenario,
                     const std::filesystem::path& profile_dir)
    : dir_("greenrack-frozen-sim") {
    const auto ready = dir_.path() / "sim.ready";
    sim_ = std::make_unique<Process>(
        GREENRACK_SIM_BIN,
        std::vector<std::string>{"--scenario", scenario.string(), "--profiles",
                                 profile_dir.string(), "--snapshot", snapshot_path().string(),
                                 "--ready-file", ready.string(), "--freeze"},
        dir_.path(), "sim");
    if (!wait_until([&] { return std::filesystem::exists(ready); }, std::chrono::seconds(15))) {
        throw std::runtime_error("greenrack-sim did not become ready: " + sim_->err());
    }
    const auto listeners = nlohmann::json::parse(read_file(ready))["listeners"];
    for (const auto& [name, port] : listeners.items()) {
        ports_[name] = port.get<std::uint16_t>();
    }
    if (!wait_until([&] { return std::filesystem::exists(snapshot_path()); },
                    std::chrono::seconds(15))) {
        throw std::runtime_error("greenrack-sim wrote no snapshot: " + sim_->err());
    }
}

std::string FrozenSim::endpoint(const std::string& listener) const {
    return "127.0.0.1:" + std::to_string(port(listener));
}

nlohmann::json FrozenSim::snapshot() const {
    return nlohmann::json::parse(read_file(snapshot_path()));
}

SunSpecSite::SunSpecSite()
    : FrozenSim(source_dir + "/tests/fixtures/sunspec/sunspec-site.sim.toml",
                source_dir + "/tests/fixtures/sunspec/profiles") {}

void SiteHarness::write_config(const std::string& extra) {
    std::ostringstream config;
    config << "[site]\nid = \"it\"\n\n"
           << "[daemon]\nstate_directory = \"" << (dir() / "state").string() << "\"\n"
           << "profile_dirs = [\"" << source_dir << "/config/profiles\"]\n\n"
           << "[mqtt]\nuri = \"" << broker_->uri() << "\"\nreconnect_max = \"2s\"\n\n"
           << "[[bus]]\nid = \"pdus\"\nhost = \"127.0.0.1\"\nport = " << ports_.at("pdus") << "\n\n"
           << "[[bus]]\nid = \"plant\"\nhost = \"127.0.0.1\"\nport = " << ports_.at("plant")
           << "\n\n";
    struct Device {
        const char* id;
        const char* bus;
        int unit;
        const char* profile;
    };
    const Device devices[] = {
        {"pdu-1", "pdus", 3, "rack_pdu_px3_24"},
        {"pv-1", "plant", 1, "pv_sunspec_103"},
        {"wind-1", "plant", 10, "wind_midnite_classic"},
        {"battery-1", "plant", 20, "battery_generic"},
        {"grid-meter", "plant", 30, "meter_grid_4q"},
        {"facility-meter", "plant", 31, "meter_facility_umg604"},
    };
    for (const auto& d : devices) {
        config << "[[device]]\nid = \"" << d.id << "\"\nbus = \"" << d.bus
               << "\"\nunit_id = " << d.unit << "\nprofile = \"" << d.profile
               << "\"\npoll_interval = \"500ms\"\n\n";
    }
    config << "[[rack]]\nid = \"r1\"\noutlets = [{ device = \"pdu-1\", from = 1, to = 12 }]\n\n"
           << "[[rack]]\nid = \"r2\"\noutlets = [{ device = \"pdu-1\", from = 13, to = 24 }]\n\n"
           << extra;
    // Every service of a test on a free loopback port: the /metrics endpoint too.
    if (extra.find("[prometheus]") == std::string::npos) {
        config << "\n[prometheus]\nlisten = \"127.0.0.1:" << free_port() << "\"\n";
    }
    config_path_ = dir() / "greenrack.toml";
    write_file(config_path_, config.str());
}

std::unique_ptr<Process> SiteHarness::start_daemon(std::vector<std::string> extra_args) {
    std::vector<std::string> args = {"--config", config_path_.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return std::make_unique<Process>(GREENRACKD_BIN, args, dir(), "greenrackd");
}

MqttRecorder::MqttRecorder(const std::string& uri, const std::string& topic_filter)
    : client_(uri, "greenrack-test-recorder") {
    client_.start_consuming();
    auto options = mqtt::connect_options_builder().clean_session(true).finalize();
    client_.connect(options)->wait_for(std::chrono::seconds(5));
    client_.subscribe(topic_filter, 1)->wait_for(std::chrono::seconds(5));
}

MqttRecorder::~MqttRecorder() {
    try {
        client_.stop_consuming();
        client_.disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {
        // The broker may already be gone.
    }
}

void MqttRecorder::drain(std::chrono::milliseconds timeout) {
    mqtt::const_message_ptr message;
    if (client_.try_consume_message_for(&message, timeout) && message) {
        messages_[message->get_topic()].push_back(message->to_string());
        while (client_.try_consume_message(&message) && message) {
            messages_[message->get_topic()].push_back(message->to_string());
        }
    }
}

std::optional<std::string> MqttRecorder::wait_for(const std::string& topic,
                                                  std::chrono::milliseconds timeout) {
    return wait_for(
        topic, [](const std::string&) { return true; }, timeout);
}

std::optional<std::string>
MqttRecorder::wait_for(const std::string& topic,
                       const std::function<bool(const std::string&)>& accept,
                       std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t checked = 0;
    while (true) {
        auto& list = messages_[topic];
        for (; checked < list.size(); ++checked) {
            if (accept(list[checked])) {
                return list[checked];
            }
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        drain(std::chrono::milliseconds(50));
    }
}

std::size_t MqttRecorder::received(const std::string& topic) {
    drain(std::chrono::milliseconds(0));
    return messages_[topic].size();
}

std::vector<std::string> MqttRecorder::messages(const std::string& topic) {
    drain(std::chrono::milliseconds(0));
    return messages_[topic];
}

} // namespace greenrack::test
