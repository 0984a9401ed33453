#include "credits/credits.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "common/log.h"
#include "common/tenant.h"
#include "credits/internal.h"

namespace smmhub::credits {
namespace {

using redis::ReplyPtr;
using redis::replyText;

// Amounts above this are rejected as typing mistakes; the counters could hold
// far more.
constexpr std::int64_t kMaxAmount = 1'000'000'000;
constexpr size_t kMaxKey = 200;
constexpr size_t kMaxJob = 200;

bool printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 127; });
}

// The integer at INDEX of the apply script's reply; 0 when it is missing or
// not an integer.
std::int64_t integerAt(const redisReply* reply, size_t index) {
  const redisReply* element = redis::elementAt(reply, index);
  return element != nullptr && element->type == REDIS_REPLY_INTEGER ? element->integer : 0;
}

std::string textAt(const redisReply* reply, size_t index) {
  return std::string(replyText(redis::elementAt(reply, index)));
}

Result<std::int64_t> parseInteger(std::string_view text, std::string_view what) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return Status::dataLoss(fmt::format("credit counters: {} '{}' is not an integer", what, text));
  }
  return value;
}

std::vector<std::string> countersArgs(std::int64_t available, std::int64_t held,
                                      const std::map<std::string, std::int64_t>& holds) {
  std::vector<std::string> args = {std::to_string(available), std::to_string(held)};
  for (const auto& [job, credits] : holds) {
    args.push_back(job);
    args.push_back(std::to_string(credits));
  }
  return args;
}

}  // namespace

std::string_view operationName(Operation operation) {
  switch (operation) {
    case Operation::kTopup:
      return "topup";
    case Operation::kReserve:
      return "reserve";
    case Operation::kCharge:
      return "charge";
    case Operation::kRelease:
      return "release";
    case Operation::kAdjustment:
      return "adjustment";
  }
  return "unknown";
}

Status checkRequest(Operation operation, const Request& request) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(request.tenant));
  if (request.key.empty() || request.key.size() > kMaxKey || !printable(request.key)) {
    return Status::invalidArgument(fmt::format(
        "key '{}': use 1 to {} printable ASCII characters without spaces", request.key, kMaxKey));
  }
  if (request.job.size() > kMaxJob || !printable(request.job)) {
    return Status::invalidArgument(fmt::format(
        "job '{}': use up to {} printable ASCII characters without spaces", request.job, kMaxJob));
  }
  if (request.actor.find_first_of("\n\r") != std::string::npos || request.actor.size() > 200) {
    return Status::invalidArgument("actor: use one line of up to 200 characters");
  }
  bool whole_release = operation == Operation::kRelease && request.all;
  if (whole_release) {
    return okStatus();
  }
  // Compare with both bounds rather than negate: -INT64_MIN overflows.
  bool in_range = request.amount >= -kMaxAmount && request.amount <= kMaxAmount;
  bool signed_ok = operation == Operation::kAdjustment ? request.amount != 0 : request.amount > 0;
  if (!signed_ok || !in_range) {
    return Status::invalidArgument(fmt::format(
        "amount {}: {} takes {} from 1 to {}", request.amount, operationName(operation),
        operation == Operation::kAdjustment ? "a non-zero number of credits, negative or positive,"
                                            : "a number of credits",
        kMaxAmount));
  }
  return okStatus();
}

Result<std::unique_ptr<Credits>> Credits::create(CreditsOptions options, store::Database* db) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint, redis::parseUrl(options.redis_url, "--redis"));
  return std::unique_ptr<Credits>(new Credits(std::move(options), std::move(endpoint), db));
}

Result<Receipt> Credits::topup(const Request& request) {
  return apply(Operation::kTopup, request);
}
Result<Receipt> Credits::reserve(const Request& request) {
  return apply(Operation::kReserve, request);
}
Result<Receipt> Credits::commit(const Request& request) {
  return apply(Operation::kCharge, request);
}
Result<Receipt> Credits::release(const Request& request) {
  return apply(Operation::kRelease, request);
}
Result<Receipt> Credits::adjust(const Request& request) {
  return apply(Operation::kAdjustment, request);
}

Result<Receipt> Credits::apply(Operation operation, const Request& request) {
  SMMHUB_RETURN_IF_ERROR(checkRequest(operation, request));
  std::string amount =
      operation == Operation::kRelease && request.all ? "all" : std::to_string(request.amount);
  std::vector<std::string> keys = {accountKey(request.tenant), holdsKey(request.tenant),
                                   recordKey(request.tenant, request.key),
                                   eventsKey(request.tenant)};
  std::vector<std::string> args = {
      std::string(operationName(operation)),
      amount,
      request.job,
      request.actor,
      request.partial ? "1" : "0",
      std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.key_retention).count()),
      request.key};
  std::string where =
      fmt::format("credits {} for tenant {}", operationName(operation), request.tenant);
  // The second attempt follows a rebuild of the tenant's counters.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<ReplyPtr> reply = [&]() -> Result<ReplyPtr> {
      SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, lease());
      return applyScript().run(*connection, keys, args);
    }();
    if (!reply.ok()) {
      return reply.status().withContext(where + " failed");
    }
    const redisReply* answer = reply->get();
    if (answer->type == REDIS_REPLY_ERROR) {
      return Status::unavailable(where + ": redis " + endpoint_.url + ": " +
                                 std::string(replyText(answer)));
    }
    std::string code = textAt(answer, 0);
    if (code == "unseeded") {
      SMMHUB_RETURN_IF_ERROR(seed(request.tenant));
      continue;
    }
    if (code == "key_reused") {
      return Status::failedPrecondition(fmt::format(
          "{}: key '{}' was already used for another call ({}); use a new key for each call", where,
          request.key, textAt(answer, 6)));
    }
    Receipt receipt;
    receipt.moved = integerAt(answer, 1);
    receipt.available = integerAt(answer, 2);
    receipt.held = integerAt(answer, 3);
    receipt.job_held = integerAt(answer, 4);
    receipt.replayed = integerAt(answer, 5) == 1;
    if (code == "short") {
      // A reservation needs AMOUNT credits available; a negative adjustment
      // needs -AMOUNT.
      std::int64_t needed = operation == Operation::kAdjustment ? -request.amount : request.amount;
      receipt.outcome = Outcome::kShort;
      receipt.shortfall = needed - receipt.available;
    } else if (code == "not_held") {
      receipt.outcome = Outcome::kNotHeld;
    } else if (code != "done") {
      return Status::internal(where + ": unexpected apply script reply code '" + code + "'");
    }
    return receipt;
  }
  return Status::unavailable(where + ": the counters vanished again after a rebuild");
}

Status Credits::seed(const std::string& tenant) {
  if (db_ == nullptr) {
    return Status::failedPrecondition("credits for tenant " + tenant +
                                      ": no counters on redis and no ledger to rebuild them from");
  }
  std::string where =
      "credits for tenant " + tenant + ": rebuilding counters: redis " + endpoint_.url;
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, lease());
  // Register the tenant first: a writer that finds it without events does
  // nothing, but one that misses it would leave its events unmoved.
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr added, connection->command({"SADD", tenantsKey(), tenant}));
  if (added->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(
        fmt::format("{}: SADD {}: {}", where, tenantsKey(), replyText(added.get())));
  }
  std::int64_t since =
      nowMillis() -
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.key_retention).count();
  SMMHUB_ASSIGN_OR_RETURN(Expected expected, readExpected(*connection, *db_, tenant, since));

  // Records first: once the counters exist, calls run, and a retried call
  // must find its first result.
  int queued = 0;
  std::string ttl = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.key_retention).count());
  for (const Entry& entry : expected.replayable) {
    std::string key = recordKey(tenant, entry.op_key);
    std::string value = recordValue(entry);
    std::string_view args[] = {"SET", key, value, "PX", ttl, "NX"};
    SMMHUB_RETURN_IF_ERROR(connection->append(args));
    queued++;
  }
  // Read every reply before returning, so that none is left on the pooled
  // connection. Counters without the records would count a retry twice.
  std::string record_error;
  for (int i = 0; i < queued; ++i) {
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr stored, connection->readReply());
    if (stored->type == REDIS_REPLY_ERROR && record_error.empty()) {
      record_error = replyText(stored.get());
    }
  }
  if (!record_error.empty()) {
    return Status::unavailable(
        fmt::format("{}: restoring idempotency records: {}", where, record_error));
  }

  std::vector<std::string> keys = {accountKey(tenant), holdsKey(tenant)};
  std::vector<std::string> args = countersArgs(expected.available, expected.held, expected.holds);
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr seeded, seedScript().run(*connection, keys, args));
  if (seeded->type != REDIS_REPLY_INTEGER) {
    return Status::unavailable(fmt::format("{}: {}", where, replyText(seeded.get())));
  }
  if (seeded->integer == 1 && (expected.available != 0 || expected.held != 0)) {
    logger("credits")->warn(
        "credit counters rebuilt from the ledger tenant={} available={} held={} pending_events={}",
        tenant, expected.available, expected.held, expected.pending.size());
  }
  return okStatus();
}

Result<Balance> Credits::balance(const std::string& tenant) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    SMMHUB_ASSIGN_OR_RETURN(std::optional<Balance> balance, counters(tenant));
    if (balance) {
      return *balance;
    }
    SMMHUB_RETURN_IF_ERROR(seed(tenant));
  }
  return Status::unavailable("credits for tenant " + tenant +
                             ": the counters vanished again after a rebuild");
}

Result<bool> Credits::inLedger(const std::string& tenant, const std::string& key) {
  SMMHUB_ASSIGN_OR_RETURN(LedgerState state, readLedger(*db_, tenant, {key}, nowMillis()));
  return state.present.contains(key);
}

Result<std::optional<Balance>> Credits::counters(const std::string& tenant) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(tenant));
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, lease());
  std::string account = accountKey(tenant);
  std::string holds = holdsKey(tenant);
  std::string_view get_account[] = {"HGETALL", account};
  std::string_view get_holds[] = {"HGETALL", holds};
  SMMHUB_RETURN_IF_ERROR(connection->append(get_account));
  SMMHUB_RETURN_IF_ERROR(connection->append(get_holds));
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr account_reply, connection->readReply());
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr holds_reply, connection->readReply());

  for (const auto& [key, reply] :
       {std::pair(&account, &account_reply), std::pair(&holds, &holds_reply)}) {
    if ((*reply)->type != REDIS_REPLY_ARRAY) {
      return Status::unavailable(fmt::format("credits for tenant {}: redis {}: HGETALL {}: {}",
                                             tenant, endpoint_.url, *key, replyText(reply->get())));
    }
  }
  if (account_reply->elements == 0) {
    return std::optional<Balance>();
  }

  Balance balance;
  for (size_t i = 0; i + 1 < account_reply->elements; i += 2) {
    std::string_view field = replyText(account_reply->element[i]);
    SMMHUB_ASSIGN_OR_RETURN(std::int64_t value,
                            parseInteger(replyText(account_reply->element[i + 1]), field));
    if (field == "available") {
      balance.available = value;
    } else if (field == "held") {
      balance.held = value;
    }
  }
  for (size_t i = 0; i + 1 < holds_reply->elements; i += 2) {
    std::string job(replyText(holds_reply->element[i]));
    SMMHUB_ASSIGN_OR_RETURN(balance.holds[job],
                            parseInteger(replyText(holds_reply->element[i + 1]), "hold"));
  }
  return std::optional<Balance>(std::move(balance));
}

Result<std::vector<std::string>> Credits::tenants() {
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, lease());
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, connection->command({"SMEMBERS", tenantsKey()}));
  // An error here must not read as "no tenants": the ledger writer, the
  // reaper and reconcile would skip every tenant.
  if (reply->type != REDIS_REPLY_ARRAY) {
    return Status::unavailable(fmt::format("credit tenants: redis {}: SMEMBERS {}: {}",
                                           endpoint_.url, tenantsKey(), replyText(reply.get())));
  }
  std::vector<std::string> tenants;
  for (size_t i = 0; i < reply->elements; ++i) {
    tenants.emplace_back(replyText(reply->element[i]));
  }
  std::sort(tenants.begin(), tenants.end());
  return tenants;
}

}  // namespace smmhub::credits
