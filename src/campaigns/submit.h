// Submitting batches: the one path by which the CLI and the API turn rows
// into queued jobs with their credits held, and queue failed jobs again.
//
//   Submission submission{.store = store, .credits = credits, .broker = broker};
//   SMMHUB_ASSIGN_OR_RETURN(Submitted submitted, submitBatch(submission, spec, jobs, "user:42"));
//   if (submitted.outcome == SubmitOutcome::kShort) { ... submitted.shortfall ... }
//
// Credits are held under the batch id, and the credit reaper releases the
// hold of a batch the store lacks. So the batch is written first, to get its
// id, the hold is made next, and only then are the jobs pushed to Redis. A
// short balance or a failed push cancels a batch this call created, so no
// re-drive runs jobs without credits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/job_store.h"

namespace smmhub::broker {
class Broker;
}  // namespace smmhub::broker
namespace smmhub::credits {
class Credits;
}  // namespace smmhub::credits

namespace smmhub::campaigns {

struct Submission {
  jobs::JobStore& store;
  credits::Credits& credits;
  broker::Broker& broker;
};

enum class SubmitOutcome {
  kQueued,  // the jobs are queued with their credits held
  kShort,   // too few credits: nothing is queued
};

struct Submitted {
  SubmitOutcome outcome = SubmitOutcome::kQueued;
  std::string batch_id;
  // False when the idempotency key named a batch made before: that batch is
  // returned and nothing new is held or queued.
  bool created = false;
  int jobs = 0;
  std::int64_t needed = 0;  // credits the jobs cost
  std::int64_t available = 0;
  std::int64_t shortfall = 0;  // for kShort: needed minus available
};

// Creates the batch of SPEC with JOBS (SPEC.video_price per video), holds
// their credits and queues them, recording ACTOR in the ledger. Errors:
// what JobStore::createBatch() returns; failedPrecondition when the key made
// a batch that is now cancelled; unavailable when Redis fails.
Result<Submitted> submitBatch(const Submission& submission, const jobs::BatchSpec& spec,
                              const std::vector<jobs::JobSpec>& jobs, const std::string& actor);

struct Retried {
  SubmitOutcome outcome = SubmitOutcome::kQueued;
  // The failed jobs queued again; for kShort, the failed jobs that needed
  // the credits.
  int jobs = 0;
  std::int64_t needed = 0;
  std::int64_t available = 0;
  std::int64_t shortfall = 0;
};

// Holds the credits of BATCH_ID's failed jobs and queues them again. KEY
// makes a repeated call hold once. Errors: notFound for an unknown batch;
// failedPrecondition for a cancelled one; unavailable when Redis fails.
Result<Retried> retryBatch(const Submission& submission, const std::string& batch_id,
                           const std::string& key, const std::string& actor);

// Moves TENANT's credit events into the SQL ledger now, so that the history
// shows them at once. An event left behind is moved by the next ledger
// writer.
void moveToLedger(credits::Credits& credits, const std::string& tenant);

}  // namespace smmhub::campaigns
