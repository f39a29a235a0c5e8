#pragma once

#include "tests/support/process.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace greenrack::test {

// How a MosquittoBroker listens; the defaults make the plain anonymous broker of most tests.
struct MosquittoOptions {
    std::string name = "mosquitto"; // files in the directory: <name>.conf, <name>.out/.err
    std::string scheme = "tcp";     // scheme of uri(): "ssl" for a TLS listener
    // Lines after the listener line: per-listener settings (cafile, certfile, keyfile,
    // require_certificate, use_identity_as_username) and global ones (allow_anonymous,
    // password_file, acl_file, log_type). Empty: "allow_anonymous true".
    std::string config;
    // Keep sessions and queued messages across stop()/start() (persistence file in the dir).
    bool persistent = false;
};

// A real mosquitto broker on a free 127.0.0.1 port, for the lifetime of the object.
class MosquittoBroker {
public:
    explicit MosquittoBroker(const std::filesystem::path& dir);
    MosquittoBroker(const std::filesystem::path& dir, MosquittoOptions options);
    std::uint16_t port() const { return port_; }
    std::string uri() const { return options_.scheme + "://127.0.0.1:" + std::to_string(port_); }
    void stop();
    void start(); // (re)starts on the same port
    // Everything the broker logged so far (log_dest stderr), "" when stopped.
    std::string log() const;

private:
    std::filesystem::path dir_;
    MosquittoOptions options_;
    std::uint16_t port_;
    std::unique_ptr<Process> process_;
};

// A throw-away certificate authority for TLS tests, made with the openssl command line in a
// fresh temporary directory (removed with the object): EC P-256 keys, valid for two days. The
// directory and every file in it are world-readable, because mosquitto started as root reads
// its certificates after dropping privileges to the "mosquitto" user.
class TestPki {
public:
    // Creates <dir>/<ca_name>.crt and .key (a self-signed CA, CN "<ca_name> for tests").
    explicit TestPki(const std::string& ca_name = "ca");
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path ca_cert() const { return cert(ca_name_); }

    // Issues <dir>/<name>.crt and <name>.key signed by this CA, subject CN `common_name`,
    // subjectAltName `san` (e.g. "IP:127.0.0.1,DNS:localhost"; none when empty).
    void issue(const std::string& name, const std::string& common_name,
               const std::string& san = "") const;
    std::filesystem::path cert(const std::string& name) const { return dir() / (name + ".crt"); }
    std::filesystem::path key(const std::string& name) const { return dir() / (name + ".key"); }
    // <dir>/<name>.enc.key: the key of `name` encrypted with AES-256 under `password`.
    std::filesystem::path encrypt_key(const std::string& name, const std::string& password) const;
    // Writes a world-readable file in the directory (ACL, password file, ...).
    std::filesystem::path write(const std::string& file_name, const std::string& text) const;
    // Runs openssl (or another program) in the directory; throws with its output on failure.
    void run(const std::string& program, const std::vector<std::string>& args) const;

private:
    TempDir dir_;
    std::string ca_name_;
};

// Path of an executable found on PATH or in /usr/sbin, /usr/bin (mosquitto lives in /usr/sbin).
std::string find_program(const std::string& name);

} // namespace greenrack::test
