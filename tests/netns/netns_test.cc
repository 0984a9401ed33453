// Workers on other machines: three network namespaces stand in for three
// render machines, each linked to the root namespace by a veth pair of its
// own. redis-server and PostgreSQL run in the root namespace and listen on
// loopback and on the root side of each link. Each namespace runs one
// smmhub-worker, which reaches them only through its link. The `smmhub`
// command tops up credits and enqueues the batch from the root namespace.
//
// The tests need root and a working `ip netns`; without them they are
// skipped with the reason.
#include <soci/soci.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "jobs/job_store.h"
#include "network_lab.h"
#include "store/database.h"
#include "test_support.h"
#include "testing/http_client.h"
#include "testing/local_postgres.h"
#include "testing/local_redis.h"
#include "worker_support.h"

namespace smmhub::worker {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using smmhub::testing::ChildProcess;
using smmhub::testing::countOf;
using smmhub::testing::HttpClient;
using smmhub::testing::kTestData;
using smmhub::testing::LocalPostgres;
using smmhub::testing::LocalRedis;
using smmhub::testing::NetworkLab;
using smmhub::testing::readText;
using smmhub::testing::TempDir;
using smmhub::testing::valueOrEmpty;
using smmhub::testing::waitUntil;

// 90 frames at 540x960: 1.5 to 3 s per job in the sanitizer build, long
// enough for every worker to claim a job of a 6-job batch.
const fs::path kCard3s = kTestData / "worker/card-3s.json";
// 360 frames: a job that still renders when the lease of a cut-off worker
// has run out and another worker has claimed the job again.
const fs::path kCard12s = kTestData / "worker/card-12s.json";
const fs::path kBrand = kTestData / "golden/brand";
const fs::path kClubs = kTestData / "worker/clubs.csv";

constexpr int kMachines = 3;
constexpr int kRows = 6;
constexpr int kTopUp = 20;
// A lease short enough that the job of a cut-off worker comes back within
// seconds. The upkeep of every worker reclaims expired leases once a second.
constexpr auto kLease = 2000ms;
constexpr auto kWait = 90s;
// Each namespace has its own ports, so every worker serves metrics on this
// port at its own address.
constexpr int kMetricsPort = 9464;

struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
};

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = NetworkLab::unavailableReason();
    if (!reason.empty()) {
      GTEST_SKIP() << reason;
    }
    lab_ = std::make_unique<NetworkLab>();
    ASSERT_EQ(lab_->create(kMachines), "");
    startRedis();
    startPostgres();
    Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = dbUrl()});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(*db);
    store_ = std::make_unique<jobs::JobStore>(*db_);
  }

  // Kills the workers before the servers and the namespaces go, and prints
  // the end of their logs when the test failed.
  void TearDown() override {
    for (auto& [name, worker] : workers_) {
      worker->kill();
      if (HasFailure()) {
        std::string log = worker->err();
        std::cerr << "---- worker " << name << " log (last 4000 bytes):\n"
                  << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
      }
    }
    workers_.clear();
  }

  // The settings that docs/broker.md requires of the broker's Redis. The
  // explicit bind list keeps Redis off every other address of the machine,
  // and protected mode, which accepts only loopback clients when Redis has
  // no password, is off so that the namespaces' workers can connect.
  void startRedis() {
    std::vector<std::string> bind = {"--bind", "127.0.0.1"};
    for (int i = 0; i < kMachines; ++i) {
      bind.push_back(lab_->hostAddress(i));
    }
    redis_.addOptions(bind);
    redis_.addOptions({"--protected-mode", "no", "--appendonly", "yes", "--appendfsync", "everysec",
                       "--maxmemory-policy", "noeviction"});
    ASSERT_EQ(redis_.start(), "");
  }

  // PostgreSQL listens on the links too, and trusts their subnet.
  void startPostgres() {
    std::string listen = "listen_addresses=127.0.0.1";
    for (int i = 0; i < kMachines; ++i) {
      listen += "," + lab_->hostAddress(i);
    }
    postgres_.addSettings({listen});
    ASSERT_EQ(postgres_.start(), "");
    std::ofstream(postgres_.dir() / "data" / "pg_hba.conf", std::ios::app)
        << "host all all " << lab_->subnet() << " trust\n";
    ASSERT_EQ(postgres_.execute("SELECT pg_reload_conf()"), "");
  }

  std::string redisUrl() const { return redis_.url(); }
  std::string dbUrl() const { return postgres_.url(); }
  // The URLs as a worker in namespace I sees the servers.
  std::string redisUrlFrom(int i) const {
    return "redis://" + lab_->hostAddress(i) + ":" + std::to_string(redis_.port());
  }
  std::string dbUrlFrom(int i) const {
    return "postgresql://postgres@" + lab_->hostAddress(i) + ":" +
           std::to_string(postgres_.port()) + "/smmhub";
  }
  fs::path storage() const { return dir_.file("storage"); }
  fs::path batchDir(const std::string& batch) const { return storage() / "acme" / batch; }
  static std::string workerName(int i) { return "w" + std::to_string(i); }

  // Runs PROGRAM with ARGS and waits for it.
  CommandResult run(const std::string& program, std::vector<std::string> args) {
    int n = runs_++;
    ChildProcess child(program, std::move(args), {}, dir_.file("run-" + std::to_string(n) + ".out"),
                       dir_.file("run-" + std::to_string(n) + ".err"));
    EXPECT_TRUE(child.started()) << "cannot start " << program;
    CommandResult result;
    result.status = child.wait(kWait);
    result.out = child.out();
    result.err = child.err();
    return result;
  }

  // Runs `smmhub ARGS` in the root namespace.
  CommandResult smmhub(std::vector<std::string> args) {
    return run(SMMHUB_BINARY, std::move(args));
  }

  // Runs `smmhub ARGS` inside namespace I.
  CommandResult smmhubIn(int i, const std::vector<std::string>& args) {
    std::vector<std::string> command = lab_->execPrefix(i);
    command.push_back(SMMHUB_BINARY);
    command.insert(command.end(), args.begin(), args.end());
    return run(NetworkLab::ipBinary(), command);
  }

  void topUp(int credits) {
    CommandResult done = smmhub({"credits", "topup", "acme", std::to_string(credits), "--key",
                                 "topup-acme", "--redis", redisUrl(), "--db", dbUrl()});
    ASSERT_EQ(done.status, 0) << done.err;
  }

  // Enqueues the first kRows clubs with TEMPLATE and returns the batch id,
  // or "" after a failed assertion.
  std::string enqueue(const fs::path& template_path) {
    CommandResult done =
        smmhub({"jobs", "enqueue", template_path.string(), "--data", kClubs.string(), "--brand",
                kBrand.string(), "--tenant", "acme", "--storage", storage().string(), "--rows",
                "1-" + std::to_string(kRows), "--redis", redisUrl(), "--db", dbUrl()});
    EXPECT_EQ(done.status, 0) << done.err;
    std::string batch = done.out.substr(0, done.out.find('\n'));
    EXPECT_TRUE(batch.starts_with("b-")) << done.out;
    return batch.starts_with("b-") ? batch : "";
  }

  // Starts worker wI inside namespace I, with the servers' addresses on its
  // link, the short timings and its metrics on its own address.
  ChildProcess& startWorker(int i, int concurrency = 1) {
    std::vector<std::string> args = lab_->execPrefix(i);
    args.insert(args.end(), {SMMHUB_WORKER_BINARY,
                             "--redis",
                             redisUrlFrom(i),
                             "--db",
                             dbUrlFrom(i),
                             "--storage",
                             storage().string(),
                             "--id",
                             workerName(i),
                             "--concurrency",
                             std::to_string(concurrency),
                             "--lease-ms",
                             std::to_string(kLease.count()),
                             "--heartbeat-ms",
                             "200",
                             "--poll-ms",
                             "50",
                             "--backoff-ms",
                             "200",
                             "--metrics-host",
                             lab_->guestAddress(i),
                             "--metrics-port",
                             std::to_string(kMetricsPort)});
    std::string name = workerName(i);
    auto child =
        std::make_unique<ChildProcess>(NetworkLab::ipBinary(), args, std::vector<std::string>{},
                                       dir_.file(name + ".out"), dir_.file(name + ".log"));
    EXPECT_TRUE(child->started()) << "cannot start " << NetworkLab::ipBinary();
    ChildProcess& started = *child;
    workers_.emplace_back(name, std::move(child));
    return started;
  }

  ChildProcess& workerProcess(const std::string& name) {
    for (auto& [started, process] : workers_) {
      if (started == name) {
        return *process;
      }
    }
    ADD_FAILURE() << "no worker " << name;
    return *workers_.front().second;
  }

  // Starts one worker per namespace and waits until each has beaten into
  // the live list, so that all of them wait for jobs when the batch comes.
  void startAllWorkers() {
    for (int i = 0; i < kMachines; ++i) {
      startWorker(i);
    }
    waitForLiveWorkers(kMachines);
  }

  // Waits until COUNT workers are in the live list.
  void waitForLiveWorkers(int count) {
    int live = 0;
    bool all_live = waitUntil(
        [&] {
          CommandResult listed = smmhub({"jobs", "workers", "--json", "--redis", redisUrl()});
          live = countOf(listed.out, "\"id\":");
          return live == count;
        },
        60s);
    ASSERT_TRUE(all_live) << "live workers: " << live << ", expected " << count;
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

  bool finished(const std::string& batch) {
    jobs::BatchSummary counts = summary(batch);
    return counts.total > 0 && counts.queued + counts.active + counts.retrying == 0;
  }

  // Counts the tenant's ledger entries of KIND whose operation key
  // contains KEY_PART.
  int ledgerEntries(const std::string& kind, const std::string& key_part = "") {
    int count = -1;
    std::string pattern = "%" + key_part + "%";
    Status read = db_->read([&](soci::session& sql) {
      sql << "SELECT COUNT(*) FROM ledger_entries WHERE tenant = 'acme' AND kind = :kind"
             " AND op_key LIKE :pattern",
          soci::use(kind), soci::use(pattern), soci::into(count);
      return okStatus();
    });
    EXPECT_TRUE(read.ok()) << read.toString();
    return count;
  }

  // Returns `available=N held=N` of `smmhub credits balance acme`.
  std::string balance() {
    CommandResult done =
        smmhub({"credits", "balance", "acme", "--redis", redisUrl(), "--db", dbUrl()});
    EXPECT_EQ(done.status, 0) << done.err;
    std::istringstream in(done.out);
    std::string available;
    std::string held;
    in >> available >> held;
    return available + " " + held;
  }

  // Returns the number of completed jobs per worker, from SQL.
  std::map<std::string, int> completedPerWorker(const std::string& batch) {
    std::map<std::string, int> counts;
    for (const jobs::Job& job : batchJobs(batch)) {
      if (jobs::jobStateName(job.state) == "completed") {
        counts[job.worker]++;
      }
    }
    return counts;
  }

  // Reads `smmhub_worker_jobs_total{outcome="OUTCOME"}` from the metrics of
  // worker I, over its link. Returns -1 when it is missing.
  int metricsOutcome(int i, const std::string& outcome) {
    HttpClient client(lab_->guestAddress(i), kMetricsPort);
    smmhub::testing::HttpReply reply = client.get("/metrics");
    EXPECT_EQ(reply.status, 200) << reply.body;
    const std::string name = "smmhub_worker_jobs_total{outcome=\"" + outcome + "\"} ";
    auto at = reply.body.find("\n" + name);
    if (at == std::string::npos) {
      return -1;
    }
    return std::stoi(reply.body.substr(at + 1 + name.size()));
  }

  // Checks that every job of BATCH completed exactly once with one video,
  // one poster and one charge, and that the batch's hold was released.
  void expectDeliveredOnce(const std::string& batch) {
    std::vector<jobs::Job> list = batchJobs(batch);
    ASSERT_EQ(list.size(), static_cast<std::size_t>(kRows));
    jobs::BatchSummary counts = summary(batch);
    EXPECT_EQ(counts.completed, kRows);
    EXPECT_EQ(counts.failed, 0);
    EXPECT_EQ(counts.cancelled, 0);

    for (const jobs::Job& job : list) {
      int completions = 0;
      for (const jobs::JobEvent& event : events(job.id)) {
        completions += event.from_state == "active" && event.to_state == "completed" ? 1 : 0;
      }
      EXPECT_EQ(completions, 1) << "job " << job.id;
      EXPECT_EQ(ledgerEntries("charge", job.id), 1) << "job " << job.id;
      char stem[8];
      std::snprintf(stem, sizeof(stem), "%03d", job.row);
      fs::path video = batchDir(batch) / (std::string(stem) + ".mp4");
      std::string bytes = readText(video);
      ASSERT_GT(bytes.size(), 8u) << video;
      EXPECT_EQ(bytes.substr(4, 4), "ftyp") << video;
      EXPECT_TRUE(fs::exists(batchDir(batch) / (std::string(stem) + ".jpg"))) << video;
    }
    EXPECT_EQ(smmhub::testing::countFiles(batchDir(batch), ".mp4"), kRows);

    // The worker that ends the batch's last job releases the hold after it
    // completed the job, so the balance can lag the batch's end briefly.
    std::string expected = "available=" + std::to_string(kTopUp - kRows) + " held=0";
    std::string read;
    EXPECT_TRUE(waitUntil(
        [&] {
          read = balance();
          return read == expected;
        },
        30s))
        << read;
    EXPECT_EQ(ledgerEntries("charge"), kRows);
  }

  TempDir dir_;
  std::unique_ptr<NetworkLab> lab_;
  LocalRedis redis_;
  LocalPostgres postgres_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<jobs::JobStore> store_;
  std::vector<std::pair<std::string, std::unique_ptr<ChildProcess>>> workers_;
  int runs_ = 0;
};

TEST_F(NetnsTest, WorkersOnThreeMachinesShareBatch) {
  // A namespace cannot reach the servers on loopback, which is its own, so
  // the workers below can only use their links.
  CommandResult isolated = smmhubIn(0, {"jobs", "workers", "--redis", redisUrl()});
  EXPECT_EQ(isolated.status, 1) << isolated.out << isolated.err;
  topUp(kTopUp);
  startAllWorkers();

  std::string batch = enqueue(kCard3s);
  ASSERT_FALSE(batch.empty());
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  expectDeliveredOnce(batch);
  std::map<std::string, int> per_worker = completedPerWorker(batch);
  EXPECT_EQ(per_worker.size(), static_cast<std::size_t>(kMachines));
  for (int i = 0; i < kMachines; ++i) {
    EXPECT_GE(per_worker[workerName(i)], 1) << workerName(i);
    EXPECT_EQ(metricsOutcome(i, "completed"), per_worker[workerName(i)]) << workerName(i);
  }
}

TEST_F(NetnsTest, CutLinkJobReclaimedByOthers) {
  // The worker to be cut off starts alone, so that it claims a job.
  const int cut = kMachines - 1;
  topUp(kTopUp);
  startWorker(cut);
  waitForLiveWorkers(1);
  std::string batch = enqueue(kCard12s);
  ASSERT_FALSE(batch.empty());

  // Cut its link while it renders the job.
  jobs::Job cut_job;
  ASSERT_TRUE(waitUntil(
      [&] {
        for (const jobs::Job& job : batchJobs(batch)) {
          if (jobs::jobStateName(job.state) == "active" && job.worker == workerName(cut)) {
            cut_job = job;
            return true;
          }
        }
        return false;
      },
      kWait));
  ASSERT_EQ(lab_->cut(cut), "");

  // The others have a slot for every job, so one of them takes the job as
  // soon as the lease has run out, while the cut-off worker still renders.
  // That worker cannot beat, so it leaves the live list.
  for (int i = 0; i < kMachines - 1; ++i) {
    startWorker(i, kRows);
  }
  ASSERT_TRUE(waitUntil(
      [&] {
        jobs::Job now = job(cut_job.id);
        return now.attempts == 2 && now.worker != workerName(cut);
      },
      kWait))
      << "worker=" << job(cut_job.id).worker << " attempts=" << job(cut_job.id).attempts;
  std::string listed;
  EXPECT_TRUE(waitUntil(
      [&] {
        listed = smmhub({"jobs", "workers", "--json", "--redis", redisUrl()}).out;
        return countOf(listed, "\"id\":") == kMachines - 1;
      },
      30s))
      << listed;
  EXPECT_EQ(countOf(listed, "\"id\":\"" + workerName(cut) + "\""), 0) << listed;

  // The new claim removed the cut-off worker's work folder, so its render
  // fails when it writes the video. Its failure then waits for the network.
  ChildProcess& cut_worker = workerProcess(workerName(cut));
  std::string render_end = "row failed row=" + std::to_string(cut_job.row) + " ";
  EXPECT_TRUE(
      waitUntil([&] { return cut_worker.err().find(render_end) != std::string::npos; }, kWait))
      << cut_worker.err();

  // Back on the network, SQL rejects the failure because the claim is over,
  // and the worker counts the attempt as rejected.
  ASSERT_EQ(lab_->restore(cut), "");
  int rejected = -1;
  EXPECT_TRUE(waitUntil(
      [&] {
        rejected = metricsOutcome(cut, "rejected");
        return rejected == 1;
      },
      60s))
      << "rejected=" << rejected << "\n"
      << cut_worker.err();
  EXPECT_NE(cut_worker.err().find("late failure rejected job=" + cut_job.id), std::string::npos)
      << cut_worker.err();
  EXPECT_TRUE(waitUntil(
      [&] {
        listed = smmhub({"jobs", "workers", "--json", "--redis", redisUrl()}).out;
        return countOf(listed, "\"id\":\"" + workerName(cut) + "\"") == 1;
      },
      30s))
      << "the cut-off worker did not beat again: " << listed;
  ASSERT_TRUE(waitUntil([&] { return finished(batch); }, kWait));

  expectDeliveredOnce(batch);
  jobs::Job after = job(cut_job.id);
  EXPECT_NE(after.worker, workerName(cut));
  EXPECT_EQ(after.attempts, 2);
  int reclaims = 0;
  for (const jobs::JobEvent& event : events(cut_job.id)) {
    if (event.from_state == "active" && event.to_state == "retrying") {
      reclaims++;
      EXPECT_EQ(event.worker, workerName(cut));
      EXPECT_EQ(event.error, "lease expired");
    }
  }
  EXPECT_EQ(reclaims, 1);
  EXPECT_EQ(countOf(cut_worker.err(), "job done job=" + cut_job.id), 0) << cut_worker.err();
  EXPECT_EQ(metricsOutcome(cut, "completed"), completedPerWorker(batch)[workerName(cut)]);
  EXPECT_EQ(metricsOutcome(cut, "rejected"), 1);
}

}  // namespace
}  // namespace smmhub::worker
