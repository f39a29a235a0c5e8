#pragma once

#include "tests/support/process.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace greenrack::test {

// A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on a free 127.0.0.1 port,
// with its data in `dir`, for the lifetime of the object. Clustering is off; every alert goes
// to a receiver that notifies nobody; resolve_timeout is Alertmanager's default (5 min).
// Throws std::runtime_error when the binary is missing or it does not become ready.
class Alertmanager {
public:
    explicit Alertmanager(const std::filesystem::path& dir);
    ~Alertmanager();
    Alertmanager(const Alertmanager&) = delete;
    Alertmanager& operator=(const Alertmanager&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    void stop();
    void start(); // (re)starts on the same port (alerts are not kept across restarts)

    // GET /api/v2/alerts: the JSON array Alertmanager returns. Resolved alerts (endsAt in the
    // past) are never listed; active_only (?active=true&silenced=false&inhibited=false) also
    // leaves out silenced and inhibited ones. Throws std::runtime_error when it does not answer.
    nlohmann::json get_alerts(bool active_only) const;
    // Alertmanager's output so far.
    std::string log() const;

private:
    std::filesystem::path dir_;
    std::uint16_t port_;
    std::unique_ptr<Process> process_;
    int runs_ = 0; // each run logs to its own files
};

} // namespace greenrack::test
