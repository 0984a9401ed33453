#include "cli/billing.h"

#include <random>

#include <fmt/format.h>

#include "common/log.h"
#include "credits/ledger_writer.h"

namespace smmhub::cli {
namespace {

std::string freshBatchId() {
  std::random_device random;
  return fmt::format("render-{:08x}{:08x}", random(), random());
}

}  // namespace

Result<std::unique_ptr<BatchBilling>> BatchBilling::open(BillingOptions options) {
  if (options.batch_id.empty()) {
    options.batch_id = freshBatchId();
  }
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                          store::Database::open({.url = options.db_url, .pool_size = 2}));
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<credits::Credits> credits,
                          credits::Credits::create({.redis_url = options.redis_url}, db.get()));
  return std::unique_ptr<BatchBilling>(
      new BatchBilling(std::move(options), std::move(db), std::move(credits)));
}

Status BatchBilling::hold(int rows) {
  // Each run holds under a fresh key, so that a run again with the batch id
  // holds for its own rows. The end of the run releases what is left.
  std::random_device random;
  credits::Request request{.tenant = options_.tenant,
                           .amount = rows,
                           .key = fmt::format("batch:{}:hold:{:08x}", options_.batch_id, random()),
                           .job = options_.batch_id,
                           .actor = options_.actor};
  SMMHUB_ASSIGN_OR_RETURN(credits::Receipt receipt, credits_->reserve(request));
  if (receipt.outcome == credits::Outcome::kShort) {
    return Status::resourceExhausted(fmt::format(
        "tenant {} has {} credits available and the batch needs {}, one per video: short by {}; "
        "nothing rendered",
        options_.tenant, receipt.available, rows, receipt.shortfall));
  }
  logger("credits")->info("batch holds credits tenant={} batch={} credits={}", options_.tenant,
                          options_.batch_id, rows);
  return okStatus();
}

bool BatchBilling::charge(int row) {
  credits::Request request{.tenant = options_.tenant,
                           .amount = 1,
                           .key = fmt::format("batch:{}:row:{}", options_.batch_id, row),
                           .job = options_.batch_id,
                           .actor = options_.actor};
  Result<credits::Receipt> receipt = credits_->commit(request);
  if (!receipt.ok() || receipt->outcome != credits::Outcome::kDone) {
    logger("credits")->warn(
        "charging a video failed tenant={} batch={} row={} error=\"{}\"", options_.tenant,
        options_.batch_id, row,
        receipt.ok() ? "the batch holds no credit for it" : receipt.status().message());
    return false;
  }
  std::lock_guard lock(mutex_);
  (receipt->replayed ? summary_.repeated : summary_.charged)++;
  return true;
}

void BatchBilling::rowFinished(const render::RowOutcome& outcome) {
  if (!outcome.ok) {
    return;
  }
  if (!charge(outcome.row)) {
    std::lock_guard lock(mutex_);
    failed_rows_.push_back(outcome.row);
  }
}

BillingSummary BatchBilling::finish() {
  std::vector<int> retry;
  {
    std::lock_guard lock(mutex_);
    retry.swap(failed_rows_);
  }
  for (int row : retry) {
    if (!charge(row)) {
      std::lock_guard lock(mutex_);
      summary_.uncharged++;
    }
  }
  std::lock_guard lock(mutex_);
  if (summary_.uncharged == 0) {
    credits::Request release{
        .tenant = options_.tenant,
        .key = fmt::format("batch:{}:release:{:08x}", options_.batch_id, std::random_device{}()),
        .job = options_.batch_id,
        .actor = options_.actor,
        .all = true};
    Result<credits::Receipt> released = credits_->release(release);
    if (released.ok()) {
      summary_.released = released->moved;
    } else {
      logger("credits")->warn(
          "releasing the batch's unused credits failed tenant={} batch={} error=\"{}\"; the "
          "reaper or a run with the same --batch-id releases them",
          options_.tenant, options_.batch_id, released.status().message());
    }
  }
  credits::LedgerWriter writer(*credits_, {});
  if (writer.drainTenant(options_.tenant).ok()) {
    (void)writer.leave(options_.tenant);
  }
  return summary_;
}

}  // namespace smmhub::cli
