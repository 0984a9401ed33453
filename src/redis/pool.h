// A pool of Redis connections to one server, with back-off after failed
// connects.
//
//   redis::Pool pool(endpoint, {});
//   SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool.acquire());
//   SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply, connection->command({"PING"}));
//
// A lease returns its connection to the pool when it goes, unless the
// connection failed and closed. After a connect fails, acquire() fails at
// once for a back-off period that doubles with each further failure (with
// jitter, up to max_backoff), so that callers fail fast while Redis is down
// instead of each waiting for a connect timeout. The first connect that
// succeeds ends the back-off. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "redis/connection.h"

namespace smmhub::redis {

struct PoolOptions {
  // Connect and command timeout of each connection.
  std::chrono::milliseconds timeout{1'000};
  // Idle connections kept open; more are closed when returned.
  std::size_t max_idle = 64;
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5'000};
};

struct PoolStats {
  std::uint64_t connects = 0;         // connections opened
  std::uint64_t failed_connects = 0;  // connects that failed
  std::uint64_t refused = 0;          // acquire() calls failed during a back-off
};

class Pool {
 public:
  Pool(Endpoint endpoint, PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  Pool(Pool&&) = delete;
  Pool& operator=(Pool&&) = delete;

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  // Returns an open connection: an idle one, or a new one. Errors:
  // unavailable, with the URL and the connect error, when the connect fails
  // or a back-off from an earlier failure is running.
  Result<Lease> acquire();

  const Endpoint& endpoint() const { return endpoint_; }
  PoolStats stats() const;

 private:
  void giveBack(std::unique_ptr<Connection> connection);

  Endpoint endpoint_;
  PoolOptions options_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int failures_ = 0;  // connects failed in a row
  std::chrono::steady_clock::time_point retry_at_{};
  std::string last_error_;
  PoolStats stats_;
};

}  // namespace smmhub::redis
