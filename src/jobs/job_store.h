// The durable job store: batches, their jobs and every state change, in SQL.
//
// A batch is one template, one data table and one brand kit; each data row is
// one job. The store is the record that the Redis broker and the workers act
// on: when Redis loses its last writes, unfinished() puts the jobs back.
//
//   JobStore store(*db);
//   SMMHUB_ASSIGN_OR_RETURN(CreatedBatch batch, store.createBatch(spec, rows));
//   SMMHUB_ASSIGN_OR_RETURN(Job job, store.claim(batch.job_ids[0], "worker-1", token));
//   ... render ...
//   SMMHUB_RETURN_IF_ERROR(store.complete(job.id, token, "out/0001.mp4"));
//
// Every state change is a compare-and-set in one transaction that also
// appends a job_events row, so that a job's history is complete. The allowed
// changes (see allowedTransition()):
//
//   queued, retrying -> active       claim
//   active -> completed              complete
//   active -> retrying | failed      fail
//   queued, retrying, active -> cancelled   cancelBatch (not an active job
//                                           whose delivery has started)
//   active -> queued                 handBack (the attempt does not count)
//   failed -> queued                 retryFailed (attempts start again)
//
// Fencing tokens come from the broker, which grants each claim a higher one.
// A job stores the highest token granted. A claim must bring a higher token,
// and complete() and fail() must bring the stored one. So a worker that lost
// its claim changes nothing.
//
// A JobStore is safe to use from many threads at once, as Database is.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace smmhub::jobs {

enum class JobState {
  kQueued,
  kActive,
  kCompleted,
  kFailed,
  kRetrying,
  kCancelled
};

// Returns the name of STATE as the state column stores it, such as "queued".
std::string_view jobStateName(JobState state);

// Returns the state named NAME. Errors: invalidArgument for an unknown name.
Result<JobState> parseJobState(std::string_view name);

// Returns whether a job may change from FROM to TO (the table above).
bool allowedTransition(JobState from, JobState to);

// Returns whether STATE is completed, failed or cancelled: no change leaves it.
bool isTerminal(JobState state);

// The batch-wide part of a createBatch() request.
struct BatchSpec {
  std::string tenant;
  // Unique per tenant: a createBatch() with a key the tenant used before
  // returns that batch and creates nothing. Required.
  std::string idempotency_key;
  std::string template_path;
  std::string data_path;
  std::string brand_dir;  // may be empty: no brand kit
  std::string storage_dir;
  std::string campaign_id;          // the campaign the batch was made from; may be empty
  std::string priority = "normal";  // "normal" or "high"
  // How many times each job may be claimed before a failure is final.
  int max_attempts = 3;
  // Credits each video of the batch costs, fixed for the batch's life.
  std::int64_t video_price = 1;
  // The maximum number of jobs the tenant may have queued, retrying or
  // active once this batch is added, or 0 for no limit. A repeat of a batch
  // is not counted again.
  int max_unfinished_jobs = 0;
};

// One job of a createBatch() request: one data row.
struct JobSpec {
  int row = 0;              // 1-based data row number, unique in the batch
  std::string row_json;     // the row's fields as a JSON object
  std::string output_name;  // file name of the output, unique in the batch
};

struct CreatedBatch {
  std::string batch_id;
  // False when the idempotency key named an existing batch.
  bool created = false;
  // The batch's jobs in row order, also when the batch existed before.
  std::vector<std::string> job_ids;
};

struct Batch {
  std::string id;
  std::string tenant;
  std::string idempotency_key;
  std::string template_path;
  std::string data_path;
  std::string brand_dir;
  std::string storage_dir;
  std::string priority;
  int job_count = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t cancelled_at_ms = 0;  // 0 while the batch is not cancelled
  std::int64_t video_price = 1;      // credits per video
};

struct Job {
  std::string id;
  std::string batch_id;
  std::string tenant;
  int row = 0;
  std::string row_json;
  std::string output_name;
  std::string priority;
  JobState state = JobState::kQueued;
  int attempts = 0;  // claims so far
  int max_attempts = 0;
  std::int64_t next_try_at_ms = 0;  // when a retrying job is due, 0 otherwise
  std::string last_error;
  std::int64_t fencing_token = 0;  // the highest token granted, 0 before the first claim
  std::string worker;              // the worker of the last claim
  // Set by startDelivery() and complete(), and cleared by the next claim.
  std::string output_path;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// One row of job_events: one state change. The creation of a job is an event
// with an empty from_state.
struct JobEvent {
  std::int64_t id = 0;
  std::string job_id;
  std::string batch_id;
  std::string tenant;
  std::string from_state;
  std::string to_state;
  std::int64_t at_ms = 0;
  int attempt = 0;  // the job's attempts after the change
  std::string worker;
  std::string error;
};

// The number of a batch's jobs in each state.
struct BatchSummary {
  std::string batch_id;
  int total = 0;
  int queued = 0;
  int active = 0;
  int completed = 0;
  int failed = 0;
  int retrying = 0;
  int cancelled = 0;
  // The sum of the jobs' fencing tokens. Every claim raises a job's token,
  // so two ends of a batch that a retry separates have different sums even
  // when their counts are the same.
  std::int64_t token_sum = 0;
};

// A tenant's unfinished jobs; see JobStore::tenantCounts().
struct TenantJobCounts {
  int queued = 0;  // queued, or retrying after a failed attempt
  int active = 0;  // claimed by a worker
};

// The cost of rendering one job; see JobStore::recordRenderStats().
struct RenderStats {
  std::int64_t render_ms = 0;
  std::int64_t cache_hits = 0;
  std::int64_t cache_lookups = 0;
};

// The columns a transition() writes besides the state.
struct TransitionDetails {
  // Stored as the job's worker and in the event, when not empty.
  std::string worker;
  // Stored as last_error and in the event, when not empty.
  std::string error;
  // Stored as next_try_at_ms, when set.
  std::optional<std::int64_t> next_try_at_ms;
  // When set, a change to active must bring a token higher than the stored
  // one, and stores it. Any other change requires the stored token.
  std::optional<std::int64_t> fencing_token;
  // Stored as output_path, when not empty.
  std::string output_path;
};

struct JobStoreOptions {
  // The time in Unix milliseconds for created_at_ms, updated_at_ms and at_ms.
  // The system clock when empty.
  std::function<std::int64_t()> clock;
};

class JobStore {
 public:
  explicit JobStore(store::Database& db, JobStoreOptions options = {});

  // Creates a batch and its jobs, all queued, in one transaction. A repeat
  // with the tenant's idempotency key returns the first batch (created is
  // false) and creates nothing.
  // Errors:
  //   - invalidArgument naming the field: tenant, idempotency_key,
  //     template_path, data_path, storage_dir, priority, max_attempts, jobs,
  //     or a job's row, row_json or output_name.
  //   - alreadyExists when the key made a batch with other paths, another
  //     priority or another job count.
  //   - resourceExhausted when a new batch would pass max_unfinished_jobs;
  //     nothing is created.
  //   - unavailable when the database fails.
  Result<CreatedBatch> createBatch(const BatchSpec& spec, const std::vector<JobSpec>& jobs);

  // Changes JOB_ID from one of FROM to TO as a compare-and-set, and records
  // the event in the same transaction. A change to active counts an attempt.
  // Returns false, and changes nothing, when the job's state is not in FROM
  // or the fencing token does not fit (see TransitionDetails). Errors:
  // invalidArgument when a FROM -> TO change is not allowed, notFound for an
  // unknown job, unavailable when the database fails.
  Result<bool> transition(const std::string& job_id, std::span<const JobState> from, JobState to,
                          const TransitionDetails& details = {});

  // Claims a queued or retrying job for WORKER with TOKEN, which must be
  // higher than any token granted before: active, attempts + 1, the token
  // stored. Returns the job after the claim. While a job is active, every
  // other claim is rejected, whatever its token: the first claim wins.
  // Errors: failedPrecondition naming the state or the stale token,
  // notFound, invalidArgument for an empty worker.
  // When PREVIOUS is set, it receives the state the claim changed.
  Result<Job> claim(const std::string& job_id, const std::string& worker, std::int64_t token,
                    JobState* previous = nullptr);

  // Completes an active job claimed with TOKEN and stores OUTPUT_PATH. A
  // second completion, or one with another token, is rejected and changes
  // nothing. Errors: failedPrecondition naming the token or the state,
  // notFound, invalidArgument for an empty output path.
  Status complete(const std::string& job_id, std::int64_t token, const std::string& output_path);

  // Records that the worker holding the claim with TOKEN has a rendered
  // video and starts to deliver it at OUTPUT_PATH: it charges the video and
  // then completes the job. From then on cancelBatch() leaves the job to its
  // worker. This and cancelBatch() are transactions on the job's row, so a
  // cancel comes either before (this call fails, nothing is charged) or
  // after (the job completes and is charged). Errors: failedPrecondition
  // when the job is not active under TOKEN, notFound, invalidArgument for
  // an empty output path.
  Status startDelivery(const std::string& job_id, std::int64_t token,
                       const std::string& output_path);

  // Records what the render of a job claimed with TOKEN cost, for the
  // usage figures: its render time and how many of the values it needed
  // (rasters, encoded frames) came from the render cache. Errors:
  // failedPrecondition when the job's token is another (the claim is over),
  // notFound, invalidArgument for a negative figure or more hits than lookups.
  Status recordRenderStats(const std::string& job_id, std::int64_t token, RenderStats stats);

  // Fails an active job claimed with TOKEN. With RETRY_AT_MS set and
  // attempts below max_attempts, the job is retrying and due at RETRY_AT_MS;
  // otherwise it has failed for good. ERROR is kept as last_error either way.
  // Returns the state reached. Errors as complete(), and invalidArgument for
  // an empty error.
  Result<JobState> fail(const std::string& job_id, std::int64_t token, const std::string& error,
                        std::optional<std::int64_t> retry_at_ms);

  // Gives an active job claimed with TOKEN back to the queue, as a worker
  // that stops before it finished does: queued, the attempt not counted,
  // REASON kept as last_error. Errors as complete(), and invalidArgument for
  // an empty reason.
  Status handBack(const std::string& job_id, std::int64_t token, const std::string& reason);

  // Queues every failed job of BATCH_ID again with its attempts at 0, and
  // returns their ids in row order. Errors: notFound for an unknown batch,
  // failedPrecondition for a cancelled one.
  Result<std::vector<std::string>> retryFailed(const std::string& batch_id);

  // Cancels every queued, retrying or active job of BATCH_ID and marks the
  // batch cancelled (the first call sets cancelled_at_ms). An active job
  // whose delivery has started (startDelivery()) stays active, so that its
  // worker completes it. Returns the ids of the jobs that were active and
  // are cancelled, whose workers should stop. A second call returns an
  // empty list. Errors: notFound for an unknown batch.
  Result<std::vector<std::string>> cancelBatch(const std::string& batch_id);

  // Returns every job that is queued, active or retrying, ordered by
  // next_try_at_ms and id, for a re-driver that puts jobs back on the broker.
  // NOTE: returns all of them at once; a store with millions of unfinished
  // jobs needs paging here.
  Result<std::vector<Job>> unfinished();

  // Errors: notFound naming the id.
  Result<Job> job(const std::string& job_id);
  Result<Batch> batch(const std::string& batch_id);

  // Returns the batch's jobs in row order. Errors: notFound for an unknown batch.
  Result<std::vector<Job>> batchJobs(const std::string& batch_id);
  Result<BatchSummary> batchSummary(const std::string& batch_id);

  // Counts TENANT's queued, retrying and active jobs. The index
  // jobs_by_tenant_state keeps the cost to the tenant's unfinished jobs,
  // whatever the number of finished ones.
  Result<TenantJobCounts> tenantCounts(const std::string& tenant);

  // Returns the job's events, oldest first. Errors: notFound for an unknown job.
  Result<std::vector<JobEvent>> events(const std::string& job_id);

 private:
  std::int64_t now() const;

  store::Database& db_;
  JobStoreOptions options_;
};

}  // namespace smmhub::jobs
