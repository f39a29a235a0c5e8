#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace greenrack::sim {

// Whole file as text; throws std::runtime_error naming the file when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// Writes `path.tmp` then renames it over `path`, so readers see the old or the new content,
// never a partial file. Throws std::runtime_error on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

} // namespace greenrack::sim
