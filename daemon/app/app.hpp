#pragma once

#include "daemon/app/logging.hpp"
#include "daemon/config/config.hpp"

#include <chrono>
#include <functional>
#include <ostream>

namespace greenrack::app {

struct RunOptions {
    bool summary = false; // print one live summary line per second on stdout
    // Reads the configuration again on SIGHUP; throws common::ConfigError when it is invalid.
    // Without it, SIGHUP is logged and ignored.
    std::function<config::Config()> reload;
    // --log-level was given: a reload does not change the level.
    bool log_level_fixed = false;
};

// The composition root of the running daemon: event loop, signals, poller, sample store and
// sinks. run() blocks until SIGTERM/SIGINT and returns the process exit status.
// SIGHUP reloads the config (RunOptions::reload) live; see README "Reloading the configuration".
int run_daemon(const config::Config& config, const RunOptions& options, LoggerFactory& loggers,
               std::ostream& out);

// --once: polls every device one time, prints the decoded readings and returns 0 when every
// device answered (possibly with some points missing), 1 otherwise.
int run_once(const config::Config& config, const LoggerFactory& loggers, std::ostream& out,
             std::chrono::milliseconds timeout);

} // namespace greenrack::app
