#pragma once

#include <cstddef>
#include <string_view>

namespace greenrack::sinks {

// Length (1..4) of the valid UTF-8 sequence starting at text[i], or 0 when it is not valid
// (stray continuation byte, truncated sequence, overlong form, surrogate, beyond U+10FFFF).
// Shared by every encoder that must never emit invalid UTF-8.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

} // namespace greenrack::sinks
