// Content hashing for cache keys: XXH3 128-bit over a stream of typed fields.
//
// Each add() also hashes the field's length, so that ("ab","c") and ("a","bc")
// give different digests.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace smmhub {

class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Hasher& add(std::string_view bytes);
  Hasher& add(std::int64_t value);
  Hasher& add(double value);

  // Returns the digest as 32 lowercase hex digits.
  std::string hexDigest() const;

 private:
  XXH3_state_t* state_;
};

// Returns the hex digest of one byte string.
std::string hashBytes(std::string_view bytes);

}  // namespace smmhub
