// A render worker: takes jobs from the broker, renders each with the engine,
// stores the video and reports the outcome, until its stop flag is set.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto worker, Worker::create({.redis_url = redis,
//                                                        .db_url = db,
//                                                        .storage_dir = "/srv/videos"}));
//   std::atomic<bool> stop = false;  // set by SIGTERM
//   SMMHUB_RETURN_IF_ERROR(worker->run(stop));
//
// Each of the `concurrency` slots claims a job and downloads the http(s)
// URLs that its row gives for image, video and audio fields (fetch/fetcher.h),
// so that the render reads local copies. A rejected or failed download fails
// the job for good with the fetch's message. The slot then renders the row
// into a work folder of its own (STORAGE/TENANT/BATCH/.work/JOB.TOKEN), and:
//
//   1. renews the lease and reads the job in SQL, and throws the result away
//      when the claim is over (the lease ran out and another worker took
//      the job, or the batch was cancelled);
//   2. charges the video's credit with the key "render:JOB", so that every
//      delivery of the job charges once;
//   3. renames the poster and the video to STORAGE/TENANT/BATCH/NAME without
//      replacing a file that is there: a file there came from an earlier
//      delivery of the same job, and stays;
//   4. moves the tenant's credit events into the SQL ledger;
//   5. completes the job in SQL, whose fencing check rejects a stale claim.
//
// A later delivery of a job whose video is in place renders nothing and
// only repeats steps 1, 2, 4 and 5. A heartbeat thread renews every lease,
// and when one fails, the job's render stops at its next frame. Another
// thread runs the broker's upkeep (due retries, expired leases, re-drive
// after Redis lost data), the ledger writer and the credit reaper. One more
// thread renders preview frames for the admin API from the preview queue
// (broker/previews.h), so that previews never wait behind a job.
//
// On stop, slots claim no more jobs. Jobs in progress have the grace period
// to finish, and are then stopped at their next frame and handed back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "fetch/fetcher.h"

namespace smmhub::worker {

struct WorkerOptions {
  std::string redis_url;  // the broker and the credit counters
  std::string db_url;     // the job store and the ledger
  // Videos go to STORAGE_DIR/TENANT/BATCH/.
  std::string storage_dir;
  // The render buffer's shared tier; empty: each job renders alone.
  std::string cache_redis;
  int concurrency = 1;
  // The worker's name in claims, logs and the list of live workers; a
  // fresh "HOST-PID-XXXX" when empty.
  std::string id;
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds heartbeat{1'000};
  // How long an idle slot waits for a wake token before it claims a job
  // again. A push wakes it at once; this bounds the wait when a token is
  // missed.
  std::chrono::milliseconds poll{1'000};
  std::chrono::milliseconds grace{30'000};
  // How long one job may take from its claim, downloads and render
  // included; 0 for no limit. A job past it stops at its next frame and
  // fails for good, because another attempt would take as long.
  std::chrono::milliseconds max_render{std::chrono::minutes(10)};
  // How often the upkeep thread runs.
  std::chrono::milliseconds upkeep{1'000};
  // Retry delay after the first failed attempt; it doubles per attempt.
  std::chrono::milliseconds backoff_base{1'000};
  // The address of the metrics server, "HOST:PORT"; empty: not served.
  std::string metrics_listen;
  // Downloads of the http(s) URLs that rows give for image, video and audio
  // fields. An empty cache_dir means STORAGE_DIR/.fetch-cache.
  fetch::FetchOptions fetch;
};

struct WorkerStats {
  std::uint64_t claimed = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;       // attempts that failed, retried or not
  std::uint64_t rejected = 0;     // results thrown away: the claim was over
  std::uint64_t handed_back = 0;  // jobs given back at stop
  std::uint64_t reused = 0;       // deliveries that found the video in place
  std::uint64_t frames = 0;
  double render_seconds = 0;
};

class Worker {
 public:
  // Checks the options and opens the job store. Errors: invalidArgument
  // naming a bad option, unavailable when the database cannot be opened.
  static Result<std::unique_ptr<Worker>> create(WorkerOptions options);

  virtual ~Worker() = default;

  // Works until STOP is true, then stops as described at the top of this file.
  // Returns an error only when the worker cannot start (the metrics port is
  // taken); Redis and database failures while it runs are logged and
  // retried.
  virtual Status run(const std::atomic<bool>& stop) = 0;

  virtual WorkerStats stats() const = 0;
  virtual const std::string& id() const = 0;
};

// Returns a worker name unique to this process: "HOST-PID-XXXX".
std::string defaultWorkerId();

}  // namespace smmhub::worker
