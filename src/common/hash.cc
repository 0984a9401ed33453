#include "common/hash.h"

#include <cstring>

#include <fmt/format.h>

namespace smmhub {

Hasher::Hasher() : state_(XXH3_createState()) {
  XXH3_128bits_reset(state_);
}

Hasher::~Hasher() {
  XXH3_freeState(state_);
}

Hasher& Hasher::add(std::string_view bytes) {
  auto size = static_cast<std::uint64_t>(bytes.size());
  XXH3_128bits_update(state_, &size, sizeof(size));
  XXH3_128bits_update(state_, bytes.data(), bytes.size());
  return *this;
}

Hasher& Hasher::add(std::int64_t value) {
  XXH3_128bits_update(state_, &value, sizeof(value));
  return *this;
}

Hasher& Hasher::add(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  XXH3_128bits_update(state_, &bits, sizeof(bits));
  return *this;
}

std::string Hasher::hexDigest() const {
  XXH128_hash_t digest = XXH3_128bits_digest(state_);
  return fmt::format("{:016x}{:016x}", digest.high64, digest.low64);
}

std::string hashBytes(std::string_view bytes) {
  Hasher hasher;
  hasher.add(bytes);
  return hasher.hexDigest();
}

}  // namespace smmhub
