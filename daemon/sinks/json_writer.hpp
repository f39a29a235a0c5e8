#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::sinks {

// A small streaming JSON writer used by every encoder. Pure, no allocation beyond its buffer.
// Numbers use the shortest text that reads back to the same value; non-finite numbers become
// null (JSON has no NaN). Strings are escaped and any invalid UTF-8 byte becomes U+FFFD, so a
// device's garbage string never produces invalid JSON.
class JsonWriter {
public:
    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    void key(std::string_view name);

    void value(double number);
    void value_float32(float number); // shortest text at float precision (f32 registers)
    void value(std::int64_t number);
    void value(std::uint64_t number);
    void value(int number) { value(static_cast<std::int64_t>(number)); }
    void value(bool flag);
    void value(std::string_view text);
    void value(const char* text) { value(std::string_view(text)); }
    void null();

    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }
    void clear();

private:
    void separator();

    std::string out_;
    std::vector<bool> has_items_; // one entry per open object/array
    bool after_key_ = false;
};

// Appends `text` to out as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view text);

} // namespace greenrack::sinks
