// Checks on the files that users name.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace smmhub {

// Returns why PATH cannot be read as a regular file ("file not found: P",
// "P is a folder, not a file", ...), or nothing when it is one.
std::optional<std::string> regularFileProblem(const std::filesystem::path& path);

}  // namespace smmhub
