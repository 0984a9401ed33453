#include "redis/pool.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace smmhub::redis {

Pool::Pool(Endpoint endpoint, PoolOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

Pool::~Pool() = default;

Pool::Lease::~Lease() {
  if (pool_ != nullptr && connection_ != nullptr) {
    pool_->giveBack(std::move(connection_));
  }
}

void Pool::giveBack(std::unique_ptr<Connection> connection) {
  if (!connection->isOpen()) {
    return;  // it failed; the next acquire() opens a new one
  }
  std::lock_guard lock(mutex_);
  if (idle_.size() < options_.max_idle) {
    idle_.push_back(std::move(connection));
  }
}

Result<Pool::Lease> Pool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    auto now = std::chrono::steady_clock::now();
    if (failures_ > 0 && now < retry_at_) {
      stats_.refused++;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now);
      return Status::unavailable(
          fmt::format("{}; next connect in {} ms", last_error_, wait.count()));
    }
  }
  auto connection = std::make_unique<Connection>(endpoint_, options_.timeout);
  Status opened = connection->open();
  std::lock_guard lock(mutex_);
  if (!opened.ok()) {
    stats_.failed_connects++;
    failures_++;
    last_error_ = opened.message();
    // 100 ms, 200 ms, 400 ms, ... up to the maximum, each from 50% to 100%
    // of that, so that many clients do not retry at the same moment.
    auto backoff = std::min<std::chrono::milliseconds>(
        options_.max_backoff,
        options_.min_backoff * (std::int64_t{1} << std::min(failures_ - 1, 20)));
    thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> jitter(backoff.count() / 2, backoff.count());
    retry_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(jitter(random));
    return opened;
  }
  stats_.connects++;
  failures_ = 0;
  return Lease(this, std::move(connection));
}

PoolStats Pool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace smmhub::redis
