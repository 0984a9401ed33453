#include "cli/jobs_command.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/broker.h"
#include "broker/events.h"
#include "broker/workers.h"
#include "campaigns/submit.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/tenant.h"
#include "credits/credits.h"
#include "credits/prices.h"
#include "jobs/job_store.h"
#include "store/database.h"
#include "template/data_table.h"

namespace smmhub::cli {
namespace {

// Each subcommand binds the same variables; runJobs() reads the environment
// after parsing, as `smmhub credits` does.
void addConnectionOptions(CLI::App* command, JobsArgs& args) {
  command->add_option("--redis", args.redis_url,
                      "Redis URL of the broker and the credit counters (default: $SMMHUB_REDIS)");
  command->add_option(
      "--db", args.db_url,
      "Job store and ledger: sqlite:PATH or postgresql://... (default: $SMMHUB_DB)");
}

bool fromEnvironment(std::string& value, const char* name) {
  if (value.empty()) {
    const char* set = std::getenv(name);
    value = set == nullptr ? "" : set;
  }
  return !value.empty();
}

std::string defaultActor() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : "cli";
}

// Errors in the request itself exit with kExitUsage; server failures with
// kExitJobsFailed.
int fail(std::string_view command, const Status& status) {
  fmt::print(stderr, "smmhub jobs {}: {}\n", command, status.message());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return kExitUsage;
    default:
      return kExitJobsFailed;
  }
}

struct Services {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<jobs::JobStore> store;
  std::unique_ptr<credits::Credits> credits;
  std::unique_ptr<broker::Broker> broker;
};

// Opens the job store, and the credits and the broker when WITH_REDIS.
Result<Services> connect(const JobsArgs& args, bool with_redis) {
  Services services;
  SMMHUB_ASSIGN_OR_RETURN(services.db, store::Database::open({.url = args.db_url, .pool_size = 2}));
  services.store = std::make_unique<jobs::JobStore>(*services.db);
  if (with_redis) {
    SMMHUB_ASSIGN_OR_RETURN(
        services.credits,
        credits::Credits::create({.redis_url = args.redis_url}, services.db.get()));
    SMMHUB_ASSIGN_OR_RETURN(services.broker,
                            broker::Broker::create({.redis_url = args.redis_url}, *services.store));
  }
  return services;
}

// Returns one job per selected row of the data file: every row without
// --rows. The file is read only to select rows and to store their fields;
// the worker checks them against the template when it renders.
Result<std::vector<jobs::JobSpec>> selectJobs(const JobsArgs& args) {
  SMMHUB_ASSIGN_OR_RETURN(templates::DataTable table, templates::readRows(args.data_path));
  int count = static_cast<int>(table.rows.size());
  std::vector<int> rows;
  if (args.rows.empty()) {
    for (int row = 1; row <= count; ++row) {
      rows.push_back(row);
    }
  } else {
    SMMHUB_ASSIGN_OR_RETURN(rows, parseRowList(args.rows));
  }
  if (rows.empty()) {
    return Status::invalidArgument(args.data_path + " has no rows: nothing to enqueue");
  }

  std::vector<jobs::JobSpec> specs;
  for (int row : rows) {
    if (row > count) {
      return Status::invalidArgument(
          fmt::format("--rows '{}': row {} is past the last row of {}, {}", args.rows, row,
                      args.data_path, count));
    }
    const templates::DataRow& data = table.rows[static_cast<size_t>(row - 1)];
    nlohmann::json fields = nlohmann::json::object();
    for (size_t column = 0; column < table.columns.size() && column < data.values.size();
         ++column) {
      fields[table.columns[column]] = data.values[column];
    }
    specs.push_back(
        {.row = row, .row_json = fields.dump(), .output_name = fmt::format("{:03}.mp4", row)});
  }
  return specs;
}

Status checkEnqueueArgs(const JobsArgs& args) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(args.tenant));
  if (args.storage_dir.empty()) {
    return Status::invalidArgument(
        "missing --storage DIR: the folder where the workers write the videos");
  }
  if (args.priority != "normal" && args.priority != "high") {
    return Status::invalidArgument("--priority '" + args.priority +
                                   "' is invalid; expected normal or high");
  }
  return okStatus();
}

std::string freshKey() {
  std::random_device random;
  return fmt::format("cli-{:08x}{:08x}", random(), random());
}

int runEnqueue(const JobsArgs& args) {
  if (Status valid = checkEnqueueArgs(args); !valid.ok()) {
    return fail("enqueue", valid);
  }
  Result<std::vector<jobs::JobSpec>> specs = selectJobs(args);
  if (!specs.ok()) {
    return fail("enqueue", specs.status());
  }
  // Workers may run in other folders: the batch stores absolute paths.
  auto absolute = [](const std::string& path) {
    std::error_code ignored;
    return path.empty() ? path
                        : std::filesystem::absolute(path, ignored).lexically_normal().string();
  };
  jobs::BatchSpec spec{.tenant = args.tenant,
                       .idempotency_key = args.key.empty() ? freshKey() : args.key,
                       .template_path = absolute(args.template_path),
                       .data_path = absolute(args.data_path),
                       .brand_dir = absolute(args.brand_dir),
                       .storage_dir = absolute(args.storage_dir),
                       .priority = args.priority};
  Result<Services> services = connect(args, true);
  if (!services.ok()) {
    return fail("enqueue", services.status());
  }
  Result<std::int64_t> price = credits::videoPrice(*services->db, spec.tenant);
  if (!price.ok()) {
    return fail("enqueue", price.status());
  }
  spec.video_price = *price;

  Result<campaigns::Submitted> submitted = campaigns::submitBatch(
      {.store = *services->store, .credits = *services->credits, .broker = *services->broker}, spec,
      *specs, defaultActor());
  if (!submitted.ok()) {
    return fail("enqueue", submitted.status());
  }
  if (submitted->outcome == campaigns::SubmitOutcome::kShort) {
    fmt::print(stderr,
               "smmhub jobs enqueue: tenant {} has {} credits available and the batch needs {}, "
               "{} per video: short by {}; nothing enqueued\n",
               spec.tenant, submitted->available, submitted->needed, spec.video_price,
               submitted->shortfall);
    return kExitCreditsShort;
  }
  fmt::print("{}\n", submitted->batch_id);
  return kExitOk;
}

int runList(const JobsArgs& args) {
  Result<Services> services = connect(args, false);
  if (!services.ok()) {
    return fail("list", services.status());
  }
  Result<jobs::BatchSummary> summary = services->store->batchSummary(args.batch_id);
  if (!summary.ok()) {
    return fail("list", summary.status());
  }
  Result<std::vector<jobs::Job>> batch_jobs = services->store->batchJobs(args.batch_id);
  if (!batch_jobs.ok()) {
    return fail("list", batch_jobs.status());
  }

  fmt::print("total={} queued={} active={} retrying={} completed={} failed={} cancelled={}\n",
             summary->total, summary->queued, summary->active, summary->retrying,
             summary->completed, summary->failed, summary->cancelled);
  for (const jobs::Job& job : *batch_jobs) {
    fmt::print("{} row={} state={} attempts={} error=\"{}\"\n", job.id, job.row,
               jobs::jobStateName(job.state), job.attempts, job.last_error);
  }
  return kExitOk;
}

// Holds the credits of the batch's failed jobs again and queues them. The
// hold comes first, so that a short balance queues nothing.
int runRetry(const JobsArgs& args) {
  Result<Services> services = connect(args, true);
  if (!services.ok()) {
    return fail("retry", services.status());
  }
  Result<campaigns::Retried> retried = campaigns::retryBatch(
      {.store = *services->store, .credits = *services->credits, .broker = *services->broker},
      args.batch_id, "retry:" + args.batch_id + ":" + freshKey(), defaultActor());
  if (!retried.ok()) {
    return fail("retry", retried.status());
  }
  if (retried->outcome == campaigns::SubmitOutcome::kShort) {
    Result<jobs::Batch> batch = services->store->batch(args.batch_id);
    fmt::print(stderr,
               "smmhub jobs retry: tenant {} has {} credits available and the {} failed jobs "
               "need {}: short by {}; nothing retried\n",
               batch.ok() ? batch->tenant : "?", retried->available, retried->jobs, retried->needed,
               retried->shortfall);
    return kExitCreditsShort;
  }
  fmt::print("retried={}\n", retried->jobs);
  return kExitOk;
}

int runCancel(const JobsArgs& args) {
  Result<Services> services = connect(args, true);
  if (!services.ok()) {
    return fail("cancel", services.status());
  }
  Result<jobs::BatchSummary> before = services->store->batchSummary(args.batch_id);
  if (!before.ok()) {
    return fail("cancel", before.status());
  }
  Result<std::vector<std::string>> active = services->broker->cancelBatch(args.batch_id);
  if (!active.ok()) {
    return fail("cancel", active.status());
  }
  Result<jobs::BatchSummary> after = services->store->batchSummary(args.batch_id);
  if (!after.ok()) {
    return fail("cancel", after.status());
  }
  fmt::print("cancelled={} active={}\n", after->cancelled - before->cancelled, active->size());
  return kExitOk;
}

// How often watch reads the batch's counts from SQL. Events are a live feed
// that a Redis restart can lose, so SQL alone decides when the batch ends.
constexpr std::chrono::milliseconds kSummaryInterval{1'000};

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Formats Unix milliseconds as local HH:MM:SS.mmm.
std::string clockTime(std::int64_t at_ms) {
  time_t seconds = static_cast<time_t>(at_ms / 1000);
  tm local{};
  localtime_r(&seconds, &local);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", local.tm_hour, local.tm_min, local.tm_sec,
                     at_ms % 1000);
}

// Returns TEXT as a JSON string literal, quoted and escaped.
std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string dumpLine(const nlohmann::json& line) {
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string countsLine(const jobs::BatchSummary& summary) {
  return fmt::format("total={} queued={} active={} retrying={} completed={} failed={} cancelled={}",
                     summary.total, summary.queued, summary.active, summary.retrying,
                     summary.completed, summary.failed, summary.cancelled);
}

nlohmann::json countsJson(const jobs::BatchSummary& summary) {
  return {{"type", "summary"},
          {"batch_id", summary.batch_id},
          {"total", summary.total},
          {"queued", summary.queued},
          {"active", summary.active},
          {"retrying", summary.retrying},
          {"completed", summary.completed},
          {"failed", summary.failed},
          {"cancelled", summary.cancelled}};
}

bool batchRunning(const jobs::BatchSummary& summary) {
  return summary.queued + summary.active + summary.retrying > 0;
}

nlohmann::json eventJson(const broker::JobEventMessage& event) {
  nlohmann::json line = {{"id", event.id},         {"type", event.type},
                         {"tenant", event.tenant}, {"batch_id", event.batch_id},
                         {"job_id", event.job_id}, {"row", event.row},
                         {"at_ms", event.at_ms}};
  if (event.type == "state") {
    line["from_state"] = event.from_state;
    line["to_state"] = event.to_state;
    line["attempt"] = event.attempt;
    line["worker"] = event.worker;
    line["error"] = event.error;
    if (event.to_state == "retrying") {
      line["next_try_at_ms"] = event.next_try_at_ms;
    }
  } else {
    line["frames_done"] = event.frames_done;
    line["frames_total"] = event.frames_total;
  }
  return line;
}

std::string stateLine(const broker::JobEventMessage& event) {
  std::string line =
      fmt::format("{} row={} job={} {} -> {}", clockTime(event.at_ms), event.row, event.job_id,
                  event.from_state.empty() ? "new" : event.from_state, event.to_state);
  if (!event.worker.empty()) {
    line += " worker=" + event.worker;
  }
  line += fmt::format(" attempt={}", event.attempt);
  if (!event.error.empty()) {
    line += " error=" + quoted(event.error);
  }
  if (event.to_state == "retrying" && event.next_try_at_ms > 0) {
    line += " retry_at=" + clockTime(event.next_try_at_ms);
  }
  return line;
}

// Prints the events of one batch as they arrive, and its counts.
class BatchWatcher {
 public:
  BatchWatcher(std::string batch_id, bool json) : batch_id_(std::move(batch_id)), json_(json) {}

  void printSnapshot(const jobs::BatchSummary& summary, const std::vector<jobs::Job>& batch_jobs) {
    printCounts(summary);
    for (const jobs::Job& job : batch_jobs) {
      if (json_) {
        fmt::print("{}\n", dumpLine({{"type", "job"},
                                     {"job_id", job.id},
                                     {"row", job.row},
                                     {"state", jobs::jobStateName(job.state)},
                                     {"attempts", job.attempts},
                                     {"error", job.last_error}}));
      } else {
        fmt::print("{} row={} state={} attempts={} error={}\n", job.id, job.row,
                   jobs::jobStateName(job.state), job.attempts, quoted(job.last_error));
      }
    }
    std::fflush(stdout);
  }

  void printCounts(const jobs::BatchSummary& summary) {
    fmt::print("{}\n", json_ ? dumpLine(countsJson(summary)) : countsLine(summary));
    std::fflush(stdout);
  }

  // Prints the events of the batch among EVENTS. In text, a job's progress
  // is printed once per tenth of its frames.
  void printEvents(const std::vector<broker::JobEventMessage>& events) {
    for (const broker::JobEventMessage& event : events) {
      if (event.batch_id != batch_id_) {
        continue;
      }
      if (json_) {
        fmt::print("{}\n", dumpLine(eventJson(event)));
      } else if (event.type == "state") {
        // A retry renders from frame 0, so its progress is printed afresh.
        printed_tenths_.erase(event.job_id);
        fmt::print("{}\n", stateLine(event));
      } else if (event.frames_total > 0) {
        printProgress(event);
      }
    }
    std::fflush(stdout);
  }

 private:
  void printProgress(const broker::JobEventMessage& event) {
    int done = std::clamp(event.frames_done, 0, event.frames_total);
    int percent = static_cast<int>(std::int64_t{done} * 100 / event.frames_total);
    auto [printed, inserted] = printed_tenths_.try_emplace(event.job_id, -1);
    if (percent / 10 <= printed->second) {
      return;
    }
    printed->second = percent / 10;
    fmt::print("{} row={} job={} {}% ({}/{} frames)\n", clockTime(event.at_ms), event.row,
               event.job_id, percent, event.frames_done, event.frames_total);
  }

  std::string batch_id_;
  bool json_;
  std::map<std::string, int> printed_tenths_;  // job id -> the last tenth printed
};

// Follows TENANT's event stream between the batch's SQL reads. A Redis that
// fails is reported once, and watch goes on with SQL alone until it works.
class EventFollower {
 public:
  EventFollower(broker::EventLog& log, std::string tenant, std::string url)
      : log_(log), tenant_(std::move(tenant)), url_(std::move(url)) {}

  // Notes the stream's newest entry, so that only later events are read.
  void start() {
    Result<std::string> last = log_.lastId(tenant_);
    failing_ = !last.ok();
    if (last.ok()) {
      after_ = *last;
    } else {
      warn(last.status());
    }
  }

  // Reads the next events, waiting up to WAIT. Returns none while Redis fails.
  std::vector<broker::JobEventMessage> next(std::chrono::milliseconds wait) {
    // Without a start point (Redis failed at the start), begin at the newest
    // entry: older ones predate what SQL has shown.
    if (after_.empty()) {
      start();
      if (after_.empty()) {
        return {};
      }
    }
    Result<std::vector<broker::JobEventMessage>> events = log_.read(tenant_, after_, wait);
    failing_ = !events.ok();
    if (!events.ok()) {
      warn(events.status());
      return {};
    }
    if (!events->empty()) {
      after_ = events->back().id;
    }
    return std::move(*events);
  }

  // Returns whether the last call to Redis failed.
  bool failing() const { return failing_; }

 private:
  void warn(const Status& status) {
    if (!warned_) {
      fmt::print(stderr,
                 "smmhub jobs watch: warning: live events from {} are unavailable ({}); "
                 "following the batch through the job store every {} ms\n",
                 url_, status.message(), kSummaryInterval.count());
      warned_ = true;
    }
  }

  broker::EventLog& log_;
  std::string tenant_;
  std::string url_;
  std::string after_;
  bool failing_ = false;
  bool warned_ = false;
};

int runWatch(const JobsArgs& args) {
  Result<Services> services = connect(args, false);
  if (!services.ok()) {
    return fail("watch", services.status());
  }
  Result<jobs::Batch> batch = services->store->batch(args.batch_id);
  if (!batch.ok()) {
    return fail("watch", batch.status());
  }
  Result<std::unique_ptr<broker::EventLog>> log =
      broker::EventLog::create({.redis_url = args.redis_url});
  if (!log.ok()) {
    return fail("watch", log.status());
  }

  // The stream position comes before the snapshot, so that a change made
  // while the snapshot is read is printed rather than lost.
  EventFollower follower(**log, batch->tenant, args.redis_url);
  follower.start();
  BatchWatcher watcher(args.batch_id, args.json);
  Result<jobs::BatchSummary> summary = services->store->batchSummary(args.batch_id);
  Result<std::vector<jobs::Job>> batch_jobs = services->store->batchJobs(args.batch_id);
  if (!summary.ok() || !batch_jobs.ok()) {
    return fail("watch", summary.ok() ? batch_jobs.status() : summary.status());
  }
  watcher.printSnapshot(*summary, *batch_jobs);

  auto next_read = std::chrono::steady_clock::now() + kSummaryInterval;
  while (batchRunning(*summary)) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_read - std::chrono::steady_clock::now());
    if (wait.count() > 0) {
      std::vector<broker::JobEventMessage> events = follower.next(wait);
      watcher.printEvents(events);
      // A failed read returns at once, so wait here for the next SQL read.
      if (follower.failing()) {
        std::this_thread::sleep_until(next_read);
      }
      continue;
    }
    summary = services->store->batchSummary(args.batch_id);
    if (!summary.ok()) {
      return fail("watch", summary.status());
    }
    next_read = std::chrono::steady_clock::now() + kSummaryInterval;
  }

  // The last changes may have reached the stream after the previous read.
  if (!follower.failing()) {
    for (int page = 0; page < 100; ++page) {
      std::vector<broker::JobEventMessage> events = follower.next(std::chrono::milliseconds(0));
      if (events.empty()) {
        break;
      }
      watcher.printEvents(events);
    }
  }
  watcher.printCounts(*summary);
  logger("cli")->info("watch done batch={} completed={} failed={} cancelled={}", args.batch_id,
                      summary->completed, summary->failed, summary->cancelled);
  return summary->completed == summary->total ? kExitOk : kExitBatchNotCompleted;
}

int runWorkers(const JobsArgs& args) {
  std::chrono::milliseconds stale_after(args.stale_ms);
  Result<std::unique_ptr<broker::WorkerRegistry>> registry =
      broker::WorkerRegistry::create({.redis_url = args.redis_url, .stale_after = stale_after});
  if (!registry.ok()) {
    return fail("workers", registry.status());
  }
  std::int64_t now_ms = nowMillis();
  Result<std::vector<broker::WorkerInfo>> workers = (*registry)->live(now_ms, stale_after);
  if (!workers.ok()) {
    return fail("workers", workers.status());
  }
  if (workers->empty()) {
    fmt::print("no live workers\n");
    return kExitOk;
  }

  for (const broker::WorkerInfo& worker : *workers) {
    double beat_s =
        static_cast<double>(std::max<std::int64_t>(now_ms - worker.last_beat_ms, 0)) / 1000.0;
    if (args.json) {
      fmt::print("{}\n", dumpLine({{"id", worker.id},
                                   {"host", worker.host},
                                   {"pid", worker.pid},
                                   {"concurrency", worker.concurrency},
                                   {"active", worker.active},
                                   {"completed", worker.completed},
                                   {"failed", worker.failed},
                                   {"version", worker.version},
                                   {"last_beat_ms", worker.last_beat_ms},
                                   {"last_beat_s", beat_s}}));
      continue;
    }
    std::string active;
    for (const std::string& job : worker.active) {
      active += active.empty() ? job : "," + job;
    }
    fmt::print(
        "{} host={} pid={} concurrency={} active={} completed={} failed={} last_beat={:.1f}s\n",
        worker.id, worker.host, worker.pid, worker.concurrency, active.empty() ? "-" : active,
        worker.completed, worker.failed, beat_s);
  }
  return kExitOk;
}

}  // namespace

CLI::App* addJobsCommand(CLI::App& app, JobsArgs& args) {
  args.command = app.add_subcommand(
      "jobs", "Put render jobs on the broker, list, cancel or watch them; list live workers");
  args.command->require_subcommand(1);

  args.enqueue = args.command->add_subcommand(
      "enqueue", "Hold one credit per row and queue one render job per row; prints the batch id");
  args.enqueue->add_option("template", args.template_path, "Template JSON file")->required();
  args.enqueue->add_option("--data", args.data_path, "Rows: a CSV or JSON file")->required();
  args.enqueue->add_option("--brand", args.brand_dir, "Brand kit folder (with brand.json)")
      ->required();
  args.enqueue->add_option("--tenant", args.tenant, "Tenant that pays the credits")->required();
  args.enqueue->add_option("--storage", args.storage_dir, "Folder the workers write the videos to");
  args.enqueue->add_option("--rows", args.rows, "Rows to queue, such as 3,7-9 (default: all)");
  args.enqueue->add_option("--priority", args.priority, "normal or high")->capture_default_str();
  args.enqueue->add_option("--key", args.key,
                           "Idempotency key: a repeat with it queues and holds nothing again "
                           "(default: a fresh key)");
  addConnectionOptions(args.enqueue, args);

  args.list = args.command->add_subcommand("list", "Print a batch's job counts and its jobs");
  args.list->add_option("batch", args.batch_id, "Batch id")->required();
  addConnectionOptions(args.list, args);

  args.cancel =
      args.command->add_subcommand("cancel", "Cancel a batch's queued, retrying and active jobs");
  args.cancel->add_option("batch", args.batch_id, "Batch id")->required();
  addConnectionOptions(args.cancel, args);

  args.retry = args.command->add_subcommand(
      "retry", "Hold credits for a batch's failed jobs and queue them again");
  args.retry->add_option("batch", args.batch_id, "Batch id")->required();
  addConnectionOptions(args.retry, args);

  args.watch = args.command->add_subcommand(
      "watch",
      "Print a batch's jobs, then its state changes and progress live until no job is left "
      "to run; exits 0 when every job completed, 1 when one failed or was cancelled");
  args.watch->add_option("batch", args.batch_id, "Batch id")->required();
  args.watch->add_flag("--json", args.json, "Print one JSON object per line");
  addConnectionOptions(args.watch, args);

  args.workers =
      args.command->add_subcommand("workers", "Print the live render workers, one per line");
  args.workers->add_option("--redis", args.redis_url,
                           "Redis URL of the broker (default: $SMMHUB_REDIS)");
  args.workers
      ->add_option("--stale-ms", args.stale_ms,
                   "Milliseconds, 1 to 86400000, since its last beat after which a worker is "
                   "not listed")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400'000}));
  args.workers->add_flag("--json", args.json, "Print one JSON object per line");
  return args.command;
}

int runJobs(JobsArgs& args) {
  // list reads only the job store, so it runs without a Redis URL.
  if (!fromEnvironment(args.redis_url, "SMMHUB_REDIS") && !args.list->parsed()) {
    fmt::print(stderr, "smmhub jobs: missing Redis URL: pass --redis URL or set SMMHUB_REDIS\n");
    return kExitUsage;
  }
  // workers reads only Redis, so it runs without a database URL.
  if (args.workers->parsed()) {
    return runWorkers(args);
  }
  if (!fromEnvironment(args.db_url, "SMMHUB_DB")) {
    fmt::print(stderr, "smmhub jobs: missing database URL: pass --db URL or set SMMHUB_DB\n");
    return kExitUsage;
  }
  if (args.enqueue->parsed()) {
    return runEnqueue(args);
  }
  if (args.list->parsed()) {
    return runList(args);
  }
  if (args.retry->parsed()) {
    return runRetry(args);
  }
  if (args.watch->parsed()) {
    return runWatch(args);
  }
  return runCancel(args);
}

}  // namespace smmhub::cli
