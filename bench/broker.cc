// bench/broker: what the job broker costs, without rendering.
//
// Three measurements, against a Redis with an append-only file flushed every
// second and a job store on PostgreSQL with fsync on (or SQLite with
// --sqlite), both child processes on loopback:
//
//   enqueue:  Broker::enqueue of one batch of --jobs jobs in one call: the
//             SQL transaction, then the push to Redis. It runs --rounds
//             times and reports jobs per second of the median round.
//   start:    on an idle system, --workers worker threads wait as
//             smmhub-worker's slots do (BLPOP on the wake list, then claim);
//             one single-job batch is enqueued every 20 ms, --samples
//             times. The time from the start of the enqueue call to the
//             claim returning the job in a worker, median and p99.
//   overhead: one thread claims, renews the lease once and completes each
//             job of a --jobs batch: the broker's own time per job, with
//             the enqueue's share added.
//
// The last line contains every figure as key=value.
//
// Usage: broker [--jobs 1000] [--rounds 5] [--samples 200] [--workers 2] [--sqlite]
#include "broker/broker.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "jobs/job_store.h"
#include "store/database.h"
#include "testing/local_postgres.h"
#include "testing/local_redis.h"

namespace {

using Clock = std::chrono::steady_clock;
using smmhub::Result;
using smmhub::Status;
using smmhub::broker::Broker;
using smmhub::broker::Claim;

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "bench/broker: {}\n", what);
  std::exit(1);
}

template <typename T>
T valueOrDie(Result<T> result) {
  if (!result.ok()) {
    die(result.status().toString());
  }
  return std::move(*result);
}

double millisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

smmhub::jobs::BatchSpec batchSpec(const std::string& tenant, const std::string& key) {
  return {.tenant = tenant,
          .idempotency_key = key,
          .template_path = "/srv/templates/matchday.json",
          .data_path = "/srv/data/fixtures.csv",
          .brand_dir = "/srv/brand",
          .storage_dir = "/srv/out"};
}

std::vector<smmhub::jobs::JobSpec> jobSpecs(int count) {
  std::vector<smmhub::jobs::JobSpec> jobs;
  for (int row = 1; row <= count; ++row) {
    jobs.push_back(
        {.row = row,
         .row_json = fmt::format(R"({{"home":"Team {}","away":"Team {}"}})", row, row + 1),
         .output_name = fmt::format("{:04}.mp4", row)});
  }
  return jobs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Broker throughput and latency without rendering");
  int job_count = 1'000;
  int rounds = 5;
  int samples = 200;
  int workers = 2;
  bool sqlite = false;
  app.add_option("--jobs", job_count, "Jobs per enqueued batch")->capture_default_str();
  app.add_option("--rounds", rounds, "Batches enqueued for the throughput figure")
      ->capture_default_str();
  app.add_option("--samples", samples, "Single jobs timed from enqueue to start")
      ->capture_default_str();
  app.add_option("--workers", workers, "Idle worker threads waiting for jobs")
      ->capture_default_str();
  app.add_flag("--sqlite", sqlite, "Keep the job store in SQLite instead of PostgreSQL");
  CLI11_PARSE(app, argc, argv);

  smmhub::testing::LocalRedis redis;
  redis.addOptions(
      {"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"});
  if (std::string error = redis.start(); !error.empty()) {
    die("redis-server: " + error);
  }
  smmhub::testing::LocalPostgres postgres;
  std::string db_url;
  std::string sqlite_dir =
      (std::filesystem::temp_directory_path() / "smmhub-bench-XXXXXX").string();
  if (sqlite) {
    if (::mkdtemp(sqlite_dir.data()) == nullptr) {
      die("cannot make a folder for the SQLite database");
    }
    db_url = "sqlite:" + sqlite_dir + "/jobs.db";
  } else {
    postgres.addSettings({"fsync=on", "synchronous_commit=on", "full_page_writes=on"});
    if (std::string error = postgres.start(); !error.empty()) {
      die("postgres: " + error);
    }
    db_url = postgres.url();
  }
  auto db = valueOrDie(smmhub::store::Database::open({.url = db_url, .pool_size = 8}));
  smmhub::jobs::JobStore store(*db);
  auto broker = valueOrDie(Broker::create({.redis_url = redis.url()}, store));

  // Enqueue throughput: one batch of job_count jobs per call.
  std::vector<smmhub::jobs::JobSpec> specs = jobSpecs(job_count);
  std::vector<double> enqueue_ms;
  for (int round = 0; round < rounds; ++round) {
    auto start = Clock::now();
    valueOrDie(broker->enqueue(batchSpec("bulk", fmt::format("bulk-{}", round)), specs));
    enqueue_ms.push_back(millisSince(start));
  }
  double enqueue_median_ms = percentile(enqueue_ms, 0.5);
  double enqueue_per_s = job_count / (enqueue_median_ms / 1000.0);

  // Broker overhead per job: claim, one heartbeat and complete, one thread.
  auto overhead_start = Clock::now();
  int processed = 0;
  for (;;) {
    std::optional<Claim> claim = valueOrDie(broker->claim("overhead"));
    if (!claim) {
      break;
    }
    if (Status beat = broker->heartbeat(*claim); !beat.ok()) {
      die(beat.toString());
    }
    if (Status done = broker->complete(*claim, "/srv/out/" + claim->job_id + ".mp4"); !done.ok()) {
      die(done.toString());
    }
    processed++;
  }
  double lifecycle_ms = millisSince(overhead_start) / std::max(1, processed);
  double overhead_ms = lifecycle_ms + enqueue_median_ms / job_count;

  // Enqueue to start on an idle system.
  std::mutex mutex;
  std::vector<Clock::time_point> enqueued_at(static_cast<size_t>(samples));
  std::vector<double> start_ms;
  std::map<std::string, int> sample_of_job;
  std::atomic<bool> stop = false;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      smmhub::redis::Connection waiter(broker->endpoint(), std::chrono::milliseconds(2'000));
      std::string name = fmt::format("bench-{}", w);
      while (!stop.load()) {
        Result<std::optional<Claim>> claim = broker->claim(name);
        if (!claim.ok()) {
          die(claim.status().toString());
        }
        if (!claim->has_value()) {
          (void)broker->waitForWork(waiter, std::chrono::milliseconds(1'000));
          continue;
        }
        auto claimed_at = Clock::now();
        {
          std::lock_guard lock(mutex);
          auto found = sample_of_job.find((*claim)->job_id);
          if (found != sample_of_job.end()) {
            start_ms.push_back(std::chrono::duration<double, std::milli>(
                                   claimed_at - enqueued_at[static_cast<size_t>(found->second)])
                                   .count());
          }
        }
        (void)broker->complete(**claim, "/srv/out/" + (*claim)->job_id + ".mp4");
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int sample = 0; sample < samples; ++sample) {
    std::vector<smmhub::jobs::JobSpec> one = jobSpecs(1);
    {
      // The id is known only after the call, so the start time is kept by
      // sample number and the job mapped to it under the lock.
      std::lock_guard lock(mutex);
      enqueued_at[static_cast<size_t>(sample)] = Clock::now();
      smmhub::jobs::CreatedBatch batch =
          valueOrDie(broker->enqueue(batchSpec("live", fmt::format("live-{}", sample)), one));
      sample_of_job[batch.job_ids.front()] = sample;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mutex);
      if (start_ms.size() >= static_cast<size_t>(samples)) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (std::thread& thread : threads) {
    thread.join();
  }

  std::string backend = sqlite ? "sqlite" : "postgresql";
  fmt::print("job store: {} ({})\n", backend, sqlite ? "WAL" : "fsync on");
  fmt::print("enqueue of {} jobs in one call: median {:.1f} ms, {:.0f} jobs/s\n", job_count,
             enqueue_median_ms, enqueue_per_s);
  fmt::print(
      "enqueue to start, idle, {} workers waiting: median {:.2f} ms, p99 {:.2f} ms "
      "({} of {} samples)\n",
      workers, percentile(start_ms, 0.5), percentile(start_ms, 0.99), start_ms.size(), samples);
  fmt::print(
      "broker overhead per job: {:.2f} ms (claim + heartbeat + complete {:.2f} ms, "
      "enqueue share {:.3f} ms)\n",
      overhead_ms, lifecycle_ms, enqueue_median_ms / job_count);
  fmt::print(
      "backend={} enqueue_jobs={} enqueue_ms={:.1f} enqueue_per_s={:.0f} start_p50_ms={:.2f} "
      "start_p99_ms={:.2f} start_samples={} overhead_ms_per_job={:.2f} "
      "lifecycle_ms_per_job={:.2f}\n",
      backend, job_count, enqueue_median_ms, enqueue_per_s, percentile(start_ms, 0.5),
      percentile(start_ms, 0.99), start_ms.size(), overhead_ms, lifecycle_ms);
  if (sqlite) {
    std::error_code ignored;
    std::filesystem::remove_all(sqlite_dir, ignored);
  }
  return start_ms.size() == static_cast<size_t>(samples) ? 0 : 1;
}
