// smmhub-worker: takes render jobs from the broker until SIGTERM or SIGINT.
// See `smmhub-worker --help` and docs/broker.md.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/log.h"
#include "worker/worker.h"

namespace {

std::atomic<bool> stop_requested = false;

// The first signal sets the stop flag. SA_RESETHAND restores the default
// action, so that a second signal ends the process at once.
void onSignal(int /*signal*/) {
  stop_requested = true;
}

void installHandlers() {
  struct sigaction action = {};
  action.sa_handler = onSignal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // URL downloads set CURLOPT_NOSIGNAL, because the slots run them on
  // several threads, and libcurl then stops ignoring SIGPIPE itself (see
  // curl's CURLOPT_NOSIGNAL page). A peer that closes its connection must
  // fail the write, not end the worker.
  signal(SIGPIPE, SIG_IGN);
}

// Lowers the process's CPU priority to nice value NICE, or leaves a lower
// priority it already has. Linux keeps the value per thread and a new thread
// takes its creator's, so this runs before any thread starts.
void lowerPriority(int nice) {
  errno = 0;
  int current = getpriority(PRIO_PROCESS, 0);
  if (errno != 0 || current >= nice) {
    return;
  }
  if (setpriority(PRIO_PROCESS, 0, nice) != 0) {
    smmhub::logger("worker")->warn("cannot lower the CPU priority to nice {}: {}", nice,
                                   std::strerror(errno));
  }
}

}  // namespace

int main(int argc, char** argv) {
  using std::chrono::milliseconds;
  smmhub::worker::WorkerOptions options;
  int lease_ms = 30'000;
  int heartbeat_ms = 1'000;
  int poll_ms = 1'000;
  int grace_ms = 30'000;
  int backoff_ms = 1'000;
  int max_render_s = 600;
  int metrics_port = -1;
  std::string metrics_host = "127.0.0.1";
  std::string log_level = "info";
  int fetch_timeout_ms = 10'000;
  int nice = 10;

  CLI::App app("smmhub-worker: renders the jobs of the broker on Redis, until SIGTERM");
  app.add_option("--redis", options.redis_url, "Redis URL of the broker and the credits")
      ->required()
      ->envname("SMMHUB_REDIS");
  app.add_option("--db", options.db_url, "Job store and ledger: sqlite:PATH or postgresql://...")
      ->required()
      ->envname("SMMHUB_DB");
  app.add_option("--storage", options.storage_dir,
                 "Folder the videos go to, as STORAGE/TENANT/BATCH/NAME.mp4")
      ->required();
  app.add_option("--concurrency", options.concurrency, "Jobs rendered at once")
      ->capture_default_str();
  app.add_option("--cache-redis", options.cache_redis,
                 "Redis URL of the render buffer shared by all workers (default: none)");
  app.add_option("--metrics-port", metrics_port,
                 "Serve Prometheus metrics on this port (default: not served)");
  app.add_option("--metrics-host", metrics_host, "Address the metrics port listens on")
      ->capture_default_str();
  app.add_option("--id", options.id, "Worker name (default: HOST-PID-XXXX)");
  app.add_option("--lease-ms", lease_ms, "How long a claim lasts without a heartbeat")
      ->capture_default_str();
  app.add_option("--heartbeat-ms", heartbeat_ms, "How often leases are renewed")
      ->capture_default_str();
  app.add_option("--poll-ms", poll_ms,
                 "How long an idle slot waits for news of a job before it asks again")
      ->capture_default_str();
  app.add_option("--grace-ms", grace_ms,
                 "After SIGTERM, how long jobs in progress may finish before they are handed "
                 "back")
      ->capture_default_str();
  app.add_option("--backoff-ms", backoff_ms,
                 "Retry delay after a job's first failed attempt; it doubles per attempt")
      ->capture_default_str();
  app.add_option("--max-render-s", max_render_s,
                 "How long one job may render, in seconds; a job past it fails for good. 0: no "
                 "limit")
      ->capture_default_str()
      ->check(CLI::Range(0, 86'400));
  app.add_option("--nice", nice,
                 "CPU priority of the renders, as a nice value from 0 to 19: above 0, an API, "
                 "database or shell on the same machine runs before them")
      ->capture_default_str()
      ->check(CLI::Range(0, 19));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--fetch-allow", options.fetch.allow,
                 "CIDR range that URL downloads may connect to besides public addresses, such "
                 "as 10.0.0.0/8; repeat for more ranges")
      ->allow_extra_args(false);
  app.add_flag("--fetch-allow-http", options.fetch.allow_http,
               "Download http URLs too, not only https");
  app.add_option("--fetch-max-bytes", options.fetch.max_bytes,
                 "Largest file a URL download may return, in bytes")
      ->capture_default_str();
  app.add_option("--fetch-timeout-ms", fetch_timeout_ms,
                 "Time limit of one URL download, redirects included, in milliseconds")
      ->capture_default_str();
  app.add_option("--fetch-cache", options.fetch.cache_dir,
                 "Folder of downloaded URLs (default: STORAGE/.fetch-cache)");
  CLI11_PARSE(app, argc, argv);

  smmhub::setLogLevel(spdlog::level::from_str(log_level));
  lowerPriority(nice);
  options.lease = milliseconds(lease_ms);
  options.heartbeat = milliseconds(heartbeat_ms);
  options.poll = milliseconds(poll_ms);
  options.grace = milliseconds(grace_ms);
  options.backoff_base = milliseconds(backoff_ms);
  options.max_render = std::chrono::seconds(max_render_s);
  options.fetch.timeout = milliseconds(fetch_timeout_ms);
  if (metrics_port >= 0) {
    options.metrics_listen = metrics_host.find(':') != std::string::npos
                                 ? fmt::format("[{}]:{}", metrics_host, metrics_port)
                                 : fmt::format("{}:{}", metrics_host, metrics_port);
  }

  auto worker = smmhub::worker::Worker::create(options);
  if (!worker.ok()) {
    fmt::print(stderr, "smmhub-worker: {}\n", worker.status().message());
    return 2;
  }
  installHandlers();
  smmhub::Status status = (*worker)->run(stop_requested);
  if (!status.ok()) {
    fmt::print(stderr, "smmhub-worker: {}\n", status.message());
    return 1;
  }
  return 0;
}
