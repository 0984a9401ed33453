// The SQL rows of the job store, shared by the files of src/jobs and not for
// use outside it. The select functions throw soci::soci_error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/job_store.h"
#include "store/database.h"

namespace soci {
class session;
class statement;
}  // namespace soci

namespace smmhub::jobs::internal {

// A batches row with its BIGINT columns as std::int64_t, the type SOCI binds.
struct BatchRow {
  Batch batch;
  std::int64_t job_count = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t cancelled_at_ms = 0;
  std::int64_t video_price = 1;

  void assign(const Batch& from);
  void bind(soci::statement& statement);
  Batch take() const;
};

// Returns " FOR UPDATE" on PostgreSQL, which locks the selected rows until
// the transaction ends. SQLite has no row locks; a write transaction there
// holds the whole database from its start.
std::string lockSuffix(store::Backend backend);

// Returns the jobs that "SELECT <columns> FROM jobs " + CLAUSE selects, with
// KEY bound to CLAUSE's one parameter unless it is null. Errors: dataLoss
// for a row whose state is unknown.
Result<std::vector<Job>> selectJobs(soci::session& sql, const std::string& clause,
                                    const std::string* key);

// Returns the batches that "SELECT <columns> FROM batches " + CLAUSE selects,
// with PARAMETERS bound in order.
Result<std::vector<Batch>> selectBatches(soci::session& sql, const std::string& clause,
                                         const std::vector<const std::string*>& parameters);

// Returns the batch BATCH_ID, or nothing. The statement is prepared once per
// pooled session (store/prepared.h), because every batch page runs it.
std::optional<Batch> selectBatch(soci::session& sql, const std::string& batch_id);

// Returns BATCH_ID's jobs in row order, with a statement prepared once per
// pooled session. Errors: dataLoss for a row whose state is unknown.
Result<std::vector<Job>> selectBatchJobs(soci::session& sql, const std::string& batch_id);

// Returns JOB_ID's events, oldest first.
std::vector<JobEvent> selectEvents(soci::session& sql, const std::string& job_id);

}  // namespace smmhub::jobs::internal
