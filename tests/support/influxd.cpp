#include "tests/support/influxd.hpp"

#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_broker.hpp"

#include <sstream>
#include <stdexcept>

namespace greenrack::test {

namespace {

// An InfluxQL string literal.
std::string influxql_string(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "'";
}

} // namespace

Influxd::Influxd(const std::filesystem::path& dir, Options options)
    : dir_(dir), options_(std::move(options)),
      port_(options_.port != 0 ? options_.port : free_port()), rpc_port_(free_port()) {
    start();
    if (options_.auth_enabled && !options_.admin_user.empty()) {
        // Allowed without credentials while no admin exists.
        auto reply = query("CREATE USER \"" + options_.admin_user + "\" WITH PASSWORD " +
                           influxql_string(options_.admin_password) + " WITH ALL PRIVILEGES");
        if (reply.status != 200) {
            throw std::runtime_error("influxd: CREATE USER failed: " + reply.body);
        }
    }
    if (!options_.database.empty()) {
        auto reply = query("CREATE DATABASE \"" + options_.database + "\"");
        if (reply.status != 200 || reply.body.find("\"error\"") != std::string::npos) {
            throw std::runtime_error("influxd: CREATE DATABASE failed: " + reply.body);
        }
    }
}

Influxd::~Influxd() {
    stop();
}

void Influxd::start() {
    const auto data = dir_ / "influxdb";
    std::ostringstream conf;
    conf << "reporting-enabled = false\n"
         << "bind-address = \"127.0.0.1:" << rpc_port_ << "\"\n"
         << "[meta]\n"
         << "  dir = \"" << (data / "meta").string() << "\"\n"
         << "[data]\n"
         << "  dir = \"" << (data / "data").string() << "\"\n"
         << "  wal-dir = \"" << (data / "wal").string() << "\"\n"
         << "  query-log-enabled = false\n"
         << "[monitor]\n"
         << "  store-enabled = false\n"
         << "[continuous_queries]\n"
         << "  enabled = false\n"
         << "[http]\n"
         << "  bind-address = \"127.0.0.1:" << port_ << "\"\n"
         << "  auth-enabled = " << (options_.auth_enabled ? "true" : "false") << "\n"
         << "  log-enabled = true\n"
         << "  unix-socket-enabled = false\n"
         << "  bind-socket = \"" << (dir_ / "influxd.sock").string() << "\"\n";
    const auto conf_path = dir_ / "influxdb.conf";
    write_file(conf_path, conf.str());
    ++runs_;
    process_ = std::make_unique<Process>(find_program("influxd"),
                                         std::vector<std::string>{"-config", conf_path.string()},
                                         dir_, "influxd-" + std::to_string(runs_));
    if (!wait_until([this] { return port_open(port_) && query("SHOW DATABASES").status != 0; },
                    std::chrono::seconds(20))) {
        throw std::runtime_error("influxd did not start: " + process_->err());
    }
}

void Influxd::stop() {
    process_.reset();
}

Influxd::Reply Influxd::query(const std::string& statement, const std::string& database) const {
    std::vector<std::string> args{"-sS",
                                  "-o",
                                  "-",
                                  "-w",
                                  "\n%{http_code}",
                                  "-XPOST",
                                  url() + "/query",
                                  "--data-urlencode",
                                  "q=" + statement};
    if (!database.empty()) {
        args.push_back("--data-urlencode");
        args.push_back("db=" + database);
    }
    if (options_.auth_enabled && !options_.admin_user.empty()) {
        args.push_back("-u");
        args.push_back(options_.admin_user + ":" + options_.admin_password);
    }
    auto result = run_program(find_program("curl"), args, std::chrono::seconds(10));
    Reply reply;
    const auto newline = result.out.rfind('\n');
    if (result.status != 0 || newline == std::string::npos) {
        return reply;
    }
    reply.body = result.out.substr(0, newline);
    reply.status = std::atoi(result.out.c_str() + newline + 1);
    return reply;
}

std::string Influxd::log() const {
    std::string text;
    for (int run = 1; run <= runs_; ++run) {
        text += read_file(dir_ / ("influxd-" + std::to_string(run) + ".err"));
        text += read_file(dir_ / ("influxd-" + std::to_string(run) + ".out"));
    }
    return text;
}

std::size_t Influxd::requests_matching(const std::string& text) const {
    std::istringstream lines(log());
    std::string line;
    std::size_t count = 0;
    while (std::getline(lines, line)) {
        if (line.starts_with("[httpd]") && line.find(text) != std::string::npos) {
            ++count;
        }
    }
    return count;
}

} // namespace greenrack::test
