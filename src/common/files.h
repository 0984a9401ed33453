// Checks on the files that users name, and durable writes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub {

// Returns why PATH cannot be read as a regular file ("file not found: P",
// "P is a folder, not a file", ...), or nothing when it is one.
std::optional<std::string> regularFileProblem(const std::filesystem::path& path);

// Writes BYTES to PATH so that readers see the old file or the whole new
// one, also after a crash: a temporary file in PATH's folder (created with
// its parents) is written, flushed to disk and renamed over PATH, and the
// folder is flushed. Errors: unavailable naming the path and the OS error.
Status writeFileAtomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace smmhub
