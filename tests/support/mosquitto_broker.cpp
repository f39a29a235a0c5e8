#include "tests/support/mosquitto_broker.hpp"

#include "tests/support/free_port.hpp"

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <unistd.h>
#include <utility>

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

MosquittoBroker::MosquittoBroker(const std::filesystem::path& dir)
    : MosquittoBroker(dir, MosquittoOptions{}) {}

MosquittoBroker::MosquittoBroker(const std::filesystem::path& dir, MosquittoOptions options)
    : dir_(dir), options_(std::move(options)), port_(free_port()) {
    start();
}

void MosquittoBroker::start() {
    std::ostringstream conf;
    conf << "listener " << port_ << " 127.0.0.1\n"
         << (options_.config.empty() ? "allow_anonymous true\n" : options_.config) << "\n"
         << (options_.persistent ? "persistence true\npersistence_location " +
                                       (dir_ / (options_.name + "-db")).string() + "/\n"
                                 : std::string("persistence false\n"))
         // Started as root, mosquitto drops to its own user, which cannot write the persistence
         // file below the test's private directory: it stays root for this test broker.
         << (options_.persistent && ::geteuid() == 0 ? "user root\n" : "") << "log_dest stderr\n";
    if (options_.persistent) {
        std::filesystem::create_directories(dir_ / (options_.name + "-db"));
    }
    auto conf_path = dir_ / (options_.name + ".conf");
    write_file(conf_path, conf.str());
    process_ = std::make_unique<Process>(find_program("mosquitto"),
                                         std::vector<std::string>{"-c", conf_path.string()}, dir_,
                                         options_.name);
    if (!wait_until([this] { return port_open(port_); }, std::chrono::seconds(10))) {
        throw std::runtime_error("mosquitto did not start: " + process_->err());
    }
}

void MosquittoBroker::stop() {
    process_.reset();
}

std::string MosquittoBroker::log() const {
    return process_ ? process_->err() : std::string();
}

namespace {

void make_readable(const std::filesystem::path& path) {
    std::filesystem::permissions(
        path,
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
            std::filesystem::perms::group_read | std::filesystem::perms::others_read,
        std::filesystem::perm_options::replace);
}

} // namespace

TestPki::TestPki(const std::string& ca_name) : dir_("greenrack-pki"), ca_name_(ca_name) {
    std::filesystem::permissions(
        dir(),
        std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
            std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
            std::filesystem::perms::others_exec,
        std::filesystem::perm_options::replace);
    run("openssl", {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key(ca_name_).string(), "-out", ca_cert().string(),
                    "-days", "2", "-subj", "/CN=" + ca_name_ + " for tests"});
    make_readable(key(ca_name_));
    make_readable(ca_cert());
}

void TestPki::issue(const std::string& name, const std::string& common_name,
                    const std::string& san) const {
    const auto csr = dir() / (name + ".csr");
    const auto extensions =
        write(name + ".ext", "basicConstraints = CA:FALSE\n" +
                                 (san.empty() ? std::string() : "subjectAltName = " + san + "\n"));
    run("openssl",
        {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         key(name).string(), "-out", csr.string(), "-subj", "/CN=" + common_name});
    run("openssl", {"x509", "-req", "-in", csr.string(), "-CA", ca_cert().string(), "-CAkey",
                    key(ca_name_).string(), "-CAcreateserial", "-out", cert(name).string(), "-days",
                    "2", "-extfile", extensions.string()});
    make_readable(key(name));
    make_readable(cert(name));
}

std::filesystem::path TestPki::encrypt_key(const std::string& name,
                                           const std::string& password) const {
    const auto password_file = write(name + ".pass", password);
    const auto out = dir() / (name + ".enc.key");
    run("openssl", {"pkey", "-in", key(name).string(), "-aes256", "-passout",
                    "file:" + password_file.string(), "-out", out.string()});
    make_readable(out);
    return out;
}

std::filesystem::path TestPki::write(const std::string& file_name, const std::string& text) const {
    const auto path = dir() / file_name;
    write_file(path, text);
    make_readable(path);
    return path;
}

void TestPki::run(const std::string& program, const std::vector<std::string>& args) const {
    const RunResult result = run_program(find_program(program), args);
    if (result.status != 0) {
        throw std::runtime_error(program + " failed (status " + std::to_string(result.status) +
                                 "): " + result.out + result.err);
    }
}

} // namespace greenrack::test
