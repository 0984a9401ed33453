// smmhub-worker under faults: real worker processes, a real redis-server and
// a SQLite job store, driven with the `smmhub` command line. Workers are
// killed, paused, stopped and made to crash while they render, Redis is
// restarted with and without its data, and each test checks that every job
// ends once, with one video and one charge.
#include <signal.h>
#include <soci/soci.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "jobs/job_store.h"
#include "store/database.h"
#include "test_support.h"
#include "testing/local_redis.h"
#include "testing/loopback_http_server.h"
#include "worker_support.h"

namespace smmhub::worker {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using smmhub::testing::ChildProcess;
using smmhub::testing::countOf;
using smmhub::testing::HttpConnection;
using smmhub::testing::HttpRequest;
using smmhub::testing::httpResponse;
using smmhub::testing::kTestData;
using smmhub::testing::LocalRedis;
using smmhub::testing::LoopbackHttpServer;
using smmhub::testing::readText;
using smmhub::testing::TempDir;
using smmhub::testing::unixMillis;
using smmhub::testing::valueOrEmpty;
using smmhub::testing::waitUntil;

// The engine skips a frame equal to the one before, so the worker templates
// animate over the whole scene and every frame is drawn. At 540x960 and
// 30 fps, one second of video took about 0.2 s to render (measured with the
// Debug build with sanitizers on 2 cores), so card-12s keeps a worker busy
// for about 2 s.
const fs::path kMini = kTestData / "cli/mini.json";                    // 1 s, 10 frames
const fs::path kCard3s = kTestData / "worker/card-3s.json";            // 90 frames
const fs::path kCard12s = kTestData / "worker/card-12s.json";          // 360 frames
const fs::path kCard30s = kTestData / "worker/card-30s.json";          // 900 frames
const fs::path kFlash = kTestData / "worker/flash.json";               // 2 frames
const fs::path kFixtureCard = kTestData / "worker/fixture-card.json";  // 360 frames
const fs::path kBrand = kTestData / "golden/brand";
// 32 rows of clubs whose crest is ../cli/crests/good.svg.
const fs::path kClubs = kTestData / "worker/clubs.csv";
const fs::path kGoodCrest = kTestData / "cli/crests/good.svg";

// A lease short enough that a dead worker's job comes back within seconds.
// The upkeep thread of each worker reclaims expired leases once a second.
constexpr auto kLease = 2000ms;
constexpr auto kWait = 120s;

struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
};

struct Balance {
  std::int64_t available = -1;
  std::int64_t held = -1;
};

class WorkerTest : public ::testing::Test {
 protected:
  std::string startTwelveJobsOnTwoWorkers();

  void SetUp() override {
    fs::create_directories(redisDir());
    // The settings that docs/broker.md requires of the broker's Redis, and a
    // folder of the test's own, so that a test can start Redis empty.
    redis_.addOptions({"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy",
                       "noeviction", "--dir", redisDir()});
    ASSERT_EQ(redis_.start(), "");
    Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = dbUrl()});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(*db);
    store_ = std::make_unique<jobs::JobStore>(*db_);
  }

  // Kills the workers before Redis stops, and prints the end of their logs
  // when the test failed or SMMHUB_TEST_WORKER_LOGS is set.
  void TearDown() override {
    bool print_logs = HasFailure() || std::getenv("SMMHUB_TEST_WORKER_LOGS") != nullptr;
    for (auto& [name, worker] : workers_) {
      worker->kill();
      if (print_logs) {
        std::string log = worker->err();
        std::cerr << "---- worker " << name << " log (last 4000 bytes):\n"
                  << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
      }
    }
    workers_.clear();
  }

  std::string redisDir() const { return dir_.file("redis").string(); }
  std::string dbUrl() const { return "sqlite:" + dir_.file("jobs.db").string(); }
  fs::path storage() const { return dir_.file("storage"); }
  fs::path batchDir(const std::string& tenant, const std::string& batch) const {
    return storage() / tenant / batch;
  }

  // Runs `smmhub ARGS` and waits for it.
  CommandResult run(std::vector<std::string> args) {
    int n = runs_++;
    ChildProcess child(SMMHUB_BINARY, std::move(args), {},
                       dir_.file("cli-" + std::to_string(n) + ".out"),
                       dir_.file("cli-" + std::to_string(n) + ".err"));
    EXPECT_TRUE(child.started()) << "cannot start " << SMMHUB_BINARY;
    CommandResult result;
    result.status = child.wait(kWait);
    result.out = child.out();
    result.err = child.err();
    return result;
  }

  void topUp(const std::string& tenant, int credits) {
    CommandResult done = run({"credits", "topup", tenant, std::to_string(credits), "--key",
                              "topup-" + tenant, "--redis", redis_.url(), "--db", dbUrl()});
    ASSERT_EQ(done.status, 0) << done.err;
  }

  // Enqueues DATA with TEMPLATE for TENANT and returns the batch id, or ""
  // after a failed assertion.
  std::string enqueue(const fs::path& template_path, const fs::path& data,
                      const std::string& tenant, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"jobs",
                                     "enqueue",
                                     template_path.string(),
                                     "--data",
                                     data.string(),
                                     "--brand",
                                     kBrand,
                                     "--tenant",
                                     tenant,
                                     "--storage",
                                     storage().string(),
                                     "--redis",
                                     redis_.url(),
                                     "--db",
                                     dbUrl()};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult done = run(args);
    EXPECT_EQ(done.status, 0) << done.err;
    std::string batch = done.out.substr(0, done.out.find('\n'));
    EXPECT_TRUE(batch.starts_with("b-")) << done.out;
    return batch.starts_with("b-") ? batch : "";
  }

  // Starts a worker named NAME with CONCURRENCY slots, the short timings
  // and the EXTRA flags. A name used before gets a new log.
  ChildProcess& startWorker(const std::string& name, std::vector<std::string> extra = {},
                            std::vector<std::string> env = {}, int concurrency = 1) {
    std::vector<std::string> args = {"--redis",        redis_.url(),
                                     "--db",           dbUrl(),
                                     "--storage",      storage(),
                                     "--id",           name,
                                     "--concurrency",  std::to_string(concurrency),
                                     "--lease-ms",     std::to_string(kLease.count()),
                                     "--heartbeat-ms", "200",
                                     "--poll-ms",      "50",
                                     "--backoff-ms",   "200"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child =
        std::make_unique<ChildProcess>(SMMHUB_WORKER_BINARY, args, env, dir_.file(name + ".out"),
                                       dir_.file(name + "-" + std::to_string(runs_++) + ".log"));
    EXPECT_TRUE(child->started()) << "cannot start " << SMMHUB_WORKER_BINARY;
    ChildProcess& started = *child;
    workers_.emplace_back(name, std::move(child));
    return started;
  }

  // Returns the logs of every worker started so far, dead or alive.
  std::string allLogs() {
    std::string logs;
    for (auto& [name, worker] : workers_) {
      logs += worker->err();
    }
    return logs;
  }

  jobs::BatchSummary summary(const std::string& batch) {
    return valueOrEmpty(store_->batchSummary(batch));
  }

  std::vector<jobs::Job> batchJobs(const std::string& batch) {
    return valueOrEmpty(store_->batchJobs(batch));
  }

  jobs::Job job(const std::string& id) { return valueOrEmpty(store_->job(id)); }

  std::vector<jobs::JobEvent> events(const std::string& job_id) {
    return valueOrEmpty(store_->events(job_id));
  }

  static int countEvents(const std::vector<jobs::JobEvent>& list, const std::string& from,
                         const std::string& to) {
    return static_cast<int>(std::count_if(list.begin(), list.end(), [&](const auto& event) {
      return event.from_state == from && event.to_state == to;
    }));
  }

  // True when no job of the batch is left to run and the worker that ended
  // the batch has removed its work folder, which it does just after.
  bool finished(const std::string& batch) {
    jobs::BatchSummary counts = summary(batch);
    if (counts.total == 0 || counts.queued + counts.active + counts.retrying > 0) {
      return false;
    }
    std::error_code error;
    for (const fs::directory_entry& tenant : fs::directory_iterator(storage(), error)) {
      if (fs::exists(tenant.path() / batch / ".work")) {
        return false;
      }
    }
    return true;
  }

  // Reads `smmhub credits balance TENANT`.
  Balance balance(const std::string& tenant) {
    CommandResult done =
        run({"credits", "balance", tenant, "--redis", redis_.url(), "--db", dbUrl()});
    EXPECT_EQ(done.status, 0) << done.err;
    Balance read;
    std::istringstream in(done.out);
    std::string available;
    std::string held;
    in >> available >> held;
    if (available.starts_with("available=") && held.starts_with("held=")) {
      read.available = std::stoll(available.substr(10));
      read.held = std::stoll(held.substr(5));
    }
    return read;
  }

  // Counts TENANT's ledger entries of KIND, and when JOB_ID is not empty
  // only those whose operation key contains it.
  int ledgerEntries(const std::string& tenant, const std::string& kind,
                    const std::string& job_id = "") {
    int count = -1;
    std::string pattern = "%" + job_id + "%";
    Status read = db_->read([&](soci::session& sql) {
      if (job_id.empty()) {
        sql << "SELECT COUNT(*) FROM ledger_entries WHERE tenant = :tenant AND kind = :kind",
            soci::use(tenant), soci::use(kind), soci::into(count);
      } else {
        sql << "SELECT COUNT(*) FROM ledger_entries WHERE tenant = :tenant AND kind = :kind"
               " AND op_key LIKE :pattern",
            soci::use(tenant), soci::use(kind), soci::use(pattern), soci::into(count);
      }
      return okStatus();
    });
    EXPECT_TRUE(read.ok()) << read.toString();
    return count;
  }

  // Returns the paths under DIR, relative to it, folders included.
  static std::set<std::string> listTree(const fs::path& dir) {
    std::set<std::string> paths;
    std::error_code error;
    for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
         it.increment(error)) {
      paths.insert(fs::relative(it->path(), dir).string());
    }
    return paths;
  }

  // Returns the names NNN.mp4 and NNN.jpg of ROWS.
  static std::set<std::string> outputsOf(const std::vector<int>& rows) {
    std::set<std::string> names;
    for (int row : rows) {
      char stem[8];
      std::snprintf(stem, sizeof(stem), "%03d", row);
      names.insert(std::string(stem) + ".mp4");
      names.insert(std::string(stem) + ".jpg");
    }
    return names;
  }

  // Checks that every job of BATCH completed exactly once: one completion
  // event each, one video and one poster each and nothing else in the batch
  // folder, one charge each, and the hold released. TOPUP is the tenant's
  // only top-up.
  void expectDeliveredOnce(const std::string& tenant, const std::string& batch, int topup) {
    std::vector<jobs::Job> list = batchJobs(batch);
    int count = static_cast<int>(list.size());
    jobs::BatchSummary counts = summary(batch);
    EXPECT_EQ(counts.completed, count);
    EXPECT_EQ(counts.failed, 0);
    EXPECT_EQ(counts.cancelled, 0);

    std::vector<int> rows;
    for (const jobs::Job& each : list) {
      rows.push_back(each.row);
      std::vector<jobs::JobEvent> history = events(each.id);
      EXPECT_EQ(countEvents(history, "active", "completed"), 1) << "job " << each.id;
    }
    EXPECT_EQ(listTree(batchDir(tenant, batch)), outputsOf(rows));
    for (const std::string& path : listTree(storage())) {
      EXPECT_FALSE(path.ends_with(".partial")) << path;
    }

    // The last worker to finish releases the hold after its job completed.
    Balance after;
    EXPECT_TRUE(waitUntil(
        [&] {
          after = balance(tenant);
          return after.held == 0;
        },
        30s))
        << "held=" << after.held;
    EXPECT_EQ(after.available, topup - count);
    EXPECT_TRUE(waitUntil([&] { return ledgerEntries(tenant, "charge") == count; }, 30s))
        << "charge entries=" << ledgerEntries(tenant, "charge") << " expected " << count;
    for (const jobs::Job& each : list) {
      EXPECT_EQ(ledgerEntries(tenant, "charge", each.id), 1) << "job " << each.id;
    }
  }

  // Waits until WORKER's log contains TEXT.
  static bool waitForLog(ChildProcess& worker, const std::string& text,
                         std::chrono::milliseconds timeout = kWait) {
    return waitUntil([&] { return worker.err().find(text) != std::string::npos; }, timeout);
  }

  // Waits until the work folder of the job's current claim contains a file
  // besides the row: the render has started writing.
  bool waitForFrames(const std::string& tenant, const std::string& batch,
                     const std::string& job_id) {
    return waitUntil(
        [&] {
          std::string claim = job_id + "." + std::to_string(job(job_id).fencing_token) + "/";
          for (const std::string& path : listTree(batchDir(tenant, batch) / ".work")) {
            if (path.starts_with(claim) && !path.ends_with("row.json")) {
              return true;
            }
          }
          return false;
        },
        kWait);
  }

  TempDir dir_;
  LocalRedis redis_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<jobs::JobStore> store_;
  std::vector<std::pair<std::string, std::unique_ptr<ChildProcess>>> workers_;
  int runs_ = 0;
};

TEST_F(WorkerTest, StatesEndToEnd) {
  topUp("acme", 10);
  // Rows 1, 2 and 4 render; row 3's crest is a truncated PNG.
  std::string batch = enqueue(kMini, kTestData / "cli/rows.csv", "acme", {"--rows", "1-4"});
  ASSERT_FALSE(batch.empty());
  ChildProcess watch(SMMHUB_BINARY,
                     {"jobs", "watch", batch, "--redis", redis_.url(), "--db", dbUrl()}, {},
                     dir_.file("watch.out"), dir_.file("watch.err"));
  startWorker("w1");

  int watched = watch.wait(kWait);
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));
  std::vector<jobs::Job> list = batchJobs(batch);

  EXPECT_EQ(watched, 1) << watch.out() << watch.err();
  CommandResult listed = run({"jobs", "list", batch, "--redis", redis_.url(), "--db", dbUrl()});
  EXPECT_EQ(listed.status, 0) << listed.err;
  EXPECT_TRUE(listed.out.starts_with(
      "total=4 queued=0 active=0 retrying=0 completed=3 failed=1 cancelled=0\n"))
      << listed.out;
  jobs::BatchSummary counts = summary(batch);
  EXPECT_EQ(counts.total, 4);
  EXPECT_EQ(counts.completed, 3);
  EXPECT_EQ(counts.failed, 1);
  EXPECT_EQ(counts.queued + counts.active + counts.retrying + counts.cancelled, 0);
  EXPECT_EQ(listTree(batchDir("acme", batch)), outputsOf({1, 2, 4}));
  ASSERT_EQ(list.size(), 4u);
  std::vector<jobs::JobEvent> good = events(list[0].id);
  ASSERT_EQ(good.size(), 3u);
  EXPECT_EQ(good[0].from_state + "->" + good[0].to_state, "->queued");
  EXPECT_EQ(good[1].from_state + "->" + good[1].to_state, "queued->active");
  EXPECT_EQ(good[2].from_state + "->" + good[2].to_state, "active->completed");
  EXPECT_EQ(good[2].worker, "w1");
  EXPECT_EQ(list[2].row, 3);
  EXPECT_EQ(jobs::jobStateName(list[2].state), "failed");
  EXPECT_EQ(list[2].attempts, 1);
  EXPECT_NE(list[2].last_error.find("truncated.png"), std::string::npos) << list[2].last_error;
  std::vector<jobs::JobEvent> bad = events(list[2].id);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[2].from_state + "->" + bad[2].to_state, "active->failed");
  EXPECT_EQ(bad[2].error, list[2].last_error);
  Balance after;
  ASSERT_TRUE(waitUntil(
      [&] {
        after = balance("acme");
        return after.held == 0;
      },
      30s));
  EXPECT_EQ(after.available, 7);
  EXPECT_TRUE(waitUntil([&] { return ledgerEntries("acme", "charge") == 3; }, 30s));
}

TEST_F(WorkerTest, CrashTest) {
  topUp("acme", 100);
  std::string batch = enqueue(kCard3s, kClubs, "acme", {"--rows", "1-30"});
  ASSERT_FALSE(batch.empty());
  std::vector<ChildProcess*> live = {&startWorker("w1"), &startWorker("w2"), &startWorker("w3")};

  // Ten kills at random moments, each followed by a fresh worker, so that
  // three keep running.
  std::mt19937 random(20261205);
  int kills = 0;
  for (; kills < 10 && !finished(batch); ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 500));
    std::size_t victim = random() % live.size();
    live[victim]->kill();
    live[victim] = &startWorker("w" + std::to_string(4 + kills));
  }
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  EXPECT_EQ(kills, 10) << "the batch ended before the tenth kill";
  EXPECT_EQ(summary(batch).total, 30);
  expectDeliveredOnce("acme", batch, 100);
  EXPECT_FALSE(fs::exists(batchDir("acme", batch) / ".work"));
}

// Tops up tenant acme, enqueues 12 jobs, starts two workers and waits until
// three jobs completed. Returns the batch id, or "" when that failed.
std::string WorkerTest::startTwelveJobsOnTwoWorkers() {
  topUp("acme", 50);
  std::string batch = enqueue(kCard3s, kClubs, "acme", {"--rows", "1-12"});
  if (batch.empty()) {
    return "";
  }
  startWorker("w1");
  startWorker("w2");
  bool started = waitUntil([&] { return summary(batch).completed >= 3; }, kWait);
  EXPECT_TRUE(started) << "fewer than 3 jobs completed";
  return started ? batch : "";
}

TEST_F(WorkerTest, RedisRestartWithAof) {
  std::string batch = startTwelveJobsOnTwoWorkers();
  ASSERT_FALSE(batch.empty());

  // SIGTERM makes redis-server write the AOF before it exits.
  redis_.stop(SIGTERM);
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(redis_.start(), "");
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  expectDeliveredOnce("acme", batch, 50);
}

// A killed redis-server gets no shutdown: it restarts from its AOF as it was
// at the kill, with the broker's leases and claims of that moment.
TEST_F(WorkerTest, RedisCrashWithAof) {
  std::string batch = startTwelveJobsOnTwoWorkers();
  ASSERT_FALSE(batch.empty());

  redis_.stop(SIGKILL);
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(redis_.start(), "");
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  expectDeliveredOnce("acme", batch, 50);
}

TEST_F(WorkerTest, RedisRestartEmpty) {
  std::string batch = startTwelveJobsOnTwoWorkers();
  ASSERT_FALSE(batch.empty());

  // A worker moves the tenant's charges into the SQL ledger before it
  // completes a job, so the ledger has the charge of every completed job
  // whenever Redis loses its data.
  redis_.stop(SIGKILL);
  fs::remove_all(redisDir());
  fs::create_directories(redisDir());
  ASSERT_EQ(redis_.start(), "");
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  EXPECT_NE(allLogs().find("redrive pushed="), std::string::npos);
  EXPECT_NE(allLogs().find("marker_lost=true"), std::string::npos);
  expectDeliveredOnce("acme", batch, 50);
}

// The three rows of the lock-loss case fill the fixture card's text fields.
TEST_F(WorkerTest, StoppedWorkerLateCompletionRejected) {
  topUp("acme", 10);
  std::string batch =
      enqueue(kFixtureCard, kTestData / "cases/R29-lock-loss-double-run/fixtures.csv", "acme");
  ASSERT_FALSE(batch.empty());
  std::vector<jobs::Job> list = batchJobs(batch);
  ASSERT_EQ(list.size(), 3u);
  const std::string first = list[0].id;
  ChildProcess& a = startWorker("a");
  ASSERT_TRUE(waitForLog(a, "job start job=" + first));
  ASSERT_TRUE(waitForFrames("acme", batch, first));

  // A pauses for the lease and 2 s more. B has a slot for each job, so
  // that it claims job 1 as soon as its own upkeep reclaimed it, and A
  // resumes only after that claim.
  a.signal(SIGSTOP);
  ChildProcess& b = startWorker("b", {}, {}, 3);
  std::this_thread::sleep_for(kLease + 2s);
  bool taken_by_b = waitUntil(
      [&] {
        jobs::Job now = job(first);
        return now.worker == "b" && now.attempts == 2;
      },
      kWait);
  a.signal(SIGCONT);
  ASSERT_TRUE(taken_by_b) << b.err();
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));
  // A's render ends once A learns that its claim is over: at its next heartbeat (job
  // stopping), when it renews the lease after the render (result
  // discarded), or at the fencing check of the completion (rejected).
  std::string log_a = a.err();
  bool rejected = waitUntil(
      [&] {
        log_a = a.err();
        return log_a.find("job stopping job=" + first) != std::string::npos ||
               log_a.find("job result discarded job=" + first) != std::string::npos ||
               log_a.find("late completion rejected job=" + first) != std::string::npos;
      },
      30s);

  EXPECT_TRUE(rejected) << log_a;
  EXPECT_EQ(countOf(log_a, "job done job=" + first), 0) << log_a;
  EXPECT_EQ(countOf(b.err(), "job done job=" + first), 1) << b.err();
  std::vector<jobs::JobEvent> history = events(first);
  EXPECT_EQ(countEvents(history, "active", "retrying"), 1);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().to_state, "completed");
  EXPECT_EQ(history.back().worker, "b");
  expectDeliveredOnce("acme", batch, 10);
}

// A worker paused past the end of the whole batch resumes after another
// worker delivered its job and removed the batch's work folder.
TEST_F(WorkerTest, StoppedWorkerResumesAfterBatchEnded) {
  topUp("acme", 10);
  std::string batch =
      enqueue(kFixtureCard, kTestData / "cases/R29-lock-loss-double-run/fixtures.csv", "acme");
  ASSERT_FALSE(batch.empty());
  std::vector<jobs::Job> list = batchJobs(batch);
  ASSERT_EQ(list.size(), 3u);
  const std::string first = list[0].id;
  ChildProcess& a = startWorker("a");
  ASSERT_TRUE(waitForLog(a, "job start job=" + first));
  ASSERT_TRUE(waitForFrames("acme", batch, first));

  a.signal(SIGSTOP);
  ChildProcess& b = startWorker("b", {}, {}, 3);
  bool ended = waitUntil([&] { return finished(batch); }, kWait);
  a.signal(SIGCONT);
  std::string log_a;
  bool a_learned = waitUntil(
      [&] {
        log_a = a.err();
        return log_a.find("job stopped job=" + first) != std::string::npos ||
               log_a.find("job result discarded job=" + first) != std::string::npos ||
               log_a.find("late completion rejected job=" + first) != std::string::npos ||
               log_a.find("late failure rejected job=" + first) != std::string::npos ||
               log_a.find("fail not recorded job=" + first) != std::string::npos;
      },
      30s);
  // A file that A's stopped render still writes would appear within a second.
  std::this_thread::sleep_for(1s);

  ASSERT_TRUE(ended);
  EXPECT_TRUE(a_learned) << log_a;
  EXPECT_EQ(countOf(log_a, "job done job="), 0) << log_a;
  EXPECT_EQ(countOf(b.err(), "job done job="), 3) << b.err();
  expectDeliveredOnce("acme", batch, 10);
  EXPECT_FALSE(fs::exists(batchDir("acme", batch) / ".work"));
}

// The three rows of the stuck-active case fill the fixture card's fields.
TEST_F(WorkerTest, KilledWorkerJobNotStuckActive) {
  topUp("acme", 10);
  std::string batch =
      enqueue(kFixtureCard, kTestData / "cases/R28-worker-crash-stuck-active/fixtures.csv", "acme");
  ASSERT_FALSE(batch.empty());
  std::vector<jobs::Job> list = batchJobs(batch);
  ASSERT_EQ(list.size(), 3u);
  const std::string second = list[1].id;
  ChildProcess& w1 = startWorker("w1");
  ASSERT_TRUE(waitForLog(w1, "job start job=" + second));
  ASSERT_TRUE(waitForFrames("acme", batch, second));

  // Upkeep runs inside the workers, so the job stays active until one runs.
  w1.kill();
  std::this_thread::sleep_for(kLease + 1s);
  startWorker("w1");
  // The restarted worker's upkeep reclaims the dead claim at its first run.
  bool left_dead_claim = waitUntil(
      [&] {
        jobs::Job now = job(second);
        return now.state != jobs::JobState::kActive || now.attempts > 1;
      },
      kLease + 3s);
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  EXPECT_TRUE(left_dead_claim);
  std::vector<jobs::JobEvent> history = events(second);
  EXPECT_EQ(countEvents(history, "active", "retrying"), 1);
  for (const jobs::JobEvent& event : history) {
    if (event.to_state == "retrying") {
      EXPECT_EQ(event.error, "lease expired");
    }
  }
  EXPECT_EQ(job(second).attempts, 2);
  expectDeliveredOnce("acme", batch, 10);
  EXPECT_FALSE(fs::exists(batchDir("acme", batch) / ".work"));
}

// A job whose worker dies at each of its attempts fails for good through
// another worker's upkeep, which must still clean the batch's work folder.
TEST_F(WorkerTest, JobFailedByLeaseLeavesNoWorkFiles) {
  topUp("acme", 5);
  std::string batch = enqueue(kCard12s, kClubs, "acme", {"--rows", "1"});
  ASSERT_FALSE(batch.empty());
  std::string job_id = batchJobs(batch).at(0).id;

  for (int attempt = 1; attempt <= 3; ++attempt) {
    ChildProcess& worker = startWorker("w" + std::to_string(attempt));
    ASSERT_TRUE(waitForLog(worker, "job start job=" + job_id)) << "attempt " << attempt;
    ASSERT_TRUE(waitForFrames("acme", batch, job_id)) << "attempt " << attempt;
    worker.kill();
  }
  startWorker("w4");
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));
  // The upkeep that failed the job has had a second to clean up after it.
  std::this_thread::sleep_for(1s);

  jobs::Job failed = job(job_id);
  EXPECT_EQ(jobs::jobStateName(failed.state), "failed");
  EXPECT_EQ(failed.attempts, 3);
  EXPECT_EQ(failed.last_error, "lease expired");
  EXPECT_EQ(ledgerEntries("acme", "charge"), 0);
  EXPECT_EQ(listTree(batchDir("acme", batch)), std::set<std::string>{});
}

TEST_F(WorkerTest, PoisonJobFailsAfterMaxAttemptsWhileOthersFlow) {
  topUp("poisoned", 5);
  topUp("healthy", 10);
  std::string poison = enqueue(kMini, kTestData / "worker/poison.csv", "poisoned");
  std::string healthy = enqueue(kMini, kClubs, "healthy", {"--rows", "1-5"});
  ASSERT_FALSE(poison.empty());
  ASSERT_FALSE(healthy.empty());
  const std::vector<std::string> env = {"SMMHUB_WORKER_ABORT_ON=abort-worker"};
  std::vector<ChildProcess*> live = {&startWorker("w1", {}, env), &startWorker("w2", {}, env)};

  // Each worker that takes the poison job dies; a new one replaces it.
  int deaths = 0;
  bool done = waitUntil(
      [&] {
        for (ChildProcess*& worker : live) {
          if (!worker->running()) {
            deaths++;
            worker = &startWorker("w" + std::to_string(3 + deaths), {}, env);
          }
        }
        return finished(poison) && finished(healthy);
      },
      kWait);
  ASSERT_TRUE(done);

  std::vector<jobs::Job> poisoned = batchJobs(poison);
  ASSERT_EQ(poisoned.size(), 1u);
  EXPECT_EQ(jobs::jobStateName(poisoned[0].state), "failed");
  EXPECT_EQ(poisoned[0].attempts, 3);
  EXPECT_EQ(poisoned[0].last_error, "lease expired");
  EXPECT_EQ(deaths, 3);
  EXPECT_EQ(ledgerEntries("poisoned", "charge"), 0);
  Balance poisoned_balance = balance("poisoned");
  EXPECT_EQ(poisoned_balance.available + poisoned_balance.held, 5);
  expectDeliveredOnce("healthy", healthy, 10);
}

TEST_F(WorkerTest, FairnessAcrossTenants) {
  constexpr int kWorkers = 2;
  fs::path many = dir_.file("many.csv");
  std::string rows = "home,crest\n";
  for (int row = 1; row <= 300; ++row) {
    rows += "Club " + std::to_string(row) + "," + fs::absolute(kGoodCrest).string() + "\n";
  }
  dir_.write("many.csv", rows);
  topUp("big", 300);
  topUp("small", 1);
  std::string big = enqueue(kFlash, many, "big");
  ASSERT_FALSE(big.empty());
  for (int i = 0; i < kWorkers; ++i) {
    startWorker("w" + std::to_string(i + 1));
  }
  ASSERT_TRUE(waitUntil([&] { return summary(big).completed >= 2; }, kWait));

  std::string small = enqueue(kFlash, many, "small", {"--rows", "1"});
  std::int64_t enqueued_at_ms = unixMillis();
  ASSERT_FALSE(small.empty());
  std::string small_job = batchJobs(small).at(0).id;
  ASSERT_TRUE(waitUntil([&] { return job(small_job).attempts > 0; }, kWait));
  std::vector<jobs::JobEvent> small_history = events(small_job);
  ASSERT_EQ(countEvents(small_history, "queued", "active"), 1);
  std::int64_t small_start_id = small_history[1].id;
  CommandResult cancelled = run({"jobs", "cancel", big, "--redis", redis_.url(), "--db", dbUrl()});

  // Counts the big tenant's claims recorded after the small batch was
  // pushed and before its job's claim.
  int overtaking = 0;
  for (const jobs::Job& each : batchJobs(big)) {
    for (const jobs::JobEvent& event : events(each.id)) {
      if (event.from_state == "queued" && event.to_state == "active" &&
          event.at_ms >= enqueued_at_ms && event.id < small_start_id) {
        overtaking++;
      }
    }
  }
  EXPECT_LE(overtaking, kWorkers);
  EXPECT_EQ(cancelled.status, 0) << cancelled.err;
  jobs::BatchSummary big_counts = summary(big);
  EXPECT_GT(big_counts.cancelled, 0);
  EXPECT_EQ(big_counts.completed + big_counts.cancelled, 300);
  EXPECT_TRUE(waitUntil([&] { return finished(small); }, kWait));
  EXPECT_EQ(summary(small).completed, 1);
}

TEST_F(WorkerTest, PriorityLaneFirst) {
  topUp("acme", 10);
  std::string normal = enqueue(kCard12s, kClubs, "acme", {"--rows", "1-3"});
  ASSERT_FALSE(normal.empty());
  std::vector<jobs::Job> normal_jobs = batchJobs(normal);
  ASSERT_EQ(normal_jobs.size(), 3u);
  ChildProcess& w1 = startWorker("w1");
  ASSERT_TRUE(waitForLog(w1, "job start job=" + normal_jobs[0].id));

  std::string urgent = enqueue(kMini, kClubs, "acme", {"--rows", "4", "--priority", "high"});
  ASSERT_FALSE(urgent.empty());
  std::string urgent_job = batchJobs(urgent).at(0).id;
  bool urgent_ran = waitUntil([&] { return finished(urgent); }, kWait);
  CommandResult cancelled =
      run({"jobs", "cancel", normal, "--redis", redis_.url(), "--db", dbUrl()});

  ASSERT_TRUE(urgent_ran);
  // The urgent job was created while row 1 still rendered.
  std::vector<jobs::JobEvent> first_history = events(normal_jobs[0].id);
  ASSERT_EQ(first_history.back().to_state, "completed");
  EXPECT_EQ(cancelled.status, 0) << cancelled.err;
  std::vector<jobs::JobEvent> urgent_history = events(urgent_job);
  ASSERT_EQ(countEvents(urgent_history, "queued", "active"), 1);
  EXPECT_LT(urgent_history[0].id, first_history.back().id);
  std::int64_t urgent_start_id = urgent_history[1].id;
  for (std::size_t i = 1; i < normal_jobs.size(); ++i) {
    for (const jobs::JobEvent& event : events(normal_jobs[i].id)) {
      if (event.to_state == "active") {
        EXPECT_GT(event.id, urgent_start_id) << "row " << normal_jobs[i].row << " started first";
      }
    }
  }
}

TEST_F(WorkerTest, CancelStopsActiveJobAtFrameBoundary) {
  topUp("acme", 10);
  std::string batch = enqueue(kCard30s, kClubs, "acme", {"--rows", "1"});
  ASSERT_FALSE(batch.empty());
  std::string job_id = batchJobs(batch).at(0).id;
  ChildProcess& w1 = startWorker("w1");
  ASSERT_TRUE(waitForLog(w1, "job start job=" + job_id));
  ASSERT_TRUE(waitForFrames("acme", batch, job_id));

  auto cancelled_at = std::chrono::steady_clock::now();
  CommandResult cancelled =
      run({"jobs", "cancel", batch, "--redis", redis_.url(), "--db", dbUrl()});
  bool stopped = waitForLog(w1, "job stopped job=" + job_id, 30s);
  auto stop_delay = std::chrono::steady_clock::now() - cancelled_at;

  EXPECT_EQ(cancelled.status, 0) << cancelled.err;
  EXPECT_EQ(cancelled.out, "cancelled=1 active=1\n");
  ASSERT_TRUE(stopped) << w1.err();
  EXPECT_LT(stop_delay, 5s);
  EXPECT_NE(w1.err().find("job stopping job=" + job_id), std::string::npos);
  EXPECT_EQ(jobs::jobStateName(job(job_id).state), "cancelled");
  for (const std::string& path : listTree(storage())) {
    EXPECT_FALSE(path.ends_with(".mp4")) << path;
    EXPECT_FALSE(path.ends_with(".jpg")) << path;
    EXPECT_FALSE(path.ends_with(".partial")) << path;
  }
  EXPECT_EQ(ledgerEntries("acme", "charge"), 0);
  // The worker that stopped the batch's last job gives its hold back.
  Balance after = balance("acme");
  EXPECT_EQ(after.available, 10);
  EXPECT_EQ(after.held, 0);
  EXPECT_NE(
      w1.err().find("batch done batch=" + batch + " completed=0 failed=0 cancelled=1 released=1"),
      std::string::npos)
      << w1.err();
}

TEST_F(WorkerTest, RenderTimeLimitFailsTheJobForGood) {
  topUp("acme", 10);
  std::string batch = enqueue(kCard30s, kClubs, "acme", {"--rows", "1"});
  ASSERT_FALSE(batch.empty());
  std::string job_id = batchJobs(batch).at(0).id;
  ChildProcess& w1 = startWorker("w1", {"--max-render-s", "1"});
  ASSERT_TRUE(waitForLog(w1, "job start job=" + job_id));

  const std::string limit =
      "render stopped after 1 s, the limit of one job's render time; shorten the template or "
      "lower its frame rate or size";
  ASSERT_TRUE(waitUntil([&] { return job(job_id).state == jobs::JobState::kFailed; }, 30s))
      << w1.err();
  jobs::Job failed = job(job_id);
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_EQ(failed.last_error, limit);
  EXPECT_NE(w1.err().find("job stopping job=" + job_id + ": " + limit), std::string::npos);
  EXPECT_EQ(ledgerEntries("acme", "charge"), 0);
  EXPECT_TRUE(waitUntil([&] { return balance("acme").held == 0; }, 30s));
  EXPECT_EQ(balance("acme").available, 10);
  for (const std::string& path : listTree(storage())) {
    EXPECT_FALSE(path.ends_with(".mp4")) << path;
    EXPECT_FALSE(path.ends_with(".partial")) << path;
  }
}

TEST_F(WorkerTest, CancelledBatchLeavesNoWorkFolder) {
  topUp("acme", 10);
  std::string batch = enqueue(kCard30s, kClubs, "acme", {"--rows", "1"});
  ASSERT_FALSE(batch.empty());
  std::string job_id = batchJobs(batch).at(0).id;
  ChildProcess& w1 = startWorker("w1");
  ASSERT_TRUE(waitForLog(w1, "job start job=" + job_id));
  ASSERT_TRUE(waitForFrames("acme", batch, job_id));

  CommandResult cancelled =
      run({"jobs", "cancel", batch, "--redis", redis_.url(), "--db", dbUrl()});
  ASSERT_TRUE(waitForLog(w1, "job stopped job=" + job_id, 30s)) << w1.err();
  // The stopped slot cleans up right after it logs; a second is plenty.
  std::this_thread::sleep_for(1s);

  EXPECT_EQ(cancelled.status, 0) << cancelled.err;
  EXPECT_EQ(listTree(batchDir("acme", batch)), std::set<std::string>{});
}

TEST_F(WorkerTest, SigtermHandsBackAfterGrace) {
  topUp("acme", 10);
  std::string batch = enqueue(kCard12s, kClubs, "acme", {"--rows", "1"});
  ASSERT_FALSE(batch.empty());
  std::string job_id = batchJobs(batch).at(0).id;
  ChildProcess& leaving = startWorker("leaving", {"--grace-ms", "0"});
  ASSERT_TRUE(waitForLog(leaving, "job start job=" + job_id));
  ASSERT_TRUE(waitForFrames("acme", batch, job_id));

  leaving.signal(SIGTERM);
  int exit_status = leaving.wait(60s);
  jobs::Job handed_back = job(job_id);
  startWorker("staying");
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  EXPECT_EQ(exit_status, 0) << leaving.err();
  EXPECT_NE(leaving.err().find("job handed back job=" + job_id), std::string::npos)
      << leaving.err();
  EXPECT_EQ(jobs::jobStateName(handed_back.state), "queued");
  EXPECT_EQ(handed_back.attempts, 0);
  std::vector<jobs::JobEvent> history = events(job_id);
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[2].from_state + "->" + history[2].to_state, "active->queued");
  EXPECT_EQ(history[2].attempt, 0);
  EXPECT_EQ(history[3].worker, "staying");
  EXPECT_EQ(history[4].from_state + "->" + history[4].to_state, "active->completed");
  EXPECT_EQ(job(job_id).attempts, 1);
  expectDeliveredOnce("acme", batch, 10);
}

TEST_F(WorkerTest, SigtermLetsJobFinishWithinGrace) {
  topUp("acme", 10);
  std::string batch = enqueue(kCard12s, kClubs, "acme", {"--rows", "1-2"});
  ASSERT_FALSE(batch.empty());
  std::vector<jobs::Job> list = batchJobs(batch);
  ASSERT_EQ(list.size(), 2u);
  ChildProcess& leaving = startWorker("leaving", {"--grace-ms", "60000"});
  ASSERT_TRUE(waitForLog(leaving, "job start job=" + list[0].id));

  leaving.signal(SIGTERM);
  int exit_status = leaving.wait(kWait);

  EXPECT_EQ(exit_status, 0) << leaving.err();
  EXPECT_EQ(countOf(leaving.err(), "job done job=" + list[0].id), 1) << leaving.err();
  EXPECT_EQ(countOf(leaving.err(), "job start"), 1) << leaving.err();
  EXPECT_EQ(jobs::jobStateName(job(list[0].id).state), "completed");
  EXPECT_EQ(jobs::jobStateName(job(list[1].id).state), "queued");
  EXPECT_EQ(job(list[1].id).attempts, 0);
}

TEST_F(WorkerTest, RetryAfterFailure) {
  topUp("acme", 10);
  fs::path crest = dir_.file("late/crest.svg");
  dir_.write("late.csv", "home,crest\nLate FC," + crest.string() + "\n");
  std::string batch = enqueue(kMini, dir_.file("late.csv"), "acme");
  ASSERT_FALSE(batch.empty());
  std::string job_id = batchJobs(batch).at(0).id;
  startWorker("w1");
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));
  jobs::Job failed = job(job_id);

  fs::create_directories(crest.parent_path());
  fs::copy_file(kGoodCrest, crest);
  CommandResult retried = run({"jobs", "retry", batch, "--redis", redis_.url(), "--db", dbUrl()});
  ASSERT_EQ(retried.status, 0) << retried.err;
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  EXPECT_EQ(jobs::jobStateName(failed.state), "failed");
  EXPECT_NE(failed.last_error.find("crest.svg"), std::string::npos) << failed.last_error;
  EXPECT_EQ(retried.out, "retried=1\n");
  std::vector<jobs::JobEvent> history = events(job_id);
  EXPECT_EQ(countEvents(history, "failed", "queued"), 1);
  expectDeliveredOnce("acme", batch, 10);
}

TEST_F(WorkerTest, UrlCrestFetchedAndRendered) {
  topUp("acme", 10);
  const std::string crest = readText(kGoodCrest);
  LoopbackHttpServer server([&](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(200, {{"ETag", "\"c1\""}}, crest));
  });
  ASSERT_TRUE(server.started());
  const std::string url = server.url("/crests/remote.svg");
  // Row 3 gives the same URL as row 1, and is served from the cache.
  dir_.write("remote.csv", "home,crest\nRemote FC," + url + "\nLocal FC," +
                               fs::absolute(kGoodCrest).string() + "\nRemote Again FC," + url +
                               "\n");
  std::string batch = enqueue(kMini, dir_.file("remote.csv"), "acme");
  ASSERT_FALSE(batch.empty());

  startWorker("w1", {"--fetch-allow", "127.0.0.1/32", "--fetch-allow-http"});
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  expectDeliveredOnce("acme", batch, 10);
  std::vector<HttpRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/crests/remote.svg");
  // The download is in the default cache folder, under the storage.
  int cached = 0;
  for (const std::string& path : listTree(storage() / ".fetch-cache")) {
    if (path.ends_with(".svg") && readText(storage() / ".fetch-cache" / path) == crest) {
      cached++;
    }
  }
  EXPECT_EQ(cached, 1);
}

TEST_F(WorkerTest, RejectedUrlFailsOnlyItsJob) {
  topUp("acme", 10);
  // The worker runs with the default options, which reject loopback
  // addresses, so this listener must see no connection.
  LoopbackHttpServer server([](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(200, {}, "<svg/>"));
  });
  ASSERT_TRUE(server.started());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/crest.svg";
  const std::string local = fs::absolute(kGoodCrest).string();
  dir_.write("rejected.csv", "home,crest\nArsenal FC," + local + "\nLoopback FC," + url +
                                 "\nFulham FC," + local + "\n");
  std::string batch = enqueue(kMini, dir_.file("rejected.csv"), "acme");
  ASSERT_FALSE(batch.empty());

  startWorker("w1");
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  jobs::BatchSummary counts = summary(batch);
  EXPECT_EQ(counts.completed, 2);
  EXPECT_EQ(counts.failed, 1);
  EXPECT_EQ(listTree(batchDir("acme", batch)), outputsOf({1, 3}));
  std::vector<jobs::Job> list = batchJobs(batch);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].row, 2);
  EXPECT_EQ(jobs::jobStateName(list[1].state), "failed");
  EXPECT_EQ(list[1].attempts, 1);
  EXPECT_EQ(list[1].last_error,
            "row 2, column crest: cannot fetch " + url +
                ": host 127.0.0.1 resolved to an address that is not allowed: 127.0.0.1 is a "
                "loopback address (127.0.0.0/8); if the deployment trusts it, allow it with "
                "--fetch-allow 127.0.0.1/32");
  EXPECT_EQ(server.connections(), 0);
}

// Returns the nice value of each thread of process PID, read from /proc,
// or -1 for a stat line that does not parse. A thread that ended while
// the folder was read is left out.
std::vector<int> threadNiceValues(pid_t pid) {
  std::vector<int> values;
  std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::string stat = readText(task.path() / "stat");
    if (stat.empty()) {
      continue;
    }
    // Field 19 of stat, the 17th after the name in parentheses.
    std::istringstream fields(stat.substr(stat.rfind(')') + 1));
    std::string field;
    int read = 0;
    while (read < 17 && fields >> field) {
      ++read;
    }
    values.push_back(read == 17 ? std::stoi(field) : -1);
  }
  return values;
}

TEST_F(WorkerTest, ThreadsRunAtGivenNice) {
  ChildProcess& niced = startWorker("niced", {"--nice", "7"}, {}, 2);
  ASSERT_TRUE(waitForLog(niced, "worker start id=niced"));
  errno = 0;
  int own = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);

  std::vector<int> values = threadNiceValues(niced.pid());

  ASSERT_GT(values.size(), 2u) << "the worker runs a thread per slot besides its main thread";
  EXPECT_EQ(values, std::vector<int>(values.size(), std::max(own, 7)));
}

TEST_F(WorkerTest, NiceOutOfRangeStopsStart) {
  ChildProcess& worker = startWorker("w1", {"--nice", "20"});

  int status = worker.wait(kWait);

  EXPECT_EQ(status, static_cast<int>(CLI::ExitCodes::ValidationError));
  EXPECT_NE(worker.err().find("--nice: Value 20 not in range 0 to 19"), std::string::npos)
      << worker.err();
}

TEST_F(WorkerTest, InvalidFetchAllowStopsStart) {
  ChildProcess& worker = startWorker("w1", {"--fetch-allow", "localhost"});

  int status = worker.wait(kWait);

  EXPECT_EQ(status, 2);
  EXPECT_EQ(worker.out(), "");
  EXPECT_NE(worker.err().find("smmhub-worker: --fetch-allow: 'localhost' is not a CIDR range: "
                              "'localhost' is not an IPv4 or IPv6 address; write ADDRESS/LENGTH, "
                              "as in 10.0.0.0/8 or fd00::/8\n"),
            std::string::npos)
      << worker.err();
}

}  // namespace
}  // namespace smmhub::worker
