#include "daemon/app/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace greenrack::app {

LoggerFactory::LoggerFactory(spdlog::level::level_enum level)
    : sink_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()), level_(level) {
    sink_->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
}

std::shared_ptr<spdlog::logger> LoggerFactory::make(const std::string& component) const {
    auto logger = std::make_shared<spdlog::logger>(component, sink_);
    logger->set_level(level_);
    return logger;
}

void LoggerFactory::set_level(spdlog::level::level_enum level) {
    level_ = level;
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
