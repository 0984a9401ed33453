// Credits for render batches. A batch holds one credit per video before any
// row renders, charges each video once and releases the rest. Without
// credits or without Redis, nothing renders.
#include "cli/billing.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "credits/internal.h"
#include "render/batch.h"
#include "test_support.h"
#include "testing/redis_server.h"

namespace smmhub::cli {
namespace {

using smmhub::testing::kTestData;
using smmhub::testing::RedisServer;
using smmhub::testing::TempDir;

class BillingTest : public ::testing::Test {
 protected:
  std::string dbUrl() const { return "sqlite:" + dir_.file("ledger.db").string(); }

  std::unique_ptr<BatchBilling> openBilling(const std::string& batch_id,
                                            const std::string& inputs = "inputs-1") {
    Result<std::unique_ptr<BatchBilling>> billing = BatchBilling::open({.redis_url = redis_.url(),
                                                                        .db_url = dbUrl(),
                                                                        .tenant = "acme",
                                                                        .batch_id = batch_id,
                                                                        .inputs = inputs,
                                                                        .actor = "test"});
    EXPECT_TRUE(billing.ok()) << billing.status().toString();
    return billing.ok() ? std::move(*billing) : nullptr;
  }

  store::Database* db() {
    credits();
    return db_.get();
  }

  credits::Credits& credits() {
    if (credits_ == nullptr) {
      Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = dbUrl()});
      EXPECT_TRUE(db.ok()) << db.status().toString();
      db_ = std::move(db).value();
      Result<std::unique_ptr<credits::Credits>> made =
          credits::Credits::create({.redis_url = redis_.url()}, db_.get());
      EXPECT_TRUE(made.ok()) << made.status().toString();
      credits_ = std::move(made).value();
    }
    return *credits_;
  }

  void topUp(std::int64_t amount, const std::string& key) {
    Result<credits::Receipt> receipt =
        credits().topup({.tenant = "acme", .amount = amount, .key = key});
    ASSERT_TRUE(receipt.ok()) << receipt.status().toString();
  }

  credits::Balance balance() {
    Result<credits::Balance> balance = credits().balance("acme");
    EXPECT_TRUE(balance.ok()) << balance.status().toString();
    return balance.ok() ? *balance : credits::Balance{};
  }

  static render::BatchRequest miniRequest(const std::filesystem::path& out) {
    render::BatchRequest request;
    request.template_path = kTestData / "cli/mini.json";
    request.data_path = kTestData / "cli/rows.csv";
    request.brand_dir = kTestData / "golden/brand";
    request.out_dir = out;
    request.rows = {1, 2, 4};
    request.jobs = 1;
    return request;
  }

  // Renders rows 1, 2 and 4 of the mini template into OUT, billed by BILLING.
  static Result<render::BatchReport> render(BatchBilling& billing,
                                            const std::filesystem::path& out) {
    render::BatchRequest request = miniRequest(out);
    request.before_rows = [&](int rows) {
      return billing.hold(rows);
    };
    return render::runBatch(request, &billing);
  }

  static int filesIn(const std::filesystem::path& folder) {
    int count = 0;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ignored)) {
      (void)entry;
      count++;
    }
    return count;
  }

  TempDir dir_;
  RedisServer redis_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<credits::Credits> credits_;
};

TEST_F(BillingTest, ChargesEachVideoOnceAcrossRuns) {
  topUp(10, "t1");
  TempDir first_out;
  TempDir second_out;

  std::unique_ptr<BatchBilling> first = openBilling("batch-1");
  Result<render::BatchReport> first_report = render(*first, first_out.path());
  ASSERT_TRUE(first_report.ok()) << first_report.status().toString();
  BillingSummary first_summary = first->finish();

  std::unique_ptr<BatchBilling> again = openBilling("batch-1");
  Result<render::BatchReport> again_report = render(*again, second_out.path());
  ASSERT_TRUE(again_report.ok()) << again_report.status().toString();
  BillingSummary again_summary = again->finish();

  EXPECT_EQ(first_report->succeeded(), 3);
  EXPECT_EQ(first_summary.charged, 3);
  EXPECT_EQ(first_summary.released, 0);
  EXPECT_EQ(again_summary.charged, 0);
  EXPECT_EQ(again_summary.repeated, 3);
  EXPECT_EQ(again_summary.released, 3);
  credits::Balance after = balance();
  EXPECT_EQ(after.available, 7);
  EXPECT_EQ(after.held, 0);
  EXPECT_TRUE(after.holds.empty());
}

TEST_F(BillingTest, ShortBalanceRendersNothing) {
  topUp(2, "t1");
  TempDir out;
  std::unique_ptr<BatchBilling> billing = openBilling("batch-2");

  Result<render::BatchReport> report = render(*billing, out.path());

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(report.status().message(),
            "tenant acme has 2 credits available and the batch needs 3, one per video: short by "
            "1; nothing rendered");
  EXPECT_EQ(filesIn(out.path()), 0);
  credits::Balance after = balance();
  EXPECT_EQ(after.available, 2);
  EXPECT_EQ(after.held, 0);
}

TEST_F(BillingTest, RedisDownRendersNothing) {
  topUp(10, "t1");
  TempDir out;
  std::unique_ptr<BatchBilling> billing = openBilling("batch-3");
  redis_.kill();

  Result<render::BatchReport> report = render(*billing, out.path());

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(report.status().message().starts_with("credits reserve for tenant acme failed: "))
      << report.status().message();
  EXPECT_EQ(filesIn(out.path()), 0);
}

TEST_F(BillingTest, FailedRowsReleaseTheirCredits) {
  topUp(10, "t1");
  TempDir out;
  std::unique_ptr<BatchBilling> billing = openBilling("batch-4");
  // Row 2 fails: its output name is a folder that is in the way.
  std::filesystem::create_directories(out.file("002.mp4"));

  Result<render::BatchReport> report = render(*billing, out.path());
  ASSERT_TRUE(report.ok()) << report.status().toString();
  BillingSummary summary = billing->finish();

  EXPECT_EQ(report->succeeded(), 2);
  EXPECT_EQ(summary.charged, 2);
  EXPECT_EQ(summary.released, 1);
  EXPECT_EQ(balance().available, 8);
}

TEST_F(BillingTest, SameBatchIdWithOtherInputsPays) {
  topUp(10, "t1");
  TempDir first_out;
  TempDir second_out;

  std::unique_ptr<BatchBilling> first = openBilling("batch-5", "inputs-a");
  ASSERT_TRUE(render(*first, first_out.path()).ok());
  BillingSummary first_summary = first->finish();
  std::unique_ptr<BatchBilling> other = openBilling("batch-5", "inputs-b");
  ASSERT_TRUE(render(*other, second_out.path()).ok());
  BillingSummary other_summary = other->finish();

  EXPECT_EQ(first_summary.charged, 3);
  EXPECT_EQ(other_summary.charged, 3);
  EXPECT_EQ(other_summary.repeated, 0);
  EXPECT_EQ(balance().available, 4);
}

TEST_F(BillingTest, LedgerHasTheHoldWhileTheBatchRuns) {
  topUp(10, "t1");
  std::unique_ptr<BatchBilling> billing = openBilling("batch-6");
  ASSERT_TRUE(billing->hold(3).ok());

  std::vector<credits::Entry> entries;
  for (int wait = 0; wait < 100 && entries.size() < 2; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Result<std::vector<credits::Entry>> history = credits::ledgerHistory(*db(), "acme", 10);
    ASSERT_TRUE(history.ok()) << history.status().toString();
    entries = *history;
  }
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kind, "reserve");
  EXPECT_EQ(entries[0].amount, 3);
  EXPECT_EQ(entries[0].job_id, "batch-6");
  billing->finish();
}

TEST_F(BillingTest, UnfinishedRunNamesTheHoldItLeft) {
  topUp(5, "t1");
  {
    std::unique_ptr<BatchBilling> killed = openBilling("batch-7");
    ASSERT_TRUE(killed->hold(3).ok());
    // Gone without finish(), as a killed process: its hold stays.
  }
  std::unique_ptr<BatchBilling> again = openBilling("batch-7");
  Status held = again->hold(3);

  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(held.message(),
            "tenant acme has 2 credits available and the batch needs 3, one per video: short by "
            "1; nothing rendered. Batch batch-7 still holds 3 credits from a run that did not "
            "finish; `smmhub credits release acme all --job batch-7 --key KEY` gives them back");
}

TEST_F(BillingTest, InvalidBatchIdNamesTheFlag) {
  Result<std::unique_ptr<BatchBilling>> spaced = BatchBilling::open(
      {.redis_url = redis_.url(), .db_url = dbUrl(), .tenant = "acme", .batch_id = "a b"});
  Result<std::unique_ptr<BatchBilling>> long_id =
      BatchBilling::open({.redis_url = redis_.url(),
                          .db_url = dbUrl(),
                          .tenant = "acme",
                          .batch_id = std::string(101, 'b')});

  ASSERT_FALSE(spaced.ok());
  EXPECT_EQ(spaced.status().message(),
            "--batch-id 'a b': use 1 to 100 letters, digits, '-', '_', '.' or ':'");
  ASSERT_FALSE(long_id.ok());
  EXPECT_EQ(long_id.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(BillingTest, InputsDigestFollowsFilesAndSettings) {
  TempDir out;
  render::BatchRequest request = miniRequest(out.path());
  Result<std::string> same = batchInputsDigest(request);
  Result<std::string> again = batchInputsDigest(request);
  request.crf = 30;
  Result<std::string> other_crf = batchInputsDigest(request);
  request.data_path = out.file("missing.csv");
  Result<std::string> missing = batchInputsDigest(request);

  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->size(), 12u);
  EXPECT_EQ(*same, *again);
  ASSERT_TRUE(other_crf.ok());
  EXPECT_NE(*same, *other_crf);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            out.file("missing.csv").string() + ": cannot read it to bill the batch");
}

}  // namespace
}  // namespace smmhub::cli
