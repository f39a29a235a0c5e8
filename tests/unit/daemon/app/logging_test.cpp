#include "daemon/app/logging.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using greenrack::app::choose_log_target;
using greenrack::app::detect_log_target;
using greenrack::app::LoggerFactory;
using greenrack::app::LogTarget;

namespace {

// Sets an environment variable for the life of the object, then puts the old value back.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

std::string stderr_journal_stream() {
    struct stat st {};
    REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// Exposes the syslog priority spdlog's journal sink sends for each level.
class PrioritySink : public spdlog::sinks::systemd_sink_mt {
public:
    using spdlog::sinks::systemd_sink_mt::syslog_level;
};

std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> capture() {
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
    sink->set_pattern("%n|%l|%v");
    return sink;
}

} // namespace

TEST_CASE("without JOURNAL_STREAM the log goes to the console", "[logging]") {
    CHECK(choose_log_target(nullptr, 2049, 123456) == LogTarget::console);
}

TEST_CASE("JOURNAL_STREAM naming stderr's device and inode sends the log to the journal",
          "[logging]") {
    CHECK(choose_log_target("2049:123456", 2049, 123456) == LogTarget::journal);
    CHECK(choose_log_target("0:1", 0, 1) == LogTarget::journal);
    CHECK(choose_log_target("18446744073709551615:18446744073709551614",
                            static_cast<dev_t>(18446744073709551615ULL),
                            static_cast<ino_t>(18446744073709551614ULL)) == LogTarget::journal);
}

TEST_CASE("JOURNAL_STREAM naming another file than stderr means the console", "[logging]") {
    // stderr was redirected (by a wrapper, or in a child started from the service's shell).
    CHECK(choose_log_target("2049:123456", 2049, 123457) == LogTarget::console);
    CHECK(choose_log_target("2049:123456", 2050, 123456) == LogTarget::console);
    CHECK(choose_log_target("123456:2049", 2049, 123456) == LogTarget::console);
}

TEST_CASE("a malformed JOURNAL_STREAM means the console", "[logging]") {
    const char* malformed =
        GENERATE("", ":", "2049", "2049:", ":123456", "2049:123456x", " 2049:123456",
                 "2049:123456 ", "+2049:123456", "2049:-123456", "2049;123456", "2049:123456:7",
                 "0x801:123456", "99999999999999999999999:123456");
    CAPTURE(malformed);
    CHECK(choose_log_target(malformed, 2049, 123456) == LogTarget::console);
}

TEST_CASE("the target is detected from this process's stderr and environment", "[logging]") {
    const std::string matching = stderr_journal_stream();
    {
        ScopedEnv env("JOURNAL_STREAM", matching.c_str());
        CHECK(detect_log_target() == LogTarget::journal);
        CHECK(LoggerFactory(spdlog::level::info).target() == LogTarget::journal);
    }
    {
        ScopedEnv env("JOURNAL_STREAM", "1:1");
        CHECK(detect_log_target() == LogTarget::console);
        CHECK(LoggerFactory(spdlog::level::info).target() == LogTarget::console);
    }
    {
        ScopedEnv env("JOURNAL_STREAM", nullptr);
        CHECK(detect_log_target() == LogTarget::console);
    }
}

TEST_CASE("the journal target logs through spdlog's systemd sink, the console one to stderr",
          "[logging]") {
    LoggerFactory journal(spdlog::level::info, LogTarget::journal);
    CHECK(journal.target() == LogTarget::journal);
    auto logger = journal.make("modbus");
    REQUIRE(logger->sinks().size() == 1);
    CHECK(std::dynamic_pointer_cast<spdlog::sinks::systemd_sink_mt>(logger->sinks()[0]));
    // No journald here: the line is dropped, and logging must neither throw nor block.
    CHECK_NOTHROW(logger->warn("journal test line"));

    LoggerFactory console(spdlog::level::info, LogTarget::console);
    CHECK(console.target() == LogTarget::console);
    auto console_logger = console.make("modbus");
    REQUIRE(console_logger->sinks().size() == 1);
    CHECK(
        std::dynamic_pointer_cast<spdlog::sinks::stderr_color_sink_mt>(console_logger->sinks()[0]));
}

TEST_CASE("journal entries carry the syslog priority of their level", "[logging]") {
    PrioritySink sink;
    CHECK(sink.syslog_level(spdlog::level::critical) == 2);
    CHECK(sink.syslog_level(spdlog::level::err) == 3);
    CHECK(sink.syslog_level(spdlog::level::warn) == 4);
    CHECK(sink.syslog_level(spdlog::level::info) == 6);
    CHECK(sink.syslog_level(spdlog::level::debug) == 7);
    CHECK(sink.syslog_level(spdlog::level::trace) == 7);
}

TEST_CASE("each component gets its own named logger on the factory's sink", "[logging]") {
    auto sink = capture();
    LoggerFactory loggers(spdlog::level::info, sink);
    auto modbus = loggers.make("modbus");
    auto mqtt = loggers.make("mqtt");
    CHECK(modbus != mqtt);
    modbus->info("bus up");
    mqtt->warn("broker down");
    CHECK(sink->last_formatted() ==
          std::vector<std::string>{"modbus|info|bus up\n", "mqtt|warning|broker down\n"});
}

TEST_CASE("set_level applies to the loggers already made and to the next ones", "[logging]") {
    auto sink = capture();
    LoggerFactory loggers(spdlog::level::info, sink);
    auto modbus = loggers.make("modbus");
    auto mqtt = loggers.make("mqtt");
    modbus->debug("hidden");
    CHECK(sink->last_formatted().empty());

    loggers.set_level(spdlog::level::debug);
    CHECK(loggers.level() == spdlog::level::debug);
    CHECK(modbus->level() == spdlog::level::debug);
    CHECK(mqtt->level() == spdlog::level::debug);
    CHECK(loggers.make("influxdb")->level() == spdlog::level::debug);
    modbus->debug("shown");
    CHECK(sink->last_formatted() == std::vector<std::string>{"modbus|debug|shown\n"});

    loggers.set_level(spdlog::level::err);
    mqtt->warn("hidden again");
    CHECK(sink->last_formatted().size() == 1);
    CHECK(modbus->level() == spdlog::level::err);
}

TEST_CASE("the factory does not keep released loggers alive, and set_level skips them",
          "[logging]") {
    auto sink = capture();
    LoggerFactory loggers(spdlog::level::info, sink);
    auto kept = loggers.make("kept");
    auto dropped = loggers.make("dropped");
    std::weak_ptr<spdlog::logger> watch = dropped;
    dropped.reset();
    CHECK(watch.expired());
    loggers.set_level(spdlog::level::trace);
    CHECK(kept->level() == spdlog::level::trace);
    CHECK(loggers.make("next")->level() == spdlog::level::trace);
}

TEST_CASE("loggers made and used on several threads all follow set_level", "[logging]") {
    auto sink = capture();
    LoggerFactory loggers(spdlog::level::info, sink);
    std::vector<std::shared_ptr<spdlog::logger>> made[4];
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            while (!go) {
                std::this_thread::yield();
            }
            for (int i = 0; i < 50; ++i) {
                made[t].push_back(loggers.make("c" + std::to_string(t) + "." + std::to_string(i)));
                made[t].back()->debug("line {}", i);
            }
        });
    }
    go = true;
    for (int i = 0; i < 50; ++i) {
        loggers.set_level(i % 2 == 0 ? spdlog::level::debug : spdlog::level::info);
    }
    for (auto& thread : threads) {
        thread.join();
    }
    loggers.set_level(spdlog::level::critical);
    for (const auto& list : made) {
        REQUIRE(list.size() == 50);
        for (const auto& logger : list) {
            CHECK(logger->level() == spdlog::level::critical);
        }
    }
}

TEST_CASE("log levels are parsed from their config names", "[logging]") {
    using greenrack::app::parse_log_level;
    const std::pair<const char*, spdlog::level::level_enum> names[] = {
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
        {"off", spdlog::level::off},
    };
    for (const auto& [name, expected] : names) {
        auto level = spdlog::level::critical;
        CAPTURE(name);
        CHECK(parse_log_level(name, level));
        CHECK(level == expected);
    }
    auto level = spdlog::level::warn;
    CHECK_FALSE(parse_log_level("warning", level));
    CHECK_FALSE(parse_log_level("INFO", level));
    CHECK_FALSE(parse_log_level("", level));
    CHECK(level == spdlog::level::warn);
}
