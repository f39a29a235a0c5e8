#include "tests/support/mosquitto_broker.hpp"

#include "tests/support/free_port.hpp"

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace greenrack::test {

std::string find_program(const std::string& name) {
    std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    path += ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin";
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        auto candidate = std::filesystem::path(dir) / name;
        if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
    }
    throw std::runtime_error(name + " not found (run scripts/install-deps.sh)");
}

MosquittoBroker::MosquittoBroker(const std::filesystem::path& dir) : dir_(dir), port_(free_port()) {
    start();
}

void MosquittoBroker::start() {
    std::ostringstream conf;
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         << "persistence false\n"
         << "log_dest stderr\n";
    auto conf_path = dir_ / "mosquitto.conf";
    write_file(conf_path, conf.str());
    process_ = std::make_unique<Process>(find_program("mosquitto"),
                                         std::vector<std::string>{"-c", conf_path.string()}, dir_,
                                         "mosquitto");
    if (!wait_until([this] { return port_open(port_); }, std::chrono::seconds(10))) {
        throw std::runtime_error("mosquitto did not start: " + process_->err());
    }
}

void MosquittoBroker::stop() {
    process_.reset();
}

} // namespace greenrack::test
