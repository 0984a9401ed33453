// The Redis tier of the render buffer, through hiredis.
//
// Meant for a Redis instance of its own with maxmemory and allkeys-lru:
// values are disposable and expire after a time to live. Every command has a
// short timeout. When Redis is down or slow, calls fail fast with
// unavailable for a back-off period, so that rendering goes on uncached, and
// the next call after it reconnects; one warning is logged per outage.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "buffer/shared_tier.h"
#include "redis/connection.h"

namespace smmhub::buffer {

struct RedisOptions {
  // "redis://HOST:PORT" or "redis://HOST:PORT/DB"; "unix:///PATH" for a socket.
  std::string url;
  std::chrono::milliseconds timeout{250};
  std::chrono::seconds ttl{7 * 24 * 3600};
  std::chrono::milliseconds lock_ttl{30'000};
  // Values larger than this are not stored.
  std::size_t max_value_bytes = 64 * 1024 * 1024;
  // Wait after a failure before the next connection attempt.
  std::chrono::milliseconds retry_after{2'000};
};

struct RedisTierStats {
  std::uint64_t errors = 0;     // commands that failed or timed out
  std::uint64_t outages = 0;    // times the tier went from up to down
  std::uint64_t skipped = 0;    // calls refused during a back-off period
  std::uint64_t oversized = 0;  // values not stored for their size
};

class RedisTier final : public SharedTier {
 public:
  // Checks OPTIONS.url; connects on first use. Errors: invalidArgument
  // naming what is wrong in the URL.
  static Result<std::unique_ptr<RedisTier>> create(RedisOptions options);

  ~RedisTier() override;
  RedisTier(const RedisTier&) = delete;
  RedisTier& operator=(const RedisTier&) = delete;
  RedisTier(RedisTier&&) = delete;
  RedisTier& operator=(RedisTier&&) = delete;

  Result<std::optional<std::string>> get(const std::string& key) override;
  Status put(const std::string& key, std::string_view value) override;
  Status remove(const std::string& key) override;
  Result<std::optional<std::string>> tryLock(const std::string& key) override;
  Status unlock(const std::string& key, const std::string& token) override;
  std::chrono::milliseconds lockTtl() const override { return options_.lock_ttl; }

  // Deletes every key that starts with PREFIX (SCAN and UNLINK in batches)
  // and returns how many went.
  Result<std::uint64_t> removePrefix(const std::string& prefix);

  // Counts the keys that start with PREFIX and their summed value bytes.
  Result<std::pair<std::uint64_t, std::uint64_t>> measurePrefix(const std::string& prefix);

  RedisTierStats stats() const;

 private:
  RedisTier(RedisOptions options, redis::Endpoint endpoint);

  // Runs one command; on failure marks the tier down.
  Result<redis::ReplyPtr> command(std::initializer_list<std::string_view> args);
  // Calls VISIT with each key that starts with PREFIX.
  Status scanPrefix(const std::string& prefix,
                    const std::function<Status(std::string_view key)>& visit);
  Status connectLocked();
  void failLocked(const Status& error);

  RedisOptions options_;
  mutable std::mutex mutex_;
  redis::Connection connection_;
  std::chrono::steady_clock::time_point down_until_{};
  bool down_ = false;
  RedisTierStats stats_;
};

}  // namespace smmhub::buffer
