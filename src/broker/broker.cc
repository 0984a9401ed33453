#include "broker/broker.h"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "broker/scripts.h"
#include "common/log.h"

namespace smmhub::broker {
namespace {

using internal::activeKey;
using internal::delayedKey;
using internal::knownKey;
using internal::laneKey;
using internal::laneOf;
using internal::leaseKey;

// Entries a script moves or takes per call, so that no call blocks Redis long.
constexpr int kScriptBatch = 100;
// Jobs a claim() drops (cancelled or finished in SQL) before it gives up.
constexpr int kMaxDrops = 64;

std::int64_t systemMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string activeMember(std::string_view tenant, std::string_view job_id, std::int64_t token) {
  return fmt::format("{} {} {}", tenant, job_id, token);
}

std::string delayedMember(std::string_view tenant, std::string_view job_id,
                          std::string_view priority) {
  return fmt::format("{} {} {}", tenant, job_id, laneOf(priority));
}

// A member of the leases zset, parsed.
struct ActiveLease {
  std::string tenant;
  std::string job_id;
  std::int64_t token = 0;
};

std::optional<ActiveLease> parseActiveMember(std::string_view member) {
  std::size_t first = member.find(' ');
  std::size_t second = first == std::string_view::npos ? first : member.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  ActiveLease lease{std::string(member.substr(0, first)),
                    std::string(member.substr(first + 1, second - first - 1))};
  try {
    lease.token = std::stoll(std::string(member.substr(second + 1)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return lease;
}

template <typename T>
Status statusOf(const Result<T>& result) {
  return result.ok() ? okStatus() : result.status();
}

bool isRejection(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition || status.code() == StatusCode::kNotFound;
}

}  // namespace

Result<std::unique_ptr<Broker>> Broker::create(BrokerOptions options, jobs::JobStore& store) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint,
                          redis::parseUrl(options.redis_url, "broker redis_url"));
  return std::make_unique<Broker>(std::move(options), std::move(endpoint), store);
}

Broker::Broker(BrokerOptions options, redis::Endpoint endpoint, jobs::JobStore& store)
    : options_(std::move(options)),
      pool_(std::move(endpoint), options_.pool),
      store_(store),
      random_(std::random_device{}()) {}

std::int64_t Broker::now() const {
  return options_.clock ? options_.clock() : systemMillis();
}

std::chrono::milliseconds Broker::backoff(int attempts) {
  std::int64_t delay = options_.backoff_base.count();
  for (int i = 1; i < attempts && delay < options_.backoff_max.count(); ++i) {
    delay *= 2;
  }
  delay = std::min(delay, options_.backoff_max.count());

  std::lock_guard lock(random_mutex_);
  std::uniform_int_distribution<std::int64_t> jitter(0, delay / 2);
  return std::chrono::milliseconds(delay - jitter(random_));
}

Result<redis::ReplyPtr> Broker::run(const redis::Script& script,
                                    const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply, script.run(*connection, keys, args));
  if (reply->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(fmt::format("redis {}: broker script failed: {}",
                                           pool_.endpoint().url, redis::replyText(reply.get())));
  }
  return reply;
}

Result<int> Broker::pushReady(const std::string& tenant, const std::string& priority,
                              const std::vector<std::string>& job_ids) {
  if (job_ids.empty()) {
    return 0;
  }
  std::vector<std::string> args{tenant};
  args.insert(args.end(), job_ids.begin(), job_ids.end());
  SMMHUB_ASSIGN_OR_RETURN(
      redis::ReplyPtr reply,
      run(internal::pushScript(),
          {knownKey(tenant), laneKey(tenant, laneOf(priority)), internal::ringKey(),
           internal::ringMembersKey(), internal::wakeKey()},
          args));
  return static_cast<int>(reply->integer);
}

Result<int> Broker::schedule(const std::string& key, const std::string& tenant,
                             const std::string& job_id, std::int64_t score,
                             const std::string& member) {
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply,
                          run(internal::scheduleScript(), {knownKey(tenant), key},
                              {job_id, std::to_string(score), member}));
  return static_cast<int>(reply->integer);
}

Status Broker::release(const std::string& tenant, const std::string& job_id, std::int64_t token,
                       bool forget) {
  return statusOf(run(internal::finishScript(),
                      {leaseKey(tenant, job_id), activeKey(), knownKey(tenant), delayedKey()},
                      {std::to_string(token), activeMember(tenant, job_id, token), job_id,
                       forget ? "forget" : "keep", "0", ""}));
}

Status Broker::retryLater(const jobs::Job& job, std::int64_t token) {
  return statusOf(
      run(internal::finishScript(),
          {leaseKey(job.tenant, job.id), activeKey(), knownKey(job.tenant), delayedKey()},
          {std::to_string(token), activeMember(job.tenant, job.id, token), job.id, "delay",
           std::to_string(job.next_try_at_ms), delayedMember(job.tenant, job.id, job.priority)}));
}

// Puts JOB back on Redis by its SQL state, unless Redis tracks it already.
Result<int> Broker::restore(const jobs::Job& job) {
  switch (job.state) {
    case jobs::JobState::kQueued:
      return pushReady(job.tenant, job.priority, {job.id});
    case jobs::JobState::kRetrying:
      if (job.next_try_at_ms <= now()) {
        return pushReady(job.tenant, job.priority, {job.id});
      }
      return schedule(delayedKey(), job.tenant, job.id, job.next_try_at_ms,
                      delayedMember(job.tenant, job.id, job.priority));
    case jobs::JobState::kActive:
      // A claim that Redis lost. Its worker may be alive: its heartbeat makes
      // the lease again. Otherwise the claim expires after one lease period,
      // and reclaimExpired() fails it with its own token.
      return schedule(activeKey(), job.tenant, job.id, now() + options_.lease.count(),
                      activeMember(job.tenant, job.id, job.fencing_token));
    default:
      return 0;
  }
}

Result<jobs::CreatedBatch> Broker::enqueue(const jobs::BatchSpec& spec,
                                           const std::vector<jobs::JobSpec>& jobs) {
  SMMHUB_ASSIGN_OR_RETURN(jobs::CreatedBatch batch, store_.createBatch(spec, jobs));
  SMMHUB_RETURN_IF_ERROR(push(spec, batch));
  return batch;
}

Status Broker::push(const jobs::BatchSpec& spec, const jobs::CreatedBatch& batch) {
  // A repeat pushes the jobs still queued; the known set skips those Redis has.
  std::vector<std::string> to_push = batch.job_ids;
  if (!batch.created) {
    SMMHUB_ASSIGN_OR_RETURN(std::vector<jobs::Job> stored, store_.batchJobs(batch.batch_id));
    to_push.clear();
    for (const jobs::Job& job : stored) {
      if (job.state == jobs::JobState::kQueued) {
        to_push.push_back(job.id);
      }
    }
  }

  Result<int> pushed = pushReady(spec.tenant, spec.priority, to_push);
  if (!pushed.ok()) {
    return pushed.status().withContext(fmt::format(
        "batch {} of tenant {} is saved, but its jobs are not on Redis until redrive() runs",
        batch.batch_id, spec.tenant));
  }
  logger("broker")->info("enqueue done batch={} tenant={} jobs={} pushed={} created={}",
                         batch.batch_id, spec.tenant, batch.job_ids.size(), *pushed, batch.created);
  return okStatus();
}

Result<std::optional<Claim>> Broker::claim(const std::string& worker) {
  for (int drops = 0; drops < kMaxDrops; ++drops) {
    std::int64_t at = now();
    SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply,
                            run(internal::claimScript(),
                                {internal::ringKey(), internal::ringMembersKey(),
                                 internal::tokenKey(), activeKey(), internal::wakeKey()},
                                {std::string(internal::kPrefix), worker,
                                 std::to_string(options_.lease.count()), std::to_string(at)}));
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[2]->type != REDIS_REPLY_INTEGER) {
      return std::optional<Claim>();
    }
    Claim claim{.job_id = std::string(redis::replyText(reply->element[1])),
                .tenant = std::string(redis::replyText(reply->element[0])),
                .fencing_token = reply->element[2]->integer,
                .lease_deadline_ms = at + options_.lease.count()};

    // SQL decides whether the job may still run.
    jobs::JobState previous = jobs::JobState::kQueued;
    Result<jobs::Job> job = store_.claim(claim.job_id, worker, claim.fencing_token, &previous);
    if (job.ok()) {
      claim.batch_id = job->batch_id;
      claim.row = job->row;
      publish(*job, previous);
      logger("broker")->debug("claim job={} tenant={} worker={} token={}", claim.job_id,
                              claim.tenant, worker, claim.fencing_token);
      return std::optional<Claim>(std::move(claim));
    }
    if (!isRejection(job.status())) {
      // The lease stays; reclaimExpired() puts the job back when it runs out.
      return job.status();
    }
    logger("broker")->info("claim dropped job={} reason=\"{}\"", claim.job_id,
                           job.status().message());
    SMMHUB_RETURN_IF_ERROR(release(claim.tenant, claim.job_id, claim.fencing_token, true));
    SMMHUB_RETURN_IF_ERROR(requeueIfRunnable(claim.job_id));
  }
  return std::optional<Claim>();
}

// Puts a job that SQL still lets run back on Redis, after its claim was
// rejected: a Redis that lost its token counter grants tokens SQL has seen.
Status Broker::requeueIfRunnable(const std::string& job_id) {
  Result<jobs::Job> job = store_.job(job_id);
  if (!job.ok()) {
    return job.status().code() == StatusCode::kNotFound ? okStatus() : job.status();
  }
  if (job->state != jobs::JobState::kQueued && job->state != jobs::JobState::kRetrying) {
    return okStatus();
  }
  SMMHUB_RETURN_IF_ERROR(run(internal::raiseTokenScript(), {internal::tokenKey()},
                             {std::to_string(job->fencing_token)}));
  return statusOf(restore(*job));
}

Status Broker::heartbeat(Claim& claim) {
  std::int64_t deadline = now() + options_.lease.count();
  SMMHUB_ASSIGN_OR_RETURN(
      redis::ReplyPtr reply,
      run(internal::heartbeatScript(), {leaseKey(claim.tenant, claim.job_id), activeKey()},
          {std::to_string(claim.fencing_token), std::to_string(options_.lease.count()),
           std::to_string(deadline),
           activeMember(claim.tenant, claim.job_id, claim.fencing_token)}));
  if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
    claim.lease_deadline_ms = deadline;
    return okStatus();
  }

  // The lease is gone or names another claim. SQL decides whether this claim
  // still holds the job: Redis may have lost the lease in a restart.
  SMMHUB_ASSIGN_OR_RETURN(jobs::Job job, store_.job(claim.job_id));
  if (job.state != jobs::JobState::kActive || job.fencing_token != claim.fencing_token) {
    return Status::failedPrecondition(fmt::format(
        "job {}: the claim with fencing token {} is over: the job is {} with token {}; stop "
        "working on it",
        claim.job_id, claim.fencing_token, jobs::jobStateName(job.state), job.fencing_token));
  }
  SMMHUB_ASSIGN_OR_RETURN(
      redis::ReplyPtr restored,
      run(internal::restoreLeaseScript(), {leaseKey(claim.tenant, claim.job_id), activeKey()},
          {job.worker + " " + std::to_string(claim.fencing_token),
           std::to_string(options_.lease.count()), std::to_string(deadline),
           activeMember(claim.tenant, claim.job_id, claim.fencing_token),
           std::to_string(claim.fencing_token)}));
  if (restored->type != REDIS_REPLY_INTEGER || restored->integer != 1) {
    return Status::failedPrecondition(
        fmt::format("job {}: the lease of fencing token {} belongs to a later claim; stop "
                    "working on it",
                    claim.job_id, claim.fencing_token));
  }
  // A reclaim or a cancel may have ended the claim in SQL between the read
  // above and the restore: read again, and undo the restore if so.
  SMMHUB_ASSIGN_OR_RETURN(jobs::Job after, store_.job(claim.job_id));
  if (after.state != jobs::JobState::kActive || after.fencing_token != claim.fencing_token) {
    SMMHUB_RETURN_IF_ERROR(release(claim.tenant, claim.job_id, claim.fencing_token, false));
    return Status::failedPrecondition(fmt::format(
        "job {}: the claim with fencing token {} is over: the job is {} with token {}; stop "
        "working on it",
        claim.job_id, claim.fencing_token, jobs::jobStateName(after.state), after.fencing_token));
  }
  logger("broker")->warn("lease restored job={} token={}: Redis had lost it", claim.job_id,
                         claim.fencing_token);
  claim.lease_deadline_ms = deadline;
  return okStatus();
}

Status Broker::complete(const Claim& claim, const std::string& output_path) {
  SMMHUB_RETURN_IF_ERROR(store_.complete(claim.job_id, claim.fencing_token, output_path));
  publish(claim, jobs::JobState::kActive, jobs::JobState::kCompleted);
  return release(claim.tenant, claim.job_id, claim.fencing_token, true);
}

void Broker::publish(const jobs::Job& job, jobs::JobState from) {
  if (options_.events == nullptr) {
    return;
  }
  Status published = options_.events->publish(
      {.type = "state",
       .tenant = job.tenant,
       .batch_id = job.batch_id,
       .job_id = job.id,
       .row = job.row,
       .from_state = std::string(jobs::jobStateName(from)),
       .to_state = std::string(jobs::jobStateName(job.state)),
       .attempt = job.attempts,
       .worker = job.worker,
       .error = job.state == jobs::JobState::kRetrying || job.state == jobs::JobState::kFailed
                    ? job.last_error
                    : "",
       .next_try_at_ms = job.state == jobs::JobState::kRetrying ? job.next_try_at_ms : 0,
       .at_ms = now()});
  if (!published.ok()) {
    logger("broker")->debug("event not published job={} error=\"{}\"", job.id, published.message());
  }
}

void Broker::publish(const Claim& claim, jobs::JobState from, jobs::JobState to,
                     const std::string& error) {
  if (options_.events == nullptr) {
    return;
  }
  // The job is read back for its attempts and worker; a failed read only
  // thins the live feed.
  Result<jobs::Job> job = store_.job(claim.job_id);
  if (!job.ok()) {
    return;
  }
  jobs::Job after = *job;
  after.state = to;
  if (!error.empty()) {
    after.last_error = error;
  }
  publish(after, from);
}

Result<jobs::JobState> Broker::fail(const Claim& claim, const std::string& error, bool permanent) {
  SMMHUB_ASSIGN_OR_RETURN(jobs::Job job, store_.job(claim.job_id));
  std::int64_t retry_at = now() + backoff(job.attempts).count();
  SMMHUB_ASSIGN_OR_RETURN(
      jobs::JobState state,
      store_.fail(claim.job_id, claim.fencing_token, error,
                  permanent ? std::nullopt : std::optional<std::int64_t>(retry_at)));
  publish(claim, jobs::JobState::kActive, state, error);
  if (state != jobs::JobState::kRetrying) {
    SMMHUB_RETURN_IF_ERROR(release(claim.tenant, claim.job_id, claim.fencing_token, true));
    return state;
  }
  job.next_try_at_ms = retry_at;
  SMMHUB_RETURN_IF_ERROR(retryLater(job, claim.fencing_token));
  return state;
}

Status Broker::handBack(const Claim& claim, const std::string& reason) {
  SMMHUB_RETURN_IF_ERROR(store_.handBack(claim.job_id, claim.fencing_token, reason));
  SMMHUB_ASSIGN_OR_RETURN(jobs::Job job, store_.job(claim.job_id));
  publish(job, jobs::JobState::kActive);
  SMMHUB_RETURN_IF_ERROR(release(claim.tenant, claim.job_id, claim.fencing_token, true));
  SMMHUB_ASSIGN_OR_RETURN(int pushed, pushReady(job.tenant, job.priority, {job.id}));
  logger("broker")->info("hand back job={} token={} pushed={} reason=\"{}\"", claim.job_id,
                         claim.fencing_token, pushed, reason);
  return okStatus();
}

Result<std::vector<std::string>> Broker::retryFailed(const std::string& batch_id) {
  SMMHUB_ASSIGN_OR_RETURN(std::vector<std::string> queued, store_.retryFailed(batch_id));
  if (queued.empty()) {
    return queued;
  }
  SMMHUB_ASSIGN_OR_RETURN(jobs::Batch batch, store_.batch(batch_id));
  if (options_.events != nullptr) {
    for (const std::string& id : queued) {
      if (Result<jobs::Job> job = store_.job(id); job.ok()) {
        publish(*job, jobs::JobState::kFailed);
      }
    }
  }
  Result<int> pushed = pushReady(batch.tenant, batch.priority, queued);
  if (!pushed.ok()) {
    return pushed.status().withContext(fmt::format(
        "the {} failed jobs of batch {} are queued in SQL, but not on Redis until redrive() runs",
        queued.size(), batch_id));
  }
  return queued;
}

Result<bool> Broker::waitForWork(redis::Connection& connection, std::chrono::milliseconds wait) {
  std::string seconds = fmt::format("{:.3f}", static_cast<double>(wait.count()) / 1000.0);
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply,
                          connection.command({"BLPOP", internal::wakeKey(), seconds}));
  if (reply->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(fmt::format("redis {}: BLPOP failed: {}", connection.endpoint().url,
                                           redis::replyText(reply.get())));
  }
  return reply->type == REDIS_REPLY_ARRAY;
}

Result<QueueStats> Broker::queueStats() {
  SMMHUB_ASSIGN_OR_RETURN(
      redis::ReplyPtr reply,
      run(internal::queueStatsScript(), {internal::ringKey(), activeKey(), delayedKey()},
          {std::string(internal::kPrefix)}));
  QueueStats stats;
  std::int64_t* fields[] = {&stats.ready, &stats.high, &stats.active, &stats.delayed,
                            &stats.tenants};
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    const redisReply* element = redis::elementAt(reply.get(), i);
    *fields[i] = element != nullptr && element->type == REDIS_REPLY_INTEGER ? element->integer : 0;
  }
  return stats;
}

Result<int> Broker::promoteDelayed() {
  int moved = 0;
  for (;;) {
    SMMHUB_ASSIGN_OR_RETURN(
        redis::ReplyPtr reply,
        run(internal::promoteScript(),
            {delayedKey(), internal::ringKey(), internal::ringMembersKey(), internal::wakeKey()},
            {std::to_string(now()), std::to_string(kScriptBatch), std::string(internal::kPrefix)}));
    moved += static_cast<int>(reply->integer);
    if (reply->integer < kScriptBatch) {
      return moved;
    }
  }
}

// Fails one expired claim in SQL with its own token and schedules the retry;
// a claim that SQL already ended is only removed from Redis.
Status Broker::reclaimOne(const std::string& member, std::vector<jobs::Job>* ended) {
  std::optional<ActiveLease> lease = parseActiveMember(member);
  if (!lease) {
    logger("broker")->warn("reclaim skipped malformed lease member=\"{}\"", member);
    SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());
    return statusOf(connection->command({"ZREM", activeKey(), member}));
  }

  Result<jobs::Job> job = store_.job(lease->job_id);
  if (!job.ok() && !isRejection(job.status())) {
    return job.status();
  }
  std::int64_t retry_at = now() + backoff(job.ok() ? job->attempts : 1).count();
  Result<jobs::JobState> state =
      job.ok() ? store_.fail(lease->job_id, lease->token, "lease expired", retry_at)
               : Result<jobs::JobState>(job.status());
  if (!state.ok() && !isRejection(state.status())) {
    return state.status();
  }

  if (state.ok()) {
    jobs::Job after = *job;
    after.state = *state;
    after.last_error = "lease expired";
    after.next_try_at_ms = *state == jobs::JobState::kRetrying ? retry_at : 0;
    publish(after, jobs::JobState::kActive);
    if (*state == jobs::JobState::kFailed && ended != nullptr) {
      ended->push_back(after);
    }
  }
  if (state.ok() && *state == jobs::JobState::kRetrying) {
    job->next_try_at_ms = retry_at;
    logger("broker")->info("reclaim job={} token={} retry_at_ms={}", lease->job_id, lease->token,
                           retry_at);
    return retryLater(*job, lease->token);
  }
  SMMHUB_RETURN_IF_ERROR(release(lease->tenant, lease->job_id, lease->token, true));
  return state.ok() ? okStatus() : requeueIfRunnable(lease->job_id);
}

Result<int> Broker::reclaimExpired(std::vector<jobs::Job>* ended) {
  int reclaimed = 0;
  for (;;) {
    SMMHUB_ASSIGN_OR_RETURN(
        redis::ReplyPtr reply,
        run(internal::takeExpiredScript(), {activeKey()},
            {std::to_string(now()), std::to_string(kScriptBatch),
             std::to_string(options_.lease.count()), std::string(internal::kPrefix)}));
    for (std::size_t i = 0; i < reply->elements; ++i) {
      Status status = reclaimOne(std::string(redis::replyText(reply->element[i])), ended);
      if (!status.ok()) {
        return status;
      }
      reclaimed++;
    }
    if (reply->elements < static_cast<std::size_t>(kScriptBatch)) {
      return reclaimed;
    }
  }
}

Result<int> Broker::redrive() {
  SMMHUB_ASSIGN_OR_RETURN(std::vector<jobs::Job> unfinished, store_.unfinished());

  // A Redis that lost its counter must grant tokens above every stored one.
  std::int64_t max_token = 0;
  for (const jobs::Job& job : unfinished) {
    max_token = std::max(max_token, job.fencing_token);
  }
  SMMHUB_RETURN_IF_ERROR(
      run(internal::raiseTokenScript(), {internal::tokenKey()}, {std::to_string(max_token)}));

  int pushed = 0;
  for (const jobs::Job& job : unfinished) {
    SMMHUB_ASSIGN_OR_RETURN(int restored, restore(job));
    pushed += restored;
  }
  logger("broker")->info("redrive done unfinished={} pushed={}", unfinished.size(), pushed);
  return pushed;
}

Result<std::vector<std::string>> Broker::cancelBatch(const std::string& batch_id) {
  SMMHUB_ASSIGN_OR_RETURN(std::vector<jobs::Job> before, store_.batchJobs(batch_id));
  SMMHUB_ASSIGN_OR_RETURN(std::vector<std::string> active, store_.cancelBatch(batch_id));
  SMMHUB_ASSIGN_OR_RETURN(std::vector<jobs::Job> jobs, store_.batchJobs(batch_id));
  if (jobs.empty()) {
    return active;
  }
  for (std::size_t i = 0; i < jobs.size() && i < before.size(); ++i) {
    if (before[i].state != jobs[i].state) {
      publish(jobs[i], before[i].state);
    }
  }

  // The leases of the cancelled jobs that were ever claimed end, so that the
  // heartbeats of workers still on them fail and they stop. SQL rejects
  // their completions in any case. A cancel run again after Redis failed
  // here ends the leases that the first run left. A job that SQL left
  // active is being delivered and keeps its lease.
  const std::string& tenant = jobs.front().tenant;
  std::vector<std::string> args{tenant};
  for (const jobs::Job& job : jobs) {
    if (job.state != jobs::JobState::kActive &&
        std::find(active.begin(), active.end(), job.id) == active.end()) {
      args.push_back(job.id);
    }
    if (job.state == jobs::JobState::kCancelled && job.fencing_token > 0) {
      SMMHUB_RETURN_IF_ERROR(release(tenant, job.id, job.fencing_token, true));
    }
  }
  SMMHUB_RETURN_IF_ERROR(run(
      internal::removeScript(),
      {laneKey(tenant, "ready"), laneKey(tenant, "high"), delayedKey(), knownKey(tenant)}, args));
  logger("broker")->info("cancel done batch={} jobs={} active={}", batch_id, jobs.size(),
                         active.size());
  return active;
}

}  // namespace smmhub::broker
