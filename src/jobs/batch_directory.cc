#include "jobs/batch_directory.h"

#include <soci/soci.h>

#include <vector>

namespace smmhub::jobs {

Result<credits::JobState> BatchDirectory::state(const std::string& tenant, const std::string& job) {
  credits::JobState state = credits::JobState::kMissing;
  Status status = db_.read([&](soci::session& sql) -> Status {
    // A batch of another tenant is missing, like an unknown id, so the
    // result reveals nothing about other tenants' batches.
    std::int64_t cancelled_at_ms = 0;
    sql << "SELECT cancelled_at_ms FROM batches WHERE id = :id AND tenant = :tenant",
        soci::into(cancelled_at_ms), soci::use(job), soci::use(tenant);
    if (!sql.got_data()) {
      state = credits::JobState::kMissing;
      return okStatus();
    }

    // A cancelled batch can still have jobs whose delivery had started at
    // the cancel, and their charges take the batch's hold.
    std::int64_t running = 0;
    sql << "SELECT COUNT(*) FROM jobs WHERE batch_id = :id AND state IN ('queued', 'active', "
           "'retrying')",
        soci::into(running), soci::use(job);
    if (running > 0) {
      state = credits::JobState::kActive;
    } else {
      state = cancelled_at_ms != 0 ? credits::JobState::kCancelled : credits::JobState::kFinished;
    }
    return okStatus();
  });
  if (!status.ok()) {
    return status.withContext("state of batch " + job + " of tenant " + tenant);
  }
  return state;
}

}  // namespace smmhub::jobs
