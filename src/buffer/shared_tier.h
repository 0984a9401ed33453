// The shared tier of the render buffer: a key-value store that every worker
// reaches, with short render locks so that concurrent workers asking for the
// same missing key render it once.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::buffer {

class SharedTier {
 public:
  virtual ~SharedTier() = default;

  // Returns the value stored under KEY, or nothing on a miss. Errors:
  // unavailable when the tier cannot be reached now.
  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;

  // Stores VALUE under KEY with the tier's time to live.
  virtual Status put(const std::string& key, std::string_view value) = 0;

  // Removes KEY, such as a value that failed its checksum.
  virtual Status remove(const std::string& key) = 0;

  // Takes the render lock of KEY when no holder has it and returns the token
  // that releases it; returns nothing when another holder has it. A lock
  // expires by itself after lockTtl(), so that a worker that dies holding
  // it blocks others for that long at most.
  virtual Result<std::optional<std::string>> tryLock(const std::string& key) = 0;

  // Releases the lock of KEY when TOKEN still holds it.
  virtual Status unlock(const std::string& key, const std::string& token) = 0;

  virtual std::chrono::milliseconds lockTtl() const = 0;
};

}  // namespace smmhub::buffer
