// bench/credits: how fast a credit reservation is, on Redis and in SQL.
//
// For 1, 16 and 64 concurrent clients (threads with a connection each),
// every client reserves 1 credit at a time from one tenant, each call with a
// new idempotency key, for a fixed time. It runs twice:
//
//   redis: Credits::reserve, the Lua script that checks the balance, moves
//          the credit to held, records the key and appends the outbox event;
//   sql:   the plain SQL alternative, a conditional UPDATE of one balance row
//          in PostgreSQL (UPDATE ... SET available = available - 1 WHERE
//          tenant = ... AND available >= 1), one transaction per call.
//
// Both servers run as child processes on loopback ports, durable as in
// production: PostgreSQL with fsync and synchronous_commit on (each commit
// waits for its WAL flush), Redis with an append-only file flushed every
// second and maxmemory-policy noeviction, as docs/credits.md recommends. With
// --fast-sql, PostgreSQL runs with fsync and synchronous_commit off instead,
// as in the tests. The ledger writer does not run while a phase is timed;
// the events move into the ledger between phases. The last line holds every
// figure as key=value.
//
// Usage: credits [--seconds S] [--clients 1,16,64] [--fast-sql]
#include "credits/credits.h"

#include <soci/soci.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "credits/ledger_writer.h"
#include "store/database.h"
#include "testing/local_postgres.h"
#include "testing/local_redis.h"

namespace {

using Clock = std::chrono::steady_clock;
using smmhub::Result;
using smmhub::Status;

struct Figures {
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::uint64_t calls = 0;
  std::uint64_t failures = 0;
};

// Runs CALL(client, i) from CLIENTS threads for SECONDS and measures each
// call. CALL returns false for a failed call.
template <typename Call>
Figures measure(int clients, double seconds, Call call) {
  std::vector<std::vector<std::uint32_t>> latencies(clients);
  std::vector<std::uint64_t> failures(clients, 0);
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      latencies[c].reserve(200'000);
      ready++;
      while (ready.load() < clients) {
        std::this_thread::yield();
      }
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto start = Clock::now();
        bool ok = call(c, i);
        auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
        latencies[c].push_back(static_cast<std::uint32_t>(took.count()));
        failures[c] += ok ? 0 : 1;
      }
    });
  }
  while (ready.load() < clients) {
    std::this_thread::yield();
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& thread : threads) {
    thread.join();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<std::uint32_t> all;
  Figures figures;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    figures.failures += failures[c];
  }
  figures.calls = all.size();
  figures.per_second = static_cast<double>(all.size()) / elapsed;
  auto percentile = [&](double p) {
    size_t index =
        std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(index), all.end());
    return all[index] / 1000.0;
  };
  if (!all.empty()) {
    figures.p50_us = percentile(0.50);
    figures.p99_us = percentile(0.99);
  }
  return figures;
}

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "bench/credits: {}\n", what);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Credit reservations per second and their latency, on Redis and in SQL");
  double seconds = 3;
  std::vector<int> client_counts = {1, 16, 64};
  app.add_option("--seconds", seconds, "Time per measurement")->capture_default_str();
  app.add_option("--clients", client_counts, "Concurrent clients to measure")->delimiter(',');
  bool fast_sql = false;
  app.add_flag("--fast-sql", fast_sql, "Run PostgreSQL without fsync, as the tests do");
  CLI11_PARSE(app, argc, argv);

  smmhub::testing::LocalRedis redis;
  redis.addOptions(
      {"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"});
  if (std::string error = redis.start(); !error.empty()) {
    die("redis-server: " + error);
  }
  smmhub::testing::LocalPostgres postgres;
  if (!fast_sql) {
    postgres.addSettings({"fsync=on", "synchronous_commit=on", "full_page_writes=on"});
  }
  if (std::string error = postgres.start(); !error.empty()) {
    die("postgres: " + error);
  }
  Result<std::unique_ptr<smmhub::store::Database>> db =
      smmhub::store::Database::open({.url = postgres.url(), .pool_size = 2});
  if (!db.ok()) {
    die(db.status().toString());
  }
  Result<std::unique_ptr<smmhub::credits::Credits>> credits =
      smmhub::credits::Credits::create({.redis_url = redis.url()}, db->get());
  if (!credits.ok()) {
    die(credits.status().toString());
  }
  smmhub::credits::Credits& bank = **credits;
  Result<smmhub::credits::Receipt> funded =
      bank.topup({.tenant = "bench", .amount = 1'000'000'000, .key = "bench-funds"});
  if (!funded.ok()) {
    die(funded.status().toString());
  }
  smmhub::credits::LedgerWriter writer(bank, {.consumer = "bench"});

  // The SQL path's table and its connections, one per client.
  if (std::string error = postgres.execute(
          "CREATE TABLE balances (tenant TEXT PRIMARY KEY, available BIGINT NOT NULL); "
          "INSERT INTO balances VALUES ('bench', 1000000000)",
          "smmhub");
      !error.empty()) {
    die(error);
  }
  int most_clients = *std::max_element(client_counts.begin(), client_counts.end());
  std::vector<std::unique_ptr<soci::session>> sessions;
  for (int c = 0; c < most_clients; ++c) {
    sessions.push_back(std::make_unique<soci::session>(
        "postgresql",
        fmt::format("host=127.0.0.1 port={} user=postgres dbname=smmhub", postgres.port())));
  }

  fmt::print("{:>8} {:>7} {:>12} {:>9} {:>9} {:>9}\n", "path", "clients", "calls/s", "p50 us",
             "p99 us", "failed");
  std::string line;
  for (int clients : client_counts) {
    Figures on_redis = measure(clients, seconds, [&](int client, std::uint64_t i) {
      std::string job = fmt::format("job-{}-{}", clients, client);
      Result<smmhub::credits::Receipt> receipt = bank.reserve(
          {.tenant = "bench", .amount = 1, .key = fmt::format("{}-{}", job, i), .job = job});
      return receipt.ok() && receipt->moved == 1;
    });
    Result<smmhub::credits::DrainStats> drained = writer.drainAll();
    if (!drained.ok()) {
      die(drained.status().toString());
    }

    std::vector<soci::statement> updates;
    std::string tenant = "bench";
    for (int c = 0; c < clients; ++c) {
      updates.push_back((sessions[c]->prepare << "UPDATE balances SET available = available - 1 "
                                                 "WHERE tenant = :tenant AND available >= 1",
                         soci::use(tenant)));
    }
    Figures in_sql = measure(clients, seconds, [&](int client, std::uint64_t) {
      try {
        updates[client].execute(true);
        return updates[client].get_affected_rows() == 1;
      } catch (const soci::soci_error&) {
        return false;
      }
    });

    for (const auto& [path, figures] : {std::pair{"redis", on_redis}, std::pair{"sql", in_sql}}) {
      fmt::print("{:>8} {:>7} {:>12.0f} {:>9.1f} {:>9.1f} {:>9}\n", path, clients,
                 figures.per_second, figures.p50_us, figures.p99_us, figures.failures);
      line += fmt::format("{}_{}_per_s={:.0f} {}_{}_p50_us={:.1f} {}_{}_p99_us={:.1f} ", path,
                          clients, figures.per_second, path, clients, figures.p50_us, path, clients,
                          figures.p99_us);
    }
    line += fmt::format("speedup_{}={:.1f} ", clients, on_redis.per_second / in_sql.per_second);
    if (on_redis.failures + in_sql.failures > 0) {
      line += fmt::format("failed_{}={} ", clients, on_redis.failures + in_sql.failures);
    }
  }
  line += fmt::format("durable_sql={}", fast_sql ? 0 : 1);
  fmt::print("{}\n", line);
  return 0;
}
