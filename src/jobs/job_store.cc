#include "jobs/job_store.h"

#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/log.h"
#include "common/tenant.h"
#include "jobs/internal.h"
#include "store/prepared.h"
#include "store/statement.h"

namespace smmhub::jobs {
namespace {

using internal::BatchRow;
using internal::lockSuffix;
using internal::selectBatches;
using internal::selectJobs;

// The maximum length of an idempotency key, in bytes.
constexpr std::size_t kMaxIdempotencyKey = 256;

constexpr JobState kClaimable[] = {JobState::kQueued, JobState::kRetrying};
constexpr JobState kClaimed[] = {JobState::kActive};
constexpr JobState kFailedOnly[] = {JobState::kFailed};
constexpr JobState kCancellable[] = {JobState::kQueued, JobState::kRetrying, JobState::kActive};

std::int64_t systemMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool contains(std::span<const JobState> states, JobState state) {
  return std::find(states.begin(), states.end(), state) != states.end();
}

// The verb of a change to TO, for messages: "cannot complete: ...".
std::string_view verbFor(JobState to) {
  switch (to) {
    case JobState::kActive:
      return "claim";
    case JobState::kCompleted:
      return "complete";
    case JobState::kFailed:
    case JobState::kRetrying:
      return "fail";
    case JobState::kCancelled:
      return "cancel";
    case JobState::kQueued:
      return "queue again";
  }
  return "change";
}

Status checkJobs(const std::vector<JobSpec>& jobs) {
  if (jobs.empty()) {
    return Status::invalidArgument("jobs: the batch has no jobs; give at least one data row");
  }
  std::set<int> rows;
  std::map<std::string, int> outputs;
  for (const JobSpec& job : jobs) {
    std::string where = "job row " + std::to_string(job.row) + ": ";
    if (job.row < 1) {
      return Status::invalidArgument(where + "row must be 1 or more");
    }
    if (!rows.insert(job.row).second) {
      return Status::invalidArgument(where + "row appears twice in the batch");
    }
    if (job.output_name.empty()) {
      return Status::invalidArgument(where + "output_name is empty");
    }
    // The output is written into the batch's storage folder, never beside it.
    if (job.output_name.find('/') != std::string::npos || job.output_name == "." ||
        job.output_name == "..") {
      return Status::invalidArgument(where + "output_name '" + job.output_name +
                                     "' must be a file name, without '/'");
    }
    auto [previous, inserted] = outputs.emplace(job.output_name, job.row);
    if (!inserted) {
      return Status::invalidArgument(where + "output_name '" + job.output_name +
                                     "' is also the output of row " +
                                     std::to_string(previous->second));
    }
    nlohmann::json fields = nlohmann::json::parse(job.row_json, nullptr, false);
    if (!fields.is_object()) {
      return Status::invalidArgument(where + "row_json is not a JSON object");
    }
  }
  return okStatus();
}

Status checkBatch(const BatchSpec& spec, const std::vector<JobSpec>& jobs) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(spec.tenant));
  if (spec.idempotency_key.empty()) {
    return Status::invalidArgument(
        "idempotency_key is empty; give each batch request a key, such as the request's id");
  }
  if (spec.idempotency_key.size() > kMaxIdempotencyKey) {
    return Status::invalidArgument(
        "idempotency_key is " + std::to_string(spec.idempotency_key.size()) +
        " bytes long; the maximum is " + std::to_string(kMaxIdempotencyKey));
  }
  for (const auto& [field, value] :
       {std::pair{"template_path", &spec.template_path}, std::pair{"data_path", &spec.data_path},
        std::pair{"storage_dir", &spec.storage_dir}}) {
    if (value->empty()) {
      return Status::invalidArgument(std::string(field) + " is empty");
    }
  }
  if (spec.priority != "normal" && spec.priority != "high") {
    return Status::invalidArgument("priority '" + spec.priority +
                                   "' is invalid; expected normal or high");
  }
  if (spec.max_attempts < 1) {
    return Status::invalidArgument("max_attempts " + std::to_string(spec.max_attempts) +
                                   " is invalid; expected 1 or more");
  }
  if (spec.video_price < 1) {
    return Status::invalidArgument("video_price " + std::to_string(spec.video_price) +
                                   " is invalid; expected 1 credit or more");
  }
  if (spec.max_unfinished_jobs < 0) {
    return Status::invalidArgument("max_unfinished_jobs " +
                                   std::to_string(spec.max_unfinished_jobs) +
                                   " is invalid; expected 0 (no limit) or more");
  }
  return checkJobs(jobs);
}

// Returns the first field in which a repeated request differs from the
// batch its idempotency key made, or an empty string.
std::string differenceFrom(const Batch& batch, const BatchSpec& spec, std::size_t job_count) {
  for (const auto& [field, stored, requested] :
       {std::tuple{"template_path", &batch.template_path, &spec.template_path},
        std::tuple{"data_path", &batch.data_path, &spec.data_path},
        std::tuple{"brand_dir", &batch.brand_dir, &spec.brand_dir},
        std::tuple{"storage_dir", &batch.storage_dir, &spec.storage_dir},
        std::tuple{"priority", &batch.priority, &spec.priority}}) {
    if (*stored != *requested) {
      return std::string(field) + " is '" + *stored + "' there and '" + *requested + "' here";
    }
  }
  if (static_cast<std::size_t>(batch.job_count) != job_count) {
    return "it has " + std::to_string(batch.job_count) + " jobs and this request " +
           std::to_string(job_count);
  }
  return "";
}

// Returns why changing JOB from one of FROM to TO with DETAILS is rejected,
// or an empty string when it may happen.
std::string rejectionOf(const Job& job, std::span<const JobState> from, JobState to,
                        const TransitionDetails& details) {
  std::string state_error =
      "cannot " + std::string(verbFor(to)) + ": state is " + std::string(jobStateName(job.state));
  // A claim brings a fresh token, which must be higher than every one granted.
  if (to == JobState::kActive) {
    if (!contains(from, job.state)) {
      return state_error;
    }
    if (details.fencing_token && *details.fencing_token <= job.fencing_token) {
      return "fencing token " + std::to_string(*details.fencing_token) +
             " is stale, the job was granted " + std::to_string(job.fencing_token) + " before";
    }
    return "";
  }

  // Any other change must bring the token of the current claim.
  if (details.fencing_token && *details.fencing_token != job.fencing_token) {
    std::string token = "fencing token " + std::to_string(*details.fencing_token);
    std::string current =
        job.state == JobState::kActive ? "the job is claimed with " : "the job's last claim has ";
    current += std::to_string(job.fencing_token);
    return token +
           (*details.fencing_token < job.fencing_token ? " is stale, " : " was never granted, ") +
           current;
  }
  return contains(from, job.state) ? "" : state_error;
}

// Writes AFTER over BEFORE, on the condition that the row still contains
// BEFORE's state, token and attempts. Throws soci::soci_error.
Status updateJob(soci::session& sql, const Job& before, const Job& after) {
  std::string state(jobStateName(after.state));
  std::string old_state(jobStateName(before.state));
  std::int64_t attempts = after.attempts;
  std::int64_t old_attempts = before.attempts;
  std::int64_t token = after.fencing_token;
  std::int64_t old_token = before.fencing_token;
  std::int64_t next_try_at_ms = after.next_try_at_ms;
  std::int64_t updated_at_ms = after.updated_at_ms;
  soci::statement update = store::runOnce(
      sql,
      "UPDATE jobs SET state = :state, attempts = :attempts, fencing_token = "
      ":token, worker = :worker, last_error = :error, next_try_at_ms = :next, "
      "output_path = :output, updated_at_ms = :updated WHERE id = :id AND "
      "state = :old_state AND fencing_token = :old_token AND attempts = "
      ":old_attempts",
      soci::use(state), soci::use(attempts), soci::use(token), soci::use(after.worker),
      soci::use(after.last_error), soci::use(next_try_at_ms), soci::use(after.output_path),
      soci::use(updated_at_ms), soci::use(after.id), soci::use(old_state), soci::use(old_token),
      soci::use(old_attempts));
  update.execute(true);
  if (update.get_affected_rows() != 1) {
    // The row is locked (PostgreSQL) or the database is (SQLite), so no
    // other transaction can have changed it since it was read.
    return Status::unavailable("job " + after.id +
                               ": changed by another transaction during a change; try again");
  }
  return okStatus();
}

// Appends the event of a change from FROM_STATE (empty for a new job) to
// JOB's state. Throws soci::soci_error.
void insertEvent(soci::session& sql, const Job& job, std::string_view from_state,
                 std::int64_t at_ms, const std::string& error) {
  std::string from(from_state);
  std::string to(jobStateName(job.state));
  std::int64_t at = at_ms;
  std::int64_t attempt = job.attempts;
  sql << "INSERT INTO job_events (job_id, batch_id, tenant, from_state, to_state, at_ms, attempt, "
         "worker, error) VALUES (:job_id, :batch_id, :tenant, :from_state, :to_state, :at_ms, "
         ":attempt, :worker, :error)",
      soci::use(job.id), soci::use(job.batch_id), soci::use(job.tenant), soci::use(from),
      soci::use(to), soci::use(at), soci::use(attempt), soci::use(job.worker), soci::use(error);
}

// The outcome of one compare-and-set of a job.
struct Change {
  bool done = false;
  std::string rejection;              // why the change did not happen
  Job job;                            // after the change, or as found when rejected
  JobState from = JobState::kQueued;  // the state as found
};

// A change of a job's state from one of FROM to TO.
struct ChangeRequest {
  std::span<const JobState> from;
  JobState to = JobState::kQueued;
  TransitionDetails details;
};

// Applies REQUEST to JOB_ID inside the caller's transaction. Throws
// soci::soci_error.
Result<Change> changeJob(soci::session& sql, store::Backend backend, const std::string& job_id,
                         const ChangeRequest& request, std::int64_t now_ms) {
  const auto& [from, to, details] = request;
  SMMHUB_ASSIGN_OR_RETURN(std::vector<Job> found,
                          selectJobs(sql, "WHERE id = :id" + lockSuffix(backend), &job_id));
  if (found.empty()) {
    return Status::notFound("job " + job_id + ": not found");
  }
  Change change{.job = found.front(), .from = found.front().state};
  change.rejection = rejectionOf(change.job, from, to, details);
  if (!change.rejection.empty()) {
    return change;
  }

  Job after = change.job;
  after.state = to;
  after.updated_at_ms = now_ms;
  if (to == JobState::kActive) {
    after.attempts += 1;
    after.fencing_token = details.fencing_token.value_or(after.fencing_token);
    // A new claim has not started to deliver: a cancel stops it again.
    after.output_path.clear();
  } else if (to == JobState::kQueued) {
    // A job handed back does not count the attempt it gave up; a failed job
    // retried by hand starts its attempts again.
    after.attempts = change.job.state == JobState::kActive ? std::max(0, after.attempts - 1) : 0;
  }
  after.next_try_at_ms = to == JobState::kRetrying ? details.next_try_at_ms.value_or(now_ms) : 0;
  if (!details.worker.empty()) {
    after.worker = details.worker;
  }
  if (!details.error.empty()) {
    after.last_error = details.error;
  }
  if (!details.output_path.empty()) {
    after.output_path = details.output_path;
  }

  SMMHUB_RETURN_IF_ERROR(updateJob(sql, change.job, after));
  insertEvent(sql, after, jobStateName(change.job.state), now_ms, details.error);
  change.done = true;
  change.job = std::move(after);
  return change;
}

// Returns the batch with BATCH_ID, or notFound. Throws soci::soci_error.
Result<Batch> findBatch(soci::session& sql, const std::string& batch_id) {
  std::optional<Batch> batch = internal::selectBatch(sql, batch_id);
  if (!batch) {
    return Status::notFound("batch " + batch_id + ": not found");
  }
  return *std::move(batch);
}

// Returns the ids of BATCH_ID's jobs in row order. Throws soci::soci_error.
std::vector<std::string> jobIds(soci::session& sql, const std::string& batch_id) {
  std::vector<std::string> ids;
  std::string id;
  soci::statement select = store::runOnce(sql,
                                          "SELECT id FROM jobs WHERE batch_id = :batch_id "
                                          "ORDER BY row_number",
                                          soci::into(id), soci::use(batch_id));
  select.execute();
  while (select.fetch()) {
    ids.push_back(id);
  }
  return ids;
}

// Reads BATCH_ID's jobs in row order into JOBS. Throws soci::soci_error.
Status readBatchJobs(soci::session& sql, const std::string& batch_id, std::vector<Job>& jobs) {
  SMMHUB_RETURN_IF_ERROR(findBatch(sql, batch_id));
  SMMHUB_ASSIGN_OR_RETURN(jobs, internal::selectBatchJobs(sql, batch_id));
  return okStatus();
}

int& counterFor(BatchSummary& summary, JobState state) {
  switch (state) {
    case JobState::kQueued:
      return summary.queued;
    case JobState::kActive:
      return summary.active;
    case JobState::kCompleted:
      return summary.completed;
    case JobState::kFailed:
      return summary.failed;
    case JobState::kRetrying:
      return summary.retrying;
    case JobState::kCancelled:
      return summary.cancelled;
  }
  return summary.queued;
}

// Jobs per state of a batch. Every batch in the dashboard's list runs it.
struct BatchStateCounts {
  static std::string query() {
    return "SELECT state, COUNT(*), SUM(fencing_token) FROM jobs WHERE batch_id = :batch_id "
           "GROUP BY state";
  }

  std::string batch_id;
  std::string state;
  std::int64_t count = 0;
  std::int64_t tokens = 0;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(state));
    statement.exchange(soci::into(count));
    statement.exchange(soci::into(tokens));
    statement.exchange(soci::use(batch_id));
  }
};

// Counts BATCH_ID's jobs per state into SUMMARY. Throws soci::soci_error.
Status countStates(soci::session& sql, const std::string& batch_id, BatchSummary& summary) {
  SMMHUB_RETURN_IF_ERROR(findBatch(sql, batch_id));
  store::Prepared<BatchStateCounts> select(sql);
  select->batch_id = batch_id;
  select.execute(false);
  while (select.fetch()) {
    SMMHUB_ASSIGN_OR_RETURN(JobState parsed, parseJobState(select->state));
    counterFor(summary, parsed) = static_cast<int>(select->count);
    summary.total += static_cast<int>(select->count);
    summary.token_sum += select->tokens;
  }
  return okStatus();
}

// Unfinished jobs per state of a tenant, which the status call reads on
// each poll.
struct TenantStateCounts {
  static std::string query() {
    return "SELECT state, COUNT(*) FROM jobs WHERE tenant = :tenant AND state IN "
           "('queued', 'retrying', 'active') GROUP BY state";
  }

  std::string tenant;
  std::string state;
  std::int64_t count = 0;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(state));
    statement.exchange(soci::into(count));
    statement.exchange(soci::use(tenant));
  }
};

// Jobs per INSERT statement of insertJobs(): 10 parameters each, 2,500 in
// all, well inside SQLite's limit of 32,766 parameters a statement.
constexpr std::size_t kJobsPerInsert = 250;

// Inserts BATCH's jobs, queued, and their creation events. Returns their ids
// in the order of JOBS. The jobs go in a few multi-row statements and the
// events in one, so that a batch costs a few round trips, not two per job.
// Throws soci::soci_error.
std::vector<std::string> insertJobs(soci::session& sql, const Batch& batch, int max_attempts,
                                    const std::vector<JobSpec>& jobs) {
  std::vector<std::string> ids;
  ids.reserve(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    ids.push_back(randomId("j-"));
  }
  std::int64_t max = max_attempts;
  for (std::size_t first = 0; first < jobs.size(); first += kJobsPerInsert) {
    std::size_t last = std::min(jobs.size(), first + kJobsPerInsert);
    std::string query =
        "INSERT INTO jobs (id, row_number, row_data, output_name, batch_id, tenant, priority, "
        "state, max_attempts, created_at_ms, updated_at_ms) VALUES ";
    soci::statement insert(sql);
    for (std::size_t i = first; i < last; ++i) {
      // Each placeholder has a name of its own: SQLite binds repeated
      // names as one parameter.
      query += fmt::format(
          "{0}(:id{1}, :row{1}, :data{1}, :name{1}, :batch{1}, :tenant{1}, :priority{1}, "
          "'queued', :attempts{1}, :created{1}, :updated{1})",
          i == first ? "" : ", ", i);
      insert.exchange(soci::use(ids[i]));
      insert.exchange(soci::use(jobs[i].row));
      insert.exchange(soci::use(jobs[i].row_json));
      insert.exchange(soci::use(jobs[i].output_name));
      insert.exchange(soci::use(batch.id));
      insert.exchange(soci::use(batch.tenant));
      insert.exchange(soci::use(batch.priority));
      insert.exchange(soci::use(max));
      insert.exchange(soci::use(batch.created_at_ms));
      insert.exchange(soci::use(batch.created_at_ms));
    }
    insert.alloc();
    insert.prepare(query, soci::details::st_one_time_query);
    insert.define_and_bind();
    insert.execute(true);
  }
  sql << "INSERT INTO job_events (job_id, batch_id, tenant, from_state, to_state, at_ms, attempt, "
         "worker, error) SELECT id, batch_id, tenant, '', 'queued', created_at_ms, 0, '', '' FROM "
         "jobs WHERE batch_id = :batch_id ORDER BY row_number",
      soci::use(batch.id);
  return ids;
}

}  // namespace

JobStore::JobStore(store::Database& db, JobStoreOptions options)
    : db_(db), options_(std::move(options)) {
  if (!options_.clock) {
    options_.clock = systemMillis;
  }
}

std::int64_t JobStore::now() const {
  return options_.clock();
}

Result<CreatedBatch> JobStore::createBatch(const BatchSpec& spec,
                                           const std::vector<JobSpec>& jobs) {
  SMMHUB_RETURN_IF_ERROR(checkBatch(spec, jobs));

  CreatedBatch result;
  Status status = db_.write([&](soci::session& sql) -> Status {
    result = {};
    Batch batch{.id = randomId("b-"),
                .tenant = spec.tenant,
                .idempotency_key = spec.idempotency_key,
                .template_path = spec.template_path,
                .data_path = spec.data_path,
                .brand_dir = spec.brand_dir,
                .storage_dir = spec.storage_dir,
                .priority = spec.priority,
                .job_count = static_cast<int>(jobs.size()),
                .created_at_ms = now(),
                .video_price = spec.video_price};
    BatchRow row;
    row.assign(batch);
    soci::statement insert = store::runOnce(
        sql,
        "INSERT INTO batches (id, tenant, idempotency_key, template_path, "
        "data_path, brand_dir, storage_dir, priority, job_count, created_at_ms, "
        "cancelled_at_ms, video_price, campaign_id) VALUES (:id, :tenant, :key, :template_path, "
        ":data_path, :brand_dir, :storage_dir, :priority, :job_count, "
        ":created_at_ms, 0, :video_price, :campaign_id) "
        "ON CONFLICT (tenant, idempotency_key) DO NOTHING",
        soci::use(row.batch.id), soci::use(row.batch.tenant), soci::use(row.batch.idempotency_key),
        soci::use(row.batch.template_path), soci::use(row.batch.data_path),
        soci::use(row.batch.brand_dir), soci::use(row.batch.storage_dir),
        soci::use(row.batch.priority), soci::use(row.job_count), soci::use(row.created_at_ms),
        soci::use(row.video_price), soci::use(spec.campaign_id));
    insert.execute(true);

    // The key was used before: return that batch when this is the same
    // request, and reject a different request under the same key.
    if (insert.get_affected_rows() == 0) {
      SMMHUB_ASSIGN_OR_RETURN(
          std::vector<Batch> existing,
          selectBatches(sql, "WHERE tenant = :tenant AND idempotency_key = :key",
                        {&spec.tenant, &spec.idempotency_key}));
      if (existing.empty()) {
        return Status::unavailable("batch with idempotency key '" + spec.idempotency_key +
                                   "' of tenant " + spec.tenant +
                                   ": the insert conflicted but no batch has the key; try again");
      }
      std::string difference = differenceFrom(existing.front(), spec, jobs.size());
      if (!difference.empty()) {
        return Status(StatusCode::kAlreadyExists,
                      "idempotency key '" + spec.idempotency_key + "' of tenant " + spec.tenant +
                          " already made batch " + existing.front().id +
                          " for another request: " + difference + "; use a new key");
      }
      result.batch_id = existing.front().id;
      result.job_ids = jobIds(sql, result.batch_id);
      return okStatus();
    }

    if (spec.max_unfinished_jobs > 0) {
      std::int64_t unfinished = 0;
      sql << "SELECT COUNT(*) FROM jobs WHERE tenant = :tenant AND state IN "
             "('queued', 'retrying', 'active')",
          soci::into(unfinished), soci::use(spec.tenant);
      if (unfinished + static_cast<std::int64_t>(jobs.size()) > spec.max_unfinished_jobs) {
        return Status::resourceExhausted(fmt::format(
            "tenant {} has {} videos queued or rendering, and {} more would pass its limit of {}; "
            "wait for some to finish or cancel a batch",
            spec.tenant, unfinished, jobs.size(), spec.max_unfinished_jobs));
      }
    }
    result.batch_id = batch.id;
    result.created = true;
    result.job_ids = insertJobs(sql, batch, spec.max_attempts, jobs);
    return okStatus();
  });
  SMMHUB_RETURN_IF_ERROR(status);

  logger("jobs")->info("batch {} tenant={} batch={} jobs={} priority={}",
                       result.created ? "created" : "repeated", spec.tenant, result.batch_id,
                       result.job_ids.size(), spec.priority);
  return result;
}

Result<bool> JobStore::transition(const std::string& job_id, std::span<const JobState> from,
                                  JobState to, const TransitionDetails& details) {
  for (JobState state : from) {
    if (!allowedTransition(state, to)) {
      return Status::invalidArgument("job " + job_id + ": a change from " +
                                     std::string(jobStateName(state)) + " to " +
                                     std::string(jobStateName(to)) + " is not allowed");
    }
  }

  Change change;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(change,
                            changeJob(sql, db_.backend(), job_id, {from, to, details}, now()));
    return okStatus();
  }));
  logger("jobs")->debug("job change job={} to={} done={} reason=\"{}\"", job_id, jobStateName(to),
                        change.done, change.rejection);
  return change.done;
}

Result<Job> JobStore::claim(const std::string& job_id, const std::string& worker,
                            std::int64_t token, JobState* previous) {
  if (worker.empty()) {
    return Status::invalidArgument("job " + job_id + ": cannot claim: worker is empty");
  }
  Change change;
  JobState from_state = JobState::kQueued;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(
        change,
        changeJob(sql, db_.backend(), job_id,
                  {kClaimable, JobState::kActive, {.worker = worker, .fencing_token = token}},
                  now()));
    from_state = change.from;
    return okStatus();
  }));
  if (!change.done) {
    return Status::failedPrecondition("job " + job_id + ": " + change.rejection);
  }
  if (previous != nullptr) {
    *previous = from_state;
  }
  return change.job;
}

Status JobStore::complete(const std::string& job_id, std::int64_t token,
                          const std::string& output_path) {
  if (output_path.empty()) {
    return Status::invalidArgument("job " + job_id + ": cannot complete: output_path is empty");
  }
  Change change;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(
        change,
        changeJob(
            sql, db_.backend(), job_id,
            {kClaimed, JobState::kCompleted, {.fencing_token = token, .output_path = output_path}},
            now()));
    return okStatus();
  }));
  if (!change.done) {
    return Status::failedPrecondition("job " + job_id + ": " + change.rejection);
  }
  return okStatus();
}

Status JobStore::startDelivery(const std::string& job_id, std::int64_t token,
                               const std::string& output_path) {
  if (output_path.empty()) {
    return Status::invalidArgument("job " + job_id +
                                   ": cannot start the delivery: output_path is empty");
  }
  return db_.write([&](soci::session& sql) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(std::vector<Job> found,
                            selectJobs(sql, "WHERE id = :id" + lockSuffix(db_.backend()), &job_id));
    if (found.empty()) {
      return Status::notFound("job " + job_id + ": not found");
    }
    const Job& job = found.front();
    if (job.state != JobState::kActive || job.fencing_token != token) {
      return Status::failedPrecondition(fmt::format(
          "job {}: cannot start the delivery with token {}: the job is {} with token {}", job_id,
          token, jobStateName(job.state), job.fencing_token));
    }
    std::int64_t updated_at_ms = now();
    sql << "UPDATE jobs SET output_path = :output, updated_at_ms = :updated WHERE id = :id",
        soci::use(output_path), soci::use(updated_at_ms), soci::use(job_id);
    return okStatus();
  });
}

Status JobStore::recordRenderStats(const std::string& job_id, std::int64_t token,
                                   RenderStats stats) {
  if (stats.render_ms < 0 || stats.cache_hits < 0 || stats.cache_hits > stats.cache_lookups) {
    return Status::invalidArgument(
        fmt::format("job {}: invalid render figures: {} ms, {} cache hits of {} lookups", job_id,
                    stats.render_ms, stats.cache_hits, stats.cache_lookups));
  }
  return db_.write([&](soci::session& sql) -> Status {
    std::int64_t stored_token = 0;
    sql << "SELECT fencing_token FROM jobs WHERE id = :id", soci::into(stored_token),
        soci::use(job_id);
    if (!sql.got_data()) {
      return Status::notFound("job " + job_id + ": not found");
    }
    if (stored_token != token) {
      return Status::failedPrecondition(
          fmt::format("job {}: token {} is not the job's token {}", job_id, token, stored_token));
    }
    sql << "UPDATE jobs SET render_ms = :ms, cache_hits = :hits, cache_lookups = :lookups "
           "WHERE id = :id",
        soci::use(stats.render_ms), soci::use(stats.cache_hits), soci::use(stats.cache_lookups),
        soci::use(job_id);
    return okStatus();
  });
}

Result<JobState> JobStore::fail(const std::string& job_id, std::int64_t token,
                                const std::string& error, std::optional<std::int64_t> retry_at_ms) {
  if (error.empty()) {
    return Status::invalidArgument("job " + job_id + ": cannot fail: error is empty");
  }
  Change change;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    // The attempts decide between a retry and the end, so the job is read
    // in this transaction first; changeJob() checks the token and state.
    SMMHUB_ASSIGN_OR_RETURN(std::vector<Job> found,
                            selectJobs(sql, "WHERE id = :id" + lockSuffix(db_.backend()), &job_id));
    bool retry = retry_at_ms.has_value() && !found.empty() &&
                 found.front().attempts < found.front().max_attempts;
    SMMHUB_ASSIGN_OR_RETURN(
        change, changeJob(sql, db_.backend(), job_id,
                          {kClaimed,
                           retry ? JobState::kRetrying : JobState::kFailed,
                           {.error = error, .next_try_at_ms = retry_at_ms, .fencing_token = token}},
                          now()));
    return okStatus();
  }));
  if (!change.done) {
    return Status::failedPrecondition("job " + job_id + ": " + change.rejection);
  }
  return change.job.state;
}

Status JobStore::handBack(const std::string& job_id, std::int64_t token,
                          const std::string& reason) {
  if (reason.empty()) {
    return Status::invalidArgument("job " + job_id + ": cannot hand back: reason is empty");
  }
  Change change;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(
        change,
        changeJob(sql, db_.backend(), job_id,
                  {kClaimed, JobState::kQueued, {.error = reason, .fencing_token = token}}, now()));
    return okStatus();
  }));
  if (!change.done) {
    return Status::failedPrecondition("job " + job_id + ": " + change.rejection);
  }
  return okStatus();
}

Result<std::vector<std::string>> JobStore::retryFailed(const std::string& batch_id) {
  std::vector<std::string> queued;
  Status status = db_.write([&](soci::session& sql) -> Status {
    queued.clear();
    SMMHUB_ASSIGN_OR_RETURN(Batch batch, findBatch(sql, batch_id));
    if (batch.cancelled_at_ms != 0) {
      return Status::failedPrecondition("batch " + batch_id +
                                        ": cannot retry its failed jobs: the batch is cancelled");
    }
    SMMHUB_ASSIGN_OR_RETURN(
        std::vector<Job> failed,
        selectJobs(sql,
                   "WHERE batch_id = :batch_id AND state = 'failed' ORDER BY row_number" +
                       lockSuffix(db_.backend()),
                   &batch_id));
    const std::int64_t now_ms = now();
    for (const Job& job : failed) {
      SMMHUB_ASSIGN_OR_RETURN(
          Change change,
          changeJob(sql, db_.backend(), job.id, {kFailedOnly, JobState::kQueued, {}}, now_ms));
      if (change.done) {
        queued.push_back(job.id);
      }
    }
    return okStatus();
  });
  SMMHUB_RETURN_IF_ERROR(status);
  logger("jobs")->info("batch retry batch={} jobs_queued={}", batch_id, queued.size());
  return queued;
}

Result<std::vector<std::string>> JobStore::cancelBatch(const std::string& batch_id) {
  std::vector<std::string> active;
  int cancelled = 0;
  Status status = db_.write([&](soci::session& sql) -> Status {
    active.clear();
    cancelled = 0;
    SMMHUB_RETURN_IF_ERROR(findBatch(sql, batch_id));
    const std::int64_t now_ms = now();

    // PostgreSQL locks the rows in id order, the order of the result, so two
    // cancellations of one batch cannot deadlock. An active job with an
    // output path is being delivered (startDelivery()): its worker may have
    // charged the video already, so the job is left to complete.
    SMMHUB_ASSIGN_OR_RETURN(
        std::vector<Job> running,
        selectJobs(sql,
                   "WHERE batch_id = :batch_id AND (state IN ('queued', 'retrying') OR "
                   "(state = 'active' AND output_path = '')) ORDER BY id" +
                       lockSuffix(db_.backend()),
                   &batch_id));
    for (const Job& job : running) {
      SMMHUB_ASSIGN_OR_RETURN(
          Change change,
          changeJob(sql, db_.backend(), job.id, {kCancellable, JobState::kCancelled, {}}, now_ms));
      cancelled += change.done ? 1 : 0;
      if (change.done && job.state == JobState::kActive) {
        active.push_back(job.id);
      }
    }

    std::int64_t cancelled_at_ms = now_ms;
    sql << "UPDATE batches SET cancelled_at_ms = :at WHERE id = :id AND cancelled_at_ms = 0",
        soci::use(cancelled_at_ms), soci::use(batch_id);
    return okStatus();
  });
  SMMHUB_RETURN_IF_ERROR(status);

  logger("jobs")->info("batch cancelled batch={} jobs_cancelled={} jobs_active={}", batch_id,
                       cancelled, active.size());
  return active;
}

Result<std::vector<Job>> JobStore::unfinished() {
  std::vector<Job> jobs;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(jobs, selectJobs(sql,
                                             "WHERE state IN ('queued', 'active', 'retrying') "
                                             "ORDER BY next_try_at_ms, id",
                                             nullptr));
    return okStatus();
  }));
  return jobs;
}

Result<Job> JobStore::job(const std::string& job_id) {
  std::vector<Job> jobs;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(jobs, selectJobs(sql, "WHERE id = :id", &job_id));
    return okStatus();
  }));
  if (jobs.empty()) {
    return Status::notFound("job " + job_id + ": not found");
  }
  return jobs.front();
}

Result<Batch> JobStore::batch(const std::string& batch_id) {
  Result<Batch> batch = Status::internal("batch " + batch_id + ": not read");
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    batch = findBatch(sql, batch_id);
    return okStatus();
  }));
  return batch;
}

Result<std::vector<Job>> JobStore::batchJobs(const std::string& batch_id) {
  std::vector<Job> jobs;
  SMMHUB_RETURN_IF_ERROR(
      db_.read([&](soci::session& sql) { return readBatchJobs(sql, batch_id, jobs); }));
  return jobs;
}

Result<BatchSummary> JobStore::batchSummary(const std::string& batch_id) {
  BatchSummary summary{.batch_id = batch_id};
  SMMHUB_RETURN_IF_ERROR(
      db_.read([&](soci::session& sql) { return countStates(sql, batch_id, summary); }));
  return summary;
}

Result<TenantJobCounts> JobStore::tenantCounts(const std::string& tenant) {
  TenantJobCounts counts;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    store::Prepared<TenantStateCounts> select(sql);
    select->tenant = tenant;
    select.execute(false);
    while (select.fetch()) {
      (select->state == "active" ? counts.active : counts.queued) +=
          static_cast<int>(select->count);
    }
    return okStatus();
  }));
  return counts;
}

Result<std::vector<JobEvent>> JobStore::events(const std::string& job_id) {
  std::vector<JobEvent> events;
  bool found = false;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    std::int64_t jobs = 0;
    sql << "SELECT COUNT(*) FROM jobs WHERE id = :id", soci::into(jobs), soci::use(job_id);
    found = jobs > 0;
    events = internal::selectEvents(sql, job_id);
    return okStatus();
  }));
  if (!found) {
    return Status::notFound("job " + job_id + ": not found");
  }
  return events;
}

}  // namespace smmhub::jobs
