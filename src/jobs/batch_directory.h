// The credit reaper's view of batches: credits for a batch are held under the
// batch id, so the reaper checks whether a batch still runs before it releases
// the hold.
#pragma once

#include <string>

#include "credits/reaper.h"
#include "store/database.h"

namespace smmhub::jobs {

// A credits::JobDirectory over the job store's tables. A batch is
//   - active while any of its jobs is queued, active or retrying, also
//     after a cancel that left a job in delivery to complete,
//   - cancelled once cancelBatch() ran on it and no job is left to run,
//   - finished when none of its jobs is left to run,
//   - missing when the tenant has no batch with that id, which includes a
//     batch of another tenant.
// A database error is returned as the error, never as a state.
class BatchDirectory : public credits::JobDirectory {
 public:
  explicit BatchDirectory(store::Database& db) : db_(db) {}

  Result<credits::JobState> state(const std::string& tenant, const std::string& job) override;

 private:
  store::Database& db_;
};

}  // namespace smmhub::jobs
