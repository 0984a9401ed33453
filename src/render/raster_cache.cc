#include "render/raster_cache.h"

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

Result<RasterPtr> RasterMemo::getOrMake(const std::string& key,
                                        const std::function<Result<RasterPtr>()>& make,
                                        bool admit_on_repeat) {
  if (cache_ == nullptr) {
    return make();
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

  Result<RasterPtr> made = make();
  if (made.ok() && admit(key, admit_on_repeat)) {
    cache_->insert(key, *made);
  }
  promise.set_value(made);
  std::lock_guard lock(mutex_);
  in_flight_.erase(key);
  return made;
}

}  // namespace smmhub::render
