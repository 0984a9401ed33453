// Dispatcher: the thread in smmhub-api that turns job events into webhook
// deliveries and sends them, with retries.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto dispatcher,
//                           Dispatcher::create(db, {.redis_url = url, .id = "api-1"}));
//   dispatcher->start();
//   ...
//   dispatcher->stop();
//
// Only one dispatcher works at a time across API processes: each pass
// first takes or renews the Redis key lock_key (SET NX PX lock_ttl, renewed
// while its value is the dispatcher's id), and a dispatcher without it
// waits.
//
// A pass has two steps:
//   1. Scan: in one transaction, read the job_events rows after the cursor
//      (the one-row table webhook_cursor), insert one webhook_deliveries row
//      per matching webhook for each change to completed ("video.completed",
//      event id "evt_" + the job_events id) or failed ("video.failed"), and
//      one "batch.completed" (event id "evt_batch_" + the batch id) for a
//      batch whose jobs have all ended; then move the cursor. UNIQUE
//      (webhook_id, event_id) makes a repeated scan insert nothing. A webhook
//      receives only events at or after its creation time.
//   2. Send: POST each pending delivery that is due (delivery.h). A 2xx
//      reply is delivered; anything else is retried after the backoff of
//      its attempt, with jitter of +-20%, up to max_attempts, then failed.
//
// Delivery is at least once: a process that dies between the POST and the
// row update sends the event again, so receivers de-duplicate by event id.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "fetch/address.h"
#include "redis/connection.h"
#include "store/database.h"

namespace smmhub::webhooks {

struct DispatcherOptions {
  // Redis of the lock. Required.
  std::string redis_url;
  // The lock's value: unique per process. Required.
  std::string id;
  std::string lock_key = "smmhub:webhooks:dispatcher";
  // How long the lock outlives a dispatcher that stops renewing it.
  std::chrono::milliseconds lock_ttl{30'000};
  // The pause between passes.
  std::chrono::milliseconds poll_interval{1'000};
  // The wait after failed attempt N is backoff[N - 1], and the last entry
  // for every attempt past the list.
  std::vector<std::chrono::milliseconds> backoff = {
      std::chrono::seconds(10), std::chrono::seconds(30), std::chrono::minutes(2),
      std::chrono::minutes(10), std::chrono::hours(1),    std::chrono::hours(6)};
  // Attempts before a delivery is failed.
  int max_attempts = 10;
  // Each POST's whole time.
  std::chrono::milliseconds timeout{5'000};
  // Send to http:// URLs too (--webhook-allow-http).
  bool allow_http = false;
  // CIDR ranges deliveries may connect to besides public addresses
  // (--webhook-allow).
  std::vector<std::string> allow;
  // Events read and deliveries sent per pass, at most.
  int batch_size = 200;
  // On PostgreSQL, a transaction that commits after a later one leaves a
  // gap in the job_events ids for a moment. The cursor waits at a gap this
  // long before it skips it as a rolled-back insert.
  std::chrono::milliseconds gap_grace{10'000};
};

// What one pass did, for tests and logs.
struct PassStats {
  bool locked = false;  // whether this dispatcher held the lock
  int events_read = 0;
  int deliveries_queued = 0;
  int delivered = 0;
  int retried = 0;
  int failed = 0;
  std::int64_t cursor = 0;  // the cursor after the scan
};

class Dispatcher {
 public:
  // Checks OPTIONS. Errors: invalidArgument naming the option (a CIDR
  // range, the Redis URL, a limit that is not positive); internal when
  // libcurl or libsodium cannot start. DB must outlive the dispatcher.
  static Result<std::unique_ptr<Dispatcher>> create(store::Database& db, DispatcherOptions options);

  // Stops the thread and releases the lock.
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  Dispatcher(Dispatcher&&) = delete;
  Dispatcher& operator=(Dispatcher&&) = delete;

  // Starts the thread that runs a pass every poll_interval. Errors of a
  // pass go to the log, and the next pass tries again.
  void start();

  // Stops the thread after the POST in progress, if any, and releases the
  // lock so that another process takes over at once.
  void stop();

  // Runs one pass on the calling thread; for tests and the thread. Errors:
  // unavailable when Redis or the database fails.
  Result<PassStats> runOnce();

 private:
  Dispatcher(store::Database& db, DispatcherOptions options, fetch::AllowList allow,
             redis::Endpoint endpoint);

  Result<bool> holdLock();
  void releaseLock();
  Result<PassStats> scan();
  Status send(PassStats& stats);
  std::chrono::milliseconds backoffAfter(int attempts);

  store::Database& db_;
  DispatcherOptions options_;
  fetch::AllowList allow_;
  redis::Connection redis_;
  bool locked_ = false;
  // First sight of each gap in the job_events ids, by the id after the cursor.
  std::map<std::int64_t, std::chrono::steady_clock::time_point> gaps_;

  std::mutex mutex_;  // guards stopping_ for the condition variable
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace smmhub::webhooks
