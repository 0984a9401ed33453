// The job broker on Redis: fair claims across tenants, leases with fencing
// tokens, retries with back-off, and the re-driver that restores Redis from
// the job store.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto broker, Broker::create({.redis_url = url}, store));
//   SMMHUB_ASSIGN_OR_RETURN(jobs::CreatedBatch batch, broker->enqueue(spec, rows));
//   SMMHUB_ASSIGN_OR_RETURN(std::optional<Claim> claim, broker->claim("worker-1"));
//   ... render, calling heartbeat(*claim) more often than the lease runs out ...
//   SMMHUB_RETURN_IF_ERROR(broker->complete(*claim, "out/0001.mp4"));
//
// SQL is the record and Redis the index of what is ready to run. enqueue()
// writes the batch to the job store first and then pushes its jobs to Redis.
// A claim takes a job from Redis and then records the claim in SQL, which
// rejects it when the job was cancelled or finished meanwhile. complete()
// and fail() go to SQL first, and its fencing check is the authority: a
// worker whose lease was reclaimed cannot change the job. When Redis loses
// writes, redrive() pushes every unfinished job of the store that Redis does
// not track back to it.
//
// Claims are fair across tenants: each tenant has its own ready lists, and a
// ring of tenants with ready jobs is rotated by every claim. The key layout
// is in docs/broker.md ("Redis side").
//
// A Broker is safe to use from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "broker/events.h"
#include "common/status.h"
#include "jobs/job_store.h"
#include "redis/pool.h"

namespace smmhub::broker {

struct BrokerOptions {
  // "redis://HOST[:PORT][/DB]" or "unix:///PATH".
  std::string redis_url;
  redis::PoolOptions pool;
  // How long a claim keeps its job without a heartbeat.
  std::chrono::milliseconds lease{30'000};
  // The retry delay after the first failed attempt. It doubles with each
  // further attempt, up to backoff_max. A random part of up to half of the
  // delay is taken off (jitter), so that the retries of one batch spread out.
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_max{300'000};
  // The time in Unix milliseconds for lease deadlines and retry times. The
  // system clock when empty.
  std::function<std::int64_t()> clock;
  // When set, each state change the broker makes is published there after
  // SQL recorded it, for live watchers; a failed publish is logged only.
  EventLog* events = nullptr;
};

// A job taken by a worker.
struct Claim {
  std::string job_id;
  std::string tenant;
  std::string batch_id;
  int row = 0;  // the job's data row
  std::int64_t fencing_token = 0;
  std::int64_t lease_deadline_ms = 0;  // Unix milliseconds
};

// The counts of jobs on Redis now, for metrics.
struct QueueStats {
  std::int64_t ready = 0;    // queued jobs in the tenants' lists, both lanes
  std::int64_t high = 0;     // of those, in the high-priority lanes
  std::int64_t active = 0;   // claims with a lease
  std::int64_t delayed = 0;  // retries waiting for their time
  std::int64_t tenants = 0;  // tenants with queued jobs
};

class Broker {
 public:
  // Errors: invalidArgument for a malformed URL.
  static Result<std::unique_ptr<Broker>> create(BrokerOptions options, jobs::JobStore& store);

  Broker(BrokerOptions options, redis::Endpoint endpoint, jobs::JobStore& store);

  // Writes the batch to the job store (JobStore::createBatch) and pushes its
  // jobs to the tenant's ready list, or its high-priority list. A repeat
  // with the same idempotency key pushes only the jobs that are still queued
  // and that Redis does not track, so nothing is pushed twice. Errors: those
  // of createBatch; unavailable when Redis fails after SQL accepted the
  // batch, and then redrive() pushes the jobs later.
  Result<jobs::CreatedBatch> enqueue(const jobs::BatchSpec& spec,
                                     const std::vector<jobs::JobSpec>& jobs);

  // The second half of enqueue(), for a caller that wrote BATCH to the job
  // store itself: pushes its jobs, or on a repeat (BATCH.created false)
  // those still queued that Redis does not track. Errors: as enqueue()'s
  // after SQL accepted the batch.
  Status push(const jobs::BatchSpec& spec, const jobs::CreatedBatch& batch);

  // Takes the next job for WORKER: the next tenant of the ring, its
  // high-priority list first. Returns nullopt when no job is ready. A job
  // that SQL no longer lets run (cancelled or finished) is dropped and the
  // next one taken. Errors: unavailable when Redis or SQL fails.
  Result<std::optional<Claim>> claim(const std::string& worker);

  // Extends the claim's lease by the lease period. When Redis lost the lease
  // (a restart) and SQL still has the job active under the claim's token,
  // the lease is made again. Errors: failedPrecondition when the job was
  // claimed again, cancelled or ended: the worker must stop.
  Status heartbeat(Claim& claim);

  // Completes the job in SQL (JobStore::complete) and ends the lease.
  // Errors: failedPrecondition when the token is stale or the job is no
  // longer active, and those of JobStore::complete.
  Status complete(const Claim& claim, const std::string& output_path);

  // Fails the job in SQL with a retry time after the back-off, and schedules
  // the retry in Redis. Returns the state reached: retrying, or failed once
  // the job used its max_attempts. A PERMANENT failure (bad input that no
  // retry can fix) fails the job at once. Errors as complete().
  Result<jobs::JobState> fail(const Claim& claim, const std::string& error, bool permanent = false);

  // Gives the job back to its tenant's queue without counting the attempt,
  // for a worker that stops before it finished (JobStore::handBack). Errors
  // as complete().
  Status handBack(const Claim& claim, const std::string& reason);

  // Queues the batch's failed jobs again (JobStore::retryFailed) and pushes
  // them to Redis. Returns their ids. Errors: those of retryFailed;
  // unavailable when Redis fails after SQL queued them, and then redrive()
  // pushes them later.
  Result<std::vector<std::string>> retryFailed(const std::string& batch_id);

  // Moves the retries that are due to their tenant's ready list. Returns
  // how many moved.
  Result<int> promoteDelayed();

  // Fails every claim whose lease ran out ("lease expired") with its own
  // token, and schedules its retry. Returns how many were reclaimed. When
  // ENDED is set, it receives the jobs that failed for good, whose batches
  // may have ended.
  Result<int> reclaimExpired(std::vector<jobs::Job>* ended = nullptr);

  // Pushes every queued, retrying or active job of the store that Redis does
  // not track, after Redis lost writes. Queued jobs go to the ready lists and
  // retrying ones to the retry schedule (or the ready lists when due). Active
  // ones get a lease deadline one lease period away: a live worker's next
  // heartbeat makes its lease again, and reclaimExpired() retries the jobs of
  // dead workers. Returns how many were pushed.
  Result<int> redrive();

  // Cancels the batch in SQL (JobStore::cancelBatch) and removes its queued
  // and scheduled jobs from Redis. The leases of its cancelled active jobs
  // end, so that their workers' next heartbeats fail and they stop at the
  // next frame. Jobs whose delivery had started complete. Returns the ids
  // of the jobs that were active and are cancelled.
  Result<std::vector<std::string>> cancelBatch(const std::string& batch_id);

  // Waits up to WAIT for a job to be pushed, on CONNECTION (whose timeout
  // must exceed WAIT; Broker::endpoint() gives the server). Every push and
  // every due retry adds one wake token per job, and a claim that finds
  // nothing clears them, so an idle worker starts a new job within
  // milliseconds instead of a polling period. Returns whether a token came.
  // Errors: unavailable when Redis fails.
  Result<bool> waitForWork(redis::Connection& connection, std::chrono::milliseconds wait);
  const redis::Endpoint& endpoint() const { return pool_.endpoint(); }

  // Counts the queued, active and delayed jobs on Redis. Errors:
  // unavailable when Redis fails.
  Result<QueueStats> queueStats();

  // Returns the retry delay after ATTEMPTS failed attempts: base *
  // 2^(attempts - 1), at most backoff_max, less a random part of up to half.
  std::chrono::milliseconds backoff(int attempts);

 private:
  std::int64_t now() const;
  Result<redis::ReplyPtr> run(const redis::Script& script, const std::vector<std::string>& keys,
                              const std::vector<std::string>& args);
  // These three return how many jobs Redis did not track before.
  Result<int> pushReady(const std::string& tenant, const std::string& priority,
                        const std::vector<std::string>& job_ids);
  Result<int> schedule(const std::string& key, const std::string& tenant, const std::string& job_id,
                       std::int64_t score, const std::string& member);
  Result<int> restore(const jobs::Job& job);
  Status release(const std::string& tenant, const std::string& job_id, std::int64_t token,
                 bool forget);
  Status retryLater(const jobs::Job& job, std::int64_t token);
  Status requeueIfRunnable(const std::string& job_id);
  Status reclaimOne(const std::string& member, std::vector<jobs::Job>* ended);
  // Publishes JOB's change FROM -> its current state to the event log.
  void publish(const jobs::Job& job, jobs::JobState from);
  void publish(const Claim& claim, jobs::JobState from, jobs::JobState to,
               const std::string& error = "");

  BrokerOptions options_;
  redis::Pool pool_;
  jobs::JobStore& store_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;
};

}  // namespace smmhub::broker
