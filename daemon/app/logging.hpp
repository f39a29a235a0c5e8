#pragma once

#include <memory>
#include <spdlog/common.h>
#include <spdlog/logger.h>
#include <string>

namespace greenrack::app {

// Creates the loggers of the daemon's components. Loggers are not registered in spdlog's global
// registry: each component gets its own logger passed in.
class LoggerFactory {
public:
    explicit LoggerFactory(spdlog::level::level_enum level);

    std::shared_ptr<spdlog::logger> make(const std::string& component) const;
    void set_level(spdlog::level::level_enum level);

private:
    spdlog::sink_ptr sink_;
    spdlog::level::level_enum level_;
};

// "info" -> spdlog::level::info; unknown text -> nullopt-like `off` is avoided: returns false.
bool parse_log_level(const std::string& text, spdlog::level::level_enum& out);

} // namespace greenrack::app
