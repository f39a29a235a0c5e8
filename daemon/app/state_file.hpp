#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace greenrack::app {

// Writes `content` so that a crash at any moment leaves either the old or the new file, never a
// torn one: write "<path>.tmp", fsync it, rename over <path>, fsync the directory.
std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view content);

// The whole file, or nullopt with `ec` set (ENOENT when it does not exist).
std::optional<std::string> read_whole_file(const std::filesystem::path& path, std::error_code& ec);

} // namespace greenrack::app
