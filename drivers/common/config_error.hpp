#pragma once

#include <stdexcept>
#include <string>

namespace greenrack::common {

// Where something was found in a configuration, profile or scenario file.
// line and column are 1-based; 0 means "unknown" (e.g. a missing key reported at its table).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

// A configuration problem found at start-up. what() is "file:line:column: message", the form
// editors and CI logs turn into a link; control characters in the message (repeated from the
// file) are written as escapes ("\n", "\u0000"), so it is one line. Exceptions are only used at
// start-up (house rule).
class ConfigError : public std::runtime_error {
public:
    ConfigError(SourceLocation where, const std::string& message);

    const SourceLocation& where() const { return where_; }
    const std::string& message() const { return message_; }

private:
    SourceLocation where_;
    std::string message_;
};

// "file:line:column: message" (line/column omitted when unknown; control characters escaped).
std::string format_location(const SourceLocation& where, const std::string& message);

} // namespace greenrack::common
