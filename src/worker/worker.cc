#include "worker/worker.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/broker.h"
#include "broker/events.h"
#include "broker/previews.h"
#include "broker/workers.h"
#include "common/log.h"
#include "common/tenant.h"
#include "credits/credits.h"
#include "credits/ledger_writer.h"
#include "credits/reaper.h"
#include "jobs/batch_directory.h"
#include "jobs/job_store.h"
#include "metrics/registry.h"
#include "metrics/server.h"
#include "redis/pool.h"
#include "render/batch.h"
#include "render/image/image_loader.h"
#include "render/preflight.h"
#include "store/database.h"
#include "template/binding.h"
#include "template/data_table.h"
#include "template/parser.h"

namespace smmhub::worker {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Set when Redis lost the broker's keys: the marker is written after each
// re-drive, so a Redis that comes back without it is re-driven at once.
constexpr std::string_view kRedriveMarkerKey = "smmhub:bk:redrive:marker";
// Taken by the worker that re-drives, so that all workers together re-drive
// at most once per period.
constexpr std::string_view kRedriveLockKey = "smmhub:bk:redrive:lock";
constexpr std::chrono::milliseconds kRedrivePeriod{30'000};
constexpr std::string_view kReaperLockKey = "smmhub:bk:reaper:lock";
constexpr std::chrono::milliseconds kReaperPeriod{60'000};
// How long one read of the preview queue waits for a request.
constexpr std::chrono::milliseconds kPreviewWait{1'000};
// How long a step that needs Redis or SQL is tried again before the job is
// left to its lease.
constexpr std::chrono::milliseconds kStepPatience{20'000};
// The row text that makes a worker abort when it starts the job: a fault
// for tests of jobs that crash their worker every time.
constexpr const char* kAbortVariable = "SMMHUB_WORKER_ABORT_ON";

// The reason a job's render was stopped.
enum class StopReason {
  kNone,
  kClaimOver,  // the lease failed: another claim has the job, or it ended
  kShutdown,   // the worker stops after its grace period
  kTimeLimit,  // the render took longer than WorkerOptions::max_render
};

struct ActiveJob {
  broker::Claim claim;
  Clock::time_point claimed_at = Clock::now();
  std::atomic<bool> cancel{false};
  std::atomic<StopReason> reason{StopReason::kNone};
  std::string reason_text;  // guarded by the worker's jobs mutex

  void stop(StopReason why) {
    StopReason none = StopReason::kNone;
    reason.compare_exchange_strong(none, why);
    cancel = true;
  }
};

std::string hostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    return "host";
  }
  return host;
}

bool permanentError(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kResourceExhausted:
    case StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

Status statusOf(const Status& status) {
  return status;
}
template <typename T>
Status statusOf(const Result<T>& result) {
  return result.ok() ? okStatus() : result.status();
}

std::string_view severityName(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "error";
}

// Renames FROM to TO unless TO exists. Returns false when TO was there.
Result<bool> renameNoReplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return true;
  }
  if (errno == EEXIST) {
    return false;
  }
  return Status::unavailable(
      fmt::format("cannot move {} to {}: {}", from.string(), to.string(), std::strerror(errno)));
}

// Whether PATH lies inside the folder DIR, comparing the paths as written.
bool isInside(const fs::path& path, const fs::path& dir) {
  fs::path relative = fs::path(path).lexically_normal().lexically_relative(dir.lexically_normal());
  return !relative.empty() && relative.is_relative() && *relative.begin() != "..";
}

Status writeFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) {
    return Status::unavailable(path.string() + ": cannot write the file");
  }
  return okStatus();
}

// Flushes the file or folder at PATH to the disk.
Status syncPath(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::unavailable(
        fmt::format("cannot open {} to flush it: {}", path.string(), std::strerror(errno)));
  }
  int result = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (result != 0) {
    return Status::unavailable(
        fmt::format("cannot flush {}: {}", path.string(), std::strerror(error)));
  }
  return okStatus();
}

void removeTree(const fs::path& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

std::int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Counts a job's frames and publishes its progress: at each tenth of the
// frames, and at most once per second in between.
class JobObserver final : public render::BatchObserver {
 public:
  JobObserver(const broker::Claim& claim, broker::EventLog* events, metrics::Counter& frames)
      : claim_(claim), events_(events), frames_(frames) {}

  void framesDone(int /*row*/, int done, int total) override {
    if (done <= last_) {
      return;
    }
    frames_.inc(done - last_);
    last_ = done;
    int tenth = total > 0 ? done * 10 / total : 0;
    auto now = Clock::now();
    if (events_ == nullptr || (tenth == last_tenth_ && now - last_publish_ < kEvery)) {
      return;
    }
    last_tenth_ = tenth;
    last_publish_ = now;
    Status published = events_->publish({.type = "progress",
                                         .tenant = claim_.tenant,
                                         .batch_id = claim_.batch_id,
                                         .job_id = claim_.job_id,
                                         .row = claim_.row,
                                         .frames_done = done,
                                         .frames_total = total,
                                         .at_ms = unixMillis()});
    if (!published.ok()) {
      logger("worker")->debug("progress not published job={} error=\"{}\"", claim_.job_id,
                              published.message());
    }
  }

 private:
  static constexpr std::chrono::seconds kEvery{1};
  const broker::Claim& claim_;
  broker::EventLog* events_;
  metrics::Counter& frames_;
  int last_ = 0;
  int last_tenth_ = -1;
  Clock::time_point last_publish_{};
};

class WorkerImpl final : public Worker {
 public:
  WorkerImpl(WorkerOptions options, std::unique_ptr<store::Database> db)
      : options_(std::move(options)),
        db_(std::move(db)),
        store_(*db_),
        directory_(*db_),
        claimed_(metrics_.counter("smmhub_worker_jobs_claimed_total", "Jobs this worker claimed")),
        completed_(outcome("completed")),
        retried_(outcome("retried")),
        failed_(outcome("failed")),
        rejected_(outcome("rejected")),
        handed_back_(outcome("handed_back")),
        reused_(metrics_.counter("smmhub_worker_outputs_reused_total",
                                 "Deliveries that found the job's video in place and rendered "
                                 "nothing")),
        frames_(metrics_.counter("smmhub_worker_frames_total", "Frames this worker rendered")),
        job_seconds_(metrics_.counter("smmhub_worker_job_seconds_total",
                                      "Wall seconds from claim to completion of completed jobs")) {}

  Status init() {
    SMMHUB_ASSIGN_OR_RETURN(fetcher_, fetch::Fetcher::create(options_.fetch));
    SMMHUB_ASSIGN_OR_RETURN(events_, broker::EventLog::create({.redis_url = options_.redis_url}));
    SMMHUB_ASSIGN_OR_RETURN(workers_,
                            broker::WorkerRegistry::create(
                                {.redis_url = options_.redis_url, .stale_after = staleAfter()}));
    SMMHUB_ASSIGN_OR_RETURN(broker_, broker::Broker::create({.redis_url = options_.redis_url,
                                                             .lease = options_.lease,
                                                             .backoff_base = options_.backoff_base,
                                                             .events = events_.get()},
                                                            store_));
    SMMHUB_ASSIGN_OR_RETURN(credits_,
                            credits::Credits::create({.redis_url = options_.redis_url}, db_.get()));
    ledger_ = std::make_unique<credits::LedgerWriter>(
        *credits_, credits::LedgerWriterOptions{.consumer = options_.id});
    SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint,
                            redis::parseUrl(options_.redis_url, "--redis"));
    pool_ = std::make_unique<redis::Pool>(std::move(endpoint), redis::PoolOptions{});
    registerGauges();
    return okStatus();
  }

  metrics::Counter& outcome(const std::string& name) {
    return metrics_.counter("smmhub_worker_jobs_total",
                            "Attempts this worker ended, by outcome: completed, retried, failed "
                            "(for good), rejected (the claim was over), handed_back (at stop)",
                            {{"outcome", name}});
  }

  // A worker is listed as live for three upkeep periods after its beat.
  std::chrono::milliseconds staleAfter() const {
    return std::max(std::chrono::milliseconds(5'000), options_.upkeep * 3);
  }

  void registerGauges() {
    metrics_.gauge("smmhub_worker_slots", "Jobs this worker renders at once")
        .set(options_.concurrency);
    metrics_.gaugeCallback("smmhub_worker_active_jobs", "Jobs this worker renders now",
                           [this] { return static_cast<double>(activeCount()); });
    metrics_.gaugeCallback("smmhub_worker_completed_last_minute",
                           "Jobs this worker completed in the last 60 seconds (throughput)",
                           [this] { return static_cast<double>(completedLastMinute()); });
    auto queue = [this](std::int64_t broker::QueueStats::*field) {
      return [this, field] {
        Result<broker::QueueStats> stats = cachedQueueStats();
        if (!stats.ok()) {
          throw std::runtime_error(stats.status().message());
        }
        return static_cast<double>((*stats).*field);
      };
    };
    metrics_.gaugeCallback("smmhub_broker_queue_depth",
                           "Jobs queued on Redis, ready to be claimed, all tenants",
                           queue(&broker::QueueStats::ready));
    metrics_.gaugeCallback("smmhub_broker_queue_high_depth",
                           "Of the queued jobs, those in the high-priority lanes",
                           queue(&broker::QueueStats::high));
    metrics_.gaugeCallback("smmhub_broker_active_jobs", "Jobs claimed with a lease, all workers",
                           queue(&broker::QueueStats::active));
    metrics_.gaugeCallback("smmhub_broker_delayed_jobs", "Retries waiting for their time",
                           queue(&broker::QueueStats::delayed));
    metrics_.gaugeCallback("smmhub_broker_tenants_waiting", "Tenants with queued jobs",
                           queue(&broker::QueueStats::tenants));
  }

  // The broker's counts, read at most once per second for all gauges.
  Result<broker::QueueStats> cachedQueueStats() {
    std::lock_guard lock(queue_stats_mutex_);
    if (Clock::now() - queue_stats_at_ > std::chrono::seconds(1) || !queue_stats_.ok()) {
      queue_stats_ = broker_->queueStats();
      queue_stats_at_ = Clock::now();
    }
    return queue_stats_;
  }

  std::size_t completedLastMinute() {
    std::lock_guard lock(completions_mutex_);
    auto horizon = Clock::now() - std::chrono::seconds(60);
    while (!completions_.empty() && completions_.front() < horizon) {
      completions_.pop_front();
    }
    return completions_.size();
  }

  Status run(const std::atomic<bool>& stop) override {
    auto log = logger("worker");
    std::unique_ptr<metrics::Server> server;
    if (!options_.metrics_listen.empty()) {
      SMMHUB_ASSIGN_OR_RETURN(server, metrics::Server::start({.listen = options_.metrics_listen,
                                                              .setting = "--metrics-port",
                                                              .registry = &metrics_}));
      log->info("metrics served url=http://{}:{}/metrics",
                options_.metrics_listen.substr(0, options_.metrics_listen.rfind(':')),
                server->port());
    }
    started_at_ms_ = unixMillis();
    log->info("worker start id={} concurrency={} storage={} lease_ms={} cache_redis={}",
              options_.id, options_.concurrency, options_.storage_dir, options_.lease.count(),
              options_.cache_redis.empty() ? "none" : options_.cache_redis);

    std::atomic<bool> stop_claiming = false;
    std::atomic<bool> stop_threads = false;
    std::vector<std::thread> slots;
    for (int i = 0; i < options_.concurrency; ++i) {
      slots.emplace_back([this, &stop_claiming] { slotLoop(stop_claiming); });
    }
    std::thread heartbeats([this, &stop_threads] { heartbeatLoop(stop_threads); });
    std::thread upkeep([this, &stop_threads] { upkeepLoop(stop_threads); });
    // Previews have a thread of their own, so that they never wait behind a job.
    std::thread previews([this, &stop_claiming] { previewLoop(stop_claiming); });
    std::thread ledger([this, &stop_threads] {
      credits::LedgerWriter writer(*credits_, {.consumer = options_.id});
      writer.run(stop_threads, std::chrono::milliseconds(1'000));
    });

    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop_claiming = true;
    log->info("worker stopping id={} active={} grace_ms={}", options_.id, activeCount(),
              options_.grace.count());
    auto deadline = Clock::now() + options_.grace;
    while (activeCount() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    {
      std::lock_guard lock(jobs_mutex_);
      stopping_ = true;
      for (auto& [key, job] : active_) {
        job->stop(StopReason::kShutdown);
      }
    }
    for (auto& slot : slots) {
      slot.join();
    }
    previews.join();
    stop_threads = true;
    heartbeats.join();
    upkeep.join();
    ledger.join();
    if (Status removed = workers_->remove(options_.id); !removed.ok()) {
      log->warn("worker not removed from the live list error=\"{}\"", removed.message());
    }
    WorkerStats totals = stats();
    log->info("worker stop id={} claimed={} completed={} failed={} rejected={} handed_back={}",
              options_.id, totals.claimed, totals.completed, totals.failed, totals.rejected,
              totals.handed_back);
    return okStatus();
  }

  WorkerStats stats() const override {
    auto count = [](const metrics::Counter& counter) {
      return static_cast<std::uint64_t>(counter.value());
    };
    WorkerStats totals;
    totals.claimed = count(claimed_);
    totals.completed = count(completed_);
    totals.failed = count(retried_) + count(failed_);
    totals.rejected = count(rejected_);
    totals.handed_back = count(handed_back_);
    totals.reused = count(reused_);
    totals.frames = count(frames_);
    totals.render_seconds = job_seconds_.value();
    return totals;
  }

  const std::string& id() const override { return options_.id; }

 private:
  static std::string activeKey(const broker::Claim& claim) {
    return claim.job_id + "." + std::to_string(claim.fencing_token);
  }

  std::size_t activeCount() {
    std::lock_guard lock(jobs_mutex_);
    return active_.size();
  }

  void slotLoop(const std::atomic<bool>& stop_claiming) {
    auto log = logger("worker");
    bool warned = false;
    // After a failed claim the slot waits, doubling up to 10 s, so that a
    // database outage does not strand one job per slot and second.
    std::chrono::milliseconds backoff(500);
    // An idle slot waits on the broker's wake tokens, up to one poll period.
    redis::Connection waiter(broker_->endpoint(), options_.poll + std::chrono::milliseconds(1'000));
    while (!stop_claiming.load()) {
      Result<std::optional<broker::Claim>> claim = broker_->claim(options_.id);
      if (!claim.ok()) {
        if (!warned) {
          log->warn("claim failed worker={} error=\"{}\"; trying again", options_.id,
                    claim.status().message());
          warned = true;
        }
        sleepUnless(stop_claiming, backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
        continue;
      }
      backoff = std::chrono::milliseconds(500);
      if (warned) {
        log->info("claims work again worker={}", options_.id);
        warned = false;
      }
      if (!claim->has_value()) {
        if (!broker_->waitForWork(waiter, options_.poll).ok()) {
          std::this_thread::sleep_for(options_.poll);
        }
        continue;
      }
      claimed_.inc();
      auto job = std::make_shared<ActiveJob>();
      job->claim = std::move(**claim);
      // One worker can hold two claims of a job: an old one it has not yet
      // seen end, and a new one. The token distinguishes them.
      std::string key = activeKey(job->claim);
      {
        std::lock_guard lock(jobs_mutex_);
        active_[key] = job;
        // A claim made while the worker began to stop is handed back.
        if (stopping_) {
          job->stop(StopReason::kShutdown);
        }
      }
      runJob(*job);
      std::lock_guard lock(jobs_mutex_);
      active_.erase(key);
    }
  }

  // Tries STEP until it succeeds, fails other than unavailable, or the
  // patience runs out.
  template <typename Step>
  auto patiently(const char* what, const broker::Claim& claim, Step step) -> decltype(step()) {
    auto deadline = Clock::now() + kStepPatience;
    auto wait = std::chrono::milliseconds(200);
    for (;;) {
      auto result = step();
      if (result.ok() || statusOf(result).code() != StatusCode::kUnavailable ||
          Clock::now() >= deadline) {
        return result;
      }
      logger("worker")->warn("{} failed job={} error=\"{}\"; trying again", what, claim.job_id,
                             statusOf(result).message());
      std::this_thread::sleep_for(wait);
      wait = std::min(wait * 2, std::chrono::milliseconds(2'000));
    }
  }

  void runJob(ActiveJob& active) {
    const broker::Claim& claim = active.claim;
    auto log = logger("worker");
    auto started = Clock::now();

    Result<jobs::Job> job = patiently("read job", claim, [&] { return store_.job(claim.job_id); });
    Result<jobs::Batch> batch =
        job.ok() ? patiently("read batch", claim, [&] { return store_.batch(claim.batch_id); })
                 : Result<jobs::Batch>(job.status());
    if (!batch.ok()) {
      log->error("job left to its lease job={} error=\"{}\"", claim.job_id,
                 batch.status().message());
      return;
    }
    log->info("job start job={} batch={} tenant={} row={} attempt={} token={}", claim.job_id,
              claim.batch_id, claim.tenant, claim.row, job->attempts, claim.fencing_token);

    if (const char* abort_on = std::getenv(kAbortVariable);
        abort_on != nullptr && *abort_on != '\0' &&
        job->row_json.find(abort_on) != std::string::npos) {
      log->critical("job aborts the worker job={}: its row contains {}", claim.job_id,
                    kAbortVariable);
      std::abort();
    }

    fs::path batch_dir = fs::path(options_.storage_dir) / claim.tenant / claim.batch_id;
    fs::path video = batch_dir / job->output_name;
    fs::path poster = fs::path(video).replace_extension(".jpg");
    fs::path work_root = batch_dir / ".work";
    fs::path work = work_root / fmt::format("{}.{}", claim.job_id, claim.fencing_token);
    removeEarlierWork(work_root, claim);

    std::error_code exists_error;
    bool delivered = fs::exists(video, exists_error);
    std::optional<render::RowOutcome> outcome;
    jobs::RenderStats render_stats;
    if (delivered) {
      reused_.inc();
      log->info("job output in place job={} path={}: an earlier delivery made it", claim.job_id,
                video.string());
    } else {
      Result<render::RowOutcome> rendered = render(active, *job, *batch, work, &render_stats);
      if (!rendered.ok()) {
        finishFailed(active, rendered.status().message(), permanentError(rendered.status().code()));
        removeTree(work);
        return;
      }
      outcome = std::move(*rendered);
      if (!outcome->ok) {
        if (outcome->error_code == StatusCode::kCancelled || active.cancel.load()) {
          finishStopped(active);
        } else {
          finishFailed(active, outcome->error, permanentError(outcome->error_code));
        }
        removeTree(work);
        return;
      }
    }

    // 1. Is the claim still ours? The renewal works on a copy, because the
    // heartbeat thread reads the claim meanwhile. Then SQL records that the
    // delivery starts. After that a cancel leaves the job to this worker, so
    // no cancel comes between the charge and the completion.
    broker::Claim renewal = claim;
    Status owned = patiently("renew lease", claim, [&] { return broker_->heartbeat(renewal); });
    if (owned.ok()) {
      owned = patiently("start delivery", claim, [&] {
        return store_.startDelivery(claim.job_id, claim.fencing_token, video.string());
      });
    }
    if (!owned.ok()) {
      rejected_.inc();
      log->warn("job result discarded job={} token={}: {}", claim.job_id, claim.fencing_token,
                owned.message());
      removeTree(work);
      // A cancel may have ended the batch, and this job may be its last.
      if (owned.code() == StatusCode::kFailedPrecondition) {
        afterFinish(claim.tenant, claim.batch_id);
      }
      return;
    }

    // 2. Charge once per job, whatever the number of deliveries.
    Status charged = charge(claim, batch->video_price);
    if (!charged.ok()) {
      finishFailed(active, charged.message(), charged.code() == StatusCode::kResourceExhausted);
      removeTree(work);
      return;
    }

    // 3. Move the files in place without replacing an earlier delivery's.
    if (outcome) {
      Status moved = moveInPlace(*outcome, video, poster);
      removeTree(work);
      if (!moved.ok()) {
        finishFailed(active, moved.message(), false);
        return;
      }
    }

    // 4. The charge goes into the SQL ledger before the completion, so that
    // a Redis that loses its last writes cannot lose the charge of a
    // delivered video.
    Status recorded = recordCharge(claim, batch->video_price);
    if (!recorded.ok()) {
      log->error("job left to its lease job={} error=\"{}\"", claim.job_id, recorded.message());
      return;
    }

    // 5. SQL's fencing check has the last word.
    Status completed =
        patiently("complete", claim, [&] { return broker_->complete(claim, video.string()); });
    if (!completed.ok() && completed.code() == StatusCode::kFailedPrecondition &&
        endedAs(claim, jobs::JobState::kCompleted)) {
      // An earlier try of complete() reached SQL before Redis failed.
      completed = okStatus();
    }
    if (!completed.ok()) {
      if (completed.code() == StatusCode::kFailedPrecondition) {
        rejected_.inc();
        log->warn("late completion rejected job={} token={}: {}", claim.job_id, claim.fencing_token,
                  completed.message());
      } else {
        log->error("job left to its lease job={} error=\"{}\"", claim.job_id, completed.message());
      }
      return;
    }
    completed_.inc();
    if (outcome) {
      Status recorded = store_.recordRenderStats(claim.job_id, claim.fencing_token, render_stats);
      if (!recorded.ok()) {
        log->warn("render figures not recorded job={} error=\"{}\"", claim.job_id,
                  recorded.message());
      }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    job_seconds_.inc(static_cast<double>(ms.count()) / 1000.0);
    {
      std::lock_guard lock(completions_mutex_);
      completions_.push_back(Clock::now());
    }
    log->info("job done job={} batch={} row={} path={} ms={} reused={}", claim.job_id,
              claim.batch_id, claim.row, video.string(), ms.count(), delivered);
    afterFinish(claim.tenant, claim.batch_id);
  }

  // Returns whether SQL has the job in STATE under the claim's token.
  bool endedAs(const broker::Claim& claim, jobs::JobState state) {
    Result<jobs::Job> job = store_.job(claim.job_id);
    return job.ok() && job->state == state && job->fencing_token == claim.fencing_token;
  }

  // Removes the work folders of earlier claims of the job, left by workers
  // that died or lost the job.
  void removeEarlierWork(const fs::path& work_root, const broker::Claim& claim) {
    std::error_code error;
    fs::directory_iterator entries(work_root, error);
    if (error) {
      return;
    }
    std::string prefix = claim.job_id + ".";
    for (const auto& entry : entries) {
      std::string name = entry.path().filename().string();
      if (!name.starts_with(prefix)) {
        continue;
      }
      std::int64_t token = std::strtoll(name.c_str() + prefix.size(), nullptr, 10);
      if (token < claim.fencing_token) {
        removeTree(entry.path());
      }
    }
  }

  // Renders JOB's row into WORK, and puts what the render cost in STATS.
  Result<render::RowOutcome> render(ActiveJob& active, const jobs::Job& job,
                                    const jobs::Batch& batch, const fs::path& work,
                                    jobs::RenderStats* stats) {
    std::error_code error;
    fs::create_directories(work, error);
    if (error) {
      return Status::unavailable(work.string() +
                                 ": cannot create the work folder: " + error.message());
    }
    // The job carries its row, so the worker renders what was enqueued even
    // when the data file changed since.
    fs::path data = work / "row.json";
    SMMHUB_ASSIGN_OR_RETURN(std::string row_json, fetchRemoteSources(job, batch));
    SMMHUB_RETURN_IF_ERROR(writeFile(data, "[" + row_json + "]\n"));

    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    render::BatchRequest request;
    request.template_path = batch.template_path;
    request.data_path = data;
    request.data_source = batch.data_path;
    // Rows uploaded through the API live in the tenant's folder and may
    // name only the tenant's files and downloaded URLs. Rows of a batch
    // enqueued from the command line name the operator's own files.
    fs::path tenant_dir = fs::path(options_.storage_dir) / job.tenant;
    if (isInside(batch.data_path, tenant_dir)) {
      request.source_roots = {tenant_dir, options_.fetch.cache_dir};
    }
    request.brand_dir = batch.brand_dir;
    request.out_dir = work;
    request.rows = {1};
    // Messages and "{{row}}" give the campaign's row, not the one-row file's.
    request.row_number = job.row;
    request.jobs = 1;
    request.encode_threads = std::max(1, cores / options_.concurrency);
    request.cache_redis = options_.cache_redis;
    request.tenant = job.tenant;
    request.cancel = &active.cancel;
    JobObserver observer(active.claim, events_.get(), frames_);
    SMMHUB_ASSIGN_OR_RETURN(render::BatchReport report, render::runBatch(request, &observer));
    if (report.rows.size() != 1) {
      return Status::internal(
          fmt::format("job {}: the render returned {} rows, not 1", job.id, report.rows.size()));
    }
    // A value the render needed came from a cache tier, or was made here.
    const buffer::BufferStats& buffer = report.buffer;
    stats->cache_hits = static_cast<std::int64_t>(buffer.memory.hits + buffer.shared.hits);
    stats->cache_lookups = stats->cache_hits + static_cast<std::int64_t>(buffer.rendered);
    stats->render_ms = std::llround(report.rows.front().seconds * 1000);
    return std::move(report.rows.front());
  }

  // Downloads the http(s) URLs that the row gives for image, video and audio
  // sources, and returns the row with each of those cells replaced by the
  // local file's path. Errors: invalidArgument naming the row, the column
  // and the fetch's error, whatever its code, so that the job fails for good
  // and the message reaches the user.
  // NOTE: a fetch that failed for a passing reason (a timeout, HTTP 503)
  // fails the job for good too; `smmhub jobs retry` runs it again.
  Result<std::string> fetchRemoteSources(const jobs::Job& job, const jobs::Batch& batch) {
    // Most rows contain no URL, and need not read the template.
    if (job.row_json.find("://") == std::string::npos) {
      return job.row_json;
    }
    nlohmann::json fields = nlohmann::json::parse(job.row_json, nullptr, false);
    Result<templates::DataTable> table =
        templates::readJsonRows("[" + job.row_json + "]", "job " + job.id);
    Result<templates::Template> tmpl = templates::loadTemplate(batch.template_path, nullptr);
    // The render reports a bad template or row in its own words.
    if (!fields.is_object() || !table.ok() || table->rows.empty() || !tmpl.ok()) {
      return job.row_json;
    }

    for (const templates::RemoteSource& source :
         templates::remoteSources(*tmpl, *table, table->rows.front(), {})) {
      Result<fetch::Fetched> fetched = fetcher_->fetch(source.url);
      if (!fetched.ok()) {
        return Status::invalidArgument(fmt::format("row {}, column {}: {}", job.row, source.column,
                                                   fetched.status().message()));
      }
      logger("worker")->debug("source fetched job={} column={} source={} path={}", job.id,
                              source.column, fetch::fetchSourceName(fetched->source),
                              fetched->path.string());
      fields[source.column] = fetched->path.string();
    }
    return fields.dump();
  }

  Status charge(const broker::Claim& claim, std::int64_t price) {
    credits::Request request{.tenant = claim.tenant,
                             .amount = price,
                             .key = "render:" + claim.job_id,
                             .job = claim.batch_id,
                             .actor = options_.id};
    SMMHUB_ASSIGN_OR_RETURN(credits::Receipt receipt,
                            patiently("charge", claim, [&] { return credits_->commit(request); }));
    if (receipt.outcome == credits::Outcome::kDone) {
      return okStatus();
    }

    // The batch's hold is gone (released by hand, or a retried job): hold
    // the credit from what is available, then charge under the same key as
    // above, so that the job is charged once whichever path paid. The hold
    // key is per claim: a hold whose charge another job took is not
    // replayed by the next delivery. What a hold leaves over goes back when
    // the batch ends.
    credits::Request hold = request;
    hold.key = fmt::format("render:{}:hold:{}", claim.job_id, claim.fencing_token);
    SMMHUB_ASSIGN_OR_RETURN(credits::Receipt held,
                            patiently("hold", claim, [&] { return credits_->reserve(hold); }));
    if (held.outcome == credits::Outcome::kShort) {
      return Status::resourceExhausted(
          fmt::format("tenant {} has {} credits available and the video costs {}: not rendered",
                      claim.tenant, held.available, price));
    }

    SMMHUB_ASSIGN_OR_RETURN(receipt,
                            patiently("charge", claim, [&] { return credits_->commit(request); }));
    if (receipt.outcome != credits::Outcome::kDone) {
      return Status::unavailable("job " + claim.job_id + ": the charge found no held credit");
    }
    return okStatus();
  }

  // Moves the tenant's credit events into the SQL ledger until it contains
  // the job's charge. A Redis that lost its data between the charge and the
  // move lost the charge event too, so the charge is made again. charge()
  // replays a key that Redis or the ledger still has, and charges anew only
  // when both lost it.
  Status recordCharge(const broker::Claim& claim, std::int64_t price) {
    std::string key = "render:" + claim.job_id;
    for (int attempt = 0; attempt < 3; ++attempt) {
      SMMHUB_RETURN_IF_ERROR(patiently("move charge to the ledger", claim, [&] {
        std::lock_guard lock(ledger_mutex_);
        return statusOf(ledger_->drainTenant(claim.tenant));
      }));
      SMMHUB_ASSIGN_OR_RETURN(bool present, patiently("read the ledger", claim, [&] {
                                return credits_->inLedger(claim.tenant, key);
                              }));
      if (present) {
        return okStatus();
      }
      logger("worker")->warn("charge missing from the ledger job={} key={}; charging again",
                             claim.job_id, key);
      SMMHUB_RETURN_IF_ERROR(charge(claim, price));
    }
    return Status::unavailable(fmt::format(
        "job {}: the charge {} is still missing from the ledger after 3 moves", claim.job_id, key));
  }

  Status moveInPlace(const render::RowOutcome& outcome, const fs::path& video,
                     const fs::path& poster) {
    // The bytes reach the disk before the names do, so that a power loss
    // cannot leave an empty file in place that later deliveries keep.
    SMMHUB_RETURN_IF_ERROR(syncPath(outcome.poster));
    SMMHUB_RETURN_IF_ERROR(syncPath(outcome.video));
    // The poster goes first, so that a video in place always has its poster.
    SMMHUB_ASSIGN_OR_RETURN(bool poster_moved, renameNoReplace(outcome.poster, poster));
    SMMHUB_ASSIGN_OR_RETURN(bool video_moved, renameNoReplace(outcome.video, video));
    if (!video_moved) {
      logger("worker")->info("output kept path={}: an earlier delivery made it", video.string());
    }
    (void)poster_moved;
    return syncPath(video.parent_path());
  }

  // The render was stopped: the claim is over, or the worker is stopping.
  void finishStopped(ActiveJob& active) {
    const broker::Claim& claim = active.claim;
    auto log = logger("worker");
    if (active.reason.load() == StopReason::kTimeLimit) {
      std::string limit;
      {
        std::lock_guard lock(jobs_mutex_);
        limit = active.reason_text;
      }
      finishFailed(active, limit, true);
      return;
    }
    if (active.reason.load() == StopReason::kShutdown) {
      Status back = broker_->handBack(claim, fmt::format("worker {} stopped before the job "
                                                         "finished; handed back",
                                                         options_.id));
      if (back.ok()) {
        handed_back_.inc();
        log->info("job handed back job={} token={}", claim.job_id, claim.fencing_token);
      } else {
        log->warn("hand back failed job={} error=\"{}\"; the lease runs out instead", claim.job_id,
                  back.message());
      }
      return;
    }
    rejected_.inc();
    std::string reason;
    {
      std::lock_guard lock(jobs_mutex_);
      reason = active.reason_text;
    }
    log->info("job stopped job={} token={}: {}", claim.job_id, claim.fencing_token, reason);
    // A cancel may have ended the batch.
    afterFinish(claim.tenant, claim.batch_id);
  }

  void finishFailed(ActiveJob& active, const std::string& error, bool permanent) {
    const broker::Claim& claim = active.claim;
    Result<jobs::JobState> state =
        patiently("fail", claim, [&] { return broker_->fail(claim, error, permanent); });
    if (!state.ok() && state.status().code() == StatusCode::kFailedPrecondition) {
      // An earlier try of fail() reached SQL before Redis failed.
      if (endedAs(claim, jobs::JobState::kRetrying)) {
        state = jobs::JobState::kRetrying;
      } else if (endedAs(claim, jobs::JobState::kFailed)) {
        state = jobs::JobState::kFailed;
      }
    }
    auto log = logger("worker");
    if (!state.ok() && state.status().code() == StatusCode::kFailedPrecondition) {
      // The claim is over (the lease ran out and the job was claimed again,
      // or the batch was cancelled), so the failure is thrown away like a
      // late completion.
      rejected_.inc();
      log->warn("late failure rejected job={} token={} error=\"{}\": {}", claim.job_id,
                claim.fencing_token, error, state.status().message());
      afterFinish(claim.tenant, claim.batch_id);
      return;
    }
    if (!state.ok()) {
      log->warn("fail not recorded job={} error=\"{}\" reason=\"{}\"", claim.job_id, error,
                state.status().message());
      return;
    }
    (*state == jobs::JobState::kRetrying ? retried_ : failed_).inc();
    if (*state == jobs::JobState::kRetrying) {
      log->warn("job retry job={} batch={} row={} error=\"{}\"", claim.job_id, claim.batch_id,
                claim.row, error);
    } else {
      log->error("job failed job={} batch={} row={} error=\"{}\"", claim.job_id, claim.batch_id,
                 claim.row, error);
      afterFinish(claim.tenant, claim.batch_id);
    }
  }

  // When no job of the batch is left to run, releases the credits still
  // held for the batch and removes its work folder.
  void afterFinish(const std::string& tenant, const std::string& batch_id) {
    Result<jobs::BatchSummary> summary = store_.batchSummary(batch_id);
    if (!summary.ok() || summary->queued + summary->active + summary->retrying > 0) {
      return;
    }
    removeTree(fs::path(options_.storage_dir) / tenant / batch_id / ".work");
    Result<credits::Receipt> released = credits_->release(
        {.tenant = tenant,
         .key = fmt::format("end:{}:{}:{}:{}:{}", batch_id, summary->completed, summary->failed,
                            summary->cancelled, summary->token_sum),
         .job = batch_id,
         .actor = options_.id,
         .all = true});
    if (released.ok()) {
      logger("worker")->info("batch done batch={} completed={} failed={} cancelled={} released={}",
                             batch_id, summary->completed, summary->failed, summary->cancelled,
                             released->moved);
    } else {
      logger("worker")->warn("batch hold not released batch={} error=\"{}\"; the reaper does it",
                             batch_id, released.status().message());
    }
  }

  void heartbeatLoop(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      std::vector<std::shared_ptr<ActiveJob>> jobs;
      {
        std::lock_guard lock(jobs_mutex_);
        for (auto& [id, job] : active_) {
          jobs.push_back(job);
        }
      }
      for (auto& job : jobs) {
        if (job->cancel.load()) {
          continue;
        }
        if (options_.max_render.count() > 0 &&
            Clock::now() - job->claimed_at > options_.max_render) {
          std::string limit = fmt::format(
              "render stopped after {} s, the limit of one job's render time; shorten the "
              "template or lower its frame rate or size",
              std::chrono::duration_cast<std::chrono::seconds>(options_.max_render).count());
          logger("worker")->warn("job stopping job={}: {}", job->claim.job_id, limit);
          {
            std::lock_guard lock(jobs_mutex_);
            job->reason_text = limit;
          }
          job->stop(StopReason::kTimeLimit);
          continue;
        }
        // A copy: the slot renews the same claim at its final steps.
        broker::Claim claim = job->claim;
        Status beat = broker_->heartbeat(claim);
        if (beat.code() == StatusCode::kFailedPrecondition) {
          logger("worker")->warn("job stopping job={}: {}", job->claim.job_id, beat.message());
          {
            std::lock_guard lock(jobs_mutex_);
            job->reason_text = beat.message();
          }
          job->stop(StopReason::kClaimOver);
        } else if (!beat.ok()) {
          // Redis or SQL is down: the render goes on, and the fencing check
          // decides when it ends.
          logger("worker")->debug("heartbeat failed job={} error=\"{}\"", job->claim.job_id,
                                  beat.message());
        }
      }
      sleepUnless(stop, options_.heartbeat);
    }
  }

  void upkeepLoop(const std::atomic<bool>& stop) {
    auto log = logger("worker");
    auto next_reap = Clock::now() + kReaperPeriod;
    bool warned = false;
    while (!stop.load()) {
      Status status = upkeep();
      if (!status.ok() && !warned) {
        log->warn("upkeep failed worker={} error=\"{}\"; trying again", options_.id,
                  status.message());
      }
      warned = !status.ok();
      if (Clock::now() >= next_reap) {
        next_reap = Clock::now() + kReaperPeriod;
        reap();
      }
      sleepUnless(stop, options_.upkeep);
    }
  }

  Status beat() {
    broker::WorkerInfo info{.id = options_.id,
                            .host = host_,
                            .pid = static_cast<std::int64_t>(::getpid()),
                            .started_at_ms = started_at_ms_,
                            .concurrency = options_.concurrency,
                            .completed = static_cast<std::int64_t>(completed_.value()),
                            .failed = static_cast<std::int64_t>(failed_.value()),
                            .version = SMMHUB_VERSION};
    {
      std::lock_guard lock(jobs_mutex_);
      for (const auto& [key, job] : active_) {
        info.active.push_back(job->claim.job_id);
      }
    }
    return workers_->beat(info, unixMillis());
  }

  // Runs every step of the upkeep, each whatever the others did. Returns
  // the first error.
  Status upkeep() {
    Status first = beat();
    Result<int> promoted = broker_->promoteDelayed();
    std::vector<jobs::Job> ended;
    Result<int> reclaimed = broker_->reclaimExpired(&ended);
    for (const jobs::Job& job : ended) {
      afterFinish(job.tenant, job.batch_id);
    }
    Status redriven = redriveWhenDue();
    for (const Status& status : {statusOf(promoted), statusOf(reclaimed), redriven}) {
      if (first.ok() && !status.ok()) {
        first = status;
      }
    }
    if ((promoted.ok() && *promoted > 0) || (reclaimed.ok() && *reclaimed > 0)) {
      logger("worker")->info("upkeep promoted={} reclaimed={}", promoted.ok() ? *promoted : 0,
                             reclaimed.ok() ? *reclaimed : 0);
    }
    return first;
  }

  // Re-drives at once when Redis lost the marker (a restart without the
  // data), and otherwise once per period across all workers, for writes
  // lost in the last second before a crash.
  Status redriveWhenDue() {
    SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_->acquire());
    SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr marker,
                            connection->command({"EXISTS", kRedriveMarkerKey}));
    bool lost = marker->type == REDIS_REPLY_INTEGER && marker->integer == 0;
    std::string period = std::to_string(kRedrivePeriod.count());
    SMMHUB_ASSIGN_OR_RETURN(
        redis::ReplyPtr lock,
        connection->command({"SET", kRedriveLockKey, options_.id, "NX", "PX", period}));
    if (lock->type != REDIS_REPLY_STATUS) {
      return okStatus();
    }
    Result<int> pushed = broker_->redrive();
    if (!pushed.ok()) {
      // A failed re-drive releases the lock, so that the next upkeep tries
      // again a second later instead of after the whole period.
      Result<redis::ReplyPtr> unlocked = connection->command({"DEL", kRedriveLockKey});
      (void)unlocked;
      return pushed.status();
    }
    SMMHUB_RETURN_IF_ERROR(connection->command({"SET", kRedriveMarkerKey, options_.id}));
    if (lost || *pushed > 0) {
      logger("worker")->warn("redrive pushed={} marker_lost={}", *pushed, lost);
    }
    return okStatus();
  }

  void reap() {
    Result<redis::Pool::Lease> connection = pool_->acquire();
    if (!connection.ok()) {
      return;
    }
    std::string period = std::to_string(kReaperPeriod.count());
    Result<redis::ReplyPtr> lock =
        (*connection)->command({"SET", kReaperLockKey, options_.id, "NX", "PX", period});
    if (!lock.ok() || (*lock)->type != REDIS_REPLY_STATUS) {
      return;
    }
    Result<credits::ReapReport> report = credits::reapHolds(*credits_, directory_);
    if (!report.ok()) {
      logger("worker")->warn("reaper failed error=\"{}\"", report.status().message());
    } else if (report->holds_released > 0) {
      logger("worker")->info("reaper released holds={} credits={}", report->holds_released,
                             report->credits_released);
    }
  }

  // Renders preview frames for the admin API until STOP is set, one request
  // at a time from the preview queue (broker/previews.h). The wait on the
  // queue lasts a second, so that a stop takes effect within about a second
  // unless a frame is being rendered.
  void previewLoop(const std::atomic<bool>& stop) {
    auto log = logger("worker");
    redis::Connection queue(broker_->endpoint(), kPreviewWait + std::chrono::milliseconds(2'000));
    std::string wait_s = std::to_string(kPreviewWait.count() / 1000);
    bool warned = false;
    while (!stop.load()) {
      Result<redis::ReplyPtr> popped = queue.command({"BLPOP", broker::kPreviewQueueKey, wait_s});
      if (!popped.ok()) {
        if (!warned) {
          log->warn("preview queue not read worker={} error=\"{}\"; trying again", options_.id,
                    popped.status().message());
          warned = true;
        }
        sleepUnless(stop, kPreviewWait);
        continue;
      }
      warned = false;
      // A nil reply: the wait ended with the queue empty.
      const redisReply* entry = redis::elementAt(popped->get(), 1);
      if (entry != nullptr) {
        servePreview(redis::replyText(entry));
      }
    }
  }

  // Renders one preview request and pushes its reply. A request that does
  // not parse or has an invalid reply key is logged and dropped, because
  // there is no reply list to send the error to.
  void servePreview(std::string_view text) {
    auto log = logger("worker");
    auto started = Clock::now();
    Result<broker::PreviewRequest> request = broker::parsePreviewRequest(text);
    if (!request.ok()) {
      log->error("preview request dropped: {}", request.status().message());
      previewCounter("dropped").inc();
      return;
    }
    if (!request->reply_key.starts_with(broker::kPreviewReplyPrefix)) {
      log->error("preview request dropped id={}: reply_key '{}' does not start with {}",
                 request->id, request->reply_key, broker::kPreviewReplyPrefix);
      previewCounter("dropped").inc();
      return;
    }

    Status served;
    nlohmann::json report;
    if (request->kind == broker::kFrameRequest) {
      served = renderPreview(*request);
    } else if (request->kind == broker::kPreflightRequest) {
      Result<nlohmann::json> checked = runPreflight(*request);
      if (checked.ok()) {
        report = std::move(checked).value();
      } else {
        served = checked.status();
      }
    } else {
      served = Status::invalidArgument(
          fmt::format("preview request kind '{}' is unknown; this worker serves '{}' and '{}'",
                      request->kind, broker::kFrameRequest, broker::kPreflightRequest));
    }
    Status replied = replyToPreview(request->reply_key, broker::previewReplyJson(served, report));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    previewCounter(served.ok() ? "ok" : "failed").inc();
    if (served.ok()) {
      log->info("preview done id={} kind={} tenant={} time_s={} ms={}", request->id, request->kind,
                request->tenant, request->time_s, ms.count());
    } else {
      log->info("preview failed id={} kind={} tenant={} ms={} error=\"{}\"", request->id,
                request->kind, request->tenant, ms.count(), served.message());
    }
    if (!replied.ok()) {
      log->warn("preview reply not sent id={} error=\"{}\"", request->id, replied.message());
    }
  }

  metrics::Counter& previewCounter(const std::string& outcome) {
    return metrics_.counter("smmhub_worker_previews_total",
                            "Preview requests this worker ended, by outcome: ok, failed (an "
                            "error was sent back), dropped (unreadable, nobody to tell)",
                            {{"outcome", outcome}});
  }

  // Pushes REPLY onto REPLY_KEY and sets the key to expire, in one
  // transaction, so that no reply list is left without its expiry.
  Status replyToPreview(const std::string& reply_key, const std::string& reply) {
    SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_->acquire());
    std::string ttl = std::to_string(broker::kPreviewReplyTtl.count());
    std::vector<std::vector<std::string_view>> commands = {
        {"MULTI"}, {"RPUSH", reply_key, reply}, {"EXPIRE", reply_key, ttl}, {"EXEC"}};
    for (const auto& command : commands) {
      SMMHUB_RETURN_IF_ERROR(connection->append(command));
    }
    for (size_t i = 0; i < commands.size(); ++i) {
      SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr answer, connection->readReply());
      if (answer->type == REDIS_REPLY_ERROR) {
        return Status::unavailable(
            fmt::format("{} {}: {}", commands[i][0], reply_key, redis::replyText(answer.get())));
      }
    }
    return okStatus();
  }

  // Checks that PATH, with symbolic links and ".." resolved as far as the
  // file exists, lies inside ROOT. Errors: invalidArgument naming FIELD.
  static Status checkInside(const fs::path& root, const std::string& path, const char* field) {
    std::error_code error;
    fs::path resolved = fs::weakly_canonical(path, error);
    fs::path relative = resolved.lexically_relative(root);
    if (path.empty() || !fs::path(path).is_absolute() || error || relative.empty() ||
        *relative.begin() == "..") {
      return Status::invalidArgument(
          fmt::format("preview {}: '{}' is not inside the tenant's storage folder {}", field, path,
                      root.string()));
    }
    return okStatus();
  }

  // Renders the frame of REQUEST as the job of its row would render that
  // row's video, and writes it as a PNG to its out_path, under a temporary
  // name first. Errors: invalidArgument for a path outside STORAGE/TENANT
  // and for bad input, as render::renderBatchFrame() reports it.
  Status renderPreview(const broker::PreviewRequest& request) {
    // The id names temporary files next to out_path.
    bool plain_id = !request.id.empty() && request.id.size() <= 64 &&
                    std::all_of(request.id.begin(), request.id.end(), [](unsigned char c) {
                      return std::isalnum(c) != 0 || c == '-' || c == '_';
                    });
    if (!plain_id) {
      return Status::invalidArgument(
          fmt::format("preview id '{}': expected 1 to 64 letters, digits, '-' or '_'", request.id));
    }
    SMMHUB_RETURN_IF_ERROR(checkTenantName(request.tenant));
    std::error_code error;
    fs::path root = fs::weakly_canonical(fs::path(options_.storage_dir) / request.tenant, error);
    if (error) {
      return Status::unavailable(
          fmt::format("tenant {}'s storage folder: {}", request.tenant, error.message()));
    }
    SMMHUB_RETURN_IF_ERROR(checkInside(root, request.template_path, "template_path"));
    if (!request.brand_dir.empty()) {
      SMMHUB_RETURN_IF_ERROR(checkInside(root, request.brand_dir, "brand_dir"));
    }
    SMMHUB_RETURN_IF_ERROR(checkInside(root, request.data_source, "data_source"));
    SMMHUB_RETURN_IF_ERROR(checkInside(root, request.out_path, "out_path"));

    // The row goes through the same URL downloads as a job's row.
    jobs::Job job{
        .id = "preview " + request.id, .tenant = request.tenant, .row = std::max(1, request.row)};
    job.row_json = request.row_json;
    jobs::Batch batch;
    batch.template_path = request.template_path;
    SMMHUB_ASSIGN_OR_RETURN(std::string row_json, fetchRemoteSources(job, batch));

    fs::path out(request.out_path);
    fs::create_directories(out.parent_path(), error);
    if (error) {
      return Status::unavailable(out.parent_path().string() +
                                 ": cannot create the folder: " + error.message());
    }
    fs::path data = out.parent_path() / fmt::format(".{}.row.json", request.id);
    fs::path partial =
        out.parent_path() / fmt::format(".{}.{}.partial", out.filename().string(), request.id);
    Status written = writeFile(data, "[" + row_json + "]\n");
    if (written.ok()) {
      written = renderPreviewFile(request, data, partial);
    }
    if (written.ok() && ::rename(partial.c_str(), out.c_str()) != 0) {
      written = Status::unavailable(fmt::format("cannot move {} to {}: {}", partial.string(),
                                                out.string(), std::strerror(errno)));
    }
    fs::remove(data, error);
    fs::remove(partial, error);
    return written;
  }

  // Runs render::preflight() on the campaign that REQUEST names, binding its
  // rows as the campaign's jobs bind them: the same rows file, mapping,
  // template version and brand kit, and data values may name only the
  // tenant's files and downloaded URLs. Returns the report as JSON.
  // Errors: invalidArgument for a path outside STORAGE/TENANT or a mapping
  // that is not an object of strings; those of render::preflight().
  // TODO: URLs in the rows are not downloaded as a job downloads them, so a
  // row with an https image gets an error that its job would not get.
  Result<nlohmann::json> runPreflight(const broker::PreviewRequest& request) {
    SMMHUB_RETURN_IF_ERROR(checkTenantName(request.tenant));
    std::error_code error;
    fs::path tenant_dir = fs::path(options_.storage_dir) / request.tenant;
    fs::path root = fs::weakly_canonical(tenant_dir, error);
    if (error) {
      return Status::unavailable(
          fmt::format("tenant {}'s storage folder: {}", request.tenant, error.message()));
    }
    SMMHUB_RETURN_IF_ERROR(checkInside(root, request.template_path, "template_path"));
    if (!request.brand_dir.empty()) {
      SMMHUB_RETURN_IF_ERROR(checkInside(root, request.brand_dir, "brand_dir"));
    }
    SMMHUB_RETURN_IF_ERROR(checkInside(root, request.data_path, "data_path"));
    nlohmann::json mapping = nlohmann::json::parse(request.mapping_json, nullptr, false);
    if (!mapping.is_object()) {
      return Status::invalidArgument("preflight mapping_json: not a JSON object");
    }

    render::PreflightRequest preflight{.template_path = request.template_path,
                                       .data_path = fs::path(request.data_path)};
    if (!request.brand_dir.empty()) {
      preflight.brand_dir = fs::path(request.brand_dir);
    }
    for (const auto& [field, column] : mapping.items()) {
      if (!column.is_string()) {
        return Status::invalidArgument("preflight mapping_json: field '" + field +
                                       "' maps to a value that is not a column name");
      }
      preflight.mapping.field_to_column[field] = column.get<std::string>();
    }
    preflight.source_roots = {tenant_dir, options_.fetch.cache_dir};
    SMMHUB_ASSIGN_OR_RETURN(render::PreflightReport report, render::preflight(preflight));
    return preflightJson(report);
  }

  static nlohmann::json preflightJson(const render::PreflightReport& report) {
    nlohmann::json problems = nlohmann::json::array();
    for (const Diagnostic& problem : report.problems) {
      problems.push_back({{"severity", severityName(problem.severity)},
                          {"place", problem.place},
                          {"message", problem.message}});
    }
    return {{"rows", report.rows},
            {"rows_with_errors", report.rows_with_errors},
            {"template_valid", report.template_valid},
            {"problems", std::move(problems)}};
  }

  // Renders REQUEST's frame from the row in DATA to PNG_PATH with the
  // options the jobs of this worker render with.
  Status renderPreviewFile(const broker::PreviewRequest& request, const fs::path& data,
                           const fs::path& png_path) {
    render::BatchRequest batch;
    batch.template_path = request.template_path;
    batch.data_path = data;
    batch.data_source = request.data_source;
    // As for a job's row from the API: the row may name only the tenant's
    // files and downloaded URLs.
    batch.source_roots = {fs::path(options_.storage_dir) / request.tenant,
                          options_.fetch.cache_dir};
    batch.brand_dir = request.brand_dir;
    batch.rows = {1};
    // Messages name the campaign's row, not the row of the one-row file.
    batch.row_number = request.row;
    batch.cache_redis = options_.cache_redis;
    batch.tenant = request.tenant;
    SMMHUB_ASSIGN_OR_RETURN(render::FrameOutput rendered,
                            render::renderBatchFrame(batch, request.time_s));
    return render::writePng(rendered.frame, png_path);
  }

  void sleepUnless(const std::atomic<bool>& stop, std::chrono::milliseconds period) {
    auto until = Clock::now() + period;
    while (!stop.load() && Clock::now() < until) {
      std::this_thread::sleep_for(std::min(period, std::chrono::milliseconds(50)));
    }
  }

  WorkerOptions options_;
  std::unique_ptr<store::Database> db_;
  jobs::JobStore store_;
  jobs::BatchDirectory directory_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<credits::Credits> credits_;
  // Drains a tenant's charges into the ledger before a completion.
  std::unique_ptr<credits::LedgerWriter> ledger_;
  std::mutex ledger_mutex_;
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<fetch::Fetcher> fetcher_;
  std::unique_ptr<broker::EventLog> events_;
  std::unique_ptr<broker::WorkerRegistry> workers_;
  std::string host_ = hostName();
  std::int64_t started_at_ms_ = 0;

  std::mutex jobs_mutex_;
  // Claims in progress by "JOB.TOKEN".
  std::map<std::string, std::shared_ptr<ActiveJob>> active_;
  bool stopping_ = false;  // guarded by jobs_mutex_

  metrics::Registry metrics_;
  metrics::Counter& claimed_;
  metrics::Counter& completed_;
  metrics::Counter& retried_;
  metrics::Counter& failed_;
  metrics::Counter& rejected_;
  metrics::Counter& handed_back_;
  metrics::Counter& reused_;
  metrics::Counter& frames_;
  metrics::Counter& job_seconds_;
  std::mutex completions_mutex_;
  std::deque<Clock::time_point> completions_;
  std::mutex queue_stats_mutex_;
  Result<broker::QueueStats> queue_stats_ = Status::unavailable("not read yet");
  Clock::time_point queue_stats_at_{};
};

Status checkOptions(const WorkerOptions& options) {
  if (options.redis_url.empty()) {
    return Status::invalidArgument("missing --redis URL: the broker's Redis");
  }
  if (options.db_url.empty()) {
    return Status::invalidArgument("missing --db URL: the job store's database");
  }
  if (options.storage_dir.empty()) {
    return Status::invalidArgument("missing --storage DIR: the folder the videos go to");
  }
  if (options.concurrency < 1 || options.concurrency > 64) {
    return Status::invalidArgument(
        fmt::format("--concurrency {} is out of range; expected 1 to 64", options.concurrency));
  }
  if (options.heartbeat.count() <= 0 || options.lease <= options.heartbeat * 2) {
    return Status::invalidArgument(
        fmt::format("--lease-ms {} must be more than twice the heartbeat period, {} ms",
                    options.lease.count(), options.heartbeat.count()));
  }
  if (!options.cache_redis.empty()) {
    if (Result<redis::Endpoint> cache = redis::parseUrl(options.cache_redis, "--cache-redis");
        !cache.ok()) {
      return cache.status();
    }
  }
  if (options.poll.count() <= 0 || options.grace.count() < 0) {
    return Status::invalidArgument("--poll-ms must be positive and --grace-ms not negative");
  }
  return okStatus();
}

}  // namespace

std::string defaultWorkerId() {
  std::random_device random;
  return fmt::format("{}-{}-{:04x}", hostName(), ::getpid(), random() & 0xffff);
}

Result<std::unique_ptr<Worker>> Worker::create(WorkerOptions options) {
  SMMHUB_RETURN_IF_ERROR(checkOptions(options));
  if (options.id.empty()) {
    options.id = defaultWorkerId();
  }
  if (options.fetch.cache_dir.empty()) {
    options.fetch.cache_dir = fs::path(options.storage_dir) / ".fetch-cache";
  }
  if (Result<redis::Endpoint> endpoint = redis::parseUrl(options.redis_url, "--redis");
      !endpoint.ok()) {
    return endpoint.status();
  }
  SMMHUB_ASSIGN_OR_RETURN(
      std::unique_ptr<store::Database> db,
      store::Database::open(
          {.url = options.db_url, .pool_size = static_cast<std::size_t>(options.concurrency) + 3}));
  auto worker = std::make_unique<WorkerImpl>(std::move(options), std::move(db));
  SMMHUB_RETURN_IF_ERROR(worker->init());
  return std::unique_ptr<Worker>(std::move(worker));
}

}  // namespace smmhub::worker
