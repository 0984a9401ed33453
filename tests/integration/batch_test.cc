// A batch stopped on request: the rows in progress finish, the rows not
// started are reported as skipped, and no partial file remains.
#include "render/batch.h"

#include <atomic>

#include <gtest/gtest.h>

#include "test_support.h"

namespace smmhub::render {
namespace {

using smmhub::testing::kTestData;
using smmhub::testing::TempDir;

// Requests a stop as soon as the first row finishes.
class StopAfterFirstRow final : public BatchObserver {
 public:
  explicit StopAfterFirstRow(std::atomic<bool>* stop) : stop_(stop) {}
  void rowFinished(const RowOutcome& /*outcome*/) override { stop_->store(true); }

 private:
  std::atomic<bool>* stop_;
};

TEST(BatchStopTest, RowsNotStartedAreSkipped) {
  TempDir out;
  std::atomic<bool> stop{false};
  BatchRequest request;
  request.template_path = kTestData / "cli/mini.json";
  request.data_path = kTestData / "cli/rows.csv";
  request.brand_dir = kTestData / "golden/brand";
  request.out_dir = out.path();
  request.rows = {1, 2, 4};
  request.jobs = 1;
  request.stop = &stop;
  StopAfterFirstRow observer(&stop);

  Result<BatchReport> report = runBatch(request, &observer);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_EQ(report->rows.size(), 3u);
  EXPECT_TRUE(report->rows[0].ok);
  EXPECT_FALSE(report->rows[0].skipped);
  for (size_t i : {1u, 2u}) {
    const RowOutcome& row = report->rows[i];
    EXPECT_EQ(row.row, request.rows[i]);
    EXPECT_FALSE(row.ok) << row.row;
    EXPECT_TRUE(row.skipped) << row.row;
    EXPECT_EQ(row.error, "not rendered: the batch was stopped");
  }
  EXPECT_EQ(report->succeeded(), 1);
  EXPECT_EQ(report->failed(), 0);
  EXPECT_EQ(report->skipped(), 2);
  EXPECT_TRUE(std::filesystem::exists(out.file("001.mp4")));
  EXPECT_FALSE(std::filesystem::exists(out.file("002.mp4")));
  EXPECT_EQ(smmhub::testing::countFiles(out.path(), ".partial"), 0);
}

TEST(BatchStopTest, StopBeforeStartSkipsEveryRow) {
  TempDir out;
  std::atomic<bool> stop{true};
  BatchRequest request;
  request.template_path = kTestData / "cli/mini.json";
  request.data_path = kTestData / "cli/rows.csv";
  request.brand_dir = kTestData / "golden/brand";
  request.out_dir = out.path();
  request.rows = {1, 2};
  request.stop = &stop;

  Result<BatchReport> report = runBatch(request, nullptr);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->skipped(), 2);
  EXPECT_EQ(report->succeeded(), 0);
  EXPECT_FALSE(std::filesystem::exists(out.file("001.mp4")));
}

}  // namespace
}  // namespace smmhub::render
