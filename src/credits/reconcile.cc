#include "credits/reconcile.h"

#include <charconv>
#include <set>

#include <fmt/format.h>

#include "common/log.h"
#include "credits/internal.h"

namespace smmhub::credits {
namespace {

using redis::ReplyPtr;
using redis::replyText;

// Reads the stream's last generated id and the counters in one step.
const redis::Script& snapshotScript() {
  static const auto* script = new redis::Script(std::string(kLastEventIdLua) + R"lua(
return {last, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
)lua");
  return *script;
}

std::int64_t toInteger(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

struct Snapshot {
  std::string last_event_id;
  bool missing = true;
  Balance balance;
};

Result<Snapshot> readSnapshot(redis::Connection& connection, const std::string& tenant) {
  std::vector<std::string> keys = {accountKey(tenant), holdsKey(tenant), eventsKey(tenant)};
  std::vector<std::string> args;
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, snapshotScript().run(connection, keys, args));
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
    return Status::unavailable("reconcile " + tenant + ": redis " + connection.endpoint().url +
                               ": " + std::string(replyText(reply.get())));
  }
  const redisReply* account = redis::elementAt(reply.get(), 1);
  const redisReply* holds = redis::elementAt(reply.get(), 2);
  if (account == nullptr || account->type != REDIS_REPLY_ARRAY || holds == nullptr ||
      holds->type != REDIS_REPLY_ARRAY) {
    return Status::unavailable("reconcile " + tenant + ": redis " + connection.endpoint().url +
                               ": the snapshot script returned no account and holds hashes");
  }
  Snapshot snapshot;
  snapshot.last_event_id = replyText(redis::elementAt(reply.get(), 0));
  snapshot.missing = account->elements == 0;
  for (size_t i = 0; i + 1 < account->elements; i += 2) {
    std::int64_t value = toInteger(replyText(account->element[i + 1]));
    (replyText(account->element[i]) == "available" ? snapshot.balance.available
                                                   : snapshot.balance.held) = value;
  }
  for (size_t i = 0; i + 1 < holds->elements; i += 2) {
    snapshot.balance.holds[std::string(replyText(holds->element[i]))] =
        toInteger(replyText(holds->element[i + 1]));
  }
  return snapshot;
}

bool same(const Balance& a, const Balance& b) {
  return a.available == b.available && a.held == b.held && a.holds == b.holds;
}

}  // namespace

std::string describe(const Balance& balance) {
  std::string text = fmt::format("available {} held {}", balance.available, balance.held);
  if (!balance.holds.empty()) {
    text += " (";
    bool first = true;
    for (const auto& [job, credits] : balance.holds) {
      text += fmt::format("{}{} {}", first ? "" : ", ", job.empty() ? "-" : job, credits);
      first = false;
    }
    text += ")";
  }
  return text;
}

namespace {

// Compares one tenant and, with REPAIR, repairs it; adds a difference to
// REPORT.
Status reconcileTenant(Credits& credits, store::Database& db, const std::string& tenant,
                       bool repair, ReconcileReport& report) {
  constexpr int kAttempts = 5;
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, credits.lease());
  for (int attempt = 1;; ++attempt) {
    SMMHUB_ASSIGN_OR_RETURN(Snapshot snapshot, readSnapshot(*connection, tenant));
    // Records are restored only by seed(); the comparison needs none.
    SMMHUB_ASSIGN_OR_RETURN(Expected expected, readExpected(*connection, db, tenant, nowMillis()));
    // An event added after readExpected read the stream and moved into
    // the ledger before it read the ledger would count in the expected
    // state but not in the snapshot. The stream's id, read again, shows it.
    SMMHUB_ASSIGN_OR_RETURN(Snapshot after, readSnapshot(*connection, tenant));
    if (expected.last_event_id != snapshot.last_event_id ||
        after.last_event_id != snapshot.last_event_id) {
      if (attempt == kAttempts) {
        return Status::unavailable("reconcile " + tenant +
                                   ": the tenant's credits kept changing; try again");
      }
      continue;
    }
    Balance wanted{expected.available, expected.held, expected.holds};
    if (!snapshot.missing && same(snapshot.balance, wanted)) {
      break;
    }
    Difference difference{tenant, snapshot.missing, snapshot.balance, wanted, false};
    if (repair && snapshot.missing) {
      SMMHUB_RETURN_IF_ERROR(credits.seed(tenant));
      difference.repaired = true;
    } else if (repair) {
      std::vector<std::string> keys = {accountKey(tenant), holdsKey(tenant), eventsKey(tenant)};
      std::vector<std::string> args = {expected.last_event_id, std::to_string(wanted.available),
                                       std::to_string(wanted.held)};
      for (const auto& [job, held] : wanted.holds) {
        args.push_back(job);
        args.push_back(std::to_string(held));
      }
      SMMHUB_ASSIGN_OR_RETURN(ReplyPtr wrote, repairScript().run(*connection, keys, args));
      if (wrote->type != REDIS_REPLY_INTEGER) {
        return Status::unavailable("reconcile " + tenant + ": repairing counters: redis " +
                                   connection->endpoint().url + ": " +
                                   std::string(replyText(wrote.get())));
      }
      if (wrote->integer == 0 && attempt < kAttempts) {
        continue;
      }
      difference.repaired = wrote->type == REDIS_REPLY_INTEGER && wrote->integer == 1;
      if (difference.repaired) {
        logger("credits")->warn("credit counters repaired tenant={} was=\"{}\" now=\"{}\"", tenant,
                                describe(snapshot.balance), describe(wanted));
      }
    }
    report.differences.push_back(std::move(difference));
    break;
  }
  return okStatus();
}

}  // namespace

Result<ReconcileReport> reconcile(Credits& credits, bool repair) {
  store::Database* db = credits.database();
  if (db == nullptr) {
    return Status::failedPrecondition("reconcile: no ledger database");
  }
  std::set<std::string> tenants;
  SMMHUB_ASSIGN_OR_RETURN(std::vector<std::string> in_ledger, ledgerTenants(*db));
  SMMHUB_ASSIGN_OR_RETURN(std::vector<std::string> on_redis, credits.tenants());
  tenants.insert(in_ledger.begin(), in_ledger.end());
  tenants.insert(on_redis.begin(), on_redis.end());

  ReconcileReport report;
  report.tenants = tenants.size();
  // One tenant that cannot be read (a malformed event, say) does not stop
  // the check of the others.
  for (const std::string& tenant : tenants) {
    if (Status checked = reconcileTenant(credits, *db, tenant, repair, report); !checked.ok()) {
      report.errors.push_back(checked.message());
    }
  }
  return report;
}

}  // namespace smmhub::credits
