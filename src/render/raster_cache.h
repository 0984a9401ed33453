// The in-process tier of the render buffer: rasterized layers and flattened
// plates, keyed by a content hash, bounded in bytes, least recently used out.
//
// Every video of a batch asks the cache before it rasterizes a layer, so a
// logo, a background or a repeated caption is rendered once per batch. Two
// threads that ask for the same missing key at once render it once: the
// second waits for the first. RasterCache is the seam where a shared tier
// (Redis) joins: a tier implements find() and insert().
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "buffer/render_buffer.h"
#include "common/status.h"
#include "render/raster.h"

namespace smmhub::render {

struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
};

class RasterCache {
 public:
  virtual ~RasterCache() = default;

  // Returns the raster stored under KEY, or nullptr.
  virtual RasterPtr find(const std::string& key) = 0;
  virtual void insert(const std::string& key, RasterPtr raster) = 0;
  virtual CacheStats stats() const = 0;
};

// An LRU map bounded by the summed byte size of its rasters.
class MemoryRasterCache final : public RasterCache {
 public:
  explicit MemoryRasterCache(std::uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  RasterPtr find(const std::string& key) override;
  void insert(const std::string& key, RasterPtr raster) override;
  CacheStats stats() const override;

 private:
  using Entry = std::pair<std::string, RasterPtr>;

  void evictLocked();

  std::uint64_t capacity_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  CacheStats stats_;
};

// Returns RASTER as bytes for the shared tier: "RST1", width and height as
// 32-bit little-endian numbers, then the pixels.
std::string serializeRaster(const Raster& raster);

// Parses what serializeRaster() wrote. Errors: dataLoss for bytes of another
// form or a length that does not match the size.
Result<RasterPtr> parseRaster(std::string_view bytes);

// Looks KEY up in CACHE (which may be null: no reuse), then in the shared
// tier of BUFFER (which may be null too), and runs MAKE on a miss, once
// across threads and, through the buffer's render lock, across processes.
// Concurrent callers with the same key wait for the first one's result.
// Errors are not cached.
class RasterMemo {
 public:
  explicit RasterMemo(RasterCache* cache, buffer::RenderBuffer* buffer = nullptr)
      : cache_(cache), buffer_(buffer) {}

  // With ADMIT_ON_REPEAT, a key's raster enters the cache only when the key
  // is asked for a second time. Large rasters that one video alone uses (the
  // plate of a card with that row's names) then never take the room of ones
  // that every video shares (an intro plate).
  Result<RasterPtr> getOrMake(const std::string& key,
                              const std::function<Result<RasterPtr>()>& make,
                              bool admit_on_repeat = false);

 private:
  // Upper bound of remembered first requests; the set restarts when full.
  static constexpr size_t kMaxSeenKeys = 100'000;

  // Returns whether a raster made for KEY goes into the cache.
  bool admit(const std::string& key, bool admit_on_repeat);
  // Returns whether rasters go through a shared tier; without one, the
  // memory tier alone keeps them, with no copy into stored form.
  bool shared() const { return buffer_ != nullptr && buffer_->hasSharedTier(); }
  // Makes the raster of KEY or takes it from the shared tier.
  Result<RasterPtr> makeShared(const std::string& key,
                               const std::function<Result<RasterPtr>()>& make);

  RasterCache* cache_;
  buffer::RenderBuffer* buffer_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_future<Result<RasterPtr>>> in_flight_;
  std::unordered_set<std::string> seen_;
};

}  // namespace smmhub::render
