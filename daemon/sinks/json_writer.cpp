#include "daemon/sinks/json_writer.hpp"

#include "daemon/sinks/utf8.hpp"

#include <charconv>
#include <cmath>

namespace greenrack::sinks {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        // Printable ASCII that needs no escape goes out as one run.
        std::size_t run = i;
        while (run < text.size()) {
            const auto r = static_cast<unsigned char>(text[run]);
            if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') {
                break;
            }
            ++run;
        }
        if (run > i) {
            out.append(text.data() + i, run - i);
            i = run;
            continue;
        }
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            std::size_t length = utf8_sequence_length(text, i);
            if (length == 0) {
                out += "\xEF\xBF\xBD"; // U+FFFD replacement character
                ++i;
            } else {
                out.append(text.substr(i, length));
                i += length;
            }
            continue;
        }
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0x0F];
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
    out += '"';
}

void JsonWriter::separator() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!has_items_.empty()) {
        if (has_items_.back()) {
            out_ += ',';
        }
        has_items_.back() = true;
    }
}

void JsonWriter::begin_object() {
    separator();
    out_ += '{';
    has_items_.push_back(false);
}

void JsonWriter::end_object() {
    out_ += '}';
    has_items_.pop_back();
}

void JsonWriter::begin_array() {
    separator();
    out_ += '[';
    has_items_.push_back(false);
}

void JsonWriter::end_array() {
    out_ += ']';
    has_items_.pop_back();
}

void JsonWriter::key(std::string_view name) {
    separator();
    append_json_string(out_, name);
    out_ += ':';
    after_key_ = true;
}

void JsonWriter::value(double number) {
    if (!std::isfinite(number)) {
        null();
        return;
    }
    separator();
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
    out_.append(buffer, ec == std::errc() ? end : buffer);
}

void JsonWriter::value_float32(float number) {
    if (!std::isfinite(number)) {
        null();
        return;
    }
    separator();
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
    out_.append(buffer, ec == std::errc() ? end : buffer);
}

void JsonWriter::value(std::int64_t number) {
    separator();
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
    out_.append(buffer, ec == std::errc() ? end : buffer);
}

void JsonWriter::value(std::uint64_t number) {
    separator();
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
    out_.append(buffer, ec == std::errc() ? end : buffer);
}

void JsonWriter::value(bool flag) {
    separator();
    out_ += flag ? "true" : "false";
}

void JsonWriter::value(std::string_view text) {
    separator();
    append_json_string(out_, text);
}

void JsonWriter::null() {
    separator();
    out_ += "null";
}

void JsonWriter::clear() {
    out_.clear();
    has_items_.clear();
    after_key_ = false;
}

} // namespace greenrack::sinks
