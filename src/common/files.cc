#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

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

namespace {

Status osError(std::string_view what, const fs::path& path) {
  return Status::unavailable(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

// Flushes the folder DIR, so that a rename in it survives a crash.
Status syncFolder(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return osError("cannot open folder", dir);
  }
  int synced = ::fsync(fd);
  ::close(fd);
  return synced == 0 ? okStatus() : osError("cannot flush folder", dir);
}

}  // namespace

Status writeFileAtomically(const fs::path& path, std::string_view bytes) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) {
    return Status::unavailable("cannot create folder " + path.parent_path().string() + ": " +
                               error.message());
  }
  thread_local std::mt19937_64 random{std::random_device{}()};
  fs::path temporary = path;
  temporary += fmt::format(".{:016x}.partial", random());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return osError("cannot create", temporary);
  }
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t count = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count <= 0) {
      Status failed = osError("cannot write", temporary);
      ::close(fd);
      ::unlink(temporary.c_str());
      return failed;
    }
    written += static_cast<size_t>(count);
  }
  if (::fsync(fd) != 0) {
    Status failed = osError("cannot flush", temporary);
    ::close(fd);
    ::unlink(temporary.c_str());
    return failed;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    Status failed = osError("cannot rename into", path);
    ::unlink(temporary.c_str());
    return failed;
  }
  return syncFolder(path.parent_path());
}

}  // namespace smmhub
