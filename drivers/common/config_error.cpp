#include "drivers/common/config_error.hpp"

namespace greenrack::common {

std::string format_location(const SourceLocation& where, const std::string& message) {
    std::string out = where.file.empty() ? std::string("<config>") : where.file;
    if (where.line > 0) {
        out += ':' + std::to_string(where.line);
        if (where.column > 0) {
            out += ':' + std::to_string(where.column);
        }
    }
    out += ": ";
    out += message;
    return out;
}

ConfigError::ConfigError(SourceLocation where, const std::string& message)
    : std::runtime_error(format_location(where, message)), where_(std::move(where)),
      message_(message) {}

} // namespace greenrack::common
