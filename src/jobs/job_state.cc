// The job states, their names in SQL and the changes allowed between them.
#include <array>
#include <string>

#include "jobs/job_store.h"

namespace smmhub::jobs {
namespace {

struct StateName {
  JobState state;
  std::string_view name;
};

constexpr std::array<StateName, 6> kStateNames = {{
    {JobState::kQueued, "queued"},
    {JobState::kActive, "active"},
    {JobState::kCompleted, "completed"},
    {JobState::kFailed, "failed"},
    {JobState::kRetrying, "retrying"},
    {JobState::kCancelled, "cancelled"},
}};

}  // namespace

std::string_view jobStateName(JobState state) {
  for (const StateName& entry : kStateNames) {
    if (entry.state == state) {
      return entry.name;
    }
  }
  return "unknown";
}

Result<JobState> parseJobState(std::string_view name) {
  for (const StateName& entry : kStateNames) {
    if (entry.name == name) {
      return entry.state;
    }
  }
  return Status::invalidArgument("job state '" + std::string(name) +
                                 "' is unknown; expected queued, active, completed, failed, "
                                 "retrying or cancelled");
}

bool isTerminal(JobState state) {
  return state == JobState::kCompleted || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

bool allowedTransition(JobState from, JobState to) {
  switch (to) {
    case JobState::kActive:
      return from == JobState::kQueued || from == JobState::kRetrying;
    case JobState::kCompleted:
    case JobState::kFailed:
    case JobState::kRetrying:
      return from == JobState::kActive;
    case JobState::kCancelled:
      return !isTerminal(from);
    case JobState::kQueued:
      // A worker hands an active job back; a failed job is retried by hand.
      return from == JobState::kActive || from == JobState::kFailed;
  }
  return false;
}

}  // namespace smmhub::jobs
