#pragma once

#include <memory>
#include <mutex>
#include <spdlog/common.h>
#include <spdlog/logger.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace greenrack::app {

// Where the daemon's log lines go.
enum class LogTarget {
    console, // colored lines with a timestamp on stderr
    journal, // native journal entries: PRIORITY from the level, SYSLOG_IDENTIFIER=greenrackd
};

// The journal when stderr is systemd's journal stream: JOURNAL_STREAM ("<device>:<inode>" in
// decimal, see systemd.exec(5)) names the device and inode of stderr. A missing or malformed
// variable, or one naming another file (stderr redirected by a wrapper, inherited by a child
// run from a shell), means the console.
LogTarget choose_log_target(const char* journal_stream_env, dev_t stderr_device,
                            ino_t stderr_inode);
// choose_log_target() for this process: $JOURNAL_STREAM and fstat(STDERR_FILENO).
LogTarget detect_log_target();

// Creates the loggers of the daemon's components, one per component, all writing to one shared
// sink. Loggers are not registered in spdlog's global registry: each component gets its own
// logger passed in. Thread-safe: make() and set_level() may be called from any thread while
// the loggers log from others.
class LoggerFactory {
public:
    // The target is detect_log_target().
    explicit LoggerFactory(spdlog::level::level_enum level);
    LoggerFactory(spdlog::level::level_enum level, LogTarget target);
    // Every logger writes to `sink`, used as given (its pattern is not changed); for tests.
    LoggerFactory(spdlog::level::level_enum level, spdlog::sink_ptr sink);

    std::shared_ptr<spdlog::logger> make(const std::string& component) const;
    // Applies to the loggers made from now on and to every logger already made that is still
    // alive (a configuration reload changes the level of the running daemon).
    void set_level(spdlog::level::level_enum level);
    spdlog::level::level_enum level() const;
    LogTarget target() const { return target_; }

private:
    spdlog::sink_ptr sink_;
    LogTarget target_;
    mutable std::mutex mutex_; // guards level_ and made_
    spdlog::level::level_enum level_;
    mutable std::vector<std::weak_ptr<spdlog::logger>> made_;
};

// "info" -> spdlog::level::info (trace, debug, info, warn, error, critical, off); unknown text
// returns false and leaves `out` unchanged.
bool parse_log_level(const std::string& text, spdlog::level::level_enum& out);

} // namespace greenrack::app
