// Reading jobs, batches and events from their SQL rows. SOCI converts each
// column to the bound variable's type, whatever type the back end reports.
#include <soci/soci.h>

#include "jobs/internal.h"
#include "store/prepared.h"
#include "store/statement.h"

namespace smmhub::jobs::internal {
namespace {

constexpr std::string_view kJobColumns =
    "SELECT id, batch_id, tenant, row_number, row_data, output_name, priority, state, attempts, "
    "max_attempts, next_try_at_ms, last_error, fencing_token, worker, output_path, "
    "created_at_ms, updated_at_ms FROM jobs ";

constexpr std::string_view kBatchColumns =
    "SELECT id, tenant, idempotency_key, template_path, data_path, brand_dir, storage_dir, "
    "priority, job_count, created_at_ms, cancelled_at_ms, video_price FROM batches ";

// A jobs row with its numbers as std::int64_t and its state as text.
struct JobRow {
  Job job;
  std::string state;
  std::int64_t row = 0;
  std::int64_t attempts = 0;
  std::int64_t max_attempts = 0;
  std::int64_t next_try_at_ms = 0;
  std::int64_t fencing_token = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(job.id));
    statement.exchange(soci::into(job.batch_id));
    statement.exchange(soci::into(job.tenant));
    statement.exchange(soci::into(row));
    statement.exchange(soci::into(job.row_json));
    statement.exchange(soci::into(job.output_name));
    statement.exchange(soci::into(job.priority));
    statement.exchange(soci::into(state));
    statement.exchange(soci::into(attempts));
    statement.exchange(soci::into(max_attempts));
    statement.exchange(soci::into(next_try_at_ms));
    statement.exchange(soci::into(job.last_error));
    statement.exchange(soci::into(fencing_token));
    statement.exchange(soci::into(job.worker));
    statement.exchange(soci::into(job.output_path));
    statement.exchange(soci::into(created_at_ms));
    statement.exchange(soci::into(updated_at_ms));
  }

  Result<Job> take() const {
    Result<JobState> parsed = parseJobState(state);
    if (!parsed.ok()) {
      return Status::dataLoss("job " + job.id + ": " + parsed.status().message());
    }
    Job copy = job;
    copy.state = *parsed;
    copy.row = static_cast<int>(row);
    copy.attempts = static_cast<int>(attempts);
    copy.max_attempts = static_cast<int>(max_attempts);
    copy.next_try_at_ms = next_try_at_ms;
    copy.fencing_token = fencing_token;
    copy.created_at_ms = created_at_ms;
    copy.updated_at_ms = updated_at_ms;
    return copy;
  }
};

struct BatchById {
  static std::string query() { return std::string(kBatchColumns) + "WHERE id = :id"; }

  std::string id;
  BatchRow row;

  void bind(soci::statement& statement) {
    row.bind(statement);
    statement.exchange(soci::use(id));
  }
};

struct JobsOfBatch {
  static std::string query() {
    return std::string(kJobColumns) + "WHERE batch_id = :batch_id ORDER BY row_number";
  }

  std::string batch_id;
  JobRow row;

  void bind(soci::statement& statement) {
    row.bind(statement);
    statement.exchange(soci::use(batch_id));
  }
};

}  // namespace

void BatchRow::assign(const Batch& from) {
  batch = from;
  job_count = from.job_count;
  created_at_ms = from.created_at_ms;
  cancelled_at_ms = from.cancelled_at_ms;
  video_price = from.video_price;
}

void BatchRow::bind(soci::statement& statement) {
  statement.exchange(soci::into(batch.id));
  statement.exchange(soci::into(batch.tenant));
  statement.exchange(soci::into(batch.idempotency_key));
  statement.exchange(soci::into(batch.template_path));
  statement.exchange(soci::into(batch.data_path));
  statement.exchange(soci::into(batch.brand_dir));
  statement.exchange(soci::into(batch.storage_dir));
  statement.exchange(soci::into(batch.priority));
  statement.exchange(soci::into(job_count));
  statement.exchange(soci::into(created_at_ms));
  statement.exchange(soci::into(cancelled_at_ms));
  statement.exchange(soci::into(video_price));
}

Batch BatchRow::take() const {
  Batch copy = batch;
  copy.job_count = static_cast<int>(job_count);
  copy.created_at_ms = created_at_ms;
  copy.cancelled_at_ms = cancelled_at_ms;
  copy.video_price = video_price;
  return copy;
}

std::string lockSuffix(store::Backend backend) {
  return backend == store::Backend::kPostgresql ? " FOR UPDATE" : "";
}

Result<std::vector<Job>> selectJobs(soci::session& sql, const std::string& clause,
                                    const std::string* key) {
  JobRow row;
  soci::statement statement(sql);
  row.bind(statement);
  if (key != nullptr) {
    statement.exchange(soci::use(*key));
  }
  statement.alloc();
  statement.prepare(std::string(kJobColumns) + clause, soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();

  std::vector<Job> jobs;
  while (statement.fetch()) {
    SMMHUB_ASSIGN_OR_RETURN(Job job, row.take());
    jobs.push_back(std::move(job));
  }
  return jobs;
}

Result<std::vector<Batch>> selectBatches(soci::session& sql, const std::string& clause,
                                         const std::vector<const std::string*>& parameters) {
  BatchRow row;
  soci::statement statement(sql);
  row.bind(statement);
  for (const std::string* parameter : parameters) {
    statement.exchange(soci::use(*parameter));
  }
  statement.alloc();
  statement.prepare(std::string(kBatchColumns) + clause, soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();

  std::vector<Batch> batches;
  while (statement.fetch()) {
    batches.push_back(row.take());
  }
  return batches;
}

std::optional<Batch> selectBatch(soci::session& sql, const std::string& batch_id) {
  store::Prepared<BatchById> select(sql);
  select->id = batch_id;
  if (!select.execute(true)) {
    return std::nullopt;
  }
  return select->row.take();
}

Result<std::vector<Job>> selectBatchJobs(soci::session& sql, const std::string& batch_id) {
  store::Prepared<JobsOfBatch> select(sql);
  select->batch_id = batch_id;
  select.execute(false);
  std::vector<Job> jobs;
  while (select.fetch()) {
    SMMHUB_ASSIGN_OR_RETURN(Job job, select->row.take());
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<JobEvent> selectEvents(soci::session& sql, const std::string& job_id) {
  JobEvent event;
  std::int64_t id = 0;
  std::int64_t at_ms = 0;
  std::int64_t attempt = 0;
  soci::statement select =
      store::runOnce(sql,
                     "SELECT id, job_id, batch_id, tenant, from_state, to_state, at_ms, attempt, "
                     "worker, error FROM job_events WHERE job_id = :job_id ORDER BY id",
                     soci::into(id), soci::into(event.job_id), soci::into(event.batch_id),
                     soci::into(event.tenant), soci::into(event.from_state),
                     soci::into(event.to_state), soci::into(at_ms), soci::into(attempt),
                     soci::into(event.worker), soci::into(event.error), soci::use(job_id));
  select.execute();

  std::vector<JobEvent> events;
  while (select.fetch()) {
    JobEvent copy = event;
    copy.id = id;
    copy.at_ms = at_ms;
    copy.attempt = static_cast<int>(attempt);
    events.push_back(std::move(copy));
  }
  return events;
}

}  // namespace smmhub::jobs::internal
