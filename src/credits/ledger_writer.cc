#include "credits/ledger_writer.h"

#include <unistd.h>

#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"
#include "credits/internal.h"

namespace smmhub::credits {
namespace {

using redis::ReplyPtr;
using redis::replyText;

// Acknowledges and deletes events in one step, so that no acknowledged event
// stays in the stream and no deleted one stays pending.
const redis::Script& ackScript() {
  static const auto* script = new redis::Script(R"lua(
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
)lua");
  return *script;
}

// Deletes the consumer ARGV[2] from the group ARGV[1] of the stream KEYS[1]
// when it has no pending events. Check and delete run in one step, so that
// nothing is delivered to it in between. Returns 1 when it was deleted.
const redis::Script& leaveScript() {
  static const auto* script = new redis::Script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then
  return 0
end
for _, consumer in ipairs(consumers) do
  local name, pending
  for i = 1, #consumer, 2 do
    if consumer[i] == 'name' then
      name = consumer[i + 1]
    elseif consumer[i] == 'pending' then
      pending = consumer[i + 1]
    end
  end
  if name == ARGV[2] then
    if pending ~= 0 then
      return 0
    end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    return 1
  end
end
return 0
)lua");
  return *script;
}

bool isNoGroup(const redisReply* reply) {
  return reply->type == REDIS_REPLY_ERROR && replyText(reply).starts_with("NOGROUP");
}

// Adds to TENANTS the tenant of every outbox stream on Redis, so that a
// stream whose tenant the tenant set lost (a failover that kept the stream)
// is still drained.
Status addStreamTenants(Credits& credits, std::set<std::string>& tenants) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, credits.lease());
  std::string cursor = "0";
  do {
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr page,
                            connection->command({"SCAN", cursor, "MATCH", "smmhub:cr:{*}:events",
                                                 "COUNT", "1000", "TYPE", "stream"}));
    if (page->type != REDIS_REPLY_ARRAY || page->elements != 2) {
      return Status::unavailable("ledger writer: SCAN: " + std::string(replyText(page.get())));
    }
    cursor = std::string(replyText(page->element[0]));

    const redisReply* keys = redis::elementAt(page.get(), 1);
    for (size_t i = 0; keys != nullptr && i < keys->elements; ++i) {
      std::string_view key = replyText(redis::elementAt(keys, i));
      size_t open = key.find('{');
      size_t close = key.find('}');
      if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        tenants.emplace(key.substr(open + 1, close - open - 1));
      }
    }
  } while (cursor != "0");
  return okStatus();
}

}  // namespace

std::string defaultConsumerName() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return fmt::format("{}-{}", host, ::getpid());
}

LedgerWriter::LedgerWriter(Credits& credits, LedgerWriterOptions options)
    : credits_(credits), options_(std::move(options)) {
  if (options_.consumer.empty()) {
    options_.consumer = defaultConsumerName();
  }
}

Result<DrainStats> LedgerWriter::drainTenant(const std::string& tenant) {
  DrainStats stats;
  store::Database* db = credits_.database();
  if (db == nullptr) {
    return Status::failedPrecondition("ledger writer: no ledger database");
  }
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, credits_.lease());
  std::string events = eventsKey(tenant);
  std::string group(kLedgerGroup);
  std::string count = std::to_string(options_.batch);
  std::string idle = std::to_string(options_.claim_idle.count());

  // Runs COMMAND, creating the group first when the stream or group is new
  // (or was lost with Redis's data).
  auto withGroup = [&](std::initializer_list<std::string_view> command) -> Result<ReplyPtr> {
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, connection->command(command));
    if (!isNoGroup(reply.get())) {
      return reply;
    }
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr created, connection->command({"XGROUP", "CREATE", events,
                                                                   group, "0", "MKSTREAM"}));
    if (created->type == REDIS_REPLY_ERROR && !replyText(created.get()).starts_with("BUSYGROUP")) {
      return Status::unavailable("ledger writer: XGROUP CREATE " + events + ": " +
                                 std::string(replyText(created.get())));
    }
    return connection->command(command);
  };

  // Inserts the events of ENTRIES (an array of [id, fields]) and removes
  // them from the stream. Returns how many there were.
  auto settle = [&](const redisReply* entries) -> Result<size_t> {
    std::vector<Entry> batch;
    std::vector<std::string> ids;
    for (size_t i = 0; entries != nullptr && i < entries->elements; ++i) {
      const redisReply* entry = redis::elementAt(entries, i);
      const redisReply* id = redis::elementAt(entry, 0);
      if (id == nullptr || id->type != REDIS_REPLY_STRING) {
        continue;
      }
      ids.emplace_back(replyText(id));
      const redisReply* fields = redis::elementAt(entry, 1);
      if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY) {
        continue;  // pending, but no longer in the stream: only acknowledge it
      }
      SMMHUB_ASSIGN_OR_RETURN(Entry event, parseEvent(tenant, entry));
      batch.push_back(std::move(event));
    }
    if (ids.empty()) {
      return size_t{0};
    }
    SMMHUB_ASSIGN_OR_RETURN(InsertOutcome outcome, insertEntries(*db, batch));
    for (const std::string& key : outcome.duplicates) {
      logger("credits")->error(
          "credit call applied twice on redis tenant={} key={}; the ledger counts it once, run "
          "`smmhub credits reconcile --repair`",
          tenant, key);
    }
    std::vector<std::string> args = {group};
    args.insert(args.end(), ids.begin(), ids.end());
    std::vector<std::string> keys = {events};
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr acked, ackScript().run(*connection, keys, args));
    if (acked->type == REDIS_REPLY_ERROR) {
      return Status::unavailable("ledger writer: acknowledging events of " + tenant + ": " +
                                 std::string(replyText(acked.get())));
    }
    stats.inserted += outcome.inserted;
    stats.duplicates += outcome.duplicates.size();
    stats.acknowledged += ids.size();
    return ids.size();
  };

  // Take over what dead writers left pending.
  std::string cursor = "0-0";
  do {
    SMMHUB_ASSIGN_OR_RETURN(
        ReplyPtr claimed,
        withGroup({"XAUTOCLAIM", events, group, options_.consumer, idle, cursor, "COUNT", count}));
    if (claimed->type != REDIS_REPLY_ARRAY || claimed->elements < 2) {
      return Status::unavailable("ledger writer: XAUTOCLAIM " + events + ": " +
                                 std::string(replyText(claimed.get())));
    }
    cursor = std::string(replyText(claimed->element[0]));
    SMMHUB_ASSIGN_OR_RETURN(size_t settled, settle(redis::elementAt(claimed.get(), 1)));
    (void)settled;
  } while (cursor != "0-0");

  // This consumer's own pending events ("0"), then new ones (">").
  for (std::string_view from : {std::string_view("0"), std::string_view(">")}) {
    while (true) {
      SMMHUB_ASSIGN_OR_RETURN(
          ReplyPtr read, withGroup({"XREADGROUP", "GROUP", group, options_.consumer, "COUNT", count,
                                    "STREAMS", events, from}));
      if (read->type == REDIS_REPLY_NIL) {
        break;
      }
      const redisReply* stream = redis::elementAt(read.get(), 0);
      if (read->type != REDIS_REPLY_ARRAY || read->elements != 1 || stream == nullptr ||
          stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) {
        return Status::unavailable("ledger writer: XREADGROUP " + events + ": " +
                                   std::string(replyText(read.get())));
      }
      SMMHUB_ASSIGN_OR_RETURN(size_t settled, settle(redis::elementAt(stream, 1)));
      if (settled == 0) {
        break;
      }
    }
  }
  return stats;
}

Result<DrainStats> LedgerWriter::drainAll() {
  std::set<std::string> tenants;
  SMMHUB_ASSIGN_OR_RETURN(std::vector<std::string> registered, credits_.tenants());
  tenants.insert(registered.begin(), registered.end());
  if (!scanned_) {
    SMMHUB_RETURN_IF_ERROR(addStreamTenants(credits_, tenants));
    scanned_ = true;
  }

  // One tenant's failure (a malformed event, say) must not hold back the
  // ledger of the others, so every tenant is drained before reporting it.
  DrainStats total;
  Status first_failure = okStatus();
  std::size_t failures = 0;
  for (const std::string& tenant : tenants) {
    Result<DrainStats> stats = drainTenant(tenant);
    if (!stats.ok()) {
      if (failures++ == 0) {
        first_failure = stats.status();
      }
      continue;
    }
    total.inserted += stats->inserted;
    total.acknowledged += stats->acknowledged;
    total.duplicates += stats->duplicates;
  }
  if (failures > 0) {
    return Status(first_failure.code(),
                  fmt::format("ledger writer: moving events failed for {} of {} tenants; the "
                              "first error: {}",
                              failures, tenants.size(), first_failure.message()));
  }
  return total;
}

Result<bool> LedgerWriter::leave(const std::string& tenant) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, credits_.lease());
  std::vector<std::string> keys = {eventsKey(tenant)};
  std::vector<std::string> args = {std::string(kLedgerGroup), options_.consumer};
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr left, leaveScript().run(*connection, keys, args));
  if (left->type != REDIS_REPLY_INTEGER) {
    return Status::unavailable("ledger writer: leaving the group of " + keys[0] + ": " +
                               std::string(replyText(left.get())));
  }
  return left->integer == 1;
}

void LedgerWriter::run(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  bool failing = false;
  while (!stop.load()) {
    Result<DrainStats> drained = drainAll();
    if (!drained.ok() && !failing) {
      logger("credits")->warn("ledger writer: {}; trying again every {} ms",
                              drained.status().message(), interval.count());
    }
    if (drained.ok() && failing) {
      logger("credits")->info("ledger writer: working again");
    }
    failing = !drained.ok();
    auto until = std::chrono::steady_clock::now() + interval;
    while (!stop.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

}  // namespace smmhub::credits
