// `smmhub jobs watch` and `smmhub jobs workers` as child processes, against a
// real redis-server and a SQLite job store that the test changes through the
// broker while the command runs.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/broker.h"
#include "broker/events.h"
#include "broker/workers.h"
#include "test_support.h"
#include "testing/redis_server.h"

extern char** environ;

namespace smmhub::cli {
namespace {

using namespace std::chrono_literals;
using smmhub::testing::RedisServer;
using smmhub::testing::TempDir;

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> split;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    split.push_back(line);
  }
  return split;
}

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A run of the smmhub binary with its output in files.
struct Child {
  pid_t pid = -1;
  std::filesystem::path out;
  std::filesystem::path err;
};

class JobsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = dbUrl()});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(*db);
    store_ = std::make_unique<jobs::JobStore>(*db_);
    Result<std::unique_ptr<broker::Broker>> made =
        broker::Broker::create({.redis_url = redis_.url(),
                                .pool = {.timeout = 1000ms, .min_backoff = 1ms, .max_backoff = 1ms},
                                .backoff_base = 1ms,
                                .backoff_max = 1ms},
                               *store_);
    ASSERT_TRUE(made.ok()) << made.status().toString();
    broker_ = std::move(*made);
    Result<std::unique_ptr<broker::EventLog>> log =
        broker::EventLog::create({.redis_url = redis_.url()});
    ASSERT_TRUE(log.ok()) << log.status().toString();
    events_ = std::move(*log);
  }

  std::string dbUrl() const { return "sqlite:" + dir_.file("jobs.db").string(); }

  jobs::CreatedBatch enqueue(int count, int max_attempts) {
    std::vector<jobs::JobSpec> rows;
    for (int row = 1; row <= count; ++row) {
      rows.push_back({.row = row,
                      .row_json = R"({"home_team":"Team )" + std::to_string(row) + R"("})",
                      .output_name = std::to_string(row) + ".mp4"});
    }
    Result<jobs::CreatedBatch> created = broker_->enqueue({.tenant = "acme",
                                                           .idempotency_key = "watch-test",
                                                           .template_path = "matchday.json",
                                                           .data_path = "fixtures.csv",
                                                           .storage_dir = "out",
                                                           .max_attempts = max_attempts},
                                                          rows);
    EXPECT_TRUE(created.ok()) << created.status().toString();
    return created.ok() ? *created : jobs::CreatedBatch{};
  }

  // Starts the smmhub binary with ARGS, with its stdout and stderr in files.
  Child start(std::vector<std::string> args) {
    static int runs = 0;
    Child child{.out = dir_.file("out-" + std::to_string(runs) + ".txt"),
                .err = dir_.file("err-" + std::to_string(runs) + ".txt")};
    runs++;
    args.insert(args.begin(), SMMHUB_BINARY);
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, child.out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, child.err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (::posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      child.pid = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_GT(child.pid, 0) << "cannot start " << SMMHUB_BINARY;
    return child;
  }

  // Returns the child's exit status, or -1 when it did not exit within a
  // minute and was killed.
  static int finish(Child& child) {
    for (int i = 0; i < 600; ++i) {
      int status = 0;
      if (::waitpid(child.pid, &status, WNOHANG) == child.pid) {
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(100ms);
    }
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
    return -1;
  }

  // Waits until the child's stdout contains TEXT. Returns false after a
  // minute without it.
  static bool waitForOutput(const Child& child, const std::string& text) {
    for (int i = 0; i < 600; ++i) {
      if (readText(child.out).find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  Child startWatch(const std::string& batch_id, const std::string& redis_url) {
    return start({"jobs", "watch", batch_id, "--redis", redis_url, "--db", dbUrl()});
  }

  int rowOf(const std::string& job_id) {
    Result<jobs::Job> job = store_->job(job_id);
    EXPECT_TRUE(job.ok()) << job.status().toString();
    return job.ok() ? job->row : 0;
  }

  broker::Claim claim() {
    Result<std::optional<broker::Claim>> claimed = broker_->claim("w1");
    EXPECT_TRUE(claimed.ok()) << claimed.status().toString();
    EXPECT_TRUE(claimed.ok() && claimed->has_value()) << "no job is ready";
    return claimed.ok() && claimed->has_value() ? **claimed : broker::Claim{};
  }

  void publishState(const broker::Claim& claim, const std::string& from, const std::string& to,
                    int attempt, const std::string& error = "", std::int64_t next_try_at_ms = 0) {
    Status published = events_->publish({.type = "state",
                                         .tenant = claim.tenant,
                                         .batch_id = claim.batch_id,
                                         .job_id = claim.job_id,
                                         .row = rowOf(claim.job_id),
                                         .from_state = from,
                                         .to_state = to,
                                         .attempt = attempt,
                                         .worker = "w1",
                                         .error = error,
                                         .next_try_at_ms = next_try_at_ms,
                                         .at_ms = nowMillis()});
    EXPECT_TRUE(published.ok()) << published.toString();
  }

  void publishProgress(const broker::Claim& claim, int done, int total) {
    Status published = events_->publish({.type = "progress",
                                         .tenant = claim.tenant,
                                         .batch_id = claim.batch_id,
                                         .job_id = claim.job_id,
                                         .row = rowOf(claim.job_id),
                                         .frames_done = done,
                                         .frames_total = total,
                                         .at_ms = nowMillis()});
    EXPECT_TRUE(published.ok()) << published.toString();
  }

  // Claims the next job and completes it, publishing its events as a
  // worker does. The completion is published before SQL records it, so
  // that the watch cannot see the batch end before the event exists.
  broker::Claim claimAndComplete() {
    broker::Claim claimed = claim();
    publishState(claimed, "queued", "active", 1);
    publishProgress(claimed, 10, 100);
    publishProgress(claimed, 15, 100);
    publishProgress(claimed, 50, 100);
    publishState(claimed, "active", "completed", 1);
    Status completed = broker_->complete(claimed, "out/" + claimed.job_id + ".mp4");
    EXPECT_TRUE(completed.ok()) << completed.toString();
    return claimed;
  }

  // Runs `smmhub ARGS --redis URL --db URL` to the end and returns its exit
  // status; OUT receives its stdout followed by its stderr.
  int runSmmhub(std::vector<std::string> args, std::string* out) {
    args.insert(args.end(), {"--redis", redis_.url(), "--db", dbUrl()});
    Child child = start(args);
    int status = finish(child);
    *out = readText(child.out) + readText(child.err);
    return status;
  }

  TempDir dir_;
  RedisServer redis_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<jobs::JobStore> store_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<broker::EventLog> events_;
};

TEST_F(JobsCliTest, WatchExitsZeroWhenAllComplete) {
  jobs::CreatedBatch batch = enqueue(2, 3);
  Child watch = startWatch(batch.batch_id, redis_.url());
  ASSERT_TRUE(waitForOutput(watch, "total=2 queued=2 active=0"));

  broker::Claim first = claimAndComplete();
  broker::Claim second = claimAndComplete();
  int status = finish(watch);
  std::string out = readText(watch.out);

  EXPECT_EQ(status, 0) << readText(watch.err);
  EXPECT_EQ(first.job_id, batch.job_ids[0]);
  EXPECT_EQ(second.job_id, batch.job_ids[1]);
  for (const std::string& job : batch.job_ids) {
    std::string row = job == batch.job_ids[0] ? "row=1" : "row=2";
    EXPECT_NE(out.find(row + " job=" + job + " queued -> active worker=w1 attempt=1\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(row + " job=" + job + " active -> completed worker=w1 attempt=1\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(row + " job=" + job + " 10% (10/100 frames)\n"), std::string::npos) << out;
    EXPECT_NE(out.find(row + " job=" + job + " 50% (50/100 frames)\n"), std::string::npos) << out;
  }
  // 15% is in the same tenth as 10%, so it is not printed.
  EXPECT_EQ(out.find("15%"), std::string::npos) << out;
  std::vector<std::string> printed = lines(out);
  ASSERT_FALSE(printed.empty());
  EXPECT_EQ(printed.back(),
            "total=2 queued=0 active=0 retrying=0 completed=2 failed=0 cancelled=0");
}

TEST_F(JobsCliTest, WatchExitsOneWhenJobFails) {
  jobs::CreatedBatch batch = enqueue(2, 2);
  Child watch = startWatch(batch.batch_id, redis_.url());
  ASSERT_TRUE(waitForOutput(watch, "total=2 queued=2 active=0"));

  claimAndComplete();
  broker::Claim failing = claim();
  publishState(failing, "queued", "active", 1);
  publishProgress(failing, 20, 100);
  std::int64_t retry_at_ms = nowMillis() + 1;
  publishState(failing, "active", "retrying", 1, "encode failed: \"disk full\"", retry_at_ms);
  Result<jobs::JobState> retrying = broker_->fail(failing, "encode failed: \"disk full\"");
  std::this_thread::sleep_for(20ms);
  Result<int> promoted = broker_->promoteDelayed();
  broker::Claim again = claim();
  publishState(again, "retrying", "active", 2);
  publishProgress(again, 10, 100);
  publishState(again, "active", "failed", 2, "encode failed: \"disk full\"");
  Result<jobs::JobState> failed = broker_->fail(again, "encode failed: \"disk full\"");
  int status = finish(watch);
  std::string out = readText(watch.out);

  ASSERT_TRUE(retrying.ok()) << retrying.status().toString();
  EXPECT_EQ(*retrying, jobs::JobState::kRetrying);
  ASSERT_TRUE(promoted.ok()) << promoted.status().toString();
  EXPECT_EQ(*promoted, 1);
  ASSERT_TRUE(failed.ok()) << failed.status().toString();
  EXPECT_EQ(*failed, jobs::JobState::kFailed);
  EXPECT_EQ(status, 1) << readText(watch.err);
  std::string job = "row=2 job=" + batch.job_ids[1];
  EXPECT_NE(out.find(job + " active -> retrying worker=w1 attempt=1 "
                           "error=\"encode failed: \\\"disk full\\\"\" retry_at="),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(job + " retrying -> active worker=w1 attempt=2\n"), std::string::npos) << out;
  // The retry starts from frame 0, so its first tenth is printed again.
  EXPECT_NE(out.find(job + " 20% (20/100 frames)\n"), std::string::npos) << out;
  EXPECT_NE(out.find(job + " 10% (10/100 frames)\n"), std::string::npos) << out;
  EXPECT_NE(out.find(job + " active -> failed worker=w1 attempt=2 "
                           "error=\"encode failed: \\\"disk full\\\"\"\n"),
            std::string::npos)
      << out;
  std::vector<std::string> printed = lines(out);
  ASSERT_FALSE(printed.empty());
  EXPECT_EQ(printed.back(),
            "total=2 queued=0 active=0 retrying=0 completed=1 failed=1 cancelled=0");
}

TEST_F(JobsCliTest, WatchExitsOneWhenBatchCancelled) {
  jobs::CreatedBatch batch = enqueue(2, 3);
  Child watch = startWatch(batch.batch_id, redis_.url());
  ASSERT_TRUE(waitForOutput(watch, "total=2 queued=2 active=0"));

  Result<std::vector<std::string>> cancelled = broker_->cancelBatch(batch.batch_id);
  int status = finish(watch);
  std::vector<std::string> printed = lines(readText(watch.out));

  ASSERT_TRUE(cancelled.ok()) << cancelled.status().toString();
  EXPECT_EQ(status, 1) << readText(watch.err);
  ASSERT_FALSE(printed.empty());
  EXPECT_EQ(printed.back(),
            "total=2 queued=0 active=0 retrying=0 completed=0 failed=0 cancelled=2");
}

TEST_F(JobsCliTest, WatchUnknownBatchExitsTwo) {
  enqueue(1, 3);

  Child watch = startWatch("b-0000000000000000", redis_.url());
  int status = finish(watch);

  EXPECT_EQ(status, 2);
  EXPECT_EQ(readText(watch.err), "smmhub jobs watch: batch b-0000000000000000: not found\n");
  EXPECT_EQ(readText(watch.out), "");
}

TEST_F(JobsCliTest, WatchFinishesWhenRedisStops) {
  jobs::CreatedBatch batch = enqueue(2, 3);
  broker::Claim first = claim();
  broker::Claim second = claim();
  Child watch = startWatch(batch.batch_id, redis_.url());
  ASSERT_TRUE(waitForOutput(watch, "total=2 queued=0 active=2"));

  redis_.kill();
  Status completed_first = store_->complete(first.job_id, first.fencing_token, "out/1.mp4");
  // Two SQL reads apart, so the watch reads the batch as running while
  // Redis is down.
  std::this_thread::sleep_for(2500ms);
  Status completed_second = store_->complete(second.job_id, second.fencing_token, "out/2.mp4");
  int status = finish(watch);
  std::string err = readText(watch.err);

  ASSERT_TRUE(completed_first.ok()) << completed_first.toString();
  ASSERT_TRUE(completed_second.ok()) << completed_second.toString();
  EXPECT_EQ(status, 0) << err;
  std::string warning = "smmhub jobs watch: warning: live events from " + redis_.url();
  std::size_t first_warning = err.find(warning);
  EXPECT_NE(first_warning, std::string::npos) << err;
  EXPECT_EQ(err.find(warning, first_warning + 1), std::string::npos) << err;
  std::vector<std::string> printed = lines(readText(watch.out));
  ASSERT_FALSE(printed.empty());
  EXPECT_EQ(printed.back(),
            "total=2 queued=0 active=0 retrying=0 completed=2 failed=0 cancelled=0");
}

TEST_F(JobsCliTest, WatchJsonPrintsEventsAsObjects) {
  jobs::CreatedBatch batch = enqueue(1, 3);
  Child watch =
      start({"jobs", "watch", batch.batch_id, "--redis", redis_.url(), "--db", dbUrl(), "--json"});
  ASSERT_TRUE(waitForOutput(watch, R"("type":"job")"));

  broker::Claim claimed = claimAndComplete();
  int status = finish(watch);
  std::vector<nlohmann::json> objects;
  for (const std::string& line : lines(readText(watch.out))) {
    objects.push_back(nlohmann::json::parse(line, nullptr, false));
  }

  EXPECT_EQ(status, 0) << readText(watch.err);
  // Summary and job of the snapshot, the claim, three progress reports
  // (JSON lines are not thinned out), the completion and the final summary.
  ASSERT_EQ(objects.size(), 8u);
  EXPECT_EQ(objects[0]["type"], "summary");
  EXPECT_EQ(objects[0]["queued"], 1);
  EXPECT_EQ(objects[1]["type"], "job");
  EXPECT_EQ(objects[1]["job_id"], claimed.job_id);
  EXPECT_EQ(objects[1]["state"], "queued");
  EXPECT_EQ(objects[2]["type"], "state");
  EXPECT_EQ(objects[2]["to_state"], "active");
  EXPECT_EQ(objects[2]["worker"], "w1");
  EXPECT_EQ(objects[3]["type"], "progress");
  EXPECT_EQ(objects[3]["frames_done"], 10);
  EXPECT_EQ(objects[4]["frames_done"], 15);
  EXPECT_EQ(objects[5]["frames_done"], 50);
  EXPECT_EQ(objects[5]["frames_total"], 100);
  EXPECT_EQ(objects[6]["type"], "state");
  EXPECT_EQ(objects[6]["from_state"], "active");
  EXPECT_EQ(objects[6]["to_state"], "completed");
  EXPECT_EQ(objects[7]["type"], "summary");
  EXPECT_EQ(objects[7]["completed"], 1);
}

TEST_F(JobsCliTest, EnqueueHoldsTheTenantsPricePerVideo) {
  std::string out;
  ASSERT_EQ(runSmmhub({"credits", "topup", "acme", "10", "--key", "first"}, &out), 0) << out;
  ASSERT_EQ(runSmmhub({"credits", "price", "acme", "--set", "3"}, &out), 0) << out;
  EXPECT_EQ(out, "price=3\n");

  ASSERT_EQ(
      runSmmhub({"jobs", "enqueue", "tests/testdata/cli/mini.json", "--data",
                 "tests/testdata/cli/rows.csv", "--brand", "tests/testdata/golden/brand",
                 "--tenant", "acme", "--storage", dir_.file("videos").string(), "--rows", "1-2"},
                &out),
      0)
      << out;
  std::string batch_id = out.substr(0, out.find('\n'));
  Result<jobs::Batch> batch = store_->batch(batch_id);
  ASSERT_TRUE(batch.ok()) << batch.status().toString();
  EXPECT_EQ(batch->video_price, 3);
  EXPECT_EQ(batch->template_path,
            std::filesystem::absolute("tests/testdata/cli/mini.json").lexically_normal().string());
  ASSERT_EQ(runSmmhub({"credits", "balance", "acme"}, &out), 0) << out;
  EXPECT_EQ(out.substr(0, out.find('\n')), "available=4 held=6");

  // Two more videos need 6 credits; 4 are left.
  int short_status =
      runSmmhub({"jobs", "enqueue", "tests/testdata/cli/mini.json", "--data",
                 "tests/testdata/cli/rows.csv", "--brand", "tests/testdata/golden/brand",
                 "--tenant", "acme", "--storage", dir_.file("videos").string(), "--rows", "3-4"},
                &out);
  EXPECT_EQ(short_status, 3);
  EXPECT_NE(out.find("tenant acme has 4 credits available and the batch needs 6, 3 per video: "
                     "short by 2; nothing enqueued"),
            std::string::npos)
      << out;
}

TEST_F(JobsCliTest, PriceBelowOneIsRejected) {
  std::string out;
  EXPECT_EQ(runSmmhub({"credits", "price", "acme", "--set", "0"}, &out), 2);
  EXPECT_NE(out.find("video price 0 is invalid; expected 1 credit or more"), std::string::npos)
      << out;
  EXPECT_EQ(runSmmhub({"credits", "price", "acme"}, &out), 0);
  EXPECT_EQ(out, "price=1\n");
}

TEST_F(JobsCliTest, RetryHoldsCreditsAndQueuesTheFailedJobs) {
  std::string out;
  ASSERT_EQ(runSmmhub({"credits", "topup", "acme", "2", "--key", "first"}, &out), 0) << out;
  ASSERT_EQ(
      runSmmhub({"jobs", "enqueue", "tests/testdata/cli/mini.json", "--data",
                 "tests/testdata/cli/rows.csv", "--brand", "tests/testdata/golden/brand",
                 "--tenant", "acme", "--storage", dir_.file("videos").string(), "--rows", "1-2"},
                &out),
      0)
      << out;
  std::string batch_id = out.substr(0, out.find('\n'));
  broker::Claim failing = claim();
  Result<jobs::JobState> failed = broker_->fail(failing, "crest.png: not an image", true);
  ASSERT_TRUE(failed.ok()) << failed.status().toString();

  // The hold still covers both jobs, so one more credit is short.
  EXPECT_EQ(runSmmhub({"jobs", "retry", batch_id}, &out), 3);
  EXPECT_NE(out.find("tenant acme has 0 credits available and the 1 failed jobs need 1: short "
                     "by 1; nothing retried"),
            std::string::npos)
      << out;
  EXPECT_EQ(store_->job(failing.job_id)->state, jobs::JobState::kFailed);

  ASSERT_EQ(runSmmhub({"credits", "topup", "acme", "1", "--key", "second"}, &out), 0) << out;
  ASSERT_EQ(runSmmhub({"jobs", "retry", batch_id}, &out), 0) << out;
  EXPECT_EQ(out, "retried=1\n");
  EXPECT_EQ(store_->job(failing.job_id)->state, jobs::JobState::kQueued);
  ASSERT_EQ(runSmmhub({"credits", "balance", "acme"}, &out), 0) << out;
  EXPECT_EQ(out.substr(0, out.find('\n')), "available=0 held=3");
  std::set<std::string> next;
  next.insert(claim().job_id);
  next.insert(claim().job_id);
  EXPECT_TRUE(next.contains(failing.job_id));
}

class JobsWorkersCliTest : public ::testing::Test {
 protected:
  void beat(const std::string& id, std::int64_t at_ms) {
    Result<std::unique_ptr<broker::WorkerRegistry>> registry =
        broker::WorkerRegistry::create({.redis_url = redis_.url()});
    ASSERT_TRUE(registry.ok()) << registry.status().toString();
    Status beaten = (*registry)->beat({.id = id,
                                       .host = "render-" + id,
                                       .pid = 4242,
                                       .started_at_ms = at_ms - 60'000,
                                       .concurrency = 2,
                                       .active = {"j-1", "j-2"},
                                       .completed = 17,
                                       .failed = 3,
                                       .version = "0.9.0"},
                                      at_ms);
    ASSERT_TRUE(beaten.ok()) << beaten.toString();
  }

  // Runs `smmhub jobs workers` with ARGS and returns its exit status.
  int runWorkers(std::vector<std::string> args) {
    std::vector<std::string> all = {SMMHUB_BINARY, "jobs", "workers", "--redis", redis_.url()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : all) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, dir_.file("out.txt").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int status = -1;
    if (::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0) {
      ::waitpid(pid, &status, 0);
    }
    posix_spawn_file_actions_destroy(&actions);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::vector<std::string> output() const { return lines(readText(dir_.file("out.txt"))); }

  TempDir dir_;
  RedisServer redis_;
};

TEST_F(JobsWorkersCliTest, PrintsOnlyLiveWorkers) {
  std::int64_t now_ms = nowMillis();
  beat("w2", now_ms);
  beat("w1", now_ms);
  beat("w3", now_ms - 60'000);

  int status = runWorkers({"--stale-ms", "15000"});
  std::vector<std::string> printed = output();

  EXPECT_EQ(status, 0);
  ASSERT_EQ(printed.size(), 2u);
  EXPECT_TRUE(
      printed[0].starts_with("w1 host=render-w1 pid=4242 concurrency=2 active=j-1,j-2 "
                             "completed=17 failed=3 last_beat="))
      << printed[0];
  EXPECT_TRUE(
      printed[1].starts_with("w2 host=render-w2 pid=4242 concurrency=2 active=j-1,j-2 "
                             "completed=17 failed=3 last_beat="))
      << printed[1];
  EXPECT_TRUE(printed[0].ends_with("s")) << printed[0];
}

TEST_F(JobsWorkersCliTest, JsonPrintsOneObjectPerWorker) {
  std::int64_t now_ms = nowMillis();
  beat("w1", now_ms);

  int status = runWorkers({"--json"});
  std::vector<std::string> printed = output();

  EXPECT_EQ(status, 0);
  ASSERT_EQ(printed.size(), 1u);
  nlohmann::json worker = nlohmann::json::parse(printed[0], nullptr, false);
  EXPECT_EQ(worker["id"], "w1");
  EXPECT_EQ(worker["host"], "render-w1");
  EXPECT_EQ(worker["pid"], 4242);
  EXPECT_EQ(worker["active"], nlohmann::json({"j-1", "j-2"}));
  EXPECT_EQ(worker["last_beat_ms"], now_ms);
}

TEST_F(JobsWorkersCliTest, NoWorkersPrintsNotice) {
  int status = runWorkers({});

  EXPECT_EQ(status, 0);
  EXPECT_EQ(output(), (std::vector<std::string>{"no live workers"}));
}

TEST_F(JobsWorkersCliTest, RedisDownExitsOne) {
  redis_.kill();

  int status = runWorkers({});

  EXPECT_EQ(status, 1);
  EXPECT_TRUE(output().empty());
}

}  // namespace
}  // namespace smmhub::cli
