// Reading the outbox streams: events, and the state the counters must have.
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "credits/internal.h"

namespace smmhub::credits {
namespace {

using redis::ReplyPtr;
using redis::replyText;

bool toInteger(std::string_view text, std::int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// Reads the stream's last generated id: unlike the last entry's id, it
// changes with every XADD and never with an XDEL.
Result<std::string> lastGeneratedId(redis::Connection& connection, const std::string& key) {
  std::string where = "redis " + connection.endpoint().url;
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr exists, connection.command({"EXISTS", key}));
  // An error reply (such as LOADING) must not read as "no stream": a rebuild
  // would then miss the events that the ledger lacks.
  if (exists->type != REDIS_REPLY_INTEGER) {
    return Status::unavailable(
        fmt::format("{}: EXISTS {}: {}", where, key, replyText(exists.get())));
  }
  if (exists->integer == 0) {
    return std::string("0-0");
  }
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr info, connection.command({"XINFO", "STREAM", key}));
  if (info->type != REDIS_REPLY_ARRAY) {
    return Status::unavailable(
        fmt::format("{}: XINFO STREAM {}: {}", where, key, replyText(info.get())));
  }
  for (size_t i = 0; i + 1 < info->elements; i += 2) {
    if (replyText(info->element[i]) == "last-generated-id") {
      return std::string(replyText(info->element[i + 1]));
    }
  }
  return Status::unavailable(
      fmt::format("{}: XINFO STREAM {} has no last-generated-id", where, key));
}

}  // namespace

Result<Entry> parseEvent(std::string_view tenant, const redisReply* entry) {
  const redisReply* id = redis::elementAt(entry, 0);
  const redisReply* fields = redis::elementAt(entry, 1);
  if (entry == nullptr || entry->elements != 2 || id == nullptr || id->type != REDIS_REPLY_STRING ||
      fields == nullptr || fields->type != REDIS_REPLY_ARRAY) {
    return Status::dataLoss(fmt::format(
        "credit events of tenant {}: malformed stream entry '{}': expected an id and a field list",
        tenant, replyText(id)));
  }
  Entry event;
  event.tenant = std::string(tenant);
  event.event_id = std::string(replyText(id));
  std::set<std::string_view> seen;
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    std::string_view name = replyText(fields->element[i]);
    std::string_view value = replyText(fields->element[i + 1]);
    seen.insert(name);
    std::int64_t* number = nullptr;
    if (name == "kind") {
      event.kind = value;
    } else if (name == "key") {
      event.op_key = value;
    } else if (name == "job") {
      event.job_id = value;
    } else if (name == "actor") {
      event.actor = value;
    } else if (name == "request") {
      event.request = value;
    } else if (name == "amount") {
      number = &event.amount;
    } else if (name == "available_change") {
      number = &event.available_change;
    } else if (name == "held_change") {
      number = &event.held_change;
    } else if (name == "available_after") {
      number = &event.available_after;
    } else if (name == "held_after") {
      number = &event.held_after;
    } else if (name == "job_held_after") {
      number = &event.job_held_after;
    } else if (name == "at_ms") {
      number = &event.created_at_ms;
    }
    if (number != nullptr && !toInteger(value, *number)) {
      return Status::dataLoss(fmt::format("credit event {} of tenant {}: {} '{}' is not an integer",
                                          event.event_id, tenant, name, value));
    }
  }
  for (std::string_view required :
       {"kind", "key", "amount", "available_change", "held_change", "at_ms"}) {
    if (!seen.contains(required)) {
      return Status::dataLoss(fmt::format("credit event {} of tenant {}: no field '{}'",
                                          event.event_id, tenant, required));
    }
  }
  return event;
}

Result<Expected> readExpected(redis::Connection& connection, store::Database& db,
                              const std::string& tenant, std::int64_t records_since_ms) {
  Expected expected;
  std::string events = eventsKey(tenant);
  SMMHUB_ASSIGN_OR_RETURN(expected.last_event_id, lastGeneratedId(connection, events));

  // Events up to the last id only: one added meanwhile is not in the
  // state that last_event_id names.
  std::vector<Entry> stream;
  std::string start = "-";
  while (expected.last_event_id != "0-0") {
    SMMHUB_ASSIGN_OR_RETURN(
        ReplyPtr page,
        connection.command({"XRANGE", events, start, expected.last_event_id, "COUNT", "1000"}));
    if (page->type != REDIS_REPLY_ARRAY) {
      return Status::unavailable("redis " + connection.endpoint().url + ": XRANGE " + events +
                                 ": " + std::string(replyText(page.get())));
    }
    for (size_t i = 0; i < page->elements; ++i) {
      SMMHUB_ASSIGN_OR_RETURN(Entry event, parseEvent(tenant, page->element[i]));
      stream.push_back(std::move(event));
    }
    if (page->elements < 1000) {
      break;
    }
    start = "(" + stream.back().event_id;
  }

  std::vector<std::string> keys;
  keys.reserve(stream.size());
  for (const Entry& event : stream) {
    keys.push_back(event.op_key);
  }
  SMMHUB_ASSIGN_OR_RETURN(LedgerState ledger, readLedger(db, tenant, keys, records_since_ms));
  expected.available = ledger.available;
  expected.held = ledger.held;
  expected.holds = std::move(ledger.holds);
  expected.replayable = std::move(ledger.recent);
  // A key twice in the stream means Redis applied one call twice; the
  // ledger keeps the first, and so does the expected state.
  std::set<std::string> counted;
  for (Entry& event : stream) {
    if (ledger.present.contains(event.op_key) || !counted.insert(event.op_key).second) {
      continue;
    }
    expected.available += event.available_change;
    expected.held += event.held_change;
    if (event.held_change != 0) {
      std::int64_t& hold = expected.holds[event.job_id];
      hold += event.held_change;
      if (hold == 0) {
        expected.holds.erase(event.job_id);
      }
    }
    expected.replayable.push_back(event);
    expected.pending.push_back(std::move(event));
  }
  return expected;
}

}  // namespace smmhub::credits
