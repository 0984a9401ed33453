#include "buffer/render_buffer.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include <fmt/format.h>

#include "buffer/blob.h"
#include "common/log.h"

namespace smmhub::buffer {

std::uint64_t threadCpuMicros() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
         static_cast<std::uint64_t>(now.tv_nsec) / 1000;
}

RenderBuffer::RenderBuffer(BufferOptions options, SharedTier* shared)
    : options_(std::move(options)), shared_(shared) {}

std::string tenantKeyPrefix(std::string_view tenant) {
  return fmt::format("smmhub:rb:{{{}}}:", tenant);
}

std::string RenderBuffer::scopedKey(std::string_view kind, std::string_view content_hash) const {
  return fmt::format("{}{}:{}", tenantKeyPrefix(options_.tenant), kind, content_hash);
}

std::shared_ptr<const std::string> RenderBuffer::findMemory(const std::string& key) {
  auto found = index_.find(key);
  if (found == index_.end()) {
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, found->second);
  stats_.memory.hits++;
  stats_.memory.bytes += found->second->bytes->size();
  stats_.memory.saved_us += found->second->cost_us;
  return found->second->bytes;
}

void RenderBuffer::insertMemory(const std::string& key, std::shared_ptr<const std::string> bytes,
                                std::uint64_t cost_us) {
  if (bytes->size() > options_.memory_bytes || index_.contains(key)) {
    return;
  }
  memory_used_ += bytes->size();
  lru_.push_front(MemoryEntry{key, std::move(bytes), cost_us});
  index_[key] = lru_.begin();
  while (memory_used_ > options_.memory_bytes) {
    memory_used_ -= lru_.back().bytes->size();
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

std::optional<RenderBuffer::FoundValue> RenderBuffer::lookupShared(const std::string& key) {
  Result<std::optional<std::string>> stored = shared_->get(key);
  std::lock_guard lock(mutex_);
  if (!stored.ok()) {
    stats_.shared_errors++;
    return std::nullopt;
  }
  if (!stored->has_value()) {
    return std::nullopt;
  }
  Result<DecodedBlob> blob = decodeBlob(**stored, options_.engine_version);
  if (!blob.ok()) {
    bool stale = blob.status().code() == StatusCode::kFailedPrecondition;
    (stale ? stats_.stale : stats_.corrupt)++;
    if (!stale) {
      logger("buffer")->warn("dropping render buffer value key={} error=\"{}\"", key,
                             blob.status().message());
      (void)shared_->remove(key);
    }
    return std::nullopt;
  }
  stats_.shared.hits++;
  stats_.shared.bytes += blob->bytes.size();
  stats_.shared.saved_us += blob->info.cost_us;
  return FoundValue{std::move(blob->bytes), blob->info.cost_us};
}

std::optional<std::string> RenderBuffer::findShared(const std::string& key) {
  if (shared_ == nullptr) {
    return std::nullopt;
  }
  std::optional<FoundValue> found = lookupShared(key);
  if (!found) {
    std::lock_guard lock(mutex_);
    stats_.shared.misses++;
    return std::nullopt;
  }
  return std::move(found->bytes);
}

void RenderBuffer::putShared(const std::string& key, std::string_view value,
                             std::uint64_t cost_us) {
  if (shared_ == nullptr) {
    return;
  }
  std::string stored = encodeBlob(value, BlobInfo{options_.engine_version, cost_us});
  if (!shared_->put(key, stored).ok()) {
    std::lock_guard lock(mutex_);
    stats_.shared_errors++;
  }
}

Result<RenderBuffer::FoundValue> RenderBuffer::makeOnce(
    const std::string& key, const std::function<Result<std::string>()>& make) {
  auto makeHere = [&]() -> Result<FoundValue> {
    std::uint64_t start = threadCpuMicros();
    SMMHUB_ASSIGN_OR_RETURN(std::string bytes, make());
    std::uint64_t cost = threadCpuMicros() - start;
    {
      std::lock_guard lock(mutex_);
      stats_.rendered++;
    }
    putShared(key, bytes, cost);
    return FoundValue{std::move(bytes), cost};
  };
  if (shared_ == nullptr) {
    return makeHere();
  }

  auto deadline = std::chrono::steady_clock::now() + shared_->lockTtl();
  bool counted_wait = false;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<std::optional<std::string>> token = shared_->tryLock(key);
    if (!token.ok()) {
      std::lock_guard lock(mutex_);
      stats_.shared_errors++;
      break;  // the tier is down: render here, uncached
    }
    if (token->has_value()) {
      // Another process may have stored the value between the lookup and
      // the lock.
      std::optional<FoundValue> stored = lookupShared(key);
      Result<FoundValue> made = stored ? Result<FoundValue>(std::move(*stored)) : makeHere();
      (void)shared_->unlock(key, **token);
      return made;
    }
    if (!counted_wait) {
      counted_wait = true;
      std::lock_guard lock(mutex_);
      stats_.waited++;
    }
    std::this_thread::sleep_for(options_.wait_poll);
    if (std::optional<FoundValue> stored = lookupShared(key)) {
      return std::move(*stored);
    }
  }
  return makeHere();
}

Result<std::string> RenderBuffer::getOrMake(const std::string& key,
                                            const std::function<Result<std::string>()>& make,
                                            bool in_memory) {
  using Value = Result<std::shared_ptr<const std::string>>;
  std::promise<Value> promise;
  {
    std::unique_lock lock(mutex_);
    if (in_memory) {
      if (std::shared_ptr<const std::string> found = findMemory(key)) {
        return *found;
      }
    }
    if (auto waiting = in_flight_.find(key); waiting != in_flight_.end()) {
      std::shared_future<Value> future = waiting->second;
      lock.unlock();
      const Value& value = future.get();
      if (!value.ok()) {
        return value.status();
      }
      return **value;
    }
    in_flight_[key] = promise.get_future().share();
    if (in_memory) {
      stats_.memory.misses++;
    }
  }

  std::optional<FoundValue> made;
  Status error;
  if (shared_ != nullptr) {
    made = lookupShared(key);
    if (!made) {
      std::lock_guard lock(mutex_);
      stats_.shared.misses++;
    }
  }
  if (!made) {
    Result<FoundValue> fresh = makeOnce(key, make);
    if (fresh.ok()) {
      made = std::move(fresh).value();
    } else {
      error = fresh.status();
    }
  }

  std::shared_ptr<const std::string> bytes;
  if (made) {
    bytes = std::make_shared<const std::string>(std::move(made->bytes));
  }
  {
    std::lock_guard lock(mutex_);
    if (bytes && in_memory) {
      insertMemory(key, bytes, made->cost_us);
    }
    in_flight_.erase(key);
  }
  if (!bytes) {
    promise.set_value(error);
    return error;
  }
  promise.set_value(bytes);
  return *bytes;
}

BufferStats RenderBuffer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace smmhub::buffer
