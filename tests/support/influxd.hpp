#pragma once

#include "tests/support/process.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace greenrack::test {

// A real influxd 1.x on free 127.0.0.1 ports, with its data in `dir`, for the lifetime of the
// object. The HTTP access log is on (stderr), internal monitoring off.
class Influxd {
public:
    struct Options {
        std::uint16_t port = 0;    // 0: a free port
        std::string database{};    // created at start when not empty
        bool auth_enabled = false; // [http] auth-enabled
        std::string admin_user{};  // with auth: created before the database
        std::string admin_password{};
    };

    Influxd(const std::filesystem::path& dir, Options options);
    ~Influxd();
    Influxd(const Influxd&) = delete;
    Influxd& operator=(const Influxd&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    void stop();
    void start(); // (re)starts on the same ports with the same data

    struct Reply {
        int status = 0; // HTTP status, 0 when influxd could not be reached
        std::string body;
    };
    // POST /query with q (and db) through curl, with the admin credentials when auth is on.
    Reply query(const std::string& statement, const std::string& database = "") const;
    // influxd's output so far (the access log has one line per request).
    std::string log() const;
    // Number of requests seen by influxd whose access-log line contains `text`.
    std::size_t requests_matching(const std::string& text) const;

private:
    std::filesystem::path dir_;
    Options options_;
    std::uint16_t port_;
    std::uint16_t rpc_port_;
    std::unique_ptr<Process> process_;
    int runs_ = 0; // each run logs to its own files
};

} // namespace greenrack::test
