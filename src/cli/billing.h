// Credits for `smmhub render`: one credit per video, held before the first
// row renders and charged when the video is written.
//
// Each run holds credits for all of its rows under the batch id (the job of
// the hold), charges one per video that succeeds with the key
// "batch:ID:INPUTS:row:N", and releases what the batch still holds at the
// end. A run again with the same --batch-id and the same inputs charges no
// row twice: its charge keys repeat, and the credits it held for rows
// already paid go back. While the batch runs, a ledger writer moves its
// events into the ledger every second, so that a Redis that loses its data
// mid-batch loses at most the last second of charges from the ledger's view.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  // A digest of everything that makes the batch's videos (files, rows,
  // settings). Charge keys contain it, so that a run with the same batch id
  // and other inputs pays for its videos.
  std::string inputs;
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
  // Opens the ledger database and checks the Redis URL and the batch id.
  // Errors: invalidArgument for a malformed URL, tenant or batch id,
  // unavailable for a database that cannot be opened.
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

  ~BatchBilling() override;
  BatchBilling(const BatchBilling&) = delete;
  BatchBilling& operator=(const BatchBilling&) = delete;
  BatchBilling(BatchBilling&&) = delete;
  BatchBilling& operator=(BatchBilling&&) = delete;

  const std::string& batchId() const { return options_.batch_id; }

 private:
  BatchBilling(BillingOptions options, std::unique_ptr<store::Database> db,
               std::unique_ptr<credits::Credits> credits)
      : options_(std::move(options)), db_(std::move(db)), credits_(std::move(credits)) {}

  // Charges ROW; returns false when the call failed.
  bool charge(int row);
  void stopWriter();

  BillingOptions options_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<credits::Credits> credits_;
  std::mutex mutex_;
  BillingSummary summary_;
  std::vector<int> failed_rows_;
  std::atomic<bool> stop_writer_{false};
  std::thread writer_;
};

// Returns the digest of a batch's inputs for BillingOptions::inputs: the
// template, data and brand.json files' bytes and the settings that change
// the videos. Errors: notFound or unavailable for a file that cannot be read.
Result<std::string> batchInputsDigest(const render::BatchRequest& request);

}  // namespace smmhub::cli
