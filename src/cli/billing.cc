#include "cli/billing.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <fmt/format.h>

#include "common/hash.h"
#include "common/log.h"
#include "credits/ledger_writer.h"

namespace smmhub::cli {
namespace {

std::string freshBatchId() {
  std::random_device random;
  return fmt::format("render-{:08x}{:08x}", random(), random());
}

// Keys add at most 40 characters to the batch id, within the 200 that a
// credit key may have.
constexpr size_t kMaxBatchId = 100;

Status checkBatchId(const std::string& id) {
  bool valid =
      !id.empty() && id.size() <= kMaxBatchId && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
               c == ':';
      });
  if (!valid) {
    return Status::invalidArgument(fmt::format(
        "--batch-id '{}': use 1 to {} letters, digits, '-', '_', '.' or ':'", id, kMaxBatchId));
  }
  return okStatus();
}

Status hashFile(Hasher& hasher, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::notFound(path.string() + ": cannot read it to bill the batch");
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  hasher.add(bytes);
  return okStatus();
}

}  // namespace

Result<std::string> batchInputsDigest(const render::BatchRequest& request) {
  Hasher hasher;
  SMMHUB_RETURN_IF_ERROR(hashFile(hasher, request.template_path));
  SMMHUB_RETURN_IF_ERROR(hashFile(hasher, request.data_path));
  SMMHUB_RETURN_IF_ERROR(hashFile(hasher, request.brand_dir / "brand.json"));
  for (int row : request.rows) {
    hasher.add(std::int64_t{row});
  }
  hasher.add(request.name_pattern).add(std::int64_t{request.crf}).add(request.preset);
  for (const auto& [field, column] : request.mapping.field_to_column) {
    hasher.add(field).add(column);
  }
  return hasher.hexDigest().substr(0, 12);
}

Result<std::unique_ptr<BatchBilling>> BatchBilling::open(BillingOptions options) {
  if (options.batch_id.empty()) {
    options.batch_id = freshBatchId();
  }
  SMMHUB_RETURN_IF_ERROR(checkBatchId(options.batch_id));
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
    std::string message = fmt::format(
        "tenant {} has {} credits available and the batch needs {}, one per video: short by {}; "
        "nothing rendered",
        options_.tenant, receipt.available, rows, receipt.shortfall);
    if (receipt.job_held > 0) {
      message += fmt::format(
          ". Batch {} still holds {} credits from a run that did not finish; `smmhub credits "
          "release {} all --job {} --key KEY` gives them back",
          options_.batch_id, receipt.job_held, options_.tenant, options_.batch_id);
    }
    return Status::resourceExhausted(message);
  }
  logger("credits")->info("batch holds credits tenant={} batch={} credits={}", options_.tenant,
                          options_.batch_id, rows);

  // Move the hold into the ledger now, and the charges every second.
  writer_ = std::thread([this] {
    credits::LedgerWriter writer(*credits_, {});
    while (true) {
      Result<credits::DrainStats> drained = writer.drainTenant(options_.tenant);
      if (!drained.ok()) {
        logger("credits")->warn("moving the batch's credit events failed tenant={} error=\"{}\"",
                                options_.tenant, drained.status().message());
      }
      for (int tick = 0; tick < 100 && !stop_writer_.load(); ++tick) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (stop_writer_.load()) {
        (void)writer.leave(options_.tenant);
        return;
      }
    }
  });
  return okStatus();
}

void BatchBilling::stopWriter() {
  stop_writer_ = true;
  if (writer_.joinable()) {
    writer_.join();
  }
}

BatchBilling::~BatchBilling() {
  stopWriter();
}

bool BatchBilling::charge(int row) {
  credits::Request request{
      .tenant = options_.tenant,
      .amount = 1,
      .key = fmt::format("batch:{}:{}:row:{}", options_.batch_id, options_.inputs, row),
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
  stopWriter();
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
