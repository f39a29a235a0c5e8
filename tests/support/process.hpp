#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace greenrack::test {

// A child process for integration tests: started with fork/exec, stdout and stderr captured in
// files, stopped (SIGTERM, then SIGKILL) when the object goes away.
class Process {
public:
    Process(std::string program, std::vector<std::string> args,
            const std::filesystem::path& log_dir, const std::string& name);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    // Sends `signal`; waits up to `timeout` for the exit; returns the exit status
    // (128 + signal number when killed by a signal), nullopt when it did not exit.
    std::optional<int> stop(int signal, std::chrono::milliseconds timeout);
    // Waits for a natural exit.
    std::optional<int> wait(std::chrono::milliseconds timeout);

    std::string out() const; // everything written to stdout so far
    std::string err() const; // everything written to stderr so far
    const std::filesystem::path& out_path() const { return out_path_; }
    const std::filesystem::path& err_path() const { return err_path_; }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path out_path_;
    std::filesystem::path err_path_;
};

// Runs a program to completion and returns its exit status and stdout+stderr.
struct RunResult {
    int status = -1;
    std::string out;
    std::string err;
};
RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A fresh temporary directory, removed (recursively) on destruction.
class TempDir {
public:
    explicit TempDir(const std::string& prefix);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

void sleep_ms(int ms);

// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        sleep_ms(20);
    }
    return condition();
}

} // namespace greenrack::test
