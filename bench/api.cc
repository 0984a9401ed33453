// bench/api: how the admin API serves while nothing and while a batch
// renders. One run starts a Redis with an append-only file, a SQLite store
// and smmhub-api, and measures:
//   - cold start: from starting smmhub-api to its first 200 on /healthz;
//   - resident memory idle, and after 10,000 dashboard calls;
//   - p50/p99 latency of the dashboard call (GET /api/v1/batches?limit=20
//     with an API key) at a steady 200 calls per second, and requests per
//     second under wrk, once idle and once while two smmhub-worker processes
//     render the Match Day batch on every core;
//   - the time "Generate all" of the 50 Match Day rows takes to return.
// The last line contains every figure as key=value.
//
// Usage: api [--out DIR] [--seconds N] [--connections N]
//        (run from the repo root; needs build/bin/smmhub-api and
//        build/bin/smmhub-worker next to build/bench, and wrk)
#include <fcntl.h>
#include <signal.h>
#include <soci/soci.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "credits/credits.h"
#include "process.h"
#include "store/database.h"
#include "testing/free_port.h"
#include "testing/http_client.h"
#include "testing/local_redis.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using smmhub::bench::runCommand;
using smmhub::bench::spawn;
using smmhub::testing::HttpClient;

constexpr const char* kDashboard = "/api/v1/batches?limit=20";
// Calls per second of the steady latency runs: 50 agents whose dashboards
// poll every 250 ms.
constexpr int kSteadyRate = 200;

double millisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Resident memory of PID in MiB, from /proc.
double residentMb(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stod(line.substr(6)) / 1024.0;
    }
  }
  return 0;
}

struct WrkFigures {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  long errors = 0;
};

// Converts wrk's "1.23ms", "850.00us" or "1.02s" to milliseconds.
double wrkMillis(const std::string& value) {
  double number = std::stod(value);
  if (value.ends_with("us")) {
    return number / 1000.0;
  }
  if (value.ends_with("ms")) {
    return number;
  }
  return number * 1000.0;
}

// Runs wrk against the dashboard call and parses its latency distribution.
WrkFigures runWrk(int port, const std::string& key, int seconds, int connections) {
  auto [status, output] =
      runCommand({"/usr/bin/wrk", "-t2", fmt::format("-c{}", connections),
                  fmt::format("-d{}s", seconds), "--latency", "-H", "Authorization: Bearer " + key,
                  fmt::format("http://127.0.0.1:{}{}", port, kDashboard)},
                 -1);
  WrkFigures figures;
  std::smatch match;
  if (std::regex_search(output, match, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    figures.rps = std::stod(match[1]);
  }
  if (std::regex_search(output, match, std::regex(R"(\n\s+50%\s+([0-9.]+[mu]?s))"))) {
    figures.p50_ms = wrkMillis(match[1]);
  }
  if (std::regex_search(output, match, std::regex(R"(\n\s+99%\s+([0-9.]+[mu]?s))"))) {
    figures.p99_ms = wrkMillis(match[1]);
  }
  if (std::regex_search(output, match, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))"))) {
    figures.errors = std::stol(match[1]);
  }
  if (status != 0 || figures.rps == 0) {
    fmt::print(stderr, "api: wrk failed (status {}):\n{}\n", status, output);
  }
  return figures;
}

struct LatencyFigures {
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  int failed = 0;
};

// Sends the dashboard call at a steady RATE per second for SECONDS, as
// agents polling their dashboards do, and returns the latency percentiles.
// Unlike wrk, which sends as fast as the server responds and so measures a
// saturated machine, this measures the time one user waits.
LatencyFigures measureLatency(HttpClient& client, int rate, int seconds) {
  std::vector<double> samples;
  auto interval = std::chrono::microseconds(1'000'000 / rate);
  auto next = Clock::now();
  LatencyFigures figures;
  for (int i = 0; i < rate * seconds; ++i) {
    std::this_thread::sleep_until(next);
    next += interval;
    auto sent = Clock::now();
    figures.failed += client.get(kDashboard).status == 200 ? 0 : 1;
    samples.push_back(millisSince(sent));
  }
  std::sort(samples.begin(), samples.end());
  figures.p50_ms = samples[samples.size() / 2];
  figures.p99_ms = samples[samples.size() * 99 / 100];
  figures.max_ms = samples.back();
  return figures;
}

// Stores the Match Day template and brand kit for TENANT as the content
// routes store theirs, and returns their ids.
std::pair<std::string, std::string> addMatchDayContent(smmhub::store::Database& db,
                                                       const fs::path& storage,
                                                       const std::string& tenant) {
  fs::path template_file = storage / tenant / "templates" / "t-matchday" / "v1.json";
  fs::path brand_dir = storage / tenant / "brand-kits" / "k-matchday";
  fs::create_directories(template_file.parent_path());
  fs::create_directories(brand_dir);
  fs::copy_file("examples/matchday/template.json", template_file,
                fs::copy_options::overwrite_existing);
  fs::copy("examples/matchday/brand", brand_dir,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::ifstream in("examples/matchday/template.json");
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string template_path = template_file.string();
  std::string brand_path = brand_dir.string();
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  smmhub::Status stored = db.write([&](soci::session& sql) {
    sql << "INSERT INTO templates (id, tenant, name, latest_version, created_at_ms, "
           "updated_at_ms) VALUES ('t-matchday', :tenant, 'Match Day', 1, :now, :now2)",
        soci::use(tenant), soci::use(now), soci::use(now);
    sql << "INSERT INTO template_versions (template_id, version, tenant, body, path, "
           "created_at_ms) VALUES ('t-matchday', 1, :tenant, :body, :path, :now)",
        soci::use(tenant), soci::use(body), soci::use(template_path), soci::use(now);
    sql << "INSERT INTO brand_kits (id, tenant, name, brand_json, dir, created_at_ms, "
           "updated_at_ms) VALUES ('k-matchday', :tenant, 'Match Day', '{}', :dir, :now, :now2)",
        soci::use(tenant), soci::use(brand_path), soci::use(now), soci::use(now);
    return smmhub::okStatus();
  });
  if (!stored.ok()) {
    fmt::print(stderr, "api: storing the Match Day content failed: {}\n", stored.message());
  }
  return {"t-matchday", "k-matchday"};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Admin API benchmark"};
  std::string out = "/tmp/smmhub-bench-api";
  int seconds = 10;
  int connections = 8;
  app.add_option("--out", out, "Working folder, emptied first")->capture_default_str();
  app.add_option("--seconds", seconds, "Length of each wrk run")->capture_default_str();
  app.add_option("--connections", connections, "wrk connections")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  fs::path bin = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin";
  std::string api_binary = (bin / "smmhub-api").string();
  std::string worker_binary = (bin / "smmhub-worker").string();
  if (!fs::exists(api_binary) || !fs::exists(worker_binary) || !fs::exists("/usr/bin/wrk")) {
    fmt::print(stderr, "api: {}, {} and /usr/bin/wrk are needed; build with scripts/build\n",
               api_binary, worker_binary);
    return 2;
  }
  fs::path dir = out;
  fs::remove_all(dir);
  fs::path storage = dir / "storage";
  fs::create_directories(storage);
  std::string db_url = "sqlite:" + (dir / "smmhub.db").string();

  smmhub::testing::LocalRedis redis;
  redis.addOptions(
      {"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"});
  if (std::string error = redis.start(); !error.empty()) {
    fmt::print(stderr, "api: redis-server: {}\n", error);
    return 2;
  }

  // The tenant, its key, its credits and its content, made before the
  // server starts so that the cold start measures the server alone.
  auto db = smmhub::store::Database::open({.url = db_url});
  auto credits =
      smmhub::credits::Credits::create({.redis_url = redis.url()}, db.ok() ? db->get() : nullptr);
  if (!db.ok() || !credits.ok()) {
    fmt::print(stderr, "api: setup failed\n");
    return 2;
  }
  smmhub::accounts::Accounts accounts(**db, nullptr);
  auto tenant = accounts.createTenant("bench", "Bench agency");
  auto key = accounts.createApiKey("bench", "bench", "owner", "bench");
  auto topped = (*credits)->topup(
      {.tenant = "bench", .amount = 1'000, .key = "bench-topup", .actor = "bench"});
  for (const smmhub::Status& status : {tenant.ok() ? smmhub::okStatus() : tenant.status(),
                                       key.ok() ? smmhub::okStatus() : key.status(),
                                       topped.ok() ? smmhub::okStatus() : topped.status()}) {
    if (!status.ok()) {
      fmt::print(stderr, "api: setup failed: {}\n", status.message());
      return 2;
    }
  }
  auto [template_id, brand_id] = addMatchDayContent(**db, storage, "bench");

  // 1. Cold start.
  int port = smmhub::testing::freeLoopbackPort();
  int api_log = open((dir / "api.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  auto started = Clock::now();
  pid_t api = spawn({api_binary, "--listen", fmt::format("127.0.0.1:{}", port), "--redis",
                     redis.url(), "--db", db_url, "--storage", storage.string(), "--threads", "2"},
                    api_log, api_log);
  HttpClient client("127.0.0.1", port);
  client.setHeader("Authorization", "Bearer " + key->secret);
  double cold_start_ms = 0;
  while (millisSince(started) < 10'000) {
    if (client.get("/healthz").status == 200) {
      cold_start_ms = millisSince(started);
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  if (cold_start_ms == 0) {
    fmt::print(stderr, "api: smmhub-api did not return 200 on /healthz within 10 s; see {}\n",
               (dir / "api.log").string());
    kill(api, SIGKILL);
    return 1;
  }
  fmt::print("cold start to the first 200: {:.1f} ms\n", cold_start_ms);

  // 2. Memory, idle and after 10,000 calls.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double rss_idle_mb = residentMb(api);
  int failed_calls = 0;
  for (int i = 0; i < 10'000; ++i) {
    failed_calls += client.get(kDashboard).status == 200 ? 0 : 1;
  }
  double rss_10k_mb = residentMb(api);
  fmt::print("resident memory: {:.1f} MiB idle, {:.1f} MiB after 10,000 calls ({} failed)\n",
             rss_idle_mb, rss_10k_mb, failed_calls);

  // 3. The dashboard call, idle: latency at a steady rate, then throughput.
  LatencyFigures idle_latency = measureLatency(client, kSteadyRate, seconds);
  fmt::print("idle, {} calls/s: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", kSteadyRate,
             idle_latency.p50_ms, idle_latency.p99_ms, idle_latency.max_ms);
  WrkFigures idle = runWrk(port, key->secret, seconds, connections);
  fmt::print("idle, wrk: {:.0f} requests/s, p50 {:.2f} ms, p99 {:.2f} ms\n", idle.rps, idle.p50_ms,
             idle.p99_ms);

  // 4. Generate all of the 50 Match Day rows.
  json campaign = client
                      .post("/api/v1/campaigns", json{{"name", "Match Day"},
                                                      {"template_id", template_id},
                                                      {"brand_kit_id", brand_id}}
                                                     .dump())
                      .json();
  std::ifstream csv_file("examples/matchday/fixtures.csv");
  std::string csv((std::istreambuf_iterator<char>(csv_file)), std::istreambuf_iterator<char>());
  std::string campaign_id = campaign.value("id", "");
  int uploaded =
      client.request("PUT", "/api/v1/campaigns/" + campaign_id + "/rows", csv, "text/csv").status;
  auto generate_start = Clock::now();
  smmhub::testing::HttpReply generated =
      client.request("POST", "/api/v1/campaigns/" + campaign_id + "/generate", "{}",
                     "application/json", {{"Idempotency-Key", "bench-generate"}});
  double generate_ms = millisSince(generate_start);
  std::string batch = generated.json().value("batch_id", "");
  if (uploaded != 200 || generated.status != 202) {
    fmt::print(stderr, "api: Generate all failed ({} / {}): {}\n", uploaded, generated.status,
               generated.body);
  }
  fmt::print("Generate all, 50 rows: {:.1f} ms\n", generate_ms);

  // 5. The dashboard call while two workers render the batch on every core.
  std::vector<pid_t> workers;
  for (int i = 0; i < 2; ++i) {
    int fd =
        open((dir / fmt::format("worker-{}.log", i)).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    workers.push_back(
        spawn({worker_binary, "--redis", redis.url(), "--db", db_url, "--storage", storage.string(),
               "--cache-redis", redis.url(), "--id", fmt::format("bench-{}", i)},
              -1, fd));
    close(fd);
  }
  auto busy_start = Clock::now();
  while (millisSince(busy_start) < 30'000) {
    json now = client.get("/api/v1/batches/" + batch).json();
    if (now.contains("counts") && now["counts"]["active"].get<int>() >= 2) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  LatencyFigures busy_latency = measureLatency(client, kSteadyRate, seconds);
  fmt::print("while rendering, {} calls/s: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n",
             kSteadyRate, busy_latency.p50_ms, busy_latency.p99_ms, busy_latency.max_ms);
  WrkFigures busy = runWrk(port, key->secret, seconds, connections);
  json counts = client.get("/api/v1/batches/" + batch).json()["counts"];
  fmt::print(
      "while rendering, wrk: {:.0f} requests/s, p50 {:.2f} ms, p99 {:.2f} ms ({} of 50 "
      "videos done when wrk ended)\n",
      busy.rps, busy.p50_ms, busy.p99_ms, counts.value("completed", 0));

  for (pid_t pid : workers) {
    kill(pid, SIGKILL);
  }
  kill(api, SIGTERM);
  for (pid_t pid : workers) {
    waitpid(pid, nullptr, 0);
  }
  waitpid(api, nullptr, 0);
  close(api_log);

  long errors =
      failed_calls + idle.errors + busy.errors + idle_latency.failed + busy_latency.failed;
  fmt::print(
      "cold_start_ms={:.1f} rss_idle_mb={:.1f} rss_10k_mb={:.1f} idle_p50_ms={:.2f} "
      "idle_p99_ms={:.2f} busy_p50_ms={:.2f} busy_p99_ms={:.2f} busy_max_ms={:.2f} "
      "idle_rps={:.0f} idle_wrk_p99_ms={:.2f} busy_rps={:.0f} busy_wrk_p99_ms={:.2f} "
      "generate_50_ms={:.1f} errors={}\n",
      cold_start_ms, rss_idle_mb, rss_10k_mb, idle_latency.p50_ms, idle_latency.p99_ms,
      busy_latency.p50_ms, busy_latency.p99_ms, busy_latency.max_ms, idle.rps, idle.p99_ms,
      busy.rps, busy.p99_ms, generate_ms, errors);
  return errors == 0 ? 0 : 1;
}
