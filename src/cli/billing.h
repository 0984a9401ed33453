// Credits for `smmhub render`: one credit per video, held before the first
// row renders and charged when the video is written.
//
// Each run holds credits for all of its rows under the batch id (the job of
// the hold), charges one per video that succeeds with the key
// "batch:ID:row:N", and releases what the batch still holds at the end. A
// run again with the same --batch-id charges no row twice: its charge keys
// repeat, and the credits it held for rows already paid go back.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "credits/credits.h"
#include "render/batch.h"
#include "store/database.h"

namespace smmhub::cli {

struct BillingOptions {
  std::string redis_url;
  std::string db_url;
  std::string tenant;
  // The job of the hold and the start of every key; a fresh id per run
  // when empty.
  std::string batch_id;
  std::string actor;
};

struct BillingSummary {
  int charged = 0;    // videos charged by this run
  int repeated = 0;   // videos an earlier run with the batch id had charged
  int uncharged = 0;  // videos rendered whose charge failed; the hold stays
  std::int64_t released = 0;
};

class BatchBilling final : public render::BatchObserver {
 public:
  // Opens the ledger database and checks the Redis URL. Errors:
  // invalidArgument for a malformed URL or tenant, unavailable for a
  // database that cannot be opened.
  static Result<std::unique_ptr<BatchBilling>> open(BillingOptions options);

  // Holds ROWS credits for the batch. Errors: resourceExhausted when the
  // tenant has too few (the message gives the shortfall), unavailable when
  // Redis or the database fails. Either way nothing is held.
  Status hold(int rows);

  // Charges the row's credit when its video was written.
  void rowFinished(const render::RowOutcome& outcome) override;

  // Retries failed charges, then releases what the batch still holds,
  // unless a video stays uncharged.
  BillingSummary finish();

  const std::string& batchId() const { return options_.batch_id; }

 private:
  BatchBilling(BillingOptions options, std::unique_ptr<store::Database> db,
               std::unique_ptr<credits::Credits> credits)
      : options_(std::move(options)), db_(std::move(db)), credits_(std::move(credits)) {}

  // Charges ROW; returns false when the call failed.
  bool charge(int row);

  BillingOptions options_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<credits::Credits> credits_;
  std::mutex mutex_;
  BillingSummary summary_;
  std::vector<int> failed_rows_;
};

}  // namespace smmhub::cli
