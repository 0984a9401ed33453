// Releases holds whose job is gone. The reaper looks up each holding job's
// state in the job store and releases the hold only when the job is
// finished, cancelled or missing. A job whose lookup fails keeps its hold.
//
// A job must be stored before credits are reserved for it, so that a job
// the store lacks is one that is gone, not one still being made.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "credits/credits.h"

namespace smmhub::credits {

enum class JobState {
  kActive,
  kFinished,
  kCancelled,
  kMissing
};

class JobDirectory {
 public:
  virtual ~JobDirectory() = default;
  // The state of TENANT's JOB. An error means the state is unknown.
  virtual Result<JobState> state(const std::string& tenant, const std::string& job) = 0;
};

struct ReapReport {
  std::size_t holds_checked = 0;
  std::size_t holds_released = 0;
  std::int64_t credits_released = 0;
  std::vector<std::string> unknown;  // "TENANT/JOB: why", kept for the next run
};

// Checks every job hold of every tenant with counters; the hold without a
// job (made by hand) is left alone.
Result<ReapReport> reapHolds(Credits& credits, JobDirectory& jobs);

}  // namespace smmhub::credits
