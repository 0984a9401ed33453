// smmhub-api: the admin API's HTTP server, until SIGTERM or SIGINT.
// See `smmhub-api --help` and docs/api.md.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "accounts/accounts.h"
#include "api/auth.h"
#include "api/routes.h"
#include "api/server.h"
#include "api/web_files.h"
#include "broker/broker.h"
#include "broker/events.h"
#include "broker/workers.h"
#include "campaigns/campaign_store.h"
#include "common/log.h"
#include "content/asset_store.h"
#include "content/brand_kit_store.h"
#include "content/template_store.h"
#include "credits/credits.h"
#include "jobs/job_store.h"
#include "metrics/registry.h"
#include "redis/connection.h"
#include "redis/pool.h"
#include "store/database.h"
#include "webhooks/dispatcher.h"
#include "webhooks/webhook_store.h"

namespace {

// Blocks SIGTERM and SIGINT in this thread and in every thread started
// after it, so that only sigwait() in main receives them.
sigset_t blockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace

int main(int argc, char** argv) {
  using std::chrono::milliseconds;
  smmhub::api::ServerOptions server_options;
  std::string redis_url;
  std::string db_url;
  std::string storage_dir;
  std::string web_root;
  std::string log_level = "info";
  int health_timeout_ms = 1'000;
  int idle_timeout_ms = 30'000;
  int preview_timeout_ms = 10'000;
  int preflight_timeout_ms = 60'000;
  int generate_per_minute = 30;
  int max_unfinished_jobs = 10'000;
  bool secure_cookies = false;
  std::vector<std::string> webhook_allow;
  bool webhook_allow_http = false;

  CLI::App app("smmhub-api: the admin API's HTTP server, until SIGTERM");
  app.add_option("--listen", server_options.listen,
                 "HOST:PORT to serve on; HOST is an IP address, IPv6 in brackets")
      ->required();
  app.add_option("--redis", redis_url, "Redis URL of the broker and the credits")
      ->required()
      ->envname("SMMHUB_REDIS");
  app.add_option("--db", db_url, "Job store and ledger: sqlite:PATH or postgresql://...")
      ->required()
      ->envname("SMMHUB_DB");
  app.add_option("--storage", storage_dir, "Folder the rendered videos are stored in")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--threads", server_options.threads, "Threads that serve requests")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--slow-threads", server_options.slow_threads,
                 "Threads for slow requests (Generate all, uploads, previews, sign-in), so that "
                 "they leave the others free; 0: the threads above serve them too")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  app.add_option("--health-timeout-ms", health_timeout_ms,
                 "Connect and command timeout of the Redis check of /healthz, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 60'000));
  app.add_option("--idle-timeout-ms", idle_timeout_ms,
                 "Time a client may take to send a request or read a response, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3'600'000));
  app.add_option("--preview-timeout-ms", preview_timeout_ms,
                 "How long a preview request waits for a worker's frame, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  app.add_option("--preflight-timeout-ms", preflight_timeout_ms,
                 "How long a campaign preflight waits for a worker's report, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  app.add_option("--generate-per-minute", generate_per_minute,
                 "Calls of Generate all and retry one agency may make per minute; 0: no limit")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--max-unfinished-jobs", max_unfinished_jobs,
                 "Videos one agency may have queued or rendering at once; 0: no limit")
      ->capture_default_str()
      ->check(CLI::Range(0, 100'000'000));
  app.add_option("--web-root", web_root,
                 "Folder of the admin UI's build (web/admin/dist) to serve beside the API")
      ->envname("SMMHUB_WEB_ROOT")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--secure-cookies", secure_cookies,
               "Mark session cookies Secure, for a server that clients reach over HTTPS");
  app.add_option("--webhook-allow", webhook_allow,
                 "CIDR range webhook deliveries may connect to besides public addresses, "
                 "such as 10.20.0.0/16; repeatable");
  app.add_flag("--webhook-allow-http", webhook_allow_http,
               "Accept http:// webhook URLs too, for private networks and tests");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  smmhub::setLogLevel(spdlog::level::from_str(log_level));
  server_options.idle_timeout = milliseconds(idle_timeout_ms);

  // A session for each thread that serves requests, and one for the webhook
  // dispatcher.
  auto db = smmhub::store::Database::open(
      {.url = db_url,
       .pool_size =
           static_cast<std::size_t>(server_options.threads + server_options.slow_threads + 1)});
  if (!db.ok()) {
    fmt::print(stderr, "smmhub-api: --db: {}\n", db.status().message());
    return 2;
  }
  auto endpoint = smmhub::redis::parseUrl(redis_url, "--redis");
  if (!endpoint.ok()) {
    fmt::print(stderr, "smmhub-api: {}\n", endpoint.status().message());
    return 2;
  }
  // A short back-off, so that /healthz reports Redis as up again within a
  // second of it coming back.
  smmhub::redis::Pool redis(
      *endpoint, {.timeout = milliseconds(health_timeout_ms), .max_backoff = milliseconds(1'000)});

  auto credits = smmhub::credits::Credits::create({.redis_url = redis_url}, db->get());
  auto events = smmhub::broker::EventLog::create({.redis_url = redis_url});
  if (!credits.ok() || !events.ok()) {
    fmt::print(stderr, "smmhub-api: --redis: {}\n",
               (!credits.ok() ? credits.status() : events.status()).message());
    return 2;
  }
  auto workers = smmhub::broker::WorkerRegistry::create({.redis_url = redis_url});
  if (!workers.ok()) {
    fmt::print(stderr, "smmhub-api: --redis: {}\n", workers.status().message());
    return 2;
  }
  smmhub::jobs::JobStore job_store(**db);
  auto broker =
      smmhub::broker::Broker::create({.redis_url = redis_url, .events = events->get()}, job_store);
  if (!broker.ok()) {
    fmt::print(stderr, "smmhub-api: --redis: {}\n", broker.status().message());
    return 2;
  }
  std::filesystem::path storage = std::filesystem::absolute(storage_dir).lexically_normal();
  smmhub::accounts::Accounts accounts(**db, &redis);
  smmhub::api::AccountsAuthenticator auth(accounts);
  smmhub::campaigns::CampaignStore campaigns(**db, storage);
  smmhub::webhooks::WebhookStore webhooks(**db, {.allow_http = webhook_allow_http});
  smmhub::content::AssetStore assets(**db, storage);
  smmhub::content::BrandKitStore brand_kits(**db, storage);
  smmhub::content::TemplateStore templates(**db, storage);

  smmhub::metrics::Registry registry;
  smmhub::api::Router router;
  smmhub::api::addRoutes(router, {.db = db->get(),
                                  .redis = &redis,
                                  .registry = &registry,
                                  .auth = &auth,
                                  .accounts = &accounts,
                                  .jobs = &job_store,
                                  .broker = broker->get(),
                                  .credits = credits->get(),
                                  .webhooks = &webhooks,
                                  .campaigns = &campaigns,
                                  .assets = &assets,
                                  .brand_kits = &brand_kits,
                                  .templates = &templates,
                                  .events = events->get(),
                                  .workers = workers->get(),
                                  .storage = storage,
                                  .secure_cookies = secure_cookies,
                                  .preview_timeout = milliseconds(preview_timeout_ms),
                                  .preflight_timeout = milliseconds(preflight_timeout_ms),
                                  .generate_per_minute = generate_per_minute,
                                  .max_unfinished_jobs = max_unfinished_jobs});
  if (!web_root.empty()) {
    auto files = smmhub::api::webFiles(web_root);
    if (!files.ok()) {
      fmt::print(stderr, "smmhub-api: --web-root: {}\n", files.status().message());
      return 2;
    }
    router.setFallback(*std::move(files));
  }
  server_options.router = &router;
  server_options.registry = &registry;

  // One dispatcher per process; the Redis lock lets one of them work.
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  auto dispatcher =
      smmhub::webhooks::Dispatcher::create(**db, {.redis_url = redis_url,
                                                  .id = fmt::format("{}:{}", host, ::getpid()),
                                                  .allow_http = webhook_allow_http,
                                                  .allow = webhook_allow});
  if (!dispatcher.ok()) {
    fmt::print(stderr, "smmhub-api: {}\n", dispatcher.status().message());
    return 2;
  }

  // The signals are blocked before the server's threads start, so that
  // they inherit the mask.
  sigset_t stop_signals = blockStopSignals();
  auto server = smmhub::api::Server::start(server_options);
  if (!server.ok()) {
    fmt::print(stderr, "smmhub-api: {}\n", server.status().message());
    return 2;
  }
  fmt::print(stderr, "listening on http://{}\n", (*server)->address());
  std::fflush(stderr);
  (*dispatcher)->start();

  int signal = 0;
  sigwait(&stop_signals, &signal);
  smmhub::logger("api")->info("stopping signal={}", signal);
  // The server stops first, so that requests in progress learn at once that
  // their connection closes; the dispatcher may still be waiting on Redis.
  (*server)->stop();
  (*dispatcher)->stop();
  return 0;
}
