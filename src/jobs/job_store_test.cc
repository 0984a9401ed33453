// The job store on both SQL back ends: SQLite in a temporary folder and
// PostgreSQL started by the test, with a fake clock so that every time is exact.
#include "jobs/job_store.h"

#include <soci/soci.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <regex>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "jobs/batch_directory.h"
#include "testing/backend_test.h"
#include "testing/temp_dir.h"

namespace smmhub::jobs {
namespace {

using smmhub::testing::TempDir;

constexpr std::int64_t kStartMs = 1'767'225'600'000;

class JobStoreTest : public smmhub::testing::BackendTest {
 protected:
  void SetUp() override {
    db_ = openTestDatabase();
    ASSERT_NE(db_, nullptr);
    store_ = std::make_unique<JobStore>(*db_, JobStoreOptions{.clock = [this] {
      return now_ms_.load();
    }});
  }

  static BatchSpec spec(const std::string& key = "request-1") {
    return {.tenant = "acme",
            .idempotency_key = key,
            .template_path = "templates/matchday.json",
            .data_path = "data/fixtures.csv",
            .brand_dir = "brand/acme",
            .storage_dir = "out/matchday",
            .priority = "normal",
            .max_attempts = 3};
  }

  static std::vector<JobSpec> rows(int count) {
    std::vector<JobSpec> jobs;
    for (int row = 1; row <= count; ++row) {
      jobs.push_back({.row = row,
                      .row_json = R"({"home_team":"Team )" + std::to_string(row) + R"("})",
                      .output_name = "video-" + std::to_string(row) + ".mp4"});
    }
    return jobs;
  }

  // Creates a batch of COUNT jobs and returns it.
  CreatedBatch create(int count, BatchSpec batch = spec()) {
    Result<CreatedBatch> created = store_->createBatch(batch, rows(count));
    EXPECT_TRUE(created.ok()) << created.status().toString();
    return created.ok() ? *created : CreatedBatch{};
  }

  Job job(const std::string& id) {
    Result<Job> found = store_->job(id);
    EXPECT_TRUE(found.ok()) << found.status().toString();
    return found.ok() ? *found : Job{};
  }

  std::vector<JobEvent> events(const std::string& id) {
    Result<std::vector<JobEvent>> found = store_->events(id);
    EXPECT_TRUE(found.ok()) << found.status().toString();
    return found.ok() ? *found : std::vector<JobEvent>{};
  }

  Job claim(const std::string& id, std::int64_t token, const std::string& worker = "worker-1") {
    Result<Job> claimed = store_->claim(id, worker, token);
    EXPECT_TRUE(claimed.ok()) << claimed.status().toString();
    return claimed.ok() ? *claimed : Job{};
  }

  std::int64_t countRows(const std::string& table) {
    std::int64_t count = -1;
    Status status = db_->read([&](soci::session& sql) {
      sql << "SELECT COUNT(*) FROM " + table, soci::into(count);
      return okStatus();
    });
    EXPECT_TRUE(status.ok()) << status.toString();
    return count;
  }

  void expectEvent(const JobEvent& event, const std::string& from, const std::string& to,
                   std::int64_t at_ms, int attempt, const std::string& worker = "",
                   const std::string& error = "") {
    EXPECT_EQ(event.from_state, from);
    EXPECT_EQ(event.to_state, to);
    EXPECT_EQ(event.at_ms, at_ms);
    EXPECT_EQ(event.attempt, attempt);
    EXPECT_EQ(event.worker, worker);
    EXPECT_EQ(event.error, error);
  }

  TempDir dir_;
  std::atomic<std::int64_t> now_ms_{kStartMs};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<JobStore> store_;
};

TEST_P(JobStoreTest, CreateBatchQueuesJobsAndRecordsCreation) {
  CreatedBatch created = create(3);

  EXPECT_TRUE(created.created);
  EXPECT_TRUE(std::regex_match(created.batch_id, std::regex("b-[0-9a-f]{16}"))) << created.batch_id;
  ASSERT_EQ(created.job_ids.size(), 3u);
  Result<Batch> batch = store_->batch(created.batch_id);
  ASSERT_TRUE(batch.ok()) << batch.status().toString();
  EXPECT_EQ(batch->tenant, "acme");
  EXPECT_EQ(batch->idempotency_key, "request-1");
  EXPECT_EQ(batch->template_path, "templates/matchday.json");
  EXPECT_EQ(batch->data_path, "data/fixtures.csv");
  EXPECT_EQ(batch->brand_dir, "brand/acme");
  EXPECT_EQ(batch->storage_dir, "out/matchday");
  EXPECT_EQ(batch->priority, "normal");
  EXPECT_EQ(batch->job_count, 3);
  EXPECT_EQ(batch->created_at_ms, kStartMs);
  EXPECT_EQ(batch->cancelled_at_ms, 0);

  Result<std::vector<Job>> jobs = store_->batchJobs(created.batch_id);
  ASSERT_TRUE(jobs.ok()) << jobs.status().toString();
  ASSERT_EQ(jobs->size(), 3u);
  const Job& second = (*jobs)[1];
  EXPECT_EQ(second.id, created.job_ids[1]);
  EXPECT_TRUE(std::regex_match(second.id, std::regex("j-[0-9a-f]{16}"))) << second.id;
  EXPECT_EQ(second.batch_id, created.batch_id);
  EXPECT_EQ(second.tenant, "acme");
  EXPECT_EQ(second.row, 2);
  EXPECT_EQ(second.row_json, R"({"home_team":"Team 2"})");
  EXPECT_EQ(second.output_name, "video-2.mp4");
  EXPECT_EQ(second.priority, "normal");
  EXPECT_EQ(second.state, JobState::kQueued);
  EXPECT_EQ(second.attempts, 0);
  EXPECT_EQ(second.max_attempts, 3);
  EXPECT_EQ(second.next_try_at_ms, 0);
  EXPECT_EQ(second.last_error, "");
  EXPECT_EQ(second.fencing_token, 0);
  EXPECT_EQ(second.worker, "");
  EXPECT_EQ(second.output_path, "");
  EXPECT_EQ(second.created_at_ms, kStartMs);
  EXPECT_EQ(second.updated_at_ms, kStartMs);

  std::vector<JobEvent> history = events(second.id);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].job_id, second.id);
  EXPECT_EQ(history[0].batch_id, created.batch_id);
  EXPECT_EQ(history[0].tenant, "acme");
  expectEvent(history[0], "", "queued", kStartMs, 0);
  Result<BatchSummary> summary = store_->batchSummary(created.batch_id);
  ASSERT_TRUE(summary.ok()) << summary.status().toString();
  EXPECT_EQ(summary->total, 3);
  EXPECT_EQ(summary->queued, 3);
  EXPECT_EQ(summary->active, 0);
}

// The jobs go in statements of 250 rows: a batch of 501 spans three.
TEST_P(JobStoreTest, LargeBatchKeepsEveryRowInOrder) {
  CreatedBatch created = create(501);

  ASSERT_EQ(created.job_ids.size(), 501u);
  Result<std::vector<Job>> jobs = store_->batchJobs(created.batch_id);
  ASSERT_TRUE(jobs.ok()) << jobs.status().toString();
  ASSERT_EQ(jobs->size(), 501u);
  for (std::size_t i = 0; i < jobs->size(); ++i) {
    const Job& job = (*jobs)[i];
    ASSERT_EQ(job.id, created.job_ids[i]) << "row " << i + 1;
    ASSERT_EQ(job.row, static_cast<int>(i) + 1);
    ASSERT_EQ(job.row_json, R"({"home_team":"Team )" + std::to_string(i + 1) + R"("})");
    ASSERT_EQ(job.output_name, "video-" + std::to_string(i + 1) + ".mp4");
  }
  EXPECT_EQ(countRows("job_events"), 501);
  std::vector<JobEvent> last = events(created.job_ids.back());
  ASSERT_EQ(last.size(), 1u);
  expectEvent(last[0], "", "queued", kStartMs, 0);
  EXPECT_EQ(store_->batchSummary(created.batch_id)->queued, 501);
}

TEST_P(JobStoreTest, CreateBatchWithSameKeyReturnsFirstBatch) {
  CreatedBatch first = create(3);

  now_ms_ += 1000;
  CreatedBatch repeat = create(3);

  EXPECT_FALSE(repeat.created);
  EXPECT_EQ(repeat.batch_id, first.batch_id);
  EXPECT_EQ(repeat.job_ids, first.job_ids);
  EXPECT_EQ(countRows("batches"), 1);
  EXPECT_EQ(countRows("jobs"), 3);
  EXPECT_EQ(countRows("job_events"), 3);
}

TEST_P(JobStoreTest, SameKeyForOtherRequestIsRejected) {
  CreatedBatch first = create(3);
  BatchSpec other = spec();
  other.template_path = "templates/other.json";

  Result<CreatedBatch> repeat = store_->createBatch(other, rows(3));
  Result<CreatedBatch> fewer = store_->createBatch(spec(), rows(2));

  ASSERT_FALSE(repeat.ok());
  EXPECT_EQ(repeat.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repeat.status().message(),
            "idempotency key 'request-1' of tenant acme already made batch " + first.batch_id +
                " for another request: template_path is 'templates/matchday.json' there and "
                "'templates/other.json' here; use a new key");
  ASSERT_FALSE(fewer.ok());
  EXPECT_EQ(fewer.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(countRows("batches"), 1);
}

TEST_P(JobStoreTest, SameKeyOfAnotherTenantMakesAnotherBatch) {
  CreatedBatch first = create(1);
  BatchSpec other = spec();
  other.tenant = "globex";

  CreatedBatch second = create(1, other);

  EXPECT_TRUE(second.created);
  EXPECT_NE(second.batch_id, first.batch_id);
  EXPECT_EQ(countRows("batches"), 2);
}

TEST_P(JobStoreTest, UnfinishedJobLimitRejectsANewBatchOnly) {
  BatchSpec first = spec("first");
  first.max_unfinished_jobs = 4;
  CreatedBatch made = create(3, first);
  claim(made.job_ids[0], 1);

  // A repeat of the first batch is not counted again.
  CreatedBatch repeat = create(3, first);
  EXPECT_FALSE(repeat.created);
  EXPECT_EQ(repeat.batch_id, made.batch_id);

  BatchSpec second = spec("second");
  second.max_unfinished_jobs = 4;
  Result<CreatedBatch> over = store_->createBatch(second, rows(2));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(over.status().message(),
            "tenant acme has 3 videos queued or rendering, and 2 more would pass its limit of 4; "
            "wait for some to finish or cancel a batch");
  EXPECT_EQ(countRows("batches"), 1);
  EXPECT_EQ(countRows("jobs"), 3);

  // Another tenant has a limit of its own, and one more job still fits.
  BatchSpec other = spec("second");
  other.tenant = "globex";
  other.max_unfinished_jobs = 4;
  EXPECT_TRUE(create(2, other).created);
  EXPECT_TRUE(create(1, second).created);

  BatchSpec negative = spec("third");
  negative.max_unfinished_jobs = -1;
  Result<CreatedBatch> invalid = store_->createBatch(negative, rows(1));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().message(),
            "max_unfinished_jobs -1 is invalid; expected 0 (no limit) or more");
}

TEST_P(JobStoreTest, ConcurrentSameKeyMakesOneBatch) {
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::vector<Result<CreatedBatch>> results(kThreads, Status::internal("not run"));

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = store_->createBatch(spec(), rows(5));
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  int created = 0;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].ok()) << "thread " << i << ": " << results[i].status().toString();
    created += results[i]->created ? 1 : 0;
    EXPECT_EQ(results[i]->batch_id, results[0]->batch_id) << "thread " << i;
    EXPECT_EQ(results[i]->job_ids.size(), 5u) << "thread " << i;
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(countRows("batches"), 1);
  EXPECT_EQ(countRows("jobs"), 5);
}

TEST_P(JobStoreTest, ClaimMakesJobActiveAndRecordsEvent) {
  std::string id = create(1).job_ids[0];
  now_ms_ += 250;

  Job claimed = claim(id, 7, "worker-a");

  EXPECT_EQ(claimed.state, JobState::kActive);
  EXPECT_EQ(claimed.attempts, 1);
  EXPECT_EQ(claimed.fencing_token, 7);
  EXPECT_EQ(claimed.worker, "worker-a");
  EXPECT_EQ(claimed.updated_at_ms, kStartMs + 250);
  EXPECT_EQ(claimed.row_json, R"({"home_team":"Team 1"})");
  Job stored = job(id);
  EXPECT_EQ(stored.state, JobState::kActive);
  EXPECT_EQ(stored.fencing_token, 7);
  EXPECT_EQ(stored.attempts, 1);
  std::vector<JobEvent> history = events(id);
  ASSERT_EQ(history.size(), 2u);
  expectEvent(history[1], "queued", "active", kStartMs + 250, 1, "worker-a");
}

TEST_P(JobStoreTest, ClaimNeedsHigherTokenThanAnyGranted) {
  std::string id = create(1).job_ids[0];
  claim(id, 5);
  ASSERT_TRUE(store_->fail(id, 5, "encoder crashed", kStartMs + 60'000).ok());

  Result<Job> lower = store_->claim(id, "worker-2", 3);
  Result<Job> same = store_->claim(id, "worker-2", 5);
  Job higher = claim(id, 6, "worker-2");

  ASSERT_FALSE(lower.ok());
  EXPECT_EQ(lower.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(lower.status().message(),
            "job " + id + ": fencing token 3 is stale, the job was granted 5 before");
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.status().message(),
            "job " + id + ": fencing token 5 is stale, the job was granted 5 before");
  EXPECT_EQ(higher.state, JobState::kActive);
  EXPECT_EQ(higher.attempts, 2);
  EXPECT_EQ(higher.fencing_token, 6);
  EXPECT_EQ(higher.next_try_at_ms, 0);
  EXPECT_EQ(higher.last_error, "encoder crashed");
  std::vector<JobEvent> history = events(id);
  ASSERT_EQ(history.size(), 4u);
  expectEvent(history[3], "retrying", "active", kStartMs, 2, "worker-2");
}

TEST_P(JobStoreTest, ClaimOfActiveJobIsRejected) {
  std::string id = create(1).job_ids[0];
  claim(id, 1);

  Result<Job> again = store_->claim(id, "worker-2", 2);

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(), "job " + id + ": cannot claim: state is active");
  EXPECT_EQ(job(id).fencing_token, 1);
  EXPECT_EQ(job(id).worker, "worker-1");
}

TEST_P(JobStoreTest, CompleteHappensOnce) {
  std::string id = create(1).job_ids[0];
  claim(id, 4);
  now_ms_ += 900;

  Status first = store_->complete(id, 4, "out/matchday/video-1.mp4");
  now_ms_ += 100;
  Status second = store_->complete(id, 4, "out/matchday/other.mp4");

  ASSERT_TRUE(first.ok()) << first.toString();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.message(), "job " + id + ": cannot complete: state is completed");
  Job stored = job(id);
  EXPECT_EQ(stored.state, JobState::kCompleted);
  EXPECT_EQ(stored.output_path, "out/matchday/video-1.mp4");
  EXPECT_EQ(stored.updated_at_ms, kStartMs + 900);
  std::vector<JobEvent> history = events(id);
  ASSERT_EQ(history.size(), 3u);
  expectEvent(history[2], "active", "completed", kStartMs + 900, 1, "worker-1");
}

TEST_P(JobStoreTest, RecordsRenderStatsUnderTheClaimsToken) {
  std::string id = create(1).job_ids[0];
  claim(id, 4);
  ASSERT_TRUE(store_->complete(id, 4, "out/matchday/video-1.mp4").ok());

  Status recorded =
      store_->recordRenderStats(id, 4, {.render_ms = 1'250, .cache_hits = 30, .cache_lookups = 40});
  Status stale = store_->recordRenderStats(id, 3, {.render_ms = 9, .cache_lookups = 1});
  Status invalid = store_->recordRenderStats(id, 4, {.cache_hits = 5, .cache_lookups = 4});
  Status unknown = store_->recordRenderStats("j-none", 4, {});

  ASSERT_TRUE(recorded.ok()) << recorded.toString();
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.message(), "job " + id + ": token 3 is not the job's token 4");
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  std::int64_t render_ms = 0;
  std::int64_t hits = 0;
  std::int64_t lookups = 0;
  ASSERT_TRUE(db_->read([&](soci::session& sql) {
                   sql << "SELECT render_ms, cache_hits, cache_lookups FROM jobs WHERE id = :id",
                       soci::into(render_ms), soci::into(hits), soci::into(lookups), soci::use(id);
                   return okStatus();
                 })
                  .ok());
  EXPECT_EQ(render_ms, 1'250);
  EXPECT_EQ(hits, 30);
  EXPECT_EQ(lookups, 40);
}

TEST_P(JobStoreTest, CompleteWithStaleTokenChangesNothing) {
  std::string id = create(1).job_ids[0];
  claim(id, 3, "worker-old");
  ASSERT_TRUE(store_->fail(id, 3, "lease expired", kStartMs).ok());
  claim(id, 5, "worker-new");
  now_ms_ += 500;

  Status stale = store_->complete(id, 3, "out/matchday/video-1.mp4");
  Status unknown = store_->complete(id, 9, "out/matchday/video-1.mp4");

  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.message(), "job " + id + ": fencing token 3 is stale, the job is claimed with 5");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.message(),
            "job " + id + ": fencing token 9 was never granted, the job is claimed with 5");
  Job stored = job(id);
  EXPECT_EQ(stored.state, JobState::kActive);
  EXPECT_EQ(stored.worker, "worker-new");
  EXPECT_EQ(stored.output_path, "");
  EXPECT_EQ(stored.updated_at_ms, kStartMs);
  EXPECT_EQ(events(id).size(), 4u);
}

TEST_P(JobStoreTest, FailRetriesUntilMaxAttemptsThenKeepsError) {
  BatchSpec batch = spec();
  batch.max_attempts = 2;
  std::string id = create(1, batch).job_ids[0];
  claim(id, 1);

  now_ms_ += 1000;
  Result<JobState> first = store_->fail(id, 1, "crest missing", kStartMs + 31'000);
  Job retrying = job(id);
  claim(id, 2);
  now_ms_ += 1000;
  Result<JobState> second = store_->fail(id, 2, "crest still missing", kStartMs + 62'000);

  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ(*first, JobState::kRetrying);
  EXPECT_EQ(retrying.state, JobState::kRetrying);
  EXPECT_EQ(retrying.next_try_at_ms, kStartMs + 31'000);
  EXPECT_EQ(retrying.last_error, "crest missing");
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(*second, JobState::kFailed);
  Job failed = job(id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.attempts, 2);
  EXPECT_EQ(failed.next_try_at_ms, 0);
  EXPECT_EQ(failed.last_error, "crest still missing");
  std::vector<JobEvent> history = events(id);
  ASSERT_EQ(history.size(), 5u);
  expectEvent(history[0], "", "queued", kStartMs, 0);
  expectEvent(history[1], "queued", "active", kStartMs, 1, "worker-1");
  expectEvent(history[2], "active", "retrying", kStartMs + 1000, 1, "worker-1", "crest missing");
  expectEvent(history[3], "retrying", "active", kStartMs + 1000, 2, "worker-1");
  expectEvent(history[4], "active", "failed", kStartMs + 2000, 2, "worker-1",
              "crest still missing");
}

TEST_P(JobStoreTest, HandBackQueuesTheJobWithoutCountingTheAttempt) {
  std::string id = create(1).job_ids[0];
  claim(id, 1);
  now_ms_ += 500;

  Status empty = store_->handBack(id, 1, "");
  Status back = store_->handBack(id, 1, "worker-1 stopped before the job finished");
  Job queued = job(id);
  Job reclaimed = claim(id, 2, "worker-2");
  Status stale = store_->handBack(id, 1, "late");

  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(back.ok()) << back.toString();
  EXPECT_EQ(queued.state, JobState::kQueued);
  EXPECT_EQ(queued.attempts, 0);
  EXPECT_EQ(queued.fencing_token, 1);
  EXPECT_EQ(queued.last_error, "worker-1 stopped before the job finished");
  EXPECT_EQ(reclaimed.attempts, 1);
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.message(), "job " + id + ": fencing token 1 is stale, the job is claimed with 2");
  std::vector<JobEvent> history = events(id);
  ASSERT_EQ(history.size(), 4u);
  expectEvent(history[2], "active", "queued", kStartMs + 500, 0, "worker-1",
              "worker-1 stopped before the job finished");
  expectEvent(history[3], "queued", "active", kStartMs + 500, 1, "worker-2");
}

TEST_P(JobStoreTest, RetryFailedQueuesOnlyFailedJobsWithAttemptsReset) {
  BatchSpec batch = spec();
  batch.max_attempts = 1;
  CreatedBatch created = create(3, batch);
  const std::vector<std::string>& ids = created.job_ids;
  claim(ids[0], 1);
  ASSERT_TRUE(store_->fail(ids[0], 1, "crest missing", kStartMs + 1000).ok());
  claim(ids[1], 2);
  ASSERT_TRUE(store_->complete(ids[1], 2, "out/002.mp4").ok());

  Result<std::vector<std::string>> retried = store_->retryFailed(created.batch_id);
  Job again = job(ids[0]);
  Result<std::vector<std::string>> nothing_left = store_->retryFailed(created.batch_id);
  Result<std::vector<std::string>> unknown = store_->retryFailed("b-0000000000000000");

  ASSERT_TRUE(retried.ok()) << retried.status().toString();
  EXPECT_EQ(*retried, std::vector<std::string>{ids[0]});
  EXPECT_EQ(again.state, JobState::kQueued);
  EXPECT_EQ(again.attempts, 0);
  EXPECT_EQ(again.last_error, "crest missing");
  EXPECT_EQ(job(ids[1]).state, JobState::kCompleted);
  EXPECT_EQ(job(ids[2]).state, JobState::kQueued);
  ASSERT_TRUE(nothing_left.ok());
  EXPECT_TRUE(nothing_left->empty());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  Job reclaimed = claim(ids[0], 3);
  EXPECT_EQ(reclaimed.attempts, 1);
}

TEST_P(JobStoreTest, RetryFailedRefusesACancelledBatch) {
  BatchSpec batch = spec();
  batch.max_attempts = 1;
  CreatedBatch created = create(2, batch);
  claim(created.job_ids[0], 1);
  ASSERT_TRUE(store_->fail(created.job_ids[0], 1, "crest missing", std::nullopt).ok());
  ASSERT_TRUE(store_->cancelBatch(created.batch_id).ok());

  Result<std::vector<std::string>> retried = store_->retryFailed(created.batch_id);

  EXPECT_EQ(retried.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(retried.status().message(), "batch " + created.batch_id +
                                            ": cannot retry its failed jobs: the batch is "
                                            "cancelled");
  EXPECT_EQ(job(created.job_ids[0]).state, JobState::kFailed);
}

TEST_P(JobStoreTest, BatchKeepsItsVideoPrice) {
  BatchSpec priced = spec();
  priced.video_price = 4;
  CreatedBatch created = create(2, priced);
  BatchSpec free = spec();
  free.idempotency_key = "request-free";
  free.video_price = 0;

  Result<Batch> stored = store_->batch(created.batch_id);
  Result<CreatedBatch> rejected = store_->createBatch(free, rows(1));

  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_EQ(stored->video_price, 4);
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rejected.status().message(), "video_price 0 is invalid; expected 1 credit or more");
}

TEST_P(JobStoreTest, FailWithoutRetryTimeIsFinal) {
  std::string id = create(1).job_ids[0];
  claim(id, 1);

  Result<JobState> failed = store_->fail(id, 1, "template invalid", std::nullopt);
  Status complete = store_->complete(id, 1, "out/matchday/video-1.mp4");

  ASSERT_TRUE(failed.ok()) << failed.status().toString();
  EXPECT_EQ(*failed, JobState::kFailed);
  EXPECT_EQ(job(id).attempts, 1);
  EXPECT_EQ(job(id).last_error, "template invalid");
  ASSERT_FALSE(complete.ok());
  EXPECT_EQ(complete.message(), "job " + id + ": cannot complete: state is failed");
}

TEST_P(JobStoreTest, FailOfQueuedJobIsRejected) {
  std::string id = create(1).job_ids[0];

  Result<JobState> failed = store_->fail(id, 0, "too early", kStartMs);

  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(failed.status().message(), "job " + id + ": cannot fail: state is queued");
  EXPECT_EQ(events(id).size(), 1u);
}

TEST_P(JobStoreTest, CancelBatchCancelsRunningJobsAndReturnsActive) {
  CreatedBatch batch = create(4);
  const std::vector<std::string>& ids = batch.job_ids;
  claim(ids[1], 1);
  claim(ids[2], 2);
  ASSERT_TRUE(store_->complete(ids[2], 2, "out/matchday/video-3.mp4").ok());
  claim(ids[3], 3);
  ASSERT_TRUE(store_->fail(ids[3], 3, "timeout", kStartMs + 5000).ok());
  now_ms_ += 2000;

  Result<std::vector<std::string>> active = store_->cancelBatch(batch.batch_id);
  now_ms_ += 1000;
  Result<std::vector<std::string>> again = store_->cancelBatch(batch.batch_id);

  ASSERT_TRUE(active.ok()) << active.status().toString();
  EXPECT_EQ(*active, std::vector<std::string>{ids[1]});
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(job(ids[0]).state, JobState::kCancelled);
  EXPECT_EQ(job(ids[1]).state, JobState::kCancelled);
  EXPECT_EQ(job(ids[2]).state, JobState::kCompleted);
  EXPECT_EQ(job(ids[3]).state, JobState::kCancelled);
  EXPECT_EQ(store_->batch(batch.batch_id)->cancelled_at_ms, kStartMs + 2000);
  std::vector<JobEvent> history = events(ids[1]);
  ASSERT_EQ(history.size(), 3u);
  expectEvent(history[2], "active", "cancelled", kStartMs + 2000, 1, "worker-1");
  expectEvent(events(ids[0]).back(), "queued", "cancelled", kStartMs + 2000, 0);
  expectEvent(events(ids[3]).back(), "retrying", "cancelled", kStartMs + 2000, 1, "worker-1");
  Status late = store_->complete(ids[1], 1, "out/matchday/video-2.mp4");
  EXPECT_EQ(late.message(), "job " + ids[1] + ": cannot complete: state is cancelled");
  Result<BatchSummary> summary = store_->batchSummary(batch.batch_id);
  ASSERT_TRUE(summary.ok()) << summary.status().toString();
  EXPECT_EQ(summary->total, 4);
  EXPECT_EQ(summary->cancelled, 3);
  EXPECT_EQ(summary->completed, 1);
}

TEST_P(JobStoreTest, CancelBatchSkipsJobsInDelivery) {
  CreatedBatch batch = create(3);
  const std::vector<std::string>& ids = batch.job_ids;
  claim(ids[0], 1);
  claim(ids[1], 2);
  ASSERT_TRUE(store_->startDelivery(ids[1], 2, "out/matchday/video-2.mp4").ok());
  BatchDirectory directory(*db_);

  Result<std::vector<std::string>> active = store_->cancelBatch(batch.batch_id);
  Result<credits::JobState> while_delivering = directory.state("acme", batch.batch_id);
  Status late_start = store_->startDelivery(ids[0], 1, "out/matchday/video-1.mp4");
  Status completed = store_->complete(ids[1], 2, "out/matchday/video-2.mp4");
  Result<credits::JobState> after = directory.state("acme", batch.batch_id);

  ASSERT_TRUE(active.ok()) << active.status().toString();
  EXPECT_EQ(*active, std::vector<std::string>{ids[0]});
  EXPECT_EQ(job(ids[0]).state, JobState::kCancelled);
  EXPECT_EQ(job(ids[2]).state, JobState::kCancelled);
  ASSERT_TRUE(while_delivering.ok()) << while_delivering.status().toString();
  EXPECT_EQ(*while_delivering, credits::JobState::kActive);
  EXPECT_EQ(late_start.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(late_start.message(), "job " + ids[0] +
                                      ": cannot start the delivery with token 1: the job is "
                                      "cancelled with token 1");
  EXPECT_TRUE(completed.ok()) << completed.toString();
  EXPECT_EQ(job(ids[1]).state, JobState::kCompleted);
  ASSERT_TRUE(after.ok()) << after.status().toString();
  EXPECT_EQ(*after, credits::JobState::kCancelled);
}

TEST_P(JobStoreTest, StartDeliveryNeedsTheActiveClaim) {
  CreatedBatch batch = create(2);
  const std::vector<std::string>& ids = batch.job_ids;
  claim(ids[0], 1);

  Status stale = store_->startDelivery(ids[0], 0, "out/matchday/video-1.mp4");
  Status queued = store_->startDelivery(ids[1], 0, "out/matchday/video-2.mp4");
  Status empty = store_->startDelivery(ids[0], 1, "");
  Status unknown = store_->startDelivery("j-0123456789abcdef", 1, "out/x.mp4");
  Status started = store_->startDelivery(ids[0], 1, "out/matchday/video-1.mp4");
  Job delivering = job(ids[0]);
  std::size_t events_when_delivering = events(ids[0]).size();
  // The lease ran out: the next claim has not started to deliver.
  ASSERT_TRUE(store_->fail(ids[0], 1, "lease expired", kStartMs).ok());
  Job reclaimed = claim(ids[0], 2);
  Result<std::vector<std::string>> active = store_->cancelBatch(batch.batch_id);

  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(queued.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(queued.message(), "job " + ids[1] +
                                  ": cannot start the delivery with token 0: the job is queued "
                                  "with token 0");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_TRUE(started.ok()) << started.toString();
  EXPECT_EQ(delivering.state, JobState::kActive);
  EXPECT_EQ(delivering.output_path, "out/matchday/video-1.mp4");
  // The start of a delivery changes no state, so it adds no event.
  EXPECT_EQ(events_when_delivering, 2u);
  EXPECT_EQ(reclaimed.output_path, "");
  ASSERT_TRUE(active.ok()) << active.status().toString();
  EXPECT_EQ(*active, std::vector<std::string>{ids[0]});
  EXPECT_EQ(job(ids[0]).state, JobState::kCancelled);
}

TEST_P(JobStoreTest, SummaryTokenSumGrowsWithEveryClaim) {
  CreatedBatch batch = create(2);
  const std::vector<std::string>& ids = batch.job_ids;
  claim(ids[0], 3);
  ASSERT_TRUE(store_->complete(ids[0], 3, "out/matchday/video-1.mp4").ok());
  claim(ids[1], 4);
  ASSERT_TRUE(store_->fail(ids[1], 4, "final", std::nullopt).ok());
  Result<BatchSummary> ended = store_->batchSummary(batch.batch_id);

  ASSERT_TRUE(store_->retryFailed(batch.batch_id).ok());
  claim(ids[1], 9);
  ASSERT_TRUE(store_->fail(ids[1], 9, "final again", std::nullopt).ok());
  Result<BatchSummary> ended_again = store_->batchSummary(batch.batch_id);

  ASSERT_TRUE(ended.ok()) << ended.status().toString();
  ASSERT_TRUE(ended_again.ok()) << ended_again.status().toString();
  EXPECT_EQ(ended->token_sum, 7);
  EXPECT_EQ(ended_again->token_sum, 12);
  EXPECT_EQ(ended_again->failed, ended->failed);
  EXPECT_EQ(ended_again->completed, ended->completed);
}

TEST_P(JobStoreTest, UnfinishedListsQueuedActiveAndRetryingJobs) {
  CreatedBatch batch = create(5);
  const std::vector<std::string>& ids = batch.job_ids;
  claim(ids[0], 1);
  ASSERT_TRUE(store_->complete(ids[0], 1, "out/matchday/video-1.mp4").ok());
  claim(ids[1], 2);
  ASSERT_TRUE(store_->fail(ids[1], 2, "final", std::nullopt).ok());
  claim(ids[2], 3);
  claim(ids[3], 4);
  ASSERT_TRUE(store_->fail(ids[3], 4, "busy", kStartMs + 9000).ok());

  Result<std::vector<Job>> unfinished = store_->unfinished();

  ASSERT_TRUE(unfinished.ok()) << unfinished.status().toString();
  ASSERT_EQ(unfinished->size(), 3u);
  // Ordered by due time: the active and queued jobs are due at 0, by id.
  std::vector<std::string> due_now = {ids[2], ids[4]};
  std::sort(due_now.begin(), due_now.end());
  EXPECT_EQ((*unfinished)[0].id, due_now[0]);
  EXPECT_EQ((*unfinished)[1].id, due_now[1]);
  EXPECT_EQ((*unfinished)[2].id, ids[3]);
  EXPECT_EQ((*unfinished)[2].state, JobState::kRetrying);
  EXPECT_EQ((*unfinished)[2].next_try_at_ms, kStartMs + 9000);
}

TEST_P(JobStoreTest, TransitionIsCompareAndSet) {
  std::string id = create(1).job_ids[0];
  const JobState queued[] = {JobState::kQueued};
  const JobState active[] = {JobState::kActive};

  Result<bool> claimed =
      store_->transition(id, queued, JobState::kActive, {.worker = "worker-9", .fencing_token = 2});
  Result<bool> repeated =
      store_->transition(id, queued, JobState::kActive, {.worker = "worker-9", .fencing_token = 3});
  Result<bool> wrong_token =
      store_->transition(id, active, JobState::kCompleted, {.fencing_token = 1});
  Result<bool> not_allowed = store_->transition(id, active, JobState::kActive);
  Result<bool> unknown = store_->transition("j-0000000000000000", queued, JobState::kCancelled);
  Result<bool> completed = store_->transition(id, active, JobState::kCompleted,
                                              {.fencing_token = 2, .output_path = "out/video.mp4"});

  ASSERT_TRUE(claimed.ok()) << claimed.status().toString();
  EXPECT_TRUE(*claimed);
  ASSERT_TRUE(repeated.ok()) << repeated.status().toString();
  EXPECT_FALSE(*repeated);
  ASSERT_TRUE(wrong_token.ok()) << wrong_token.status().toString();
  EXPECT_FALSE(*wrong_token);
  ASSERT_FALSE(not_allowed.ok());
  EXPECT_EQ(not_allowed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(not_allowed.status().message(),
            "job " + id + ": a change from active to active is not allowed");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "job j-0000000000000000: not found");
  ASSERT_TRUE(completed.ok()) << completed.status().toString();
  EXPECT_TRUE(*completed);
  Job stored = job(id);
  EXPECT_EQ(stored.state, JobState::kCompleted);
  EXPECT_EQ(stored.fencing_token, 2);
  EXPECT_EQ(stored.output_path, "out/video.mp4");
  EXPECT_EQ(events(id).size(), 3u);
}

TEST_P(JobStoreTest, ConcurrentClaimsRecordOneActiveClaim) {
  constexpr int kThreads = 8;
  std::string id = create(1).job_ids[0];
  std::latch start(kThreads);
  std::vector<Result<Job>> results(kThreads, Status::internal("not run"));

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = store_->claim(id, "worker-" + std::to_string(i), i + 1);
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  int winner = -1;
  for (int i = 0; i < kThreads; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(winner, -1) << "threads " << winner << " and " << i << " both claimed";
      winner = i;
      continue;
    }
    EXPECT_EQ(results[i].status().code(), StatusCode::kFailedPrecondition) << "thread " << i;
    EXPECT_EQ(results[i].status().message(), "job " + id + ": cannot claim: state is active")
        << "thread " << i;
  }
  ASSERT_NE(winner, -1);
  Job stored = job(id);
  EXPECT_EQ(stored.fencing_token, winner + 1);
  EXPECT_EQ(stored.worker, "worker-" + std::to_string(winner));
  EXPECT_EQ(stored.attempts, 1);
  std::vector<JobEvent> history = events(id);
  ASSERT_EQ(history.size(), 2u);
  expectEvent(history[1], "queued", "active", kStartMs, 1, "worker-" + std::to_string(winner));
}

TEST_P(JobStoreTest, BadInputIsRejectedNamingTheField) {
  struct Case {
    std::string name;
    BatchSpec batch;
    std::vector<JobSpec> jobs;
    std::string message;
  };
  auto with = [](auto change) {
    BatchSpec batch = spec();
    change(batch);
    return batch;
  };
  auto rowsWith = [](auto change) {
    std::vector<JobSpec> jobs = rows(2);
    change(jobs);
    return jobs;
  };
  std::vector<Case> cases = {
      {"empty tenant", with([](BatchSpec& b) { b.tenant = ""; }), rows(1),
       "tenant '': use 1 to 64 letters, digits, '-' or '_'"},
      {"bad priority", with([](BatchSpec& b) { b.priority = "urgent"; }), rows(1),
       "priority 'urgent' is invalid; expected normal or high"},
      {"empty key", with([](BatchSpec& b) { b.idempotency_key = ""; }), rows(1),
       "idempotency_key is empty; give each batch request a key, such as the request's id"},
      {"long key", with([](BatchSpec& b) { b.idempotency_key = std::string(257, 'k'); }), rows(1),
       "idempotency_key is 257 bytes long; the maximum is 256"},
      {"empty template", with([](BatchSpec& b) { b.template_path = ""; }), rows(1),
       "template_path is empty"},
      {"empty data", with([](BatchSpec& b) { b.data_path = ""; }), rows(1), "data_path is empty"},
      {"empty storage", with([](BatchSpec& b) { b.storage_dir = ""; }), rows(1),
       "storage_dir is empty"},
      {"no attempts", with([](BatchSpec& b) { b.max_attempts = 0; }), rows(1),
       "max_attempts 0 is invalid; expected 1 or more"},
      {"no jobs", spec(), {}, "jobs: the batch has no jobs; give at least one data row"},
      {"row zero", spec(), rowsWith([](auto& j) { j[0].row = 0; }),
       "job row 0: row must be 1 or more"},
      {"row twice", spec(), rowsWith([](auto& j) { j[1].row = 1; }),
       "job row 1: row appears twice in the batch"},
      {"output twice", spec(), rowsWith([](auto& j) { j[1].output_name = "video-1.mp4"; }),
       "job row 2: output_name 'video-1.mp4' is also the output of row 1"},
      {"output path", spec(), rowsWith([](auto& j) { j[0].output_name = "../x.mp4"; }),
       "job row 1: output_name '../x.mp4' must be a file name, without '/'"},
      {"empty output", spec(), rowsWith([](auto& j) { j[0].output_name = ""; }),
       "job row 1: output_name is empty"},
      {"bad json", spec(), rowsWith([](auto& j) { j[1].row_json = "{\"a\":"; }),
       "job row 2: row_json is not a JSON object"},
      {"json array", spec(), rowsWith([](auto& j) { j[1].row_json = "[1]"; }),
       "job row 2: row_json is not a JSON object"},
  };

  for (const Case& test : cases) {
    Result<CreatedBatch> created = store_->createBatch(test.batch, test.jobs);

    ASSERT_FALSE(created.ok()) << test.name;
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << test.name;
    EXPECT_EQ(created.status().message(), test.message) << test.name;
  }
  EXPECT_EQ(countRows("batches"), 0);
  EXPECT_EQ(countRows("jobs"), 0);
}

TEST_P(JobStoreTest, EmptyWorkerErrorOrOutputIsRejected) {
  std::string id = create(1).job_ids[0];

  Result<Job> claimed = store_->claim(id, "", 1);
  claim(id, 1);
  Status completed = store_->complete(id, 1, "");
  Result<JobState> failed = store_->fail(id, 1, "", std::nullopt);

  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(claimed.status().message(), "job " + id + ": cannot claim: worker is empty");
  EXPECT_EQ(completed.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(completed.message(), "job " + id + ": cannot complete: output_path is empty");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "job " + id + ": cannot fail: error is empty");
  EXPECT_EQ(job(id).state, JobState::kActive);
}

TEST_P(JobStoreTest, UnknownIdsAreNotFound) {
  const std::string job_id = "j-ffffffffffffffff";
  const std::string batch_id = "b-ffffffffffffffff";

  Result<Job> job = store_->job(job_id);
  Result<std::vector<JobEvent>> events = store_->events(job_id);
  Result<Job> claimed = store_->claim(job_id, "worker-1", 1);
  Result<Batch> batch = store_->batch(batch_id);
  Result<std::vector<Job>> jobs = store_->batchJobs(batch_id);
  Result<BatchSummary> summary = store_->batchSummary(batch_id);
  Result<std::vector<std::string>> cancelled = store_->cancelBatch(batch_id);

  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(job.status().message(), "job j-ffffffffffffffff: not found");
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().code(), StatusCode::kNotFound);
  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.status().code(), StatusCode::kNotFound);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(batch.status().message(), "batch b-ffffffffffffffff: not found");
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().code(), StatusCode::kNotFound);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kNotFound);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kNotFound);
}

TEST_P(JobStoreTest, BatchDirectoryReportsBatchStates) {
  BatchDirectory directory(*db_);
  CreatedBatch running = create(2, spec("running"));
  CreatedBatch done = create(2, spec("done"));
  CreatedBatch cancelled = create(1, spec("cancelled"));
  claim(done.job_ids[0], 1);
  ASSERT_TRUE(store_->complete(done.job_ids[0], 1, "out/matchday/video-1.mp4").ok());
  claim(done.job_ids[1], 2);
  ASSERT_TRUE(store_->fail(done.job_ids[1], 2, "bad crest", std::nullopt).ok());
  claim(running.job_ids[0], 3);
  ASSERT_TRUE(store_->complete(running.job_ids[0], 3, "out/matchday/video-1.mp4").ok());
  ASSERT_TRUE(store_->cancelBatch(cancelled.batch_id).ok());

  Result<credits::JobState> active = directory.state("acme", running.batch_id);
  Result<credits::JobState> finished = directory.state("acme", done.batch_id);
  Result<credits::JobState> cancelled_state = directory.state("acme", cancelled.batch_id);
  Result<credits::JobState> unknown = directory.state("acme", "b-0123456789abcdef");
  Result<credits::JobState> other_tenant = directory.state("globex", running.batch_id);

  ASSERT_TRUE(active.ok()) << active.status().toString();
  EXPECT_EQ(*active, credits::JobState::kActive);
  ASSERT_TRUE(finished.ok()) << finished.status().toString();
  EXPECT_EQ(*finished, credits::JobState::kFinished);
  ASSERT_TRUE(cancelled_state.ok()) << cancelled_state.status().toString();
  EXPECT_EQ(*cancelled_state, credits::JobState::kCancelled);
  ASSERT_TRUE(unknown.ok()) << unknown.status().toString();
  EXPECT_EQ(*unknown, credits::JobState::kMissing);
  ASSERT_TRUE(other_tenant.ok()) << other_tenant.status().toString();
  EXPECT_EQ(*other_tenant, credits::JobState::kMissing);
}

TEST_P(JobStoreTest, BatchDirectoryReturnsDatabaseErrors) {
  BatchDirectory directory(*db_);
  CreatedBatch batch = create(1);
  ASSERT_TRUE(db_->write([](soci::session& sql) {
                   sql << "ALTER TABLE jobs RENAME TO jobs_moved";
                   return okStatus();
                 })
                  .ok());

  Result<credits::JobState> without_jobs = directory.state("acme", batch.batch_id);
  ASSERT_TRUE(db_->write([](soci::session& sql) {
                   sql << "ALTER TABLE batches RENAME TO batches_moved";
                   return okStatus();
                 })
                  .ok());
  Result<credits::JobState> without_batches = directory.state("acme", batch.batch_id);

  ASSERT_FALSE(without_jobs.ok());
  EXPECT_EQ(without_jobs.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(without_jobs.status().message().starts_with("state of batch " + batch.batch_id +
                                                          " of tenant acme: database "))
      << without_jobs.status().message();
  ASSERT_FALSE(without_batches.ok());
  EXPECT_EQ(without_batches.status().code(), StatusCode::kUnavailable);
}

// With one pooled session, each read executes the statements that the
// first one prepared, so a row must not leak into the next read.
TEST_P(JobStoreTest, BatchReadsAlternateOnOneSession) {
  Result<std::unique_ptr<store::Database>> opened =
      store::Database::open({.url = makeDatabaseUrl(), .pool_size = 1});
  ASSERT_TRUE(opened.ok()) << opened.status().toString();
  JobStore store(**opened, JobStoreOptions{.clock = [this] {
    return now_ms_.load();
  }});
  BatchSpec other_tenant = spec("request-3");
  other_tenant.tenant = "bolt";
  std::vector<CreatedBatch> batches;
  for (auto [count, batch_spec] :
       {std::pair{2, spec("request-1")}, std::pair{3, spec("request-2")}, {1, other_tenant}}) {
    Result<CreatedBatch> created = store.createBatch(batch_spec, rows(count));
    ASSERT_TRUE(created.ok()) << created.status().toString();
    batches.push_back(*created);
  }
  ASSERT_TRUE(store.claim(batches[1].job_ids[2], "worker-1", 7).ok());

  std::vector<std::string> outcomes;
  for (int round = 0; round < 5; ++round) {
    for (const std::string& id : {batches[1].batch_id, std::string("b-missing"),
                                  batches[0].batch_id, batches[2].batch_id}) {
      Result<Batch> batch = store.batch(id);
      Result<BatchSummary> summary = store.batchSummary(id);
      Result<std::vector<Job>> jobs = store.batchJobs(id);
      if (!batch.ok() || !summary.ok() || !jobs.ok()) {
        outcomes.push_back(batch.status().message() + "; " + summary.status().message() + "; " +
                           jobs.status().message());
        continue;
      }
      std::string rows_seen;
      for (const Job& job : *jobs) {
        rows_seen += std::to_string(job.row) + ":" + std::string(jobStateName(job.state)) + " ";
      }
      outcomes.push_back(fmt::format("{} {} jobs={} queued={} active={} tokens={} rows={}",
                                     batch->tenant, batch->idempotency_key, batch->job_count,
                                     summary->queued, summary->active, summary->token_sum,
                                     rows_seen));
    }
    Result<TenantJobCounts> acme = store.tenantCounts("acme");
    Result<TenantJobCounts> bolt = store.tenantCounts("bolt");
    ASSERT_TRUE(acme.ok()) << acme.status().toString();
    ASSERT_TRUE(bolt.ok()) << bolt.status().toString();
    outcomes.push_back(fmt::format("acme {}/{} bolt {}/{}", acme->queued, acme->active,
                                   bolt->queued, bolt->active));
  }

  ASSERT_EQ(outcomes.size(), 25u);
  for (std::size_t i = 0; i < outcomes.size(); i += 5) {
    EXPECT_EQ(outcomes[i],
              "acme request-2 jobs=3 queued=2 active=1 tokens=7 rows=1:queued 2:queued 3:active ");
    EXPECT_EQ(outcomes[i + 1],
              "batch b-missing: not found; batch b-missing: not found; batch b-missing: not found");
    EXPECT_EQ(outcomes[i + 2],
              "acme request-1 jobs=2 queued=2 active=0 tokens=0 rows=1:queued 2:queued ");
    EXPECT_EQ(outcomes[i + 3], "bolt request-3 jobs=1 queued=1 active=0 tokens=0 rows=1:queued ");
    EXPECT_EQ(outcomes[i + 4], "acme 4/1 bolt 1/0");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, JobStoreTest, smmhub::testing::kBackends,
                         smmhub::testing::backendName);

TEST(JobStateTest, NamesRoundTrip) {
  for (JobState state : {JobState::kQueued, JobState::kActive, JobState::kCompleted,
                         JobState::kFailed, JobState::kRetrying, JobState::kCancelled}) {
    Result<JobState> parsed = parseJobState(jobStateName(state));

    ASSERT_TRUE(parsed.ok()) << jobStateName(state);
    EXPECT_EQ(*parsed, state);
  }
  EXPECT_EQ(parseJobState("done").status().code(), StatusCode::kInvalidArgument);
}

TEST(JobStateTest, AllowedTransitionsMatchTheTable) {
  EXPECT_TRUE(allowedTransition(JobState::kQueued, JobState::kActive));
  EXPECT_TRUE(allowedTransition(JobState::kRetrying, JobState::kActive));
  EXPECT_TRUE(allowedTransition(JobState::kActive, JobState::kCompleted));
  EXPECT_TRUE(allowedTransition(JobState::kActive, JobState::kRetrying));
  EXPECT_TRUE(allowedTransition(JobState::kActive, JobState::kFailed));
  EXPECT_TRUE(allowedTransition(JobState::kQueued, JobState::kCancelled));
  EXPECT_TRUE(allowedTransition(JobState::kRetrying, JobState::kCancelled));
  EXPECT_TRUE(allowedTransition(JobState::kActive, JobState::kCancelled));
  EXPECT_FALSE(allowedTransition(JobState::kActive, JobState::kActive));
  EXPECT_FALSE(allowedTransition(JobState::kQueued, JobState::kCompleted));
  EXPECT_FALSE(allowedTransition(JobState::kCompleted, JobState::kCancelled));
  EXPECT_FALSE(allowedTransition(JobState::kFailed, JobState::kActive));
  EXPECT_TRUE(allowedTransition(JobState::kActive, JobState::kQueued));
  EXPECT_TRUE(allowedTransition(JobState::kFailed, JobState::kQueued));
  EXPECT_FALSE(allowedTransition(JobState::kCancelled, JobState::kQueued));
  EXPECT_FALSE(allowedTransition(JobState::kCompleted, JobState::kQueued));
  EXPECT_FALSE(allowedTransition(JobState::kRetrying, JobState::kQueued));
}

}  // namespace
}  // namespace smmhub::jobs
