// The registry of live render workers: each worker beats every few seconds,
// and a worker whose last beat is older than the stale period counts as gone.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto registry, WorkerRegistry::create({.redis_url = url}));
//   SMMHUB_RETURN_IF_ERROR(registry->beat(info, nowMs()));   // every few seconds
//   SMMHUB_ASSIGN_OR_RETURN(auto workers, registry->live(nowMs(), 15s));
//   (void)registry->remove(info.id);                        // on a clean shutdown
//
// Keys:
//   smmhub:bk:workers      sorted set: worker id scored by its last beat (Unix ms)
//   smmhub:bk:worker:ID    hash: host, pid, started_at_ms, concurrency, active
//                          (job ids separated by spaces), completed, failed,
//                          version; expires after the stale period
//
// The registry only reports: leases in the broker decide who owns a job, so
// a worker missing from here can still hold claims until they expire.
// A beat touches both keys in one Lua script, which needs a single Redis, as
// the broker's scripts do.
//
// A WorkerRegistry is safe to use from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "redis/pool.h"

namespace smmhub::broker {

struct WorkerInfo {
  std::string id;
  std::string host;
  std::int64_t pid = 0;
  std::int64_t started_at_ms = 0;   // Unix milliseconds
  int concurrency = 0;              // jobs the worker renders at once
  std::vector<std::string> active;  // ids of the jobs it renders now
  std::int64_t completed = 0;       // jobs completed since it started
  std::int64_t failed = 0;          // jobs failed since it started
  std::string version;
  // Unix milliseconds of the last beat, set by live(). beat() takes the
  // time as its NOW_MS parameter instead.
  std::int64_t last_beat_ms = 0;
};

struct WorkerRegistryOptions {
  // "redis://HOST[:PORT][/DB]" or "unix:///PATH".
  std::string redis_url;
  redis::PoolOptions pool;
  // How long a worker's hash outlives its last beat.
  std::chrono::milliseconds stale_after{15'000};
};

// Returns the key of a worker's hash: "smmhub:bk:worker:ID".
std::string workerKey(const std::string& id);

class WorkerRegistry {
 public:
  // Errors: invalidArgument for a malformed URL or a stale_after below 1 ms.
  static Result<std::unique_ptr<WorkerRegistry>> create(WorkerRegistryOptions options);

  WorkerRegistry(WorkerRegistryOptions options, redis::Endpoint endpoint);

  // Records a beat of INFO.id at NOW_MS: replaces its hash with INFO's
  // fields, sets the hash to expire after stale_after, and scores the id
  // with NOW_MS, in one Lua script. Errors: invalidArgument for an empty id
  // or one with whitespace, or an active job id with whitespace;
  // unavailable, naming the URL, when Redis fails.
  Status beat(const WorkerInfo& info, std::int64_t now_ms);

  // Returns the workers whose last beat is at most STALE_AFTER before
  // NOW_MS, sorted by id, with last_beat_ms set. A worker whose hash has
  // expired is left out, so a STALE_AFTER longer than the options' period
  // adds no workers. Also removes from the set the ids whose beat is older
  // than 10 * STALE_AFTER. A hash field that does not parse is logged and
  // left at its default. Errors: invalidArgument for a STALE_AFTER below
  // 1 ms; unavailable, naming the URL, when Redis fails.
  Result<std::vector<WorkerInfo>> live(std::int64_t now_ms, std::chrono::milliseconds stale_after);

  // Removes worker ID, for a clean shutdown. Removing an unknown id does
  // nothing. Errors: unavailable, naming the URL, when Redis fails.
  Status remove(const std::string& id);

 private:
  Result<std::vector<WorkerInfo>> readHashes(redis::Connection& connection,
                                             std::vector<WorkerInfo> workers);

  WorkerRegistryOptions options_;
  redis::Pool pool_;
};

}  // namespace smmhub::broker
