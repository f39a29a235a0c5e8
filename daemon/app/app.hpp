#pragma once

#include "daemon/app/logging.hpp"
#include "daemon/config/config.hpp"

#include <chrono>
#include <ostream>

namespace greenrack::app {

struct RunOptions {
    bool summary = false; // print one live summary line per second on stdout
};

// The composition root of the running daemon: event loop, signals, poller, sample store and
// sinks. run() blocks until SIGTERM/SIGINT and returns the process exit status.
int run_daemon(const config::Config& config, const RunOptions& options,
               const LoggerFactory& loggers, std::ostream& out);

// --once: polls every device one time, prints the decoded readings and returns 0 when every
// device answered (possibly with some points missing), 1 otherwise.
int run_once(const config::Config& config, const LoggerFactory& loggers, std::ostream& out,
             std::chrono::milliseconds timeout);

} // namespace greenrack::app
