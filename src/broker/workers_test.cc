// The worker registry against a real redis-server, with the time passed in.
#include "broker/workers.h"

#include <gtest/gtest.h>

#include "testing/redis_server.h"

namespace smmhub::broker {
namespace {

using namespace std::chrono_literals;
using smmhub::testing::RedisServer;

constexpr std::int64_t kNowMs = 1'800'000'000'000;

class WorkerRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<WorkerRegistry>> made =
        WorkerRegistry::create({.redis_url = redis_.url(),
                                .pool = {.timeout = 1000ms, .min_backoff = 1ms, .max_backoff = 1ms},
                                .stale_after = 15'000ms});
    ASSERT_TRUE(made.ok()) << made.status().toString();
    registry_ = std::move(*made);
  }

  static WorkerInfo worker(const std::string& id) {
    return {.id = id,
            .host = "render-" + id,
            .pid = 4242,
            .started_at_ms = kNowMs - 60'000,
            .concurrency = 2,
            .active = {"j-1", "j-2"},
            .completed = 17,
            .failed = 3,
            .version = "0.9.0"};
  }

  std::vector<std::string> liveIds(std::int64_t now_ms, std::chrono::milliseconds stale_after) {
    Result<std::vector<WorkerInfo>> workers = registry_->live(now_ms, stale_after);
    EXPECT_TRUE(workers.ok()) << workers.status().toString();
    std::vector<std::string> ids;
    for (const WorkerInfo& info : workers.ok() ? *workers : std::vector<WorkerInfo>{}) {
      ids.push_back(info.id);
    }
    return ids;
  }

  long long redisInteger(std::initializer_list<std::string_view> command) {
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    redis::Connection connection(*endpoint, 1000ms);
    Result<redis::ReplyPtr> reply = connection.command(command);
    EXPECT_TRUE(reply.ok()) << reply.status().toString();
    return reply.ok() ? (*reply)->integer : -1;
  }

  RedisServer redis_;
  std::unique_ptr<WorkerRegistry> registry_;
};

TEST_F(WorkerRegistryTest, LiveReturnsBeatenWorkersById) {
  ASSERT_TRUE(registry_->beat(worker("w2"), kNowMs - 1'000).ok());
  ASSERT_TRUE(registry_->beat(worker("w1"), kNowMs - 2'000).ok());

  Result<std::vector<WorkerInfo>> workers = registry_->live(kNowMs, 15s);

  ASSERT_TRUE(workers.ok()) << workers.status().toString();
  ASSERT_EQ(workers->size(), 2u);
  const WorkerInfo& first = (*workers)[0];
  EXPECT_EQ(first.id, "w1");
  EXPECT_EQ(first.host, "render-w1");
  EXPECT_EQ(first.pid, 4242);
  EXPECT_EQ(first.started_at_ms, kNowMs - 60'000);
  EXPECT_EQ(first.concurrency, 2);
  EXPECT_EQ(first.active, (std::vector<std::string>{"j-1", "j-2"}));
  EXPECT_EQ(first.completed, 17);
  EXPECT_EQ(first.failed, 3);
  EXPECT_EQ(first.version, "0.9.0");
  EXPECT_EQ(first.last_beat_ms, kNowMs - 2'000);
  EXPECT_EQ((*workers)[1].id, "w2");
  EXPECT_EQ((*workers)[1].last_beat_ms, kNowMs - 1'000);
}

TEST_F(WorkerRegistryTest, StaleWorkerIsLeftOutButKept) {
  ASSERT_TRUE(registry_->beat(worker("w1"), kNowMs - 20'000).ok());
  ASSERT_TRUE(registry_->beat(worker("w2"), kNowMs).ok());
  ASSERT_TRUE(registry_->beat(worker("w3"), kNowMs - 15'000).ok());

  std::vector<std::string> ids = liveIds(kNowMs, 15s);

  // A beat exactly stale_after ago still counts.
  EXPECT_EQ(ids, (std::vector<std::string>{"w2", "w3"}));
  EXPECT_EQ(redisInteger({"ZCARD", "smmhub:bk:workers"}), 3);
}

TEST_F(WorkerRegistryTest, MembersOlderThanTenStalePeriodsAreRemoved) {
  ASSERT_TRUE(registry_->beat(worker("w1"), kNowMs - 150'001).ok());
  ASSERT_TRUE(registry_->beat(worker("w2"), kNowMs - 150'000).ok());

  std::vector<std::string> ids = liveIds(kNowMs, 15s);

  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(redisInteger({"ZCARD", "smmhub:bk:workers"}), 1);
  EXPECT_EQ(redisInteger({"ZSCORE", "smmhub:bk:workers", "w1"}), 0);
}

TEST_F(WorkerRegistryTest, BeatReplacesFieldsAndSetsExpiry) {
  ASSERT_TRUE(registry_->beat(worker("w1"), kNowMs - 1'000).ok());
  WorkerInfo idle = worker("w1");
  idle.active = {};
  idle.completed = 19;

  ASSERT_TRUE(registry_->beat(idle, kNowMs).ok());
  Result<std::vector<WorkerInfo>> workers = registry_->live(kNowMs, 15s);
  long long ttl_ms = redisInteger({"PTTL", workerKey("w1")});

  ASSERT_TRUE(workers.ok()) << workers.status().toString();
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_TRUE((*workers)[0].active.empty());
  EXPECT_EQ((*workers)[0].completed, 19);
  EXPECT_EQ((*workers)[0].last_beat_ms, kNowMs);
  EXPECT_GT(ttl_ms, 0);
  EXPECT_LE(ttl_ms, 15'000);
  EXPECT_EQ(workerKey("w1"), "smmhub:bk:worker:w1");
}

TEST_F(WorkerRegistryTest, WorkerWithExpiredHashIsLeftOut) {
  ASSERT_TRUE(registry_->beat(worker("w1"), kNowMs).ok());
  ASSERT_TRUE(registry_->beat(worker("w2"), kNowMs).ok());
  redisInteger({"DEL", workerKey("w1")});

  std::vector<std::string> ids = liveIds(kNowMs, 15s);

  EXPECT_EQ(ids, (std::vector<std::string>{"w2"}));
}

TEST_F(WorkerRegistryTest, RemoveDropsWorker) {
  ASSERT_TRUE(registry_->beat(worker("w1"), kNowMs).ok());
  ASSERT_TRUE(registry_->beat(worker("w2"), kNowMs).ok());

  ASSERT_TRUE(registry_->remove("w1").ok());
  ASSERT_TRUE(registry_->remove("never-beat").ok());

  EXPECT_EQ(liveIds(kNowMs, 15s), (std::vector<std::string>{"w2"}));
  EXPECT_EQ(redisInteger({"EXISTS", workerKey("w1")}), 0);
}

TEST_F(WorkerRegistryTest, InvalidInputIsRejected) {
  WorkerInfo spaced = worker("w 1");
  WorkerInfo bad_job = worker("w1");
  bad_job.active = {"j-1 j-2"};

  Status empty_id = registry_->beat(worker(""), kNowMs);
  Status space_id = registry_->beat(spaced, kNowMs);
  Status space_job = registry_->beat(bad_job, kNowMs);
  Result<std::vector<WorkerInfo>> zero_stale = registry_->live(kNowMs, 0ms);
  Result<std::unique_ptr<WorkerRegistry>> bad_url =
      WorkerRegistry::create({.redis_url = "127.0.0.1:6379"});

  EXPECT_EQ(empty_id.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(space_id.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(space_job.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(zero_stale.status().code(), StatusCode::kInvalidArgument);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(WorkerRegistryTest, RedisDownIsUnavailableNamingUrl) {
  redis_.kill();

  Status beat = registry_->beat(worker("w1"), kNowMs);
  Result<std::vector<WorkerInfo>> live = registry_->live(kNowMs, 15s);
  Status removed = registry_->remove("w1");

  EXPECT_EQ(beat.code(), StatusCode::kUnavailable);
  EXPECT_NE(beat.message().find(redis_.url()), std::string::npos) << beat.message();
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(removed.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace smmhub::broker
