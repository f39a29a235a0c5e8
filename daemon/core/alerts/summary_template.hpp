#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace greenrack::alerts {

// A summary template: text with placeholders filled with live values.
//   {name}        a number with up to 3 significant decimals, or a text value
//   {name:.Nf}    a number with N decimals (N = 0..9)
//   {name:.N%}    a ratio as a percentage with N decimals (0.873 -> 87.3%)
//   {{ and }}     literal braces
// A number that is missing renders as "n/a".
class SummaryTemplate {
public:
    struct Error {
        std::size_t offset = 0; // byte offset into the template text
        std::string message;
    };

    // Parses `text`; every placeholder name must satisfy `known` (the outputs of the rule's
    // scope and the fixed names). Returns the first error instead of a template.
    static std::variant<SummaryTemplate, Error>
    parse(std::string_view text, const std::function<bool(std::string_view)>& known);

    using Lookup = std::function<std::variant<std::monostate, double, std::string>(
        std::string_view name)>; // monostate: missing
    std::string render(const Lookup& lookup) const;

private:
    struct Piece {
        std::string literal; // when name is empty
        std::string name;
        int decimals = -1; // -1: default formatting
        bool percent = false;
    };
    std::vector<Piece> pieces_;
};

// Formats a number as {name} does (shared with the JSON and log outputs).
std::string format_number(double value, int decimals = -1, bool percent = false);

} // namespace greenrack::alerts
