// The render buffer: values that rendering made once (encoded segments,
// encoded audio, rasters in their stored form), kept by content key in
// process memory and, when configured, in a shared tier that every worker
// reaches (Redis).
//
//   RenderBuffer buffer({.tenant = "acme", .engine_version = kEngineVersion}, redis.get());
//   std::string key = buffer.scopedKey("segment", content_hash);
//   Result<std::string> bytes = buffer.getOrMake(key, [&] { return encodeScene(); });
//
// A value is made once: threads of one process wait for the first one's
// result, and processes sharing the tier wait while one of them holds the
// key's render lock. Faults never fail a render: an unreachable tier means
// uncached rendering, a value that fails its checksum is dropped and made
// again, and a value from another engine version is never used.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "buffer/shared_tier.h"
#include "common/status.h"

namespace smmhub::buffer {

struct BufferOptions {
  // Scopes every key, so that no tenant can learn from a hit what another
  // tenant rendered.
  std::string tenant = "local";
  std::string engine_version;
  // Bytes of values kept in process memory, least recently used out.
  std::uint64_t memory_bytes = std::uint64_t{256} << 20;
  // How often a process waiting for another's render looks for the value.
  std::chrono::milliseconds wait_poll{20};
};

struct TierCounters {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t bytes = 0;     // bytes of the values that hit
  std::uint64_t saved_us = 0;  // CPU time the hits did not spend making them
};

struct BufferStats {
  TierCounters memory;
  TierCounters shared;
  std::uint64_t rendered = 0;       // values this process made itself
  std::uint64_t waited = 0;         // times this process waited for another's render
  std::uint64_t corrupt = 0;        // shared values that failed their checks
  std::uint64_t stale = 0;          // shared values from another engine version
  std::uint64_t shared_errors = 0;  // calls to the shared tier that failed
};

class RenderBuffer {
 public:
  // SHARED may be null: process memory only. It must outlive the buffer.
  RenderBuffer(BufferOptions options, SharedTier* shared);

  // Returns "smmhub:rb:{TENANT}:KIND:HASH". The braces make the tenant a
  // Redis Cluster hash tag.
  std::string scopedKey(std::string_view kind, std::string_view content_hash) const;

  // Returns the value under KEY from the first tier that has it, or makes it
  // with MAKE once and stores it in every tier. With IN_MEMORY false the
  // value skips the memory tier (the caller keeps its own decoded copy).
  // Errors: MAKE's error, which is not stored.
  Result<std::string> getOrMake(const std::string& key,
                                const std::function<Result<std::string>()>& make,
                                bool in_memory = true);

  // Stores VALUE under KEY in the shared tier only, as a value that cost
  // COST_US to make.
  void putShared(const std::string& key, std::string_view value, std::uint64_t cost_us);

  // Returns the value under KEY in the shared tier, or nothing.
  std::optional<std::string> findShared(const std::string& key);

  bool hasSharedTier() const { return shared_ != nullptr; }
  BufferStats stats() const;

 private:
  struct FoundValue {
    std::string bytes;
    std::uint64_t cost_us = 0;
  };
  struct MemoryEntry {
    std::string key;
    std::shared_ptr<const std::string> bytes;
    std::uint64_t cost_us = 0;
  };

  std::shared_ptr<const std::string> findMemory(const std::string& key);
  void insertMemory(const std::string& key, std::shared_ptr<const std::string> bytes,
                    std::uint64_t cost_us);
  // Looks KEY up in the shared tier, dropping a value that fails its checks.
  std::optional<FoundValue> lookupShared(const std::string& key);
  // Makes the value, holding the shared render lock of KEY when there is a
  // shared tier, or waits for the process that holds it.
  Result<FoundValue> makeOnce(const std::string& key,
                              const std::function<Result<std::string>()>& make);

  BufferOptions options_;
  SharedTier* shared_;

  mutable std::mutex mutex_;
  std::list<MemoryEntry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<MemoryEntry>::iterator> index_;
  std::uint64_t memory_used_ = 0;
  std::unordered_map<std::string, std::shared_future<Result<std::shared_ptr<const std::string>>>>
      in_flight_;
  BufferStats stats_;
};

// Returns "smmhub:rb:{TENANT}:", the start of every key of TENANT.
std::string tenantKeyPrefix(std::string_view tenant);

// Returns the CPU time the calling thread has used, in microseconds.
std::uint64_t threadCpuMicros();

}  // namespace smmhub::buffer
