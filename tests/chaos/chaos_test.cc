// Fault injection on the whole stack: redis-server, PostgreSQL, smmhub-api
// and three smmhub-worker processes, each a child process of the test on
// loopback ports and temporary folders. Each scenario generates one small
// batch through the API, injects one fault while the jobs render, waits for
// the batch to end and checks what must survive any fault:
//
//   1. every job completed exactly once (one `completed` row in job_events),
//      or failed with its error in the API's batch view;
//   2. the credits charged equal the videos delivered: the ledger's charges,
//      the balance, the usage route, the completed jobs and the MP4 files
//      agree;
//   3. every MP4 in the batch's folder starts with an `ftyp` box and its
//      top-level boxes add up to the file's size with a `moov` box, and the
//      folder keeps nothing but the completed rows' videos and posters;
//   4. nothing stays held once the batch ended.
//
// The faults, one test each:
//   WorkersKilled        SIGKILL of a random worker, three times, with a
//                        replacement started each time; the dead worker's
//                        job is retried once its lease runs out.
//   RedisRestarted       SIGKILL of redis-server, restarted on its port with
//                        its append-only file.
//   RedisLostData        SIGKILL of redis-server, restarted on its port with
//                        no data; the workers re-drive the jobs from SQL.
//   ApiRestarted         SIGKILL of smmhub-api, restarted on its port; the
//                        new process reports the batch.
//   PostgresRestarted    PostgreSQL stopped (fast shutdown) and started
//                        again on its port and data.
//   DiskFull             the batch's folder is a full tmpfs: every job fails
//                        with the write error, nothing is charged and no
//                        file is left; once space is freed, a retry of the
//                        batch delivers every video.
//
// The random choices come from one seed, printed as `chaos seed=N`; set
// SMMHUB_CHAOS_SEED=N to replay them.
#include <soci/soci.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "common/ids.h"
#include "credits/credits.h"
#include "credits/ledger_writer.h"
#include "jobs/job_store.h"
#include "redis/connection.h"
#include "redis/pool.h"
#include "store/database.h"
#include "testing/free_port.h"
#include "testing/http_client.h"
#include "testing/local_postgres.h"
#include "testing/local_redis.h"
#include "testing/temp_dir.h"
#include "worker_support.h"

namespace smmhub::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kRows = 8;
constexpr int kWorkers = 3;
constexpr int kVideoSeconds = 20;
constexpr std::int64_t kCredits = 100;
constexpr std::string_view kTenant = "acme";
constexpr std::string_view kPassword = "correct horse battery";
const fs::path kTemplate = "tests/testdata/api/card.json";
const fs::path kBrand = "tests/testdata/golden/brand";

// Returns the seed of this run's random choices: SMMHUB_CHAOS_SEED, or a
// random one.
std::uint64_t chaosSeed() {
  if (const char* text = std::getenv("SMMHUB_CHAOS_SEED"); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 10);
  }
  return std::random_device{}();
}

// Returns the card template with its scene and fade-in stretched to
// kVideoSeconds, so that faults land while the frames render.
std::string longCard() {
  json card = json::parse(readText(kTemplate));
  json& scene = card["scenes"][0];
  scene["duration"] = kVideoSeconds;
  for (json& layer : scene["layers"]) {
    if (layer.contains("animations")) {
      layer["animations"][0]["duration"] = kVideoSeconds;
    }
  }
  return card.dump(2);
}

// Returns the video file name of ROW, as the worker names it.
std::string videoName(int row) {
  std::string digits = std::to_string(row);
  return std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits + ".mp4";
}

// Checks that the file at PATH is a whole MP4: it starts with an `ftyp`
// box, its top-level boxes fill it exactly, and it has a `moov` box.
// Returns an empty string, or what is wrong.
std::string checkMp4(const fs::path& path) {
  std::string bytes = readText(path);
  auto be32 = [&](std::size_t at) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    }
    return value;
  };
  if (bytes.size() < 8 || bytes.substr(4, 4) != "ftyp") {
    return path.string() + ": does not start with an ftyp box";
  }
  std::set<std::string> types;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 8) {
      return path.string() + ": " + std::to_string(bytes.size() - at) +
             " bytes after the last box, too few for a box header";
    }
    std::uint64_t size = be32(at);
    std::string type = bytes.substr(at + 4, 4);
    if (size == 1 && bytes.size() - at >= 16) {
      size = (be32(at + 8) << 32) | be32(at + 12);
    } else if (size == 0) {
      size = bytes.size() - at;
    }
    if (size < 8 || size > bytes.size() - at) {
      return path.string() + ": box '" + type + "' at offset " + std::to_string(at) + " has size " +
             std::to_string(size) + ", past the file's end " + std::to_string(bytes.size());
    }
    types.insert(type);
    at += size;
  }
  if (!types.contains("moov")) {
    return path.string() + ": has no moov box";
  }
  return "";
}

// A tmpfs mounted on a folder, unmounted when the object goes.
class TmpfsMount {
 public:
  // Mounts a tmpfs of SIZE_BYTES on DIR. Returns an empty string, or why
  // the mount failed.
  std::string mount(const fs::path& dir, std::int64_t size_bytes) {
    std::string options = "size=" + std::to_string(size_bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      return "mount -t tmpfs on " + dir.string() + " failed: " + std::strerror(errno);
    }
    dir_ = dir;
    return "";
  }
  ~TmpfsMount() {
    if (!dir_.empty()) {
      ::umount2(dir_.c_str(), MNT_DETACH);
    }
  }

 private:
  fs::path dir_;
};

// An API client that signs in as the tenant's editor, and signs in again
// when a request returns 401.
class EditorClient {
 public:
  EditorClient(int port, std::string email) : port_(port), email_(std::move(email)) {}

  // Sends one request; a 401 signs in and sends it once more.
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::map<std::string, std::string>& extra = {}) {
    HttpReply reply = client_.request(method, target, body, "application/json", extra);
    if (reply.status == 401 && signIn()) {
      reply = client_.request(method, target, body, "application/json", extra);
    }
    return reply;
  }
  HttpReply get(const std::string& target) { return request("GET", target); }

  bool signIn() {
    client_ = HttpClient("127.0.0.1", port_);
    HttpReply reply = client_.post(
        "/api/v1/session", json{{"email", email_}, {"password", std::string(kPassword)}}.dump());
    if (reply.status != 200) {
      return false;
    }
    client_.setHeader("X-CSRF-Token", reply.json().value("csrf_token", ""));
    return true;
  }

  HttpClient& raw() { return client_; }

 private:
  int port_;
  std::string email_;
  HttpClient client_{"127.0.0.1", 0};
};

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = chaosSeed();
    random_.seed(seed_);
    std::cout << "chaos seed=" << seed_ << " (replay with SMMHUB_CHAOS_SEED=" << seed_ << ")"
              << std::endl;
    RecordProperty("chaos_seed", std::to_string(seed_));

    // The broker needs a Redis that keeps its writes and never evicts.
    redis_.addOptions(
        {"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"});
    ASSERT_EQ(redis_.start(), "");
    ASSERT_EQ(postgres_.start(), "");
    db_url_ = postgres_.url("smmhub");
    storage_ = fs::absolute(storage_dir_.path());
    ASSERT_NO_FATAL_FAILURE(addTenant());

    api_port_ = freeLoopbackPort();
    ASSERT_NO_FATAL_FAILURE(startApi());
    editor_ = std::make_unique<EditorClient>(api_port_, email_);
    ASSERT_TRUE(editor_->signIn());
    ASSERT_NO_FATAL_FAILURE(makeCampaign());
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cout << "api log:\n" << (api_ ? api_->err() : "") << "\n" << workerLogs() << std::endl;
    }
    workers_.clear();
    api_.reset();
  }

  // Makes the tenant with kCredits credits, an editor, the card template
  // and the brand kit, as the API's routes would store them.
  void addTenant() {
    auto db = store::Database::open({.url = db_url_});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    ASSERT_TRUE(endpoint.ok());
    redis::Pool pool(*endpoint, redis::PoolOptions{});
    accounts::Accounts accounts(**db, &pool);
    ASSERT_TRUE(accounts.createTenant(std::string(kTenant), "Acme agency").ok());
    email_ = "editor@acme.test";
    auto user = accounts.createUser({.tenant = std::string(kTenant),
                                     .email = email_,
                                     .name = "editor",
                                     .password = std::string(kPassword),
                                     .role = "editor"});
    ASSERT_TRUE(user.ok()) << user.status().toString();
    auto credits = credits::Credits::create({.redis_url = redis_.url()}, db->get());
    ASSERT_TRUE(credits.ok()) << credits.status().toString();
    auto topup = (*credits)->topup({.tenant = std::string(kTenant),
                                    .amount = kCredits,
                                    .key = "chaos-topup",
                                    .actor = "test"});
    ASSERT_TRUE(topup.ok()) << topup.status().toString();
    // The top-up reaches the SQL ledger now, so that a Redis that loses its
    // data rebuilds the balance with it.
    credits::LedgerWriter ledger(**credits, {.consumer = "chaos-test"});
    ASSERT_TRUE(ledger.drainTenant(std::string(kTenant)).ok());
    ASSERT_TRUE(ledger.leave(std::string(kTenant)).ok());

    template_id_ = randomId("t-");
    fs::path template_path = storage_ / kTenant / "templates" / template_id_ / "v1.json";
    fs::create_directories(template_path.parent_path());
    std::string body = longCard();
    std::ofstream(template_path, std::ios::binary) << body;
    kit_id_ = randomId("k-");
    fs::path kit_dir = storage_ / kTenant / "brand-kits" / kit_id_;
    fs::create_directories(kit_dir);
    fs::copy(kBrand, kit_dir, fs::copy_options::recursive);
    std::int64_t now = unixMillis();
    std::string tenant(kTenant);
    std::string file = template_path.string();
    std::string brand = readText(kit_dir / "brand.json");
    std::string dir = kit_dir.string();
    Status written = (*db)->write([&](soci::session& sql) {
      sql << "INSERT INTO templates (id, tenant, name, latest_version, created_at_ms, "
             "updated_at_ms) VALUES (:id, :tenant, 'Card', 1, :now, :now2)",
          soci::use(template_id_), soci::use(tenant), soci::use(now), soci::use(now);
      sql << "INSERT INTO template_versions (template_id, version, tenant, body, path, "
             "created_at_ms) VALUES (:id, 1, :tenant, :body, :path, :now)",
          soci::use(template_id_), soci::use(tenant), soci::use(body), soci::use(file),
          soci::use(now);
      sql << "INSERT INTO brand_kits (id, tenant, name, brand_json, dir, created_at_ms, "
             "updated_at_ms) VALUES (:id, :tenant, 'Brand', :brand, :dir, :now, :now2)",
          soci::use(kit_id_), soci::use(tenant), soci::use(brand), soci::use(dir), soci::use(now),
          soci::use(now);
      return okStatus();
    });
    ASSERT_TRUE(written.ok()) << written.toString();
  }

  // Makes the campaign of kRows rows through the API.
  void makeCampaign() {
    HttpReply created = editor_->request(
        "POST", "/api/v1/campaigns",
        json{{"name", "Chaos"}, {"template_id", template_id_}, {"brand_kit_id", kit_id_}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    campaign_ = created.json().value("id", "");
    std::string rows = "Home team,Away team\n";
    for (int row = 1; row <= kRows; ++row) {
      rows += "Home " + std::to_string(row) + ",Away " + std::to_string(row) + "\n";
    }
    HttpReply put =
        editor_->raw().request("PUT", "/api/v1/campaigns/" + campaign_ + "/rows", rows, "text/csv");
    ASSERT_EQ(put.status, 200) << put.body;
    HttpReply mapped =
        editor_->request("PUT", "/api/v1/campaigns/" + campaign_ + "/mapping",
                         json{{"mapping", {{"home", "Home team"}, {"away", "Away team"}}}}.dump());
    ASSERT_EQ(mapped.status, 200) << mapped.body;
  }

  // Starts smmhub-api on api_port_ and waits until /healthz returns 200.
  void startApi() {
    int index = api_starts_++;
    api_ = std::make_unique<ChildProcess>(
        SMMHUB_API_BINARY,
        std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(api_port_), "--redis",
                                 redis_.url(), "--db", db_url_, "--storage", storage_.string(),
                                 "--log-level", "warn"},
        std::vector<std::string>{}, logs_.file("api-" + std::to_string(index) + ".out"),
        logs_.file("api-" + std::to_string(index) + ".err"));
    ASSERT_TRUE(api_->started());
    HttpClient probe("127.0.0.1", api_port_);
    bool healthy = waitUntil([&] { return probe.get("/healthz").status == 200; }, 30s);
    ASSERT_TRUE(healthy) << api_->err();
  }

  // Starts one more smmhub-worker with short leases, so that the job of a
  // killed worker is retried within seconds.
  void startWorker() {
    int index = worker_starts_++;
    workers_.push_back(std::make_unique<ChildProcess>(
        SMMHUB_WORKER_BINARY,
        std::vector<std::string>{"--redis",        redis_.url(),
                                 "--db",           db_url_,
                                 "--storage",      storage_.string(),
                                 "--concurrency",  "1",
                                 "--id",           "chaos-worker-" + std::to_string(index),
                                 "--lease-ms",     "3000",
                                 "--heartbeat-ms", "500",
                                 "--poll-ms",      "200",
                                 "--backoff-ms",   "200",
                                 "--grace-ms",     "1000",
                                 "--log-level",    "info"},
        std::vector<std::string>{}, logs_.file("worker-" + std::to_string(index) + ".out"),
        logs_.file("worker-" + std::to_string(index) + ".err")));
    ASSERT_TRUE(workers_.back()->started());
  }

  void startWorkers() {
    for (int i = 0; i < kWorkers; ++i) {
      ASSERT_NO_FATAL_FAILURE(startWorker());
    }
  }

  std::string workerLogs() const {
    std::string logs;
    for (int i = 0; i < worker_starts_; ++i) {
      logs += "worker " + std::to_string(i) + ":\n" +
              readText(logs_.file("worker-" + std::to_string(i) + ".err"));
    }
    return logs;
  }

  // Presses Generate all; returns the batch id.
  std::string generate(const std::string& key) {
    HttpReply generated = editor_->request("POST", "/api/v1/campaigns/" + campaign_ + "/generate",
                                           "{}", {{"Idempotency-Key", key}});
    EXPECT_EQ(generated.status, 202) << generated.body;
    return generated.json().value("batch_id", "");
  }

  // Starts the workers, presses Generate all with KEY and returns, with the
  // batch id in BATCH, once one of its jobs runs.
  void startRunningBatch(const std::string& key, std::string& batch) {
    ASSERT_NO_FATAL_FAILURE(startWorkers());
    batch = generate(key);
    ASSERT_TRUE(waitForState(batch, "active", 60s)) << workerLogs();
  }

  // Returns the batch as the API reports it, or null while the API cannot.
  json batchView(const std::string& batch) {
    HttpReply reply = editor_->get("/api/v1/batches/" + batch);
    return reply.status == 200 ? reply.json() : json();
  }

  // Waits until the batch has a job in STATE or TIMEOUT passes.
  bool waitForState(const std::string& batch, const std::string& state,
                    std::chrono::milliseconds timeout) {
    return waitUntil(
        [&] {
          json view = batchView(batch);
          return view.is_object() && view["counts"].value(state, 0) > 0;
        },
        timeout);
  }

  // Waits until no job of BATCH is left to run; returns the batch's view,
  // or null when it did not end within the deadline.
  json waitForBatch(const std::string& batch) {
    auto start = std::chrono::steady_clock::now();
    json last;
    bool ended = waitUntil(
        [&] {
          last = batchView(batch);
          if (!last.is_object() || !last["counts"].is_object()) {
            return false;
          }
          const json& counts = last["counts"];
          return counts.value("total", -1) == counts.value("completed", 0) +
                                                  counts.value("failed", 0) +
                                                  counts.value("cancelled", 0);
        },
        150s);
    std::cout << "batch " << batch << ": ended=" << ended << " after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count()
              << " ms" << std::endl;
    return ended ? last : json();
  }

  // Sleeps a random time between LOW and HIGH.
  void sleepRandom(std::chrono::milliseconds low, std::chrono::milliseconds high) {
    std::uniform_int_distribution<std::int64_t> pick(low.count(), high.count());
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(random_)));
  }

  // Checks the four invariants on the ended batch VIEW. The balance and the
  // usage must also count the videos of the batches checked before.
  void checkBatch(const std::string& batch, const json& view) {
    ASSERT_TRUE(view.is_object()) << "batch " << batch
                                  << " did not end within 150 s: " << batchView(batch).dump();
    const json& counts = view["counts"];
    EXPECT_EQ(counts.value("total", -1), kRows) << counts.dump();
    EXPECT_EQ(counts.value("cancelled", -1), 0) << counts.dump();
    int completed = counts.value("completed", -1);
    ASSERT_EQ(view["jobs"].size(), static_cast<std::size_t>(kRows)) << view.dump();

    // 1. Completed exactly once, or failed with the error shown.
    auto db = store::Database::open({.url = db_url_});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    jobs::JobStore store(**db);
    std::set<std::string> completed_files;
    for (const json& job : view["jobs"]) {
      std::string id = job.value("id", "");
      std::string state = job.value("state", "");
      SCOPED_TRACE("job " + id + " row " + std::to_string(job.value("row", 0)));
      Result<std::vector<jobs::JobEvent>> events = store.events(id);
      ASSERT_TRUE(events.ok()) << events.status().toString();
      int completions = 0;
      std::string history;
      for (const jobs::JobEvent& event : *events) {
        completions += event.to_state == "completed" ? 1 : 0;
        history += event.from_state + "->" + event.to_state + " (" + event.error + ") ";
      }
      if (state == "completed") {
        EXPECT_EQ(completions, 1) << history;
        completed_files.insert(videoName(job.value("row", 0)));
      } else {
        EXPECT_EQ(state, "failed") << history;
        EXPECT_EQ(completions, 0) << history;
        EXPECT_FALSE(job.value("error", "").empty()) << job.dump() << " " << history;
      }
    }

    // 3. Whole MP4 files, one per completed job, and nothing else.
    fs::path folder = storage_ / kTenant / batch;
    std::set<std::string> videos;
    std::set<std::string> posters;
    std::set<std::string> others;
    std::error_code missing;
    for (const auto& entry : fs::directory_iterator(folder, missing)) {
      std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".mp4" && entry.is_regular_file()) {
        videos.insert(name);
        EXPECT_EQ(checkMp4(entry.path()), "");
      } else if (entry.path().extension() == ".jpg" && entry.is_regular_file()) {
        posters.insert(fs::path(name).replace_extension(".mp4").string());
      } else {
        others.insert(name);
      }
    }
    EXPECT_EQ(videos, completed_files);
    EXPECT_EQ(posters, completed_files);
    EXPECT_EQ(others, std::set<std::string>{});

    // 2 and 4. Charges equal deliveries, and no credit stays held. The
    // ledger writer moves charges into SQL within about a second.
    json credits;
    int charges = -1;
    auto settled = [&] {
      credits = editor_->get("/api/v1/credits").json();
      json history = editor_->get("/api/v1/credits/history?limit=1000").json();
      if (!credits.is_object() || !history.is_object()) {
        return false;
      }
      charges = 0;
      for (const json& entry : history["entries"]) {
        charges += entry.value("kind", "") == "charge" && entry.value("job_id", "") == batch;
      }
      return credits.value("held", -1) == 0 && charges == completed;
    };
    auto settle_start = std::chrono::steady_clock::now();
    bool settled_in_time = waitUntil(settled, 90s);
    std::cout << "batch " << batch << ": completed=" << completed << " credits settled after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - settle_start)
                     .count()
              << " ms" << std::endl;
    EXPECT_TRUE(settled_in_time) << credits.dump();
    std::int64_t price = credits.value("video_price", 0);
    completed_by_batch_[batch] = completed;
    int delivered = 0;
    for (const auto& [id, count] : completed_by_batch_) {
      delivered += count;
    }
    EXPECT_EQ(charges, completed);
    EXPECT_EQ(static_cast<int>(videos.size()), completed);
    EXPECT_EQ(credits.value("held", -1), 0) << credits.dump();
    EXPECT_EQ(credits.value("available", -1), kCredits - delivered * price) << credits.dump();
    json usage = editor_->get("/api/v1/usage?days=1").json();
    std::int64_t used_credits = 0;
    int used_videos = 0;
    for (const json& day : usage["days"]) {
      used_credits += day.value("credits", 0);
      used_videos += day.value("videos", 0);
    }
    EXPECT_EQ(used_videos, delivered) << usage.dump();
    EXPECT_EQ(used_credits, delivered * price) << usage.dump();
  }

  std::uint64_t seed_ = 0;
  std::mt19937_64 random_;
  LocalRedis redis_;
  LocalPostgres postgres_;
  TempDir storage_dir_;
  TempDir logs_;
  fs::path storage_;
  std::string db_url_;
  std::string email_;
  std::string template_id_;
  std::string kit_id_;
  std::string campaign_;
  int api_port_ = 0;
  int api_starts_ = 0;
  int worker_starts_ = 0;
  // The completed videos of each batch checked so far.
  std::map<std::string, int> completed_by_batch_;
  std::unique_ptr<ChildProcess> api_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::unique_ptr<EditorClient> editor_;
};

TEST_F(ChaosTest, WorkersKilled) {
  std::string batch;
  ASSERT_NO_FATAL_FAILURE(startRunningBatch("workers-killed", batch));

  // Kill a random live worker three times, each time at a random moment,
  // and start a replacement.
  for (int round = 0; round < 3; ++round) {
    sleepRandom(200ms, 1500ms);
    std::vector<ChildProcess*> live;
    for (auto& worker : workers_) {
      if (worker->running()) {
        live.push_back(worker.get());
      }
    }
    ASSERT_FALSE(live.empty());
    std::uniform_int_distribution<std::size_t> pick(0, live.size() - 1);
    ChildProcess* victim = live[pick(random_)];
    std::cout << "round " << round << ": SIGKILL worker pid=" << victim->pid() << std::endl;
    victim->kill();
    ASSERT_NO_FATAL_FAILURE(startWorker());
  }

  checkBatch(batch, waitForBatch(batch));
}

TEST_F(ChaosTest, RedisRestarted) {
  std::string batch;
  ASSERT_NO_FATAL_FAILURE(startRunningBatch("redis-restarted", batch));

  sleepRandom(100ms, 1500ms);
  redis_.stop(SIGKILL);
  sleepRandom(500ms, 2000ms);
  ASSERT_EQ(redis_.start(), "");

  checkBatch(batch, waitForBatch(batch));
}

TEST_F(ChaosTest, RedisLostData) {
  std::string batch;
  ASSERT_NO_FATAL_FAILURE(startRunningBatch("redis-lost-data", batch));

  // The restarted server finds no append-only file and starts empty.
  sleepRandom(100ms, 1500ms);
  redis_.stop(SIGKILL);
  for (const auto& entry : fs::directory_iterator(redis_.dir())) {
    if (entry.path().filename() != "redis.log") {
      fs::remove_all(entry.path());
    }
  }
  sleepRandom(500ms, 2000ms);
  ASSERT_EQ(redis_.start(), "");

  checkBatch(batch, waitForBatch(batch));
}

TEST_F(ChaosTest, ApiRestarted) {
  std::string batch;
  ASSERT_NO_FATAL_FAILURE(startRunningBatch("api-restarted", batch));

  sleepRandom(100ms, 1500ms);
  api_->kill();
  sleepRandom(200ms, 1000ms);
  ASSERT_NO_FATAL_FAILURE(startApi());

  checkBatch(batch, waitForBatch(batch));
}

TEST_F(ChaosTest, PostgresRestarted) {
  std::string batch;
  ASSERT_NO_FATAL_FAILURE(startRunningBatch("postgres-restarted", batch));

  sleepRandom(100ms, 1500ms);
  postgres_.stop(SIGINT);
  sleepRandom(500ms, 2000ms);
  ASSERT_EQ(postgres_.start(), "");

  checkBatch(batch, waitForBatch(batch));
}

TEST_F(ChaosTest, DiskFull) {
  // The batch's folder is a tmpfs filled up to its last few kilobytes, so
  // that a video's first bytes fit and the rest does not.
  std::string batch = generate("disk-full");
  fs::path folder = storage_ / kTenant / batch;
  fs::create_directories(folder);
  TmpfsMount tmpfs;
  std::string mounted = tmpfs.mount(folder, 1 << 20);
  if (!mounted.empty()) {
    GTEST_SKIP() << "the disk-full scenario needs a tmpfs mount, and " << mounted;
  }
  fs::path filler = folder / "filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string block(4096, '\0');
    while (out.write(block.data(), block.size())) {
    }
  }
  fs::resize_file(filler, fs::file_size(filler) - 16 * 1024);
  ASSERT_NO_FATAL_FAILURE(startWorkers());

  // Every job fails once its retries used the disk's last bytes too.
  json full = waitForBatch(batch);
  ASSERT_TRUE(full.is_object()) << batchView(batch).dump() << workerLogs();
  EXPECT_EQ(full["counts"].value("failed", -1), kRows) << full.dump();
  for (const json& job : full["jobs"]) {
    EXPECT_NE(job.value("error", "").find("No space left on device"), std::string::npos)
        << job.dump();
  }
  fs::remove(filler);
  checkBatch(batch, full);

  // With space again, a retry delivers every video once.
  HttpReply retried = editor_->request("POST", "/api/v1/batches/" + batch + "/retry", "",
                                       {{"Idempotency-Key", "disk-freed"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  json done = waitForBatch(batch);
  ASSERT_TRUE(done.is_object()) << workerLogs();
  EXPECT_EQ(done["counts"].value("completed", -1), kRows) << done.dump();
  checkBatch(batch, done);
}

}  // namespace
}  // namespace smmhub::testing
