// Credits: per-tenant counters on Redis, changed only by Lua scripts that
// check and change in one step, with a SQL ledger as the durable record.
//
// A tenant's credits are either available or held. A reservation moves
// credits from available to held under a job; committing a rendered video
// charges one held credit; releasing gives held credits back. Every call
// carries an idempotency key: a call repeated with its key changes nothing
// and returns the first result, so that callers retry freely after a
// timeout. Every change also appends an event to the tenant's Redis stream
// in the same script (an outbox); LedgerWriter moves those events into the
// SQL ledger. When Redis has lost a tenant's counters (a restart without
// persistence, a failover), the next call rebuilds them from the ledger plus
// the events the writer has not yet acknowledged.
//
// Redis being unreachable fails every call with unavailable: credits are
// never granted on trust.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto credits, Credits::create({.redis_url = url}, db.get()));
//   SMMHUB_ASSIGN_OR_RETURN(Receipt hold, credits->reserve({.tenant = "acme", .amount = 50,
//                                                          .key = "batch-7:reserve",
//                                                          .job = "batch-7"}));
//   if (hold.outcome == Outcome::kShort) { ... hold.shortfall ... }
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "redis/connection.h"
#include "redis/pool.h"
#include "store/database.h"

namespace smmhub::credits {

enum class Operation {
  kTopup,
  kReserve,
  kCharge,
  kRelease,
  kAdjustment
};

// The ledger's name of OPERATION: "topup", "reserve", "charge", ...
std::string_view operationName(Operation operation);

struct Request {
  std::string tenant;
  // Credits to move, at least 1; an adjustment may be negative.
  std::int64_t amount = 0;
  // The idempotency key: 1 to 200 printable ASCII characters, unique per
  // tenant among the calls that should count once.
  std::string key;
  // The job or batch whose hold a reservation, a charge or a release uses.
  // Empty is a hold of its own, for holds made by hand.
  std::string job;
  // The requester recorded in the ledger: a user name, "broker" or "reaper".
  std::string actor;
  // A reservation that cannot be granted in full grants what is available.
  bool partial = false;
  // A release gives back everything the job holds; amount is ignored.
  bool all = false;
};

enum class Outcome {
  kDone,     // the change was made (or had been, for a replay)
  kShort,    // too few credits available; nothing changed
  kNotHeld,  // the job holds fewer credits than requested; nothing changed
};

struct Receipt {
  Outcome outcome = Outcome::kDone;
  std::int64_t moved = 0;  // credits the call moved
  std::int64_t available = 0;
  std::int64_t held = 0;
  std::int64_t job_held = 0;   // what the request's job holds afterwards
  std::int64_t shortfall = 0;  // for kShort: what was missing
  bool replayed = false;       // the key had been used: this is the first result
};

struct Balance {
  std::int64_t available = 0;
  std::int64_t held = 0;
  std::map<std::string, std::int64_t> holds;  // job -> credits held
};

struct CreditsOptions {
  // "redis://HOST:PORT[/DB]" or "unix:///PATH". Use an instance with
  // persistence and maxmemory-policy noeviction: evicting a counter would
  // lose credits until the next rebuild.
  std::string redis_url;
  std::chrono::milliseconds timeout{1'000};
  // How long a key's first result is kept for replays.
  std::chrono::hours key_retention{7 * 24};
};

class Credits {
 public:
  // Checks the URL; connects on first use. DB holds the ledger and must
  // outlive the Credits. Errors: invalidArgument for a malformed URL.
  static Result<std::unique_ptr<Credits>> create(CreditsOptions options, store::Database* db);

  Result<Receipt> topup(const Request& request);
  Result<Receipt> reserve(const Request& request);
  // Charges held credits of the request's job: the render succeeded.
  Result<Receipt> commit(const Request& request);
  Result<Receipt> release(const Request& request);
  Result<Receipt> adjust(const Request& request);

  // Returns TENANT's counters, rebuilding them first when Redis has none
  // (see seed()).
  Result<Balance> balance(const std::string& tenant);

  // Returns TENANT's counters as Redis has them, or nullopt when it has
  // none. Unlike balance(), it never writes to Redis.
  Result<std::optional<Balance>> counters(const std::string& tenant);

  // Tenants with counters on Redis.
  Result<std::vector<std::string>> tenants();

  // Returns whether TENANT's SQL ledger contains the entry of KEY. Errors:
  // unavailable when the database fails.
  Result<bool> inLedger(const std::string& tenant, const std::string& key);

  const redis::Endpoint& endpoint() const { return endpoint_; }
  store::Database* database() const { return db_; }
  const CreditsOptions& options() const { return options_; }

  // A connection from the pool, returned when the lease goes. Errors:
  // unavailable while Redis cannot be reached.
  Result<redis::Pool::Lease> lease() { return pool_.acquire(); }

  // Rebuilds TENANT's counters from the ledger and the unacknowledged
  // events when Redis has none. Every operation calls it when the apply
  // script finds no counters. Errors: unavailable when Redis or the
  // database fails, with nothing rebuilt.
  Status seed(const std::string& tenant);

 private:
  Credits(CreditsOptions options, redis::Endpoint endpoint, store::Database* db)
      : options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        db_(db),
        pool_(endpoint_, {.timeout = options_.timeout}) {}

  Result<Receipt> apply(Operation operation, const Request& request);

  CreditsOptions options_;
  redis::Endpoint endpoint_;
  store::Database* db_;
  redis::Pool pool_;
};

// Checks a request's tenant, key, job and amount for OPERATION. Errors:
// invalidArgument naming the field and what is wrong.
Status checkRequest(Operation operation, const Request& request);

}  // namespace smmhub::credits
