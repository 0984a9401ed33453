#include "content/internal.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "common/ids.h"
#include "common/tenant.h"

namespace smmhub::content::internal {
namespace {

namespace fs = std::filesystem;

Status osError(const std::string& action, const fs::path& path, int error) {
  return Status::unavailable(action + " " + path.string() + " failed: " + std::strerror(error));
}

// Writes all of BYTES to FD, continuing after short writes.
bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string hex;
  hex.reserve(2 * sizeof(digest));
  for (unsigned char byte : digest) {
    hex += fmt::format("{:02x}", byte);
  }
  return hex;
}

Status writeFileAtomically(const fs::path& path, std::string_view bytes) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) {
    return Status::unavailable("creating folder " + path.parent_path().string() +
                               " failed: " + error.message());
  }

  fs::path temporary = path;
  temporary += ".tmp-" + randomId("");
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return osError("creating", temporary, errno);
  }
  bool written = writeAll(fd, bytes) && ::fsync(fd) == 0;
  int write_error = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    return osError("writing", temporary, write_error);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int rename_error = errno;
    ::unlink(temporary.c_str());
    return osError("renaming to", path, rename_error);
  }

  // The folder's fsync makes the rename itself survive a crash.
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return okStatus();
}

Result<std::string> readFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::notFound("file " + path.string() + " not found");
  }
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) {
    return Status::unavailable("reading " + path.string() + " failed");
  }
  return bytes;
}

Status checkTenant(std::string_view tenant) {
  return checkTenantName(tenant);
}

Status checkDisplayName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 100) {
    return Status::invalidArgument(std::string(what) + " has " + std::to_string(name.size()) +
                                   " bytes; give 1 to 100");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return Status::invalidArgument(std::string(what) + " contains the control character " +
                                     std::to_string(c) + " at byte " + std::to_string(i));
    }
  }
  return okStatus();
}

}  // namespace smmhub::content::internal
