#include "daemon/app/logging.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <sys/stat.h>
#include <unistd.h>

namespace greenrack::app {

namespace {

// Parses one decimal number of JOURNAL_STREAM at `first` and moves `first` past it; false when
// there is no digit or the number overflows.
bool parse_number(const char*& first, const char* last, std::uintmax_t& out) {
    auto [end, ec] = std::from_chars(first, last, out);
    if (ec != std::errc{} || end == first) {
        return false;
    }
    first = end;
    return true;
}

spdlog::sink_ptr make_sink(LogTarget target) {
    if (target == LogTarget::journal) {
        // The journal stamps time and priority itself; the component leads the message
        // ("[modbus] bus pdus: ...") and SYSLOG_IDENTIFIER is the program's, so
        // `journalctl -t greenrackd` and `-u greenrackd` both find every line. No newline: each
        // entry is one message.
        auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("greenrackd", true);
        sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "[%n] %v", spdlog::pattern_time_type::local, std::string()));
        return sink;
    }
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    return sink;
}

} // namespace

LogTarget choose_log_target(const char* journal_stream_env, dev_t stderr_device,
                            ino_t stderr_inode) {
    if (journal_stream_env == nullptr) {
        return LogTarget::console;
    }
    const char* first = journal_stream_env;
    const char* last = first + std::strlen(first);
    std::uintmax_t device = 0;
    std::uintmax_t inode = 0;
    if (!parse_number(first, last, device) || first == last || *first != ':') {
        return LogTarget::console;
    }
    ++first;
    if (!parse_number(first, last, inode) || first != last) {
        return LogTarget::console;
    }
    const bool same = device == static_cast<std::uintmax_t>(stderr_device) &&
                      inode == static_cast<std::uintmax_t>(stderr_inode);
    return same ? LogTarget::journal : LogTarget::console;
}

LogTarget detect_log_target() {
    const char* env = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (env == nullptr || fstat(STDERR_FILENO, &st) != 0) {
        return LogTarget::console;
    }
    return choose_log_target(env, st.st_dev, st.st_ino);
}

LoggerFactory::LoggerFactory(spdlog::level::level_enum level)
    : LoggerFactory(level, detect_log_target()) {}

LoggerFactory::LoggerFactory(spdlog::level::level_enum level, LogTarget target)
    : sink_(make_sink(target)), target_(target), level_(level) {}

LoggerFactory::LoggerFactory(spdlog::level::level_enum level, spdlog::sink_ptr sink)
    : sink_(std::move(sink)), target_(LogTarget::console), level_(level) {}

std::shared_ptr<spdlog::logger> LoggerFactory::make(const std::string& component) const {
    auto logger = std::make_shared<spdlog::logger>(component, sink_);
    std::lock_guard lock(mutex_);
    logger->set_level(level_);
    // Forget the loggers that are gone, so a factory that makes loggers again and again (one per
    // reload) does not grow.
    std::erase_if(made_, [](const auto& weak) { return weak.expired(); });
    made_.push_back(logger);
    return logger;
}

void LoggerFactory::set_level(spdlog::level::level_enum level) {
    std::lock_guard lock(mutex_);
    level_ = level;
    for (const auto& weak : made_) {
        if (auto logger = weak.lock()) {
            logger->set_level(level); // an atomic store: safe while the logger logs elsewhere
        }
    }
}

spdlog::level::level_enum LoggerFactory::level() const {
    std::lock_guard lock(mutex_);
    return level_;
}

bool parse_log_level(const std::string& text, spdlog::level::level_enum& out) {
    static const std::pair<const char*, spdlog::level::level_enum> levels[] = {
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
        {"off", spdlog::level::off},
    };
    for (const auto& [name, level] : levels) {
        if (text == name) {
            out = level;
            return true;
        }
    }
    return false;
}

} // namespace greenrack::app
