// The broker against a real redis-server and both SQL back ends: SQLite in a
// temporary folder and PostgreSQL started by the test.
#include "broker/broker.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "testing/backend_test.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"

namespace smmhub::broker {
namespace {

using namespace std::chrono_literals;
using jobs::BatchSpec;
using jobs::CreatedBatch;
using jobs::Job;
using jobs::JobSpec;
using jobs::JobState;
using smmhub::testing::RedisServer;
using smmhub::testing::TempDir;

constexpr std::int64_t kStartMs = 1'800'000'000'000;

class BrokerTest : public smmhub::testing::BackendTest {
 protected:
  void SetUp() override {
    db_ = openTestDatabase();
    ASSERT_NE(db_, nullptr);
    store_ = std::make_unique<jobs::JobStore>(*db_, jobs::JobStoreOptions{.clock = [this] {
      return now_ms_.load();
    }});
    broker_ = makeBroker();
  }

  std::unique_ptr<Broker> makeBroker(std::chrono::milliseconds lease = 30s) {
    BrokerOptions options{.redis_url = redis_.url(),
                          .pool = {.timeout = 1000ms, .min_backoff = 1ms, .max_backoff = 1ms},
                          .lease = lease,
                          .backoff_base = 1000ms,
                          .backoff_max = 4000ms,
                          .clock = [this] {
                            return now_ms_.load();
                          }};
    Result<std::unique_ptr<Broker>> broker = Broker::create(options, *store_);
    EXPECT_TRUE(broker.ok()) << broker.status().toString();
    return broker.ok() ? std::move(*broker) : nullptr;
  }

  static BatchSpec spec(const std::string& tenant, const std::string& key,
                        const std::string& priority = "normal", int max_attempts = 3) {
    return {.tenant = tenant,
            .idempotency_key = key,
            .template_path = "templates/matchday.json",
            .data_path = "data/fixtures.csv",
            .brand_dir = "brand/" + tenant,
            .storage_dir = "out/" + key,
            .priority = priority,
            .max_attempts = max_attempts};
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

  CreatedBatch enqueue(int count, const BatchSpec& batch) {
    Result<CreatedBatch> created = broker_->enqueue(batch, rows(count));
    EXPECT_TRUE(created.ok()) << created.status().toString();
    return created.ok() ? *created : CreatedBatch{};
  }

  std::optional<Claim> claim(const std::string& worker = "worker-1") {
    Result<std::optional<Claim>> claimed = broker_->claim(worker);
    EXPECT_TRUE(claimed.ok()) << claimed.status().toString();
    return claimed.ok() ? *claimed : std::nullopt;
  }

  Job job(const std::string& id) {
    Result<Job> found = store_->job(id);
    EXPECT_TRUE(found.ok()) << found.status().toString();
    return found.ok() ? *found : Job{};
  }

  // The job's events as "from->to" strings, oldest first.
  std::vector<std::string> history(const std::string& id) {
    Result<std::vector<jobs::JobEvent>> events = store_->events(id);
    EXPECT_TRUE(events.ok()) << events.status().toString();
    std::vector<std::string> changes;
    for (const jobs::JobEvent& event : events.ok() ? *events : std::vector<jobs::JobEvent>{}) {
      changes.push_back(event.from_state + "->" + event.to_state);
    }
    return changes;
  }

  int completions(const std::string& id) {
    int count = 0;
    for (const std::string& change : history(id)) {
      count += change == "active->completed" ? 1 : 0;
    }
    return count;
  }

  int promote() {
    Result<int> moved = broker_->promoteDelayed();
    EXPECT_TRUE(moved.ok()) << moved.status().toString();
    return moved.ok() ? *moved : -1;
  }

  std::int64_t redisInteger(std::initializer_list<std::string_view> command) {
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    redis::Connection connection(*endpoint, 1000ms);
    Result<redis::ReplyPtr> reply = connection.command(command);
    EXPECT_TRUE(reply.ok()) << reply.status().toString();
    return reply.ok() ? (*reply)->integer : -1;
  }

  // Claims and completes jobs as WORKER until none is ready. Returns how
  // many calls failed.
  int runWorker(const std::string& worker) {
    int errors = 0;
    for (;;) {
      Result<std::optional<Claim>> claimed = broker_->claim(worker);
      if (!claimed.ok()) {
        return errors + 1;
      }
      if (!claimed->has_value()) {
        return errors;
      }
      Status done = broker_->complete(**claimed, "out/" + (*claimed)->job_id + ".mp4");
      errors += done.ok() ? 0 : 1;
    }
  }

  std::string redisText(std::initializer_list<std::string_view> command) {
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    redis::Connection connection(*endpoint, 1000ms);
    Result<redis::ReplyPtr> reply = connection.command(command);
    EXPECT_TRUE(reply.ok()) << reply.status().toString();
    return reply.ok() ? std::string(redis::replyText(reply->get())) : "";
  }

  TempDir dir_;
  RedisServer redis_;
  std::atomic<std::int64_t> now_ms_{kStartMs};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<jobs::JobStore> store_;
  std::unique_ptr<Broker> broker_;
};

TEST_P(BrokerTest, ClaimHeartbeatCompleteRecordsStates) {
  CreatedBatch batch = enqueue(1, spec("acme", "request-1"));
  ASSERT_EQ(batch.job_ids.size(), 1u);
  EXPECT_EQ(job(batch.job_ids[0]).state, JobState::kQueued);

  std::optional<Claim> claimed = claim("worker-1");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->job_id, batch.job_ids[0]);
  EXPECT_EQ(claimed->tenant, "acme");
  EXPECT_EQ(claimed->batch_id, batch.batch_id);
  EXPECT_EQ(claimed->fencing_token, 1);
  EXPECT_EQ(claimed->lease_deadline_ms, kStartMs + 30'000);
  EXPECT_EQ(job(claimed->job_id).state, JobState::kActive);
  EXPECT_EQ(job(claimed->job_id).worker, "worker-1");
  EXPECT_FALSE(claim("worker-2").has_value());

  now_ms_ += 10'000;
  EXPECT_TRUE(broker_->heartbeat(*claimed).ok());
  EXPECT_EQ(claimed->lease_deadline_ms, kStartMs + 40'000);

  Claim stale = *claimed;
  stale.fencing_token = 0;
  Status stale_completion = broker_->complete(stale, "out/stale.mp4");
  EXPECT_EQ(stale_completion.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(job(claimed->job_id).state, JobState::kActive);

  ASSERT_TRUE(broker_->complete(*claimed, "out/video-1.mp4").ok());
  Job done = job(claimed->job_id);
  EXPECT_EQ(done.state, JobState::kCompleted);
  EXPECT_EQ(done.output_path, "out/video-1.mp4");
  EXPECT_EQ(history(done.id),
            (std::vector<std::string>{"->queued", "queued->active", "active->completed"}));

  Status second = broker_->complete(*claimed, "out/again.mp4");
  EXPECT_EQ(second.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(job(done.id).output_path, "out/video-1.mp4");
  EXPECT_EQ(broker_->heartbeat(*claimed).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(redisInteger({"EXISTS", "smmhub:bk:{acme}:lease:" + done.id}), 0);
  EXPECT_EQ(redisInteger({"ZCARD", "smmhub:bk:active"}), 0);
}

TEST_P(BrokerTest, FailRetriesAfterBackoffUntilMaxAttempts) {
  CreatedBatch batch = enqueue(1, spec("acme", "request-1", "normal", 2));
  std::optional<Claim> first = claim();
  ASSERT_TRUE(first.has_value());

  Result<JobState> state = broker_->fail(*first, "font missing");
  ASSERT_TRUE(state.ok()) << state.status().toString();
  EXPECT_EQ(*state, JobState::kRetrying);
  Job retrying = job(first->job_id);
  EXPECT_EQ(retrying.state, JobState::kRetrying);
  // The first retry waits backoff_base less up to half of it.
  EXPECT_GE(retrying.next_try_at_ms, kStartMs + 500);
  EXPECT_LE(retrying.next_try_at_ms, kStartMs + 1000);

  now_ms_ = retrying.next_try_at_ms - 1;
  EXPECT_EQ(promote(), 0);
  EXPECT_FALSE(claim().has_value());

  now_ms_ = retrying.next_try_at_ms;
  EXPECT_EQ(promote(), 1);
  std::optional<Claim> second = claim();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->job_id, first->job_id);
  EXPECT_GT(second->fencing_token, first->fencing_token);

  state = broker_->fail(*second, "font still missing");
  ASSERT_TRUE(state.ok()) << state.status().toString();
  EXPECT_EQ(*state, JobState::kFailed);
  Job failed = job(first->job_id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.attempts, 2);
  EXPECT_EQ(failed.last_error, "font still missing");
  now_ms_ += 60'000;
  EXPECT_EQ(promote(), 0);
  EXPECT_FALSE(claim().has_value());
}

TEST_P(BrokerTest, BackoffDoublesWithinJitterUpToMax) {
  for (int round = 0; round < 50; ++round) {
    EXPECT_GE(broker_->backoff(1), 500ms);
    EXPECT_LE(broker_->backoff(1), 1000ms);
    EXPECT_GE(broker_->backoff(2), 1000ms);
    EXPECT_LE(broker_->backoff(2), 2000ms);
    EXPECT_GE(broker_->backoff(10), 2000ms);
    EXPECT_LE(broker_->backoff(10), 4000ms);
  }
}

TEST_P(BrokerTest, ExpiredLeaseIsReclaimedAndFencesOldWorker) {
  broker_ = makeBroker(200ms);
  CreatedBatch batch = enqueue(1, spec("acme", "request-1"));
  std::optional<Claim> first = claim("worker-1");
  ASSERT_TRUE(first.has_value());

  now_ms_ += 100;
  Result<int> early = broker_->reclaimExpired();
  ASSERT_TRUE(early.ok()) << early.status().toString();
  EXPECT_EQ(*early, 0);

  now_ms_ += 200;
  Result<int> reclaimed = broker_->reclaimExpired();
  ASSERT_TRUE(reclaimed.ok()) << reclaimed.status().toString();
  EXPECT_EQ(*reclaimed, 1);
  Job retrying = job(first->job_id);
  EXPECT_EQ(retrying.state, JobState::kRetrying);
  EXPECT_EQ(retrying.last_error, "lease expired");
  EXPECT_EQ(broker_->heartbeat(*first).code(), StatusCode::kFailedPrecondition);

  now_ms_ = retrying.next_try_at_ms;
  EXPECT_EQ(promote(), 1);
  std::optional<Claim> second = claim("worker-2");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->job_id, first->job_id);
  EXPECT_GT(second->fencing_token, first->fencing_token);

  EXPECT_EQ(broker_->complete(*first, "out/late.mp4").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(broker_->complete(*second, "out/video-1.mp4").ok());
  EXPECT_EQ(job(first->job_id).output_path, "out/video-1.mp4");
  EXPECT_EQ(job(first->job_id).worker, "worker-2");
  EXPECT_EQ(completions(first->job_id), 1);
}

TEST_P(BrokerTest, HeartbeatMakesAgainALeaseThatRedisLost) {
  broker_ = makeBroker(100ms);
  enqueue(1, spec("acme", "request-1"));
  std::optional<Claim> claimed = claim();
  ASSERT_TRUE(claimed.has_value());
  std::string lease_key = "smmhub:bk:{acme}:lease:" + claimed->job_id;
  std::string member = "acme " + claimed->job_id + " " + std::to_string(claimed->fencing_token);

  // Redis expires the lease key by its own clock and, as after a restart
  // without the data, the claim is gone from the leases zset too.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(redisInteger({"EXISTS", lease_key}), 0);
  EXPECT_EQ(redisInteger({"ZREM", "smmhub:bk:active", member}), 1);

  // SQL still has the job active under this token: the lease comes back.
  Status beat = broker_->heartbeat(*claimed);
  ASSERT_TRUE(beat.ok()) << beat.toString();
  EXPECT_EQ(redisText({"GET", lease_key}), "worker-1 " + std::to_string(claimed->fencing_token));
  EXPECT_EQ(redisText({"ZSCORE", "smmhub:bk:active", member}), std::to_string(kStartMs + 100));
  EXPECT_EQ(claimed->lease_deadline_ms, kStartMs + 100);
  EXPECT_TRUE(broker_->complete(*claimed, "out/video-1.mp4").ok());
}

TEST_P(BrokerTest, HeartbeatReplacesALeaseOfALowerToken) {
  enqueue(1, spec("acme", "request-1"));
  std::optional<Claim> claimed = claim();
  ASSERT_TRUE(claimed.has_value());
  std::string lease_key = "smmhub:bk:{acme}:lease:" + claimed->job_id;
  // A lease left by an older claim, as a Redis restored from an old file has.
  EXPECT_EQ(redisText({"SET", lease_key, "worker-0 0"}), "OK");

  Status beat = broker_->heartbeat(*claimed);

  ASSERT_TRUE(beat.ok()) << beat.toString();
  EXPECT_EQ(redisText({"GET", lease_key}), "worker-1 " + std::to_string(claimed->fencing_token));
}

TEST_P(BrokerTest, CancelAgainEndsLeasesTheFirstCancelLeft) {
  CreatedBatch batch = enqueue(2, spec("acme", "request-1"));
  std::optional<Claim> claimed = claim();
  ASSERT_TRUE(claimed.has_value());
  ASSERT_TRUE(store_->cancelBatch(batch.batch_id).ok());  // SQL only, as when Redis failed
  std::string lease_key = "smmhub:bk:{acme}:lease:" + claimed->job_id;
  EXPECT_EQ(redisInteger({"EXISTS", lease_key}), 1);

  Result<std::vector<std::string>> active = broker_->cancelBatch(batch.batch_id);

  ASSERT_TRUE(active.ok()) << active.status().toString();
  EXPECT_TRUE(active->empty());
  EXPECT_EQ(redisInteger({"EXISTS", lease_key}), 0);
  EXPECT_EQ(broker_->heartbeat(*claimed).code(), StatusCode::kFailedPrecondition);
}

TEST_P(BrokerTest, HeartbeatFailsOnceSqlEndedTheClaim) {
  CreatedBatch batch = enqueue(2, spec("acme", "request-1"));
  std::optional<Claim> claimed = claim();
  ASSERT_TRUE(claimed.has_value());

  ASSERT_TRUE(broker_->cancelBatch(batch.batch_id).ok());
  Status beat = broker_->heartbeat(*claimed);

  EXPECT_EQ(beat.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(beat.message(), "job " + claimed->job_id + ": the claim with fencing token " +
                                std::to_string(claimed->fencing_token) +
                                " is over: the job is cancelled with token " +
                                std::to_string(claimed->fencing_token) + "; stop working on it");
  // The cancel ended the lease in Redis as well.
  EXPECT_EQ(redisInteger({"EXISTS", "smmhub:bk:{acme}:lease:" + claimed->job_id}), 0);
  EXPECT_EQ(redisInteger({"ZCARD", "smmhub:bk:active"}), 0);
}

TEST_P(BrokerTest, HandBackRequeuesTheJobWithoutCountingTheAttempt) {
  enqueue(1, spec("acme", "request-1"));
  std::optional<Claim> first = claim("worker-1");
  ASSERT_TRUE(first.has_value());

  Status back = broker_->handBack(*first, "worker-1 stopped before the job finished");
  std::optional<Claim> second = claim("worker-2");

  ASSERT_TRUE(back.ok()) << back.toString();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->job_id, first->job_id);
  EXPECT_GT(second->fencing_token, first->fencing_token);
  EXPECT_EQ(job(first->job_id).attempts, 1);
  EXPECT_EQ(broker_->complete(*first, "out/late.mp4").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(broker_->complete(*second, "out/video-1.mp4").ok());
  EXPECT_EQ(history(first->job_id),
            (std::vector<std::string>{"->queued", "queued->active", "active->queued",
                                      "queued->active", "active->completed"}));
}

TEST_P(BrokerTest, PermanentFailureSkipsTheRetries) {
  enqueue(1, spec("acme", "request-1"));
  std::optional<Claim> claimed = claim();
  ASSERT_TRUE(claimed.has_value());

  Result<JobState> state = broker_->fail(*claimed, "crest.png: not an image", true);

  ASSERT_TRUE(state.ok()) << state.status().toString();
  EXPECT_EQ(*state, JobState::kFailed);
  EXPECT_EQ(job(claimed->job_id).attempts, 1);
  EXPECT_EQ(redisInteger({"ZCARD", "smmhub:bk:delayed"}), 0);
  EXPECT_EQ(redisInteger({"SCARD", "smmhub:bk:{acme}:known"}), 0);
}

TEST_P(BrokerTest, RetryFailedPushesTheFailedJobsAgain) {
  CreatedBatch batch = enqueue(2, spec("acme", "request-1", "normal", 1));
  std::optional<Claim> failing = claim();
  ASSERT_TRUE(failing.has_value());
  ASSERT_EQ(*broker_->fail(*failing, "encoder crashed"), JobState::kFailed);
  std::optional<Claim> done = claim();
  ASSERT_TRUE(done.has_value());
  ASSERT_TRUE(broker_->complete(*done, "out/video-2.mp4").ok());
  EXPECT_FALSE(claim().has_value());

  Result<std::vector<std::string>> retried = broker_->retryFailed(batch.batch_id);
  std::optional<Claim> again = claim();

  ASSERT_TRUE(retried.ok()) << retried.status().toString();
  EXPECT_EQ(*retried, std::vector<std::string>{failing->job_id});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job_id, failing->job_id);
  ASSERT_TRUE(broker_->complete(*again, "out/video-1.mp4").ok());
  EXPECT_FALSE(claim().has_value());
}

TEST_P(BrokerTest, TenantWithOneJobIsNotStarved) {
  CreatedBatch big = enqueue(300, spec("acme", "request-1"));
  for (int i = 0; i < 3; ++i) {
    std::optional<Claim> claimed = claim();
    ASSERT_TRUE(claimed.has_value());
    EXPECT_EQ(claimed->tenant, "acme");
  }

  CreatedBatch small = enqueue(1, spec("globex", "request-1"));
  int claims_until_globex = 0;
  for (int i = 1; i <= 2 && claims_until_globex == 0; ++i) {
    std::optional<Claim> claimed = claim();
    ASSERT_TRUE(claimed.has_value());
    if (claimed->job_id == small.job_ids[0]) {
      claims_until_globex = i;
    }
  }
  EXPECT_GE(claims_until_globex, 1);
  EXPECT_LE(claims_until_globex, 2);
}

TEST_P(BrokerTest, HighPriorityJobIsClaimedFirst) {
  CreatedBatch normal = enqueue(5, spec("acme", "request-1"));
  CreatedBatch urgent = enqueue(1, spec("acme", "request-2", "high"));

  std::optional<Claim> first = claim();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->job_id, urgent.job_ids[0]);
  std::optional<Claim> second = claim();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->job_id, normal.job_ids[0]);
}

TEST_P(BrokerTest, CancelledJobsAreNeverClaimed) {
  CreatedBatch cancelled = enqueue(4, spec("acme", "request-1"));
  std::optional<Claim> running = claim();
  ASSERT_TRUE(running.has_value());
  CreatedBatch other = enqueue(2, spec("acme", "request-2"));

  Result<std::vector<std::string>> active = broker_->cancelBatch(cancelled.batch_id);
  ASSERT_TRUE(active.ok()) << active.status().toString();
  EXPECT_EQ(*active, std::vector<std::string>{running->job_id});

  std::set<std::string> claimed_ids;
  while (std::optional<Claim> next = claim()) {
    claimed_ids.insert(next->job_id);
  }
  EXPECT_EQ(claimed_ids, std::set<std::string>(other.job_ids.begin(), other.job_ids.end()));
  EXPECT_EQ(broker_->complete(*running, "out/video-1.mp4").code(), StatusCode::kFailedPrecondition);
  for (const std::string& id : cancelled.job_ids) {
    EXPECT_EQ(job(id).state, JobState::kCancelled) << id;
  }
}

TEST_P(BrokerTest, ClaimDropsJobsThatSqlEnded) {
  CreatedBatch ended = enqueue(2, spec("acme", "request-1"));
  CreatedBatch open = enqueue(1, spec("acme", "request-2"));
  Result<std::vector<std::string>> active = store_->cancelBatch(ended.batch_id);
  ASSERT_TRUE(active.ok()) << active.status().toString();

  std::optional<Claim> claimed = claim();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->job_id, open.job_ids[0]);
  EXPECT_FALSE(claim().has_value());
  EXPECT_EQ(redisInteger({"SCARD", "smmhub:bk:{acme}:known"}), 1);
  EXPECT_EQ(redisInteger({"ZCARD", "smmhub:bk:active"}), 1);
}

TEST_P(BrokerTest, ClaimWithStaleCounterRaisesItAndRetries) {
  CreatedBatch batch = enqueue(1, spec("acme", "request-1"));
  std::optional<Claim> first = claim();
  ASSERT_TRUE(first.has_value());
  Result<JobState> state = broker_->fail(*first, "encoder crashed");
  ASSERT_TRUE(state.ok()) << state.status().toString();
  now_ms_ += 10'000;
  EXPECT_EQ(promote(), 1);

  // A Redis restored from an old snapshot grants a token SQL has seen: the
  // claim raises the counter past it and takes the job again.
  EXPECT_EQ(redisText({"SET", "smmhub:bk:token", "0"}), "OK");
  std::optional<Claim> second = claim();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->job_id, batch.job_ids[0]);
  EXPECT_GT(second->fencing_token, first->fencing_token);
  EXPECT_EQ(job(second->job_id).state, JobState::kActive);
  EXPECT_EQ(job(second->job_id).fencing_token, second->fencing_token);
}

TEST_P(BrokerTest, ConcurrentWorkersCompleteEachJobOnce) {
  CreatedBatch acme = enqueue(30, spec("acme", "request-1"));
  CreatedBatch globex = enqueue(10, spec("globex", "request-1"));

  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  workers.reserve(4);
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] { errors += runWorker("worker-" + std::to_string(w)); });
  }
  for (std::thread& worker : workers) {
    worker.join();
  }

  EXPECT_EQ(errors.load(), 0);
  for (const CreatedBatch& batch : {acme, globex}) {
    for (const std::string& id : batch.job_ids) {
      EXPECT_EQ(job(id).state, JobState::kCompleted) << id;
      EXPECT_EQ(completions(id), 1) << id;
    }
  }
  EXPECT_EQ(redisInteger({"ZCARD", "smmhub:bk:active"}), 0);
  EXPECT_EQ(redisInteger({"LLEN", "smmhub:bk:ring"}), 0);
}

TEST_P(BrokerTest, PushesWakeIdleWorkersAndAnEmptyClaimClearsTheTokens) {
  redis::Connection waiter(broker_->endpoint(), 2000ms);
  enqueue(3, spec("acme", "request-1"));
  EXPECT_EQ(redisInteger({"LLEN", "smmhub:bk:wake"}), 3);

  Result<bool> woken = broker_->waitForWork(waiter, 1000ms);
  ASSERT_TRUE(woken.ok()) << woken.status().toString();
  EXPECT_TRUE(*woken);
  // Claims leave the tokens: only waits take them.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(claim().has_value());
  }
  EXPECT_EQ(redisInteger({"LLEN", "smmhub:bk:wake"}), 2);
  EXPECT_FALSE(claim().has_value());
  EXPECT_EQ(redisInteger({"EXISTS", "smmhub:bk:wake"}), 0);

  Result<bool> idle = broker_->waitForWork(waiter, 100ms);
  ASSERT_TRUE(idle.ok()) << idle.status().toString();
  EXPECT_FALSE(*idle);
}

TEST_P(BrokerTest, QueueStatsCountEachPlace) {
  enqueue(3, spec("acme", "request-1"));
  enqueue(2, spec("globex", "request-2", "high"));
  std::optional<Claim> running = claim();
  ASSERT_TRUE(running.has_value());
  std::optional<Claim> failing = claim();
  ASSERT_TRUE(failing.has_value());
  ASSERT_EQ(*broker_->fail(*failing, "encoder crashed"), JobState::kRetrying);

  Result<QueueStats> stats = broker_->queueStats();

  ASSERT_TRUE(stats.ok()) << stats.status().toString();
  EXPECT_EQ(stats->ready, 3);
  EXPECT_EQ(stats->high, 1);
  EXPECT_EQ(stats->active, 1);
  EXPECT_EQ(stats->delayed, 1);
  EXPECT_EQ(stats->tenants, 2);
}

TEST_P(BrokerTest, RedriveRestoresJobsAfterRedisLostThem) {
  CreatedBatch batch = enqueue(5, spec("acme", "request-1"));
  std::optional<Claim> done = claim();
  ASSERT_TRUE(done.has_value());
  ASSERT_TRUE(broker_->complete(*done, "out/first.mp4").ok());
  std::optional<Claim> lost = claim();
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(redisText({"FLUSHALL"}), "OK");
  EXPECT_FALSE(claim().has_value());

  // Three queued jobs and the active one come back.
  Result<int> pushed = broker_->redrive();
  ASSERT_TRUE(pushed.ok()) << pushed.status().toString();
  EXPECT_EQ(*pushed, 4);
  Result<int> again = broker_->redrive();
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_EQ(*again, 0);

  // Its worker may still heartbeat for one lease period; after that the
  // lost claim is failed with its own token and retried.
  Result<int> early = broker_->reclaimExpired();
  ASSERT_TRUE(early.ok()) << early.status().toString();
  EXPECT_EQ(*early, 0);
  now_ms_ += 30'001;
  Result<int> reclaimed = broker_->reclaimExpired();
  ASSERT_TRUE(reclaimed.ok()) << reclaimed.status().toString();
  EXPECT_EQ(*reclaimed, 1);
  EXPECT_EQ(job(lost->job_id).state, JobState::kRetrying);
  EXPECT_EQ(broker_->complete(*lost, "out/lost.mp4").code(), StatusCode::kFailedPrecondition);
  now_ms_ += 10'000;
  EXPECT_EQ(promote(), 1);

  std::int64_t last_token = lost->fencing_token;
  while (std::optional<Claim> next = claim()) {
    EXPECT_GT(next->fencing_token, last_token);
    last_token = next->fencing_token;
    ASSERT_TRUE(broker_->complete(*next, "out/" + next->job_id + ".mp4").ok());
  }
  for (const std::string& id : batch.job_ids) {
    EXPECT_EQ(job(id).state, JobState::kCompleted) << id;
    EXPECT_EQ(completions(id), 1) << id;
  }
}

TEST_P(BrokerTest, RepeatedEnqueuePushesJobsOnce) {
  CreatedBatch first = enqueue(3, spec("acme", "request-1"));
  CreatedBatch second = enqueue(3, spec("acme", "request-1"));
  EXPECT_TRUE(first.created);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.job_ids, first.job_ids);
  EXPECT_EQ(redisInteger({"LLEN", "smmhub:bk:{acme}:ready"}), 3);

  std::map<std::string, int> claims;
  while (std::optional<Claim> next = claim()) {
    claims[next->job_id]++;
  }
  EXPECT_EQ(claims.size(), 3u);
  for (const auto& [id, count] : claims) {
    EXPECT_EQ(count, 1) << id;
  }
}

TEST_P(BrokerTest, RedisDownFailsClosedAndRedriveRestoresReceipts) {
  redis_.kill();

  Result<CreatedBatch> enqueued = broker_->enqueue(spec("acme", "request-1"), rows(3));
  ASSERT_FALSE(enqueued.ok());
  EXPECT_EQ(enqueued.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(enqueued.status().message().find(redis_.url()), std::string::npos)
      << enqueued.status().message();
  Result<std::optional<Claim>> claimed = broker_->claim("worker-1");
  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(claimed.status().message().find(redis_.url()), std::string::npos)
      << claimed.status().message();
  Result<std::vector<Job>> receipts = store_->unfinished();
  ASSERT_TRUE(receipts.ok()) << receipts.status().toString();
  EXPECT_EQ(receipts->size(), 3u);

  redis_.restart();
  std::this_thread::sleep_for(20ms);  // past the pool's back-off
  Result<int> pushed = broker_->redrive();
  ASSERT_TRUE(pushed.ok()) << pushed.status().toString();
  EXPECT_EQ(*pushed, 3);
  int completed = 0;
  while (std::optional<Claim> next = claim()) {
    ASSERT_TRUE(broker_->complete(*next, "out/" + next->job_id + ".mp4").ok());
    completed++;
  }
  EXPECT_EQ(completed, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, BrokerTest, smmhub::testing::kBackends,
                         smmhub::testing::backendName);

}  // namespace
}  // namespace smmhub::broker
