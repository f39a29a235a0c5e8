#include "tests/support/alertmanager.hpp"

#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_broker.hpp"

#include <stdexcept>

namespace greenrack::test {

namespace {

struct Reply {
    int status = 0; // 0 when Alertmanager could not be reached
    std::string body;
};

Reply http_get(const std::string& url) {
    auto result = run_program(find_program("curl"),
                              {"-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}", url},
                              std::chrono::seconds(10));
    Reply reply;
    const auto newline = result.out.rfind('\n');
    if (result.status != 0 || newline == std::string::npos) {
        return reply;
    }
    reply.body = result.out.substr(0, newline);
    reply.status = std::atoi(result.out.c_str() + newline + 1);
    return reply;
}

} // namespace

Alertmanager::Alertmanager(const std::filesystem::path& dir) : dir_(dir), port_(free_port()) {
    start();
}

Alertmanager::~Alertmanager() {
    stop();
}

void Alertmanager::start() {
    const std::string binary = [] {
        try {
            return find_program("prometheus-alertmanager");
        } catch (const std::runtime_error&) {
            throw std::runtime_error("prometheus-alertmanager not found: run "
                                     "scripts/install-deps.sh (Debian package "
                                     "prometheus-alertmanager)");
        }
    }();
    const auto config_path = dir_ / "alertmanager.yml";
    write_file(config_path, "route:\n"
                            "  receiver: blackhole\n"
                            "receivers:\n"
                            "  - name: blackhole\n");
    ++runs_;
    process_ = std::make_unique<Process>(
        binary,
        std::vector<std::string>{"--config.file=" + config_path.string(),
                                 "--storage.path=" + (dir_ / "alertmanager-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--cluster.listen-address=", "--log.level=debug"},
        dir_, "alertmanager-" + std::to_string(runs_));
    if (!wait_until(
            [this] { return port_open(port_) && http_get(url() + "/-/ready").status == 200; },
            std::chrono::seconds(20))) {
        throw std::runtime_error("prometheus-alertmanager did not become ready on port " +
                                 std::to_string(port_) + ": " + process_->err());
    }
}

void Alertmanager::stop() {
    process_.reset();
}

nlohmann::json Alertmanager::get_alerts(bool active_only) const {
    std::string target = url() + "/api/v2/alerts";
    if (active_only) {
        target += "?active=true&silenced=false&inhibited=false&unprocessed=true";
    }
    const Reply reply = http_get(target);
    auto json = nlohmann::json::parse(reply.body, nullptr, false);
    if (reply.status != 200 || !json.is_array()) {
        throw std::runtime_error("GET " + target + " failed: HTTP " + std::to_string(reply.status) +
                                 " " + reply.body);
    }
    return json;
}

std::string Alertmanager::log() const {
    std::string text;
    for (int run = 1; run <= runs_; ++run) {
        text += read_file(dir_ / ("alertmanager-" + std::to_string(run) + ".err"));
        text += read_file(dir_ / ("alertmanager-" + std::to_string(run) + ".out"));
    }
    return text;
}

} // namespace greenrack::test
