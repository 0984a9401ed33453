#include "campaigns/submit.h"

#include <fmt/format.h>

#include "broker/broker.h"
#include "common/log.h"
#include "credits/credits.h"
#include "credits/ledger_writer.h"

namespace smmhub::campaigns {
namespace {

// Cancels a batch this call created and gives back its hold, after the hold
// or the push to Redis failed. The batch is cancelled first, so that no
// re-drive runs jobs whose credits were given back.
void rollBack(const Submission& submission, const jobs::BatchSpec& spec,
              const std::string& batch_id, bool held, const std::string& actor) {
  Result<std::vector<std::string>> cancelled = submission.store.cancelBatch(batch_id);
  if (!cancelled.ok()) {
    logger("campaigns")
        ->error(
            "cancelling an unqueued batch failed batch={} error=\"{}\"; its hold stays until the "
            "credit reaper finds the batch finished or cancelled",
            batch_id, cancelled.status().message());
    return;
  }
  if (!held) {
    return;
  }
  Result<credits::Receipt> released =
      submission.credits.release({.tenant = spec.tenant,
                                  .key = "enqueue:" + spec.idempotency_key + ":release",
                                  .job = batch_id,
                                  .actor = actor,
                                  .all = true});
  if (!released.ok()) {
    logger("campaigns")
        ->error(
            "releasing the hold of an unqueued batch failed batch={} error=\"{}\"; the credit "
            "reaper releases it, because the batch is cancelled",
            batch_id, released.status().message());
  }
}

}  // namespace

void moveToLedger(credits::Credits& credits, const std::string& tenant) {
  credits::LedgerWriter writer(credits, {});
  if (writer.drainTenant(tenant).ok()) {
    (void)writer.leave(tenant);
  }
}

Result<Submitted> submitBatch(const Submission& submission, const jobs::BatchSpec& spec,
                              const std::vector<jobs::JobSpec>& jobs, const std::string& actor) {
  SMMHUB_ASSIGN_OR_RETURN(jobs::CreatedBatch batch, submission.store.createBatch(spec, jobs));
  if (!batch.created) {
    SMMHUB_ASSIGN_OR_RETURN(jobs::Batch existing, submission.store.batch(batch.batch_id));
    if (existing.cancelled_at_ms != 0) {
      return Status::failedPrecondition(
          fmt::format("idempotency key '{}' made batch {}, which is cancelled; use a new key",
                      spec.idempotency_key, batch.batch_id));
    }
  }

  Submitted submitted{.batch_id = batch.batch_id,
                      .created = batch.created,
                      .jobs = static_cast<int>(jobs.size()),
                      .needed = static_cast<std::int64_t>(jobs.size()) * spec.video_price};
  Result<credits::Receipt> hold =
      submission.credits.reserve({.tenant = spec.tenant,
                                  .amount = submitted.needed,
                                  .key = "enqueue:" + spec.idempotency_key,
                                  .job = batch.batch_id,
                                  .actor = actor});
  if (!hold.ok() || hold->outcome != credits::Outcome::kDone) {
    if (batch.created) {
      rollBack(submission, spec, batch.batch_id, false, actor);
    }
    if (!hold.ok()) {
      return hold.status();
    }
    submitted.outcome = SubmitOutcome::kShort;
    submitted.available = hold->available;
    submitted.shortfall = hold->shortfall;
    return submitted;
  }
  submitted.available = hold->available;

  Status pushed = submission.broker.push(spec, batch);
  if (!pushed.ok()) {
    if (batch.created) {
      rollBack(submission, spec, batch.batch_id, !hold->replayed, actor);
    }
    return pushed;
  }
  moveToLedger(submission.credits, spec.tenant);
  logger("campaigns")
      ->info("batch queued tenant={} batch={} jobs={} priority={} created={}", spec.tenant,
             batch.batch_id, jobs.size(), spec.priority, batch.created);
  return submitted;
}

Result<Retried> retryBatch(const Submission& submission, const std::string& batch_id,
                           const std::string& key, const std::string& actor) {
  SMMHUB_ASSIGN_OR_RETURN(jobs::Batch batch, submission.store.batch(batch_id));
  SMMHUB_ASSIGN_OR_RETURN(jobs::BatchSummary summary, submission.store.batchSummary(batch_id));
  if (batch.cancelled_at_ms != 0) {
    return Status::failedPrecondition("batch " + batch_id + " is cancelled: nothing to retry");
  }
  Retried retried{.needed = summary.failed * batch.video_price};
  if (summary.failed == 0) {
    return retried;
  }

  SMMHUB_ASSIGN_OR_RETURN(credits::Receipt hold,
                          submission.credits.reserve({.tenant = batch.tenant,
                                                      .amount = retried.needed,
                                                      .key = key,
                                                      .job = batch_id,
                                                      .actor = actor}));
  retried.available = hold.available;
  if (hold.outcome != credits::Outcome::kDone) {
    retried.outcome = SubmitOutcome::kShort;
    retried.jobs = summary.failed;
    retried.shortfall = hold.shortfall;
    return retried;
  }
  Result<std::vector<std::string>> queued = submission.broker.retryFailed(batch_id);
  // A failed call keeps the hold, which the credit reaper releases once the
  // batch ends. A job retried meanwhile by another call needs no credit from
  // this hold: that part goes back at once.
  std::int64_t spare =
      queued.ok() ? (summary.failed - static_cast<std::int64_t>(queued->size())) * batch.video_price
                  : 0;
  if (spare > 0) {
    Result<credits::Receipt> released = submission.credits.release({.tenant = batch.tenant,
                                                                    .amount = spare,
                                                                    .key = key + ":spare",
                                                                    .job = batch_id,
                                                                    .actor = actor});
    if (!released.ok()) {
      logger("campaigns")
          ->warn(
              "retry left credits held batch={} credits={} error=\"{}\"; the credit reaper "
              "releases them when the batch ends",
              batch_id, spare, released.status().message());
    }
  }
  moveToLedger(submission.credits, batch.tenant);
  if (!queued.ok()) {
    return queued.status();
  }
  retried.jobs = static_cast<int>(queued->size());
  logger("campaigns")->info("batch retry batch={} jobs={}", batch_id, retried.jobs);
  return retried;
}

}  // namespace smmhub::campaigns
