#include "cli/credits_command.h"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "common/tenant.h"
#include "credits/credits.h"
#include "credits/internal.h"
#include "credits/ledger_writer.h"
#include "credits/prices.h"
#include "credits/reconcile.h"
#include "store/database.h"

namespace smmhub::cli {
namespace {

using credits::Outcome;
using credits::Receipt;

// Every subcommand binds the same variables, so the environment is read
// after parsing (see runCredits) rather than by CLI11, which would let the
// variable of one subcommand overwrite the flag of another.
void addConnectionOptions(CLI::App* command, CreditsArgs& args) {
  command->add_option("--redis", args.redis_url,
                      "Redis URL of the credit counters (default: $SMMHUB_REDIS)");
  command->add_option("--db", args.db_url,
                      "Ledger database: sqlite:PATH or postgresql://... (default: $SMMHUB_DB)");
}

// Fills VALUE from the environment variable NAME when the flag was not given.
bool fromEnvironment(std::string& value, const char* name) {
  if (value.empty()) {
    const char* set = std::getenv(name);
    value = set == nullptr ? "" : set;
  }
  return !value.empty();
}

void addKeyOptions(CLI::App* command, CreditsArgs& args, bool with_job) {
  command->add_option("tenant", args.tenant, "Tenant")->required();
  command->add_option("amount", args.amount, "Number of credits")->required();
  command->add_option("--key", args.key, "Idempotency key: a repeated call with it counts once")
      ->required();
  if (with_job) {
    command->add_option("--job", args.job, "Job or batch whose hold this is");
  }
  command->add_option("--actor", args.actor, "Requester recorded in the ledger (default: $USER)");
  addConnectionOptions(command, args);
}

std::string defaultActor() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : "cli";
}

Result<std::int64_t> parseAmount(const std::string& text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return Status::invalidArgument("amount '" + text + "' is not a whole number of credits");
  }
  return value;
}

std::string formatTime(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

struct Services {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<credits::Credits> credits;
};

Result<Services> connect(const CreditsArgs& args) {
  Services services;
  SMMHUB_ASSIGN_OR_RETURN(services.db, store::Database::open({.url = args.db_url, .pool_size = 2}));
  SMMHUB_ASSIGN_OR_RETURN(
      services.credits, credits::Credits::create({.redis_url = args.redis_url}, services.db.get()));
  return services;
}

int fail(std::string_view command, const Status& status) {
  fmt::print(stderr, "smmhub credits {}: {}\n", command, status.message());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCreditsFailed;
}

// Moves TENANT's events into the ledger now, so that `history` shows the
// call at once. The call itself has succeeded either way: an event left
// behind is moved by the next writer.
void moveToLedger(credits::Credits& credits, const std::string& tenant) {
  credits::LedgerWriter writer(credits, {});
  Result<credits::DrainStats> drained = writer.drainTenant(tenant);
  if (drained.ok()) {
    // One writer per call: leave the group, or the group grows with every call.
    (void)writer.leave(tenant);
  }
  if (!drained.ok()) {
    fmt::print(stderr,
               "smmhub credits: warning: the ledger is behind ({}); `smmhub credits sync` moves "
               "the events later\n",
               drained.status().message());
  }
}

Result<Receipt> applyChange(credits::Credits& credits, credits::Operation operation,
                            const credits::Request& request) {
  switch (operation) {
    case credits::Operation::kTopup:
      return credits.topup(request);
    case credits::Operation::kReserve:
      return credits.reserve(request);
    case credits::Operation::kCharge:
      return credits.commit(request);
    case credits::Operation::kRelease:
      return credits.release(request);
    case credits::Operation::kAdjustment:
      return credits.adjust(request);
  }
  return Status::internal(fmt::format("unknown credit operation {}", static_cast<int>(operation)));
}

int runChange(CreditsArgs& args, std::string_view name, credits::Operation operation) {
  credits::Request request{.tenant = args.tenant,
                           .key = args.key,
                           .job = args.job,
                           .actor = args.actor.empty() ? defaultActor() : args.actor,
                           .partial = args.partial};
  if (operation == credits::Operation::kRelease && args.amount == "all") {
    request.all = true;
  } else {
    Result<std::int64_t> amount = parseAmount(args.amount);
    if (!amount.ok()) {
      return fail(name, amount.status());
    }
    request.amount = *amount;
  }

  // Check the request before opening the database, so that a typing
  // mistake is reported as such whatever state the servers are in.
  if (Status valid = credits::checkRequest(operation, request); !valid.ok()) {
    return fail(name, valid);
  }

  Result<Services> services = connect(args);
  if (!services.ok()) {
    return fail(name, services.status());
  }
  credits::Credits& credits = *services->credits;
  Result<Receipt> receipt = applyChange(credits, operation, request);

  if (!receipt.ok()) {
    // The only failed precondition of a change is a key already used for
    // another call: the caller's mistake, not a server's.
    if (receipt.status().code() == StatusCode::kFailedPrecondition) {
      fmt::print(stderr, "smmhub credits {}: {}\n", name, receipt.status().message());
      return kExitUsage;
    }
    return fail(name, receipt.status());
  }

  if (receipt->outcome == Outcome::kShort) {
    fmt::print("short={} available={} held={}\n", receipt->shortfall, receipt->available,
               receipt->held);
    fmt::print(stderr,
               "smmhub credits {}: tenant {} is short of {} credits: {} available, {} needed\n",
               name, request.tenant, receipt->shortfall, receipt->available,
               receipt->available + receipt->shortfall);
    return kExitShort;
  }
  if (receipt->outcome == Outcome::kNotHeld) {
    fmt::print("available={} held={} job_held={}\n", receipt->available, receipt->held,
               receipt->job_held);
    std::string holder =
        request.job.empty() ? "the hold without a job" : fmt::format("job {}", request.job);
    fmt::print(stderr, "smmhub credits {}: {} holds {} credits, fewer than the {} requested\n",
               name, holder, receipt->job_held, request.amount);
    return kExitNotHeld;
  }

  moveToLedger(credits, request.tenant);
  fmt::print("{}={} available={} held={}{}\n", name, receipt->moved, receipt->available,
             receipt->held, receipt->replayed ? " (repeated key: the first call's result)" : "");
  return kExitOk;
}

int runBalance(const CreditsArgs& args) {
  Result<Services> services = connect(args);
  if (!services.ok()) {
    return fail("balance", services.status());
  }
  // The counters on Redis are the balance that every call checks and the
  // API shows. A Redis without them is not rebuilt here, because it may be
  // another Redis than the API's, where rebuilt counters would stay behind.
  credits::Credits& credits = *services->credits;
  Result<std::optional<credits::Balance>> balance = credits.counters(args.tenant);
  if (!balance.ok()) {
    return fail("balance", balance.status());
  }
  if (!*balance) {
    Result<redis::Pool::Lease> connection = credits.lease();
    if (!connection.ok()) {
      return fail("balance", connection.status());
    }
    Result<credits::Expected> expected =
        credits::readExpected(**connection, *services->db, args.tenant, credits::nowMillis());
    if (!expected.ok()) {
      return fail("balance", expected.status());
    }
    if (expected->available != 0 || expected->held != 0 || !expected->holds.empty()) {
      fmt::print(stderr,
                 "smmhub credits balance: redis {} has no credit counters for tenant {}, but the "
                 "ledger has available={} held={}. Check that --redis names the Redis of "
                 "smmhub-api and the workers: its counters are the balance. If it is that Redis "
                 "and it lost its data, the next change of the tenant's credits rebuilds them "
                 "from the ledger.\n",
                 credits.endpoint().url, args.tenant, expected->available, expected->held);
      return kExitCreditsFailed;
    }
    balance->emplace();
  }
  fmt::print("available={} held={}\n", (*balance)->available, (*balance)->held);
  for (const auto& [job, held] : (*balance)->holds) {
    fmt::print("  job {} holds {}\n", job.empty() ? "(none)" : job, held);
  }
  return kExitOk;
}

int runHistory(const CreditsArgs& args) {
  if (Status valid = checkTenantName(args.tenant); !valid.ok()) {
    return fail("history", valid);
  }
  Result<Services> services = connect(args);
  if (!services.ok()) {
    return fail("history", services.status());
  }
  moveToLedger(*services->credits, args.tenant);
  Result<std::vector<credits::Entry>> entries =
      credits::ledgerHistory(*services->db, args.tenant, args.limit);
  if (!entries.ok()) {
    return fail("history", entries.status());
  }
  fmt::print("{:<20}  {:<10}  {:>8}  {:>9}  {:>6}  {:<16}  {:<24}  {}\n", "time", "kind", "amount",
             "available", "held", "job", "key", "actor");
  for (const credits::Entry& entry : *entries) {
    fmt::print("{:<20}  {:<10}  {:>8}  {:>9}  {:>6}  {:<16}  {:<24}  {}\n",
               formatTime(entry.created_at_ms), entry.kind, entry.amount, entry.available_after,
               entry.held_after, entry.job_id.empty() ? "-" : entry.job_id, entry.op_key,
               entry.actor);
  }
  return kExitOk;
}

// Prints TENANT's price per video, after setting it with --set.
int runPrice(const CreditsArgs& args) {
  if (Status valid = checkTenantName(args.tenant); !valid.ok()) {
    return fail("price", valid);
  }
  Result<std::unique_ptr<store::Database>> db =
      store::Database::open({.url = args.db_url, .pool_size = 1});
  if (!db.ok()) {
    return fail("price", db.status());
  }
  if (args.price_command->count("--set") > 0) {
    std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    if (Status set = credits::setVideoPrice(**db, args.tenant, args.price, now_ms); !set.ok()) {
      return fail("price", set);
    }
  }
  Result<std::int64_t> price = credits::videoPrice(**db, args.tenant);
  if (!price.ok()) {
    return fail("price", price.status());
  }
  fmt::print("price={}\n", *price);
  return kExitOk;
}

int runReconcile(const CreditsArgs& args) {
  Result<Services> services = connect(args);
  if (!services.ok()) {
    return fail("reconcile", services.status());
  }
  // Events the writers have not moved yet are counted from the streams, so
  // the check needs no drain first.
  Result<credits::ReconcileReport> report = credits::reconcile(*services->credits, args.repair);
  if (!report.ok()) {
    return fail("reconcile", report.status());
  }
  int unrepaired = 0;
  for (const credits::Difference& difference : report->differences) {
    std::string redis = difference.missing ? "no counters" : credits::describe(difference.redis);
    fmt::print("tenant {}: redis has {}, the ledger says {}{}\n", difference.tenant, redis,
               credits::describe(difference.expected), difference.repaired ? "; repaired" : "");
    unrepaired += difference.repaired ? 0 : 1;
  }
  fmt::print("{} tenants checked, {} differ, {} repaired\n", report->tenants,
             report->differences.size(), report->differences.size() - unrepaired);
  for (const std::string& error : report->errors) {
    fmt::print(stderr, "smmhub credits reconcile: {}\n", error);
  }
  if (!report->errors.empty()) {
    return kExitCreditsFailed;
  }
  return unrepaired > 0 ? kExitDifferences : kExitOk;
}

int runSync(const CreditsArgs& args) {
  Result<Services> services = connect(args);
  if (!services.ok()) {
    return fail("sync", services.status());
  }
  credits::LedgerWriter writer(*services->credits, {});
  // The writer leaves every tenant's group at the end, as each call does.
  auto leaveGroups = [&] {
    Result<std::vector<std::string>> tenants = services->credits->tenants();
    for (const std::string& tenant : tenants.ok() ? *tenants : std::vector<std::string>()) {
      (void)writer.leave(tenant);
    }
  };
  if (args.follow) {
    InterruptScope interrupt;
    writer.run(interrupt.requested(), std::chrono::milliseconds(200));
    leaveGroups();
    return kExitOk;
  }
  Result<credits::DrainStats> drained = writer.drainAll();
  if (!drained.ok()) {
    return fail("sync", drained.status());
  }
  leaveGroups();
  fmt::print("moved {} events into the ledger ({} new entries)\n", drained->acknowledged,
             drained->inserted);
  return kExitOk;
}

}  // namespace

CLI::App* addCreditsCommand(CLI::App& app, CreditsArgs& args) {
  args.command = app.add_subcommand("credits", "Tenants' credits: balances, holds and the ledger");
  args.command->require_subcommand(1);

  args.balance = args.command->add_subcommand(
      "balance", "Print available=N held=M from the counters on Redis, as the API shows them");
  args.balance->add_option("tenant", args.tenant, "Tenant")->required();
  addConnectionOptions(args.balance, args);

  args.topup = args.command->add_subcommand("topup", "Add credits");
  addKeyOptions(args.topup, args, false);
  args.reserve = args.command->add_subcommand(
      "reserve", "Hold credits for a job; exits 3 when too few are available");
  addKeyOptions(args.reserve, args, true);
  args.reserve->add_flag("--partial", args.partial, "Hold what is available when short");
  args.commit = args.command->add_subcommand("commit", "Charge held credits: the render succeeded");
  addKeyOptions(args.commit, args, true);
  args.release =
      args.command->add_subcommand("release", "Give held credits back; AMOUNT may be 'all'");
  addKeyOptions(args.release, args, true);
  args.adjust = args.command->add_subcommand("adjust", "Correct a balance up or down");
  addKeyOptions(args.adjust, args, false);

  args.history = args.command->add_subcommand("history", "Print the newest ledger entries");
  args.history->add_option("tenant", args.tenant, "Tenant")->required();
  args.history->add_option("--limit", args.limit, "Maximum number of entries to print")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  addConnectionOptions(args.history, args);

  args.reconcile = args.command->add_subcommand(
      "reconcile", "Compare the counters with the ledger; exits 5 on a difference left");
  args.reconcile->add_flag("--repair", args.repair, "Set differing counters from the ledger");
  addConnectionOptions(args.reconcile, args);

  args.price_command = args.command->add_subcommand(
      "price", "Print what one video costs the tenant, in credits (1 unless set)");
  args.price_command->add_option("tenant", args.tenant, "Tenant")->required();
  args.price_command->add_option("--set", args.price,
                                 "Set the price per video for the tenant's later batches");
  args.price_command->add_option("--db", args.db_url,
                                 "Ledger database: sqlite:PATH or postgresql://... "
                                 "(default: $SMMHUB_DB)");
  args.price_command->add_option("--redis", args.redis_url, "Not used; accepted for symmetry");

  args.sync = args.command->add_subcommand("sync", "Move pending credit events into the ledger");
  args.sync->add_flag("--follow", args.follow, "Keep moving them until interrupted");
  addConnectionOptions(args.sync, args);
  return args.command;
}

int runCredits(CreditsArgs& args) {
  if (args.price_command->parsed()) {
    if (!fromEnvironment(args.db_url, "SMMHUB_DB")) {
      fmt::print(stderr,
                 "smmhub credits price: missing database URL: pass --db URL or set "
                 "SMMHUB_DB\n");
      return kExitUsage;
    }
    return runPrice(args);
  }
  if (!fromEnvironment(args.redis_url, "SMMHUB_REDIS")) {
    fmt::print(stderr, "smmhub credits: missing Redis URL: pass --redis URL or set SMMHUB_REDIS\n");
    return kExitUsage;
  }
  if (!fromEnvironment(args.db_url, "SMMHUB_DB")) {
    fmt::print(stderr,
               "smmhub credits: missing ledger database URL: pass --db URL or set SMMHUB_DB\n");
    return kExitUsage;
  }
  if (args.balance->parsed()) {
    return runBalance(args);
  }
  if (args.topup->parsed()) {
    return runChange(args, "topup", credits::Operation::kTopup);
  }
  if (args.reserve->parsed()) {
    return runChange(args, "reserve", credits::Operation::kReserve);
  }
  if (args.commit->parsed()) {
    return runChange(args, "commit", credits::Operation::kCharge);
  }
  if (args.release->parsed()) {
    return runChange(args, "release", credits::Operation::kRelease);
  }
  if (args.adjust->parsed()) {
    return runChange(args, "adjust", credits::Operation::kAdjustment);
  }
  if (args.history->parsed()) {
    return runHistory(args);
  }
  if (args.reconcile->parsed()) {
    return runReconcile(args);
  }
  return runSync(args);
}

}  // namespace smmhub::cli
