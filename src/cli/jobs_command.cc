#include "cli/jobs_command.h"

#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/broker.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/tenant.h"
#include "credits/credits.h"
#include "credits/ledger_writer.h"
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

// Cancels a batch this run created and gives back its hold, after the hold
// or the push to Redis failed. The batch is cancelled first, so that no
// re-drive runs jobs whose credits were given back.
void rollBack(Services& services, const jobs::BatchSpec& spec, const std::string& batch_id,
              bool held) {
  Result<std::vector<std::string>> cancelled = services.store->cancelBatch(batch_id);
  if (!cancelled.ok()) {
    fmt::print(stderr,
               "smmhub jobs enqueue: cancelling batch {} failed ({}); its hold stays until the "
               "credit reaper finds the batch finished or cancelled\n",
               batch_id, cancelled.status().message());
    return;
  }
  if (!held) {
    return;
  }
  Result<credits::Receipt> released =
      services.credits->release({.tenant = spec.tenant,
                                 .key = "enqueue:" + spec.idempotency_key + ":release",
                                 .job = batch_id,
                                 .actor = defaultActor(),
                                 .all = true});
  if (!released.ok()) {
    fmt::print(stderr,
               "smmhub jobs enqueue: releasing the hold of batch {} failed ({}); the credit "
               "reaper releases it, because the batch is cancelled\n",
               batch_id, released.status().message());
  }
}

// Moves TENANT's credit events into the ledger now. An event left behind is
// moved by the next ledger writer.
void moveToLedger(credits::Credits& credits, const std::string& tenant) {
  credits::LedgerWriter writer(credits, {});
  if (writer.drainTenant(tenant).ok()) {
    (void)writer.leave(tenant);
  }
}

int runEnqueue(const JobsArgs& args) {
  if (Status valid = checkEnqueueArgs(args); !valid.ok()) {
    return fail("enqueue", valid);
  }
  Result<std::vector<jobs::JobSpec>> specs = selectJobs(args);
  if (!specs.ok()) {
    return fail("enqueue", specs.status());
  }
  jobs::BatchSpec spec{.tenant = args.tenant,
                       .idempotency_key = args.key.empty() ? freshKey() : args.key,
                       .template_path = args.template_path,
                       .data_path = args.data_path,
                       .brand_dir = args.brand_dir,
                       .storage_dir = args.storage_dir,
                       .priority = args.priority};
  Result<Services> services = connect(args, true);
  if (!services.ok()) {
    return fail("enqueue", services.status());
  }

  // Credits are held under the batch id, and the credit reaper releases the
  // hold of a batch the store lacks. So the batch is written first, to get
  // its id, and pushed to Redis only once the hold is made.
  Result<jobs::CreatedBatch> batch = services->store->createBatch(spec, *specs);
  if (!batch.ok()) {
    return fail("enqueue", batch.status());
  }
  if (!batch->created) {
    Result<jobs::Batch> existing = services->store->batch(batch->batch_id);
    if (!existing.ok()) {
      return fail("enqueue", existing.status());
    }
    if (existing->cancelled_at_ms != 0) {
      return fail("enqueue", Status::failedPrecondition(fmt::format(
                                 "--key '{}' made batch {}, which is cancelled; use a new key",
                                 spec.idempotency_key, batch->batch_id)));
    }
  }

  int needed = static_cast<int>(specs->size());
  Result<credits::Receipt> hold =
      services->credits->reserve({.tenant = spec.tenant,
                                  .amount = needed,
                                  .key = "enqueue:" + spec.idempotency_key,
                                  .job = batch->batch_id,
                                  .actor = defaultActor()});
  if (!hold.ok() || hold->outcome != credits::Outcome::kDone) {
    if (batch->created) {
      rollBack(*services, spec, batch->batch_id, false);
    }
    if (!hold.ok()) {
      return fail("enqueue", hold.status());
    }
    fmt::print(stderr,
               "smmhub jobs enqueue: tenant {} has {} credits available and the batch needs {}, "
               "one per job: short by {}; nothing enqueued\n",
               spec.tenant, hold->available, needed, hold->shortfall);
    return kExitCreditsShort;
  }

  Result<jobs::CreatedBatch> enqueued = services->broker->enqueue(spec, *specs);
  if (!enqueued.ok()) {
    if (batch->created) {
      rollBack(*services, spec, batch->batch_id, !hold->replayed);
    }
    return fail("enqueue", enqueued.status());
  }
  moveToLedger(*services->credits, spec.tenant);
  logger("cli")->info("batch enqueued tenant={} batch={} jobs={} priority={}", spec.tenant,
                      batch->batch_id, needed, spec.priority);
  fmt::print("{}\n", batch->batch_id);
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

}  // namespace

CLI::App* addJobsCommand(CLI::App& app, JobsArgs& args) {
  args.command = app.add_subcommand("jobs", "Put render jobs on the broker, list or cancel them");
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
  return args.command;
}

int runJobs(JobsArgs& args) {
  // list reads only the job store, so it runs without a Redis URL.
  if (!fromEnvironment(args.redis_url, "SMMHUB_REDIS") && !args.list->parsed()) {
    fmt::print(stderr, "smmhub jobs: missing Redis URL: pass --redis URL or set SMMHUB_REDIS\n");
    return kExitUsage;
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
  return runCancel(args);
}

}  // namespace smmhub::cli
