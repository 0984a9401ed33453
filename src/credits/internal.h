// Redis keys, Lua scripts and the ledger's SQL, shared by the files of the
// credits library and its tests.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "redis/connection.h"
#include "store/database.h"

namespace smmhub::credits {

// Every key of a tenant shares the hash tag {TENANT}, so that Redis Cluster
// keeps them in one slot and a script may use them together.
std::string accountKey(std::string_view tenant);                       // hash: available, held
std::string holdsKey(std::string_view tenant);                         // hash: job -> held credits
std::string eventsKey(std::string_view tenant);                        // stream: the outbox
std::string recordKey(std::string_view tenant, std::string_view key);  // a key's first result
// A set of every tenant with counters. It is not tagged: only the ledger
// writer and the reconciler read it, outside scripts.
std::string tenantsKey();

// The consumer group of the ledger writers on each tenant's stream.
inline constexpr std::string_view kLedgerGroup = "ledger";

// The script behind every operation. KEYS: account, holds, record, events.
// ARGV: operation, amount ("all" for a whole release), job, actor, partial
// ("1" or "0"), record time to live in ms, idempotency key. Returns
// {code, moved, available, held, job_held, replayed, detail}.
const redis::Script& applyScript();

// A Lua chunk that sets the local `last` to the last generated id of the
// stream KEYS[3], or "0-0" without the stream. Unlike the last entry's id, it
// changes with every XADD and never with an XDEL.
inline constexpr std::string_view kLastEventIdLua = R"lua(
local last = '0-0'
if redis.call('EXISTS', KEYS[3]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[3])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      last = info[i + 1]
    end
  end
end
)lua";

// Creates a tenant's counters when they are missing. KEYS: account, holds.
// ARGV: available, held, then job and credits pairs. Returns 1 when it
// created them, 0 when another caller had.
const redis::Script& seedScript();

// Overwrites a tenant's counters unless the stream has had an event since
// the state was read. KEYS: account, holds, events. ARGV: the stream's last
// generated id when read, available, held, then job and credits pairs.
// Returns 1 when it wrote, 0 when the stream moved on.
const redis::Script& repairScript();

// One ledger row; also the form of an outbox event.
struct Entry {
  std::int64_t id = 0;  // ledger row id; 0 for an event
  std::string tenant;
  std::string kind;
  std::int64_t amount = 0;
  std::int64_t available_change = 0;
  std::int64_t held_change = 0;
  std::string op_key;
  std::string job_id;
  std::string actor;
  std::string event_id;
  std::string request;  // "OPERATION|AMOUNT|JOB", as the apply script compares it
  std::int64_t available_after = 0;
  std::int64_t held_after = 0;
  std::int64_t job_held_after = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t recorded_at_ms = 0;
};

// Parses one stream entry (id and field list) of TENANT's outbox.
Result<Entry> parseEvent(std::string_view tenant, const redisReply* entry);

// The first result of a key as the script stores it.
std::string recordValue(const Entry& entry);

struct InsertOutcome {
  std::size_t inserted = 0;
  // Keys already in the ledger under another event: Redis applied a call
  // twice (its record had expired or was lost). Reconcile repairs the
  // counters.
  std::vector<std::string> duplicates;
};

// Inserts the entries whose (tenant, key) is not in the ledger, in one
// transaction.
Result<InsertOutcome> insertEntries(store::Database& db, const std::vector<Entry>& entries);

// A tenant's state according to the ledger.
struct LedgerState {
  std::int64_t available = 0;
  std::int64_t held = 0;
  std::map<std::string, std::int64_t> holds;
  std::set<std::string> present;  // the requested keys that the ledger contains
  std::vector<Entry> recent;      // entries made at or after since_ms
};

// Reads TENANT's sums, which of KEYS the ledger has, and the entries from
// SINCE_MS on, in one transaction so that they agree.
Result<LedgerState> readLedger(store::Database& db, const std::string& tenant,
                               const std::vector<std::string>& keys, std::int64_t since_ms);

// Returns TENANT's newest entries first, at most LIMIT.
Result<std::vector<Entry>> ledgerHistory(store::Database& db, const std::string& tenant, int limit);

// Tenants with ledger entries.
Result<std::vector<std::string>> ledgerTenants(store::Database& db);

// The counters a tenant must have: the ledger plus the events in the
// stream that the ledger lacks.
struct Expected {
  std::int64_t available = 0;
  std::int64_t held = 0;
  std::map<std::string, std::int64_t> holds;
  std::string last_event_id = "0-0";  // the stream's last generated id
  std::vector<Entry> pending;         // stream events not in the ledger yet
  std::vector<Entry> replayable;      // entries whose keys must replay
};

// Reads the stream, then the ledger. An event that the ledger writer moves
// in between is in both and counts once, by its key.
Result<Expected> readExpected(redis::Connection& connection, store::Database& db,
                              const std::string& tenant, std::int64_t records_since_ms);

std::int64_t nowMillis();

}  // namespace smmhub::credits
