#include "content/internal.h"

#include <sodium.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "common/tenant.h"

namespace smmhub::content::internal {
namespace fs = std::filesystem;

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
