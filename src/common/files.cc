#include "common/files.h"

namespace smmhub {

namespace fs = std::filesystem;

std::optional<std::string> regularFileProblem(const fs::path& path) {
  std::error_code error;
  fs::file_status status = fs::status(path, error);
  switch (status.type()) {
    case fs::file_type::regular:
      return std::nullopt;
    case fs::file_type::not_found:
      return "file not found: " + path.string();
    case fs::file_type::directory:
      return path.string() + " is a folder, not a file";
    case fs::file_type::none:
    case fs::file_type::unknown:
      return path.string() + " cannot be read: " + error.message();
    default:
      return path.string() + " is not a regular file (a device, pipe or socket)";
  }
}

}  // namespace smmhub
