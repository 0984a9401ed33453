// Batches that share the render buffer through a real Redis: what one batch
// rendered, another reuses; worker processes that run at once render each
// shared value once; a Redis that dies mid-batch costs speed, never videos.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "render/batch.h"
#include "test_support.h"
#include "testing/redis_server.h"

extern char** environ;

namespace smmhub::render {
namespace {

using smmhub::testing::kTestData;
using smmhub::testing::RedisServer;
using smmhub::testing::TempDir;

BatchRequest miniBatch(const std::filesystem::path& out, const std::string& redis_url) {
  BatchRequest request;
  request.template_path = kTestData / "cli/mini.json";
  request.data_path = kTestData / "cli/rows.csv";
  request.brand_dir = kTestData / "golden/brand";
  request.out_dir = out;
  request.rows = {1, 2, 4, 6};
  request.jobs = 1;
  request.cache_redis = redis_url;
  return request;
}

std::string readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Kills the Redis server when the first row is done.
class KillRedisAfterFirstRow final : public BatchObserver {
 public:
  explicit KillRedisAfterFirstRow(RedisServer* redis) : redis_(redis) {}
  void rowFinished(const RowOutcome& /*outcome*/) override {
    if (!killed_) {
      redis_->kill();
      killed_ = true;
    }
  }

 private:
  RedisServer* redis_;
  bool killed_ = false;
};

TEST(BufferBatchTest, SecondBatchReusesWhatFirstRendered) {
  RedisServer redis;
  TempDir first_out;
  TempDir second_out;

  Result<BatchReport> first = runBatch(miniBatch(first_out.path(), redis.url()), nullptr);
  Result<BatchReport> second = runBatch(miniBatch(second_out.path(), redis.url()), nullptr);

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(first->succeeded(), 4);
  EXPECT_EQ(second->succeeded(), 4);
  EXPECT_GT(first->buffer.rendered, 0u);
  EXPECT_EQ(second->buffer.rendered, 0u);
  // Each video of the identical batch is a stored output: nothing is drawn.
  EXPECT_EQ(second->buffer.shared.hits, 4u);
  for (const RowOutcome& row : second->rows) {
    EXPECT_EQ(row.composited_frames, 0) << row.row;
  }
  for (const char* name : {"001.mp4", "006.mp4", "004.jpg"}) {
    EXPECT_EQ(readBytes(first_out.file(name)), readBytes(second_out.file(name))) << name;
  }
}

// Starts `smmhub render` on the mini batch into OUT, as a separate worker
// process would run it, with its report in OUT/report.json. Returns the pid.
pid_t startWorkerProcess(const std::filesystem::path& out, const std::string& redis_url) {
  std::vector<std::string> args = {SMMHUB_BINARY,
                                   "render",
                                   (kTestData / "cli/mini.json").string(),
                                   "--data",
                                   (kTestData / "cli/rows.csv").string(),
                                   "--brand",
                                   (kTestData / "golden/brand").string(),
                                   "--out",
                                   out.string(),
                                   "--rows",
                                   "1,2,4,6",
                                   "--jobs",
                                   "1",
                                   "--cache-redis",
                                   redis_url,
                                   "--report",
                                   (out / "report.json").string()};
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int waitForExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(BufferBatchTest, ConcurrentWorkerProcessesRenderSharedValuesOnce) {
  RedisServer alone_redis;
  TempDir alone_out;
  Result<BatchReport> alone = runBatch(miniBatch(alone_out.path(), alone_redis.url()), nullptr);
  ASSERT_TRUE(alone.ok()) << alone.status().toString();
  ASSERT_GT(alone->buffer.rendered, 0u);

  RedisServer shared_redis;
  TempDir out_a;
  TempDir out_b;
  pid_t worker_a = startWorkerProcess(out_a.path(), shared_redis.url());
  pid_t worker_b = startWorkerProcess(out_b.path(), shared_redis.url());
  ASSERT_GT(worker_a, 0);
  ASSERT_GT(worker_b, 0);
  ASSERT_EQ(waitForExit(worker_a), 0);
  ASSERT_EQ(waitForExit(worker_b), 0);

  nlohmann::json a = nlohmann::json::parse(readBytes(out_a.file("report.json")));
  nlohmann::json b = nlohmann::json::parse(readBytes(out_b.file("report.json")));
  EXPECT_EQ(a["succeeded"].get<int>() + b["succeeded"].get<int>(), 8);
  // Every value either worker needed was rendered by exactly one of them.
  EXPECT_EQ(
      a["cache"]["rendered"].get<std::uint64_t>() + b["cache"]["rendered"].get<std::uint64_t>(),
      alone->buffer.rendered);
}

TEST(BufferBatchTest, RedisKilledMidBatchRendersUncached) {
  RedisServer redis;
  TempDir out;
  KillRedisAfterFirstRow observer(&redis);

  Result<BatchReport> report = runBatch(miniBatch(out.path(), redis.url()), &observer);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 4);
  EXPECT_EQ(report->failed(), 0);
  EXPECT_EQ(report->shared_outages, 1u);
  EXPECT_GT(report->buffer.shared_errors, 0u);
  EXPECT_TRUE(std::filesystem::exists(out.file("006.mp4")));
}

TEST(BufferBatchTest, BadRedisUrlStopsBatchBeforeAnyRow) {
  TempDir out;

  Result<BatchReport> report = runBatch(miniBatch(out.path(), "http://127.0.0.1:1"), nullptr);

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().message(),
            "--cache-redis 'http://127.0.0.1:1': expected redis://HOST:PORT[/DB] or unix:///PATH");
  EXPECT_FALSE(std::filesystem::exists(out.file("001.mp4")));
}

TEST(BufferBatchTest, InvalidTenantStopsBatch) {
  TempDir out;
  BatchRequest request = miniBatch(out.path(), "");
  request.tenant = "acme:all";

  Result<BatchReport> report = runBatch(request, nullptr);

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().message(),
            "tenant 'acme:all': use 1 to 64 letters, digits, '-' or '_'");
}

}  // namespace
}  // namespace smmhub::render
