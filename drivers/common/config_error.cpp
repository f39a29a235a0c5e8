#include "drivers/common/config_error.hpp"

namespace greenrack::common {

namespace {

// Control characters from the configuration (a "\u0000" or "\n" escape in a TOML string or
// quoted key that a message repeats) are written as TOML escapes: a message stays on one line,
// cannot move the terminal's cursor, and what() (a C string) is not cut short at a NUL.
std::string without_control_characters(const std::string& text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20 || byte == 0x7F) {
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0x0F];
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace

std::string format_location(const SourceLocation& where, const std::string& message) {
    std::string out = where.file.empty() ? std::string("<config>") : where.file;
    if (where.line > 0) {
        out += ':' + std::to_string(where.line);
        if (where.column > 0) {
            out += ':' + std::to_string(where.column);
        }
    }
    out += ": ";
    out += without_control_characters(message);
    return out;
}

ConfigError::ConfigError(SourceLocation where, const std::string& message)
    : std::runtime_error(format_location(where, message)), where_(std::move(where)),
      message_(without_control_characters(message)) {}

} // namespace greenrack::common
