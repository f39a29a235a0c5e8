#include "tests/support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace greenrack::test {

namespace {

std::optional<int> decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return std::nullopt;
}

// In a sanitizer build (GREENRACK_SANITIZE) greenrackd and greenrack-sim are sanitized too, but
// many tests never look at a child's exit status, and the report itself only goes to the child's
// stderr file. A sanitizer report there fails the test (like abort_on_error in the test itself).
void abort_on_sanitizer_report(const std::filesystem::path& err_path) {
    const std::string err = read_file(err_path);
    for (const char* marker :
         {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: "}) {
        auto at = err.find(marker);
        if (at != std::string::npos) {
            at = err.rfind('\n', at);
            std::cerr << "sanitizer report in " << err_path.string() << ":\n"
                      << err.substr(at == std::string::npos ? 0 : at + 1) << std::endl;
            std::abort();
        }
    }
}

} // namespace

void sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

TempDir::TempDir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

Process::Process(std::string program, std::vector<std::string> args,
                 const std::filesystem::path& log_dir, const std::string& name)
    : out_path_(log_dir / (name + ".out")), err_path_(log_dir / (name + ".err")) {
    int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0 || err_fd < 0) {
        throw std::runtime_error("cannot create log files in " + log_dir.string());
    }
    std::vector<char*> argv;
    argv.push_back(program.data());
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
        dup2(out_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            dup2(null_fd, STDIN_FILENO);
        }
        execvp(argv[0], argv.data());
        _exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
}

Process::~Process() {
    if (running()) {
        if (!stop(SIGTERM, std::chrono::seconds(5))) {
            stop(SIGKILL, std::chrono::seconds(5));
        }
    }
    abort_on_sanitizer_report(err_path_);
}

bool Process::running() {
    if (status_ || pid_ <= 0) {
        return false;
    }
    int status = 0;
    pid_t rc = waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
        status_ = decode_status(status).value_or(-1);
        return false;
    }
    return rc == 0;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    wait_until([this] { return !running(); }, timeout);
    return status_;
}

std::optional<int> Process::stop(int signal, std::chrono::milliseconds timeout) {
    if (running()) {
        kill(pid_, signal);
    }
    return wait(timeout);
}

std::string Process::out() const {
    return read_file(out_path_);
}
std::string Process::err() const {
    return read_file(err_path_);
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout) {
    TempDir dir("greenrack-run");
    RunResult result;
    {
        Process process(program, args, dir.path(), "run");
        auto status = process.wait(timeout);
        if (!status) {
            status = process.stop(SIGKILL, std::chrono::seconds(5));
        }
        result.status = status.value_or(-1);
        result.out = process.out();
        result.err = process.err();
    }
    return result;
}

} // namespace greenrack::test
