#include "render/raster_cache.h"

#include <cstring>
#include <optional>

#include "common/bytes.h"

namespace smmhub::render {

RasterPtr MemoryRasterCache::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    stats_.misses++;
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  stats_.hits++;
  return it->second->second;
}

void MemoryRasterCache::insert(const std::string& key, RasterPtr raster) {
  std::lock_guard lock(mutex_);
  if (raster->byteSize() > capacity_bytes_) {
    return;
  }
  if (auto it = index_.find(key); it != index_.end()) {
    stats_.bytes -= it->second->second->byteSize();
    lru_.erase(it->second);
    index_.erase(it);
  }
  stats_.bytes += raster->byteSize();
  lru_.emplace_front(key, std::move(raster));
  index_[key] = lru_.begin();
  evictLocked();
  stats_.entries = index_.size();
}

CacheStats MemoryRasterCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void MemoryRasterCache::evictLocked() {
  while (stats_.bytes > capacity_bytes_ && !lru_.empty()) {
    const Entry& oldest = lru_.back();
    stats_.bytes -= oldest.second->byteSize();
    index_.erase(oldest.first);
    lru_.pop_back();
    stats_.evictions++;
  }
}

bool RasterMemo::admit(const std::string& key, bool admit_on_repeat) {
  if (!admit_on_repeat) {
    return true;
  }
  std::lock_guard lock(mutex_);
  if (seen_.contains(key)) {
    return true;
  }
  if (seen_.size() >= kMaxSeenKeys) {
    seen_.clear();
  }
  seen_.insert(key);
  return false;
}

std::string serializeRaster(const Raster& raster) {
  std::string bytes = "RST1";
  appendLittle(bytes, static_cast<std::uint32_t>(raster.width), 4);
  appendLittle(bytes, static_cast<std::uint32_t>(raster.height), 4);
  bytes.append(reinterpret_cast<const char*>(raster.pixels.data()), raster.pixels.size());
  return bytes;
}

Result<RasterPtr> parseRaster(std::string_view bytes) {
  constexpr size_t kHeader = 12;
  if (bytes.size() < kHeader || bytes.substr(0, 4) != "RST1") {
    return Status::dataLoss("stored raster has no RST1 header");
  }
  std::uint64_t width = readLittle(bytes, 4, 4);
  std::uint64_t height = readLittle(bytes, 8, 4);
  if (width == 0 || height == 0 || width > 16384 || height > 16384 ||
      bytes.size() - kHeader != static_cast<size_t>(width) * height * 4) {
    return Status::dataLoss("stored raster of " + std::to_string(width) + "x" +
                            std::to_string(height) + " has " +
                            std::to_string(bytes.size() - kHeader) + " pixel bytes");
  }
  auto raster = std::make_shared<Raster>(static_cast<int>(width), static_cast<int>(height));
  std::memcpy(raster->pixels.data(), bytes.data() + kHeader, raster->pixels.size());
  return RasterPtr(raster);
}

Result<RasterPtr> RasterMemo::makeShared(const std::string& key,
                                         const std::function<Result<RasterPtr>()>& make) {
  RasterPtr made;
  Result<std::string> bytes = buffer_->getOrMake(
      buffer_->scopedKey("raster", key),
      [&]() -> Result<std::string> {
        SMMHUB_ASSIGN_OR_RETURN(made, make());
        return serializeRaster(*made);
      },
      /*in_memory=*/false);
  if (!bytes.ok()) {
    return bytes.status();
  }
  if (made) {
    return made;  // made here: no need to parse the bytes back
  }
  return parseRaster(*bytes);
}

Result<RasterPtr> RasterMemo::getOrMake(const std::string& key,
                                        const std::function<Result<RasterPtr>()>& make,
                                        bool admit_on_repeat) {
  if (cache_ == nullptr) {
    return shared() ? makeShared(key, make) : make();
  }
  if (RasterPtr cached = cache_->find(key)) {
    return cached;
  }

  // Join a render of the same key already running on another thread.
  std::promise<Result<RasterPtr>> promise;
  std::shared_future<Result<RasterPtr>> pending;
  {
    std::lock_guard lock(mutex_);
    if (auto it = in_flight_.find(key); it != in_flight_.end()) {
      pending = it->second;
    } else {
      in_flight_.emplace(key, promise.get_future().share());
    }
  }
  if (pending.valid()) {
    return pending.get();
  }

  // A raster that may not enter the memory tier does not enter the shared
  // one either: it is probably one video's alone.
  bool admitted = admit(key, admit_on_repeat);
  std::optional<Result<RasterPtr>> made;
  if (shared() && admitted) {
    made = makeShared(key, make);
  } else if (shared()) {
    std::optional<std::string> stored = buffer_->findShared(buffer_->scopedKey("raster", key));
    Result<RasterPtr> parsed = stored ? parseRaster(*stored) : Status::notFound("");
    if (parsed.ok()) {
      made = std::move(parsed);
      admitted = true;  // another video stored it, so it is shared
    }
  }
  if (!made) {
    made = make();
  }
  if (made->ok() && admitted) {
    cache_->insert(key, **made);
  }
  promise.set_value(*made);
  std::lock_guard lock(mutex_);
  in_flight_.erase(key);
  return *made;
}

}  // namespace smmhub::render
