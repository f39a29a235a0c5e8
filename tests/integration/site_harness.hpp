#pragma once

#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/process.hpp"

#include <map>
#include <memory>
#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>
#include <string>

namespace greenrack::test {

// A small but complete simulated site for end-to-end tests: a real mosquitto, greenrack-sim
// serving one device of every shipped profile on free loopback ports, and the matching
// greenrackd configuration. Everything is stopped when the harness goes away.
class SiteHarness {
public:
    // extra_sim_args: e.g. {"--freeze"}; broker: how the site's mosquitto is configured.
    explicit SiteHarness(std::vector<std::string> extra_sim_args = {"--freeze"},
                         MosquittoOptions broker = {});
    ~SiteHarness();

    const std::filesystem::path& dir() const { return dir_.path(); }
    MosquittoBroker& broker() { return *broker_; }
    std::uint16_t listener_port(const std::string& name) const { return ports_.at(name); }
    const std::filesystem::path& config_path() const { return config_path_; }
    std::filesystem::path snapshot_path() const { return dir() / "snapshot.json"; }
    nlohmann::json snapshot() const;

    // Writes a greenrackd config for the simulated site; `extra` is appended verbatim.
    void write_config(const std::string& extra = "");
    std::unique_ptr<Process> start_daemon(std::vector<std::string> extra_args = {});

private:
    TempDir dir_;
    std::unique_ptr<MosquittoBroker> broker_;
    std::unique_ptr<Process> sim_;
    std::map<std::string, std::uint16_t> ports_;
    std::filesystem::path config_path_;
};

// A scripted site for scenario tests: greenrack-sim on `scenario` (written to
// <dir>/site.sim.toml, one listener named "site"), started and ready, and the matching daemon
// config in <dir>/greenrack.toml: the five plant devices of scripted_site_devices on that
// listener polled every 500 ms, racks "a" (outlets 1-12 of pdu-1) and "b" (13-24), /metrics on a
// free port, `extra` appended.
class ScriptedSite {
public:
    ScriptedSite(const std::filesystem::path& dir, const std::string& site_id,
                 const std::string& broker_uri, const std::string& scenario,
                 const std::string& extra_config);

    Process& sim() { return *sim_; }
    std::filesystem::path snapshot_path() const { return dir_ / "snapshot.json"; }
    std::filesystem::path config_path() const { return dir_ / "greenrack.toml"; }
    std::unique_ptr<Process> start_daemon() const;

private:
    std::filesystem::path dir_;
    std::unique_ptr<Process> sim_;
};

// greenrack-sim on a fixture scenario, frozen (every value constant), on ports it picks itself
// (0 in the scenario) and reports in its ready file. Stopped when it goes away.
class FrozenSim {
public:
    FrozenSim(const std::filesystem::path& scenario, const std::filesystem::path& profile_dir);

    std::uint16_t port(const std::string& listener) const { return ports_.at(listener); }
    std::string endpoint(const std::string& listener) const; // "127.0.0.1:<port>"
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path snapshot_path() const { return dir_.path() / "snapshot.json"; }
    nlohmann::json snapshot() const;

private:
    TempDir dir_;
    std::unique_ptr<Process> sim_;
    std::map<std::string, std::uint16_t> ports_;
};

// The SunSpec test site (tests/fixtures/sunspec/sunspec-site.sim.toml: one device per SunSpec
// layout and quirk, with its fixture profiles).
class SunSpecSite : public FrozenSim {
public:
    SunSpecSite();
};

// Checks (with Catch assertions) that a published device state carries exactly the points the
// simulator serves for that device (one entry of the snapshot's "devices"), with equal values,
// `missing` where a sentinel is served, and the matching overall quality.
void check_matches_snapshot(const nlohmann::json& state, const nlohmann::json& served);

// Subscribes to a topic filter and keeps the last message of every topic.
class MqttRecorder {
public:
    MqttRecorder(const std::string& uri, const std::string& topic_filter);
    ~MqttRecorder();

    // Waits until `topic` has a message (returns its payload) or the timeout passes (nullopt).
    std::optional<std::string> wait_for(const std::string& topic,
                                        std::chrono::milliseconds timeout);
    // Waits until a message on `topic` satisfies `accept`.
    std::optional<std::string> wait_for(const std::string& topic,
                                        const std::function<bool(const std::string&)>& accept,
                                        std::chrono::milliseconds timeout);
    std::size_t received(const std::string& topic);
    // Every message received on `topic` so far, oldest first.
    std::vector<std::string> messages(const std::string& topic);

private:
    void drain(std::chrono::milliseconds timeout);

    mqtt::async_client client_;
    std::map<std::string, std::vector<std::string>> messages_;
};

} // namespace greenrack::test
