#include "daemon/core/alerts/summary_template.hpp"

#include <cmath>
#include <cstdio>

namespace greenrack::alerts {

std::string format_number(double value, int decimals, bool percent) {
    if (!std::isfinite(value)) {
        return "n/a";
    }
    if (percent) {
        value *= 100.0;
    }
    char buffer[64];
    if (decimals >= 0) {
        std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    } else {
        std::snprintf(buffer, sizeof buffer, "%.3f", value);
        // Trim trailing zeros (and a trailing point) of the default format.
        std::string text(buffer);
        while (!text.empty() && text.back() == '0') {
            text.pop_back();
        }
        if (!text.empty() && text.back() == '.') {
            text.pop_back();
        }
        if (text == "-0") {
            text = "0";
        }
        return percent ? text + "%" : text;
    }
    std::string text(buffer);
    if (text.size() >= 2 && text[0] == '-' && text.find_first_not_of("-0.") == std::string::npos) {
        text.erase(0, 1); // "-0.0" -> "0.0"
    }
    return percent ? text + "%" : text;
}

std::variant<SummaryTemplate, SummaryTemplate::Error>
SummaryTemplate::parse(std::string_view text, const std::function<bool(std::string_view)>& known) {
    SummaryTemplate result;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) {
            result.pieces_.push_back(Piece{std::move(literal), {}, -1, false});
            literal.clear();
        }
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '}') {
            if (i + 1 < text.size() && text[i + 1] == '}') {
                literal += '}';
                ++i;
                continue;
            }
            return Error{i, "unmatched '}' (write '}}' for a literal brace)"};
        }
        if (c != '{') {
            literal += c;
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '{') {
            literal += '{';
            ++i;
            continue;
        }
        const std::size_t close = text.find('}', i);
        if (close == std::string_view::npos) {
            return Error{i, "placeholder is not closed with '}'"};
        }
        std::string_view inner = text.substr(i + 1, close - i - 1);
        Piece piece;
        std::string_view spec;
        if (auto colon = inner.find(':'); colon != std::string_view::npos) {
            spec = inner.substr(colon + 1);
            inner = inner.substr(0, colon);
        }
        if (inner.empty()) {
            return Error{i, "empty placeholder"};
        }
        for (char n : inner) {
            if (!((n >= 'a' && n <= 'z') || (n >= '0' && n <= '9') || n == '_')) {
                return Error{i, "placeholder name '" + std::string(inner) +
                                    "' may only contain a-z, 0-9 and _"};
            }
        }
        if (!known(inner)) {
            return Error{i, "unknown placeholder '" + std::string(inner) +
                                "' (not an output of this rule's scope)"};
        }
        piece.name = std::string(inner);
        if (!spec.empty()) {
            // .Nf or .N%
            if (spec.size() != 3 || spec[0] != '.' || spec[1] < '0' || spec[1] > '9' ||
                (spec[2] != 'f' && spec[2] != '%')) {
                return Error{i, "format '" + std::string(spec) +
                                    "' is not supported (use .Nf or .N% with N = 0..9)"};
            }
            piece.decimals = spec[1] - '0';
            piece.percent = spec[2] == '%';
        }
        flush();
        result.pieces_.push_back(std::move(piece));
        i = close;
    }
    flush();
    return result;
}

std::string SummaryTemplate::render(const Lookup& lookup) const {
    std::string out;
    for (const auto& piece : pieces_) {
        if (piece.name.empty()) {
            out += piece.literal;
            continue;
        }
        auto value = lookup(piece.name);
        if (const auto* number = std::get_if<double>(&value)) {
            out += format_number(*number, piece.decimals, piece.percent);
        } else if (const auto* text = std::get_if<std::string>(&value)) {
            out += *text;
        } else {
            out += "n/a";
        }
    }
    return out;
}

} // namespace greenrack::alerts
