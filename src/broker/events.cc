#include "broker/events.h"

#include <charconv>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/log.h"
#include "common/tenant.h"

namespace smmhub::broker {
namespace {

// Idle blocking connections kept for the next read.
constexpr std::size_t kMaxIdleBlocking = 4;

template <typename T>
bool parseInteger(std::string_view text, T& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// Returns the stream entry's fields, or nullopt when the entry is not an
// array of an id and an even-length array of strings.
std::optional<std::map<std::string, std::string, std::less<>>> entryFields(
    const redisReply* entry) {
  const redisReply* fields = redis::elementAt(entry, 1);
  if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0) {
    return std::nullopt;
  }
  std::map<std::string, std::string, std::less<>> values;
  for (std::size_t i = 0; i < fields->elements; i += 2) {
    const redisReply* name = fields->element[i];
    const redisReply* value = fields->element[i + 1];
    if (name == nullptr || value == nullptr || name->type != REDIS_REPLY_STRING ||
        value->type != REDIS_REPLY_STRING) {
      return std::nullopt;
    }
    values.emplace(redis::replyText(name), redis::replyText(value));
  }
  return values;
}

// Parses one entry's fields into EVENT. Returns what is wrong, or an empty
// string.
std::string parseEvent(const std::map<std::string, std::string, std::less<>>& fields,
                       JobEventMessage& event) {
  auto text = [&](std::string_view name) {
    auto found = fields.find(name);
    return found == fields.end() ? std::string() : found->second;
  };
  auto integer = [&](std::string_view name, auto& value) {
    auto found = fields.find(name);
    return found == fields.end() || parseInteger(found->second, value);
  };

  event.type = text("type");
  if (event.type != "state" && event.type != "progress") {
    return "type '" + event.type + "' is not state or progress";
  }
  event.job_id = text("job_id");
  if (event.job_id.empty()) {
    return "job_id is missing";
  }
  event.tenant = text("tenant");
  event.batch_id = text("batch_id");
  event.from_state = text("from_state");
  event.to_state = text("to_state");
  event.worker = text("worker");
  event.error = text("error");
  // Fields that apply to the other type are absent and keep their zero.
  const std::pair<const char*, bool> numbers[] = {
      {"row", integer("row", event.row)},
      {"attempt", integer("attempt", event.attempt)},
      {"next_try_at_ms", integer("next_try_at_ms", event.next_try_at_ms)},
      {"frames_done", integer("frames_done", event.frames_done)},
      {"frames_total", integer("frames_total", event.frames_total)},
      {"at_ms", integer("at_ms", event.at_ms)}};
  for (const auto& [name, parsed] : numbers) {
    if (!parsed) {
      return fmt::format("{} '{}' is not an integer", name, text(name));
    }
  }
  return "";
}

// The events of an XREAD reply for one stream, and the id of its last entry
// whether it parsed or not.
struct ParsedPage {
  std::vector<JobEventMessage> events;
  std::string last_id;
};

ParsedPage parseReadReply(const redisReply* reply, const std::string& tenant) {
  ParsedPage page;
  const redisReply* entries = redis::elementAt(redis::elementAt(reply, 0), 1);
  if (entries == nullptr || entries->type != REDIS_REPLY_ARRAY) {
    return page;
  }
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    std::string id(redis::replyText(redis::elementAt(entry, 0)));
    if (id.empty()) {
      logger("broker")->warn("event skipped tenant={} index={} reason=\"entry has no id\"", tenant,
                             i);
      continue;
    }
    page.last_id = id;

    JobEventMessage event;
    std::optional<std::map<std::string, std::string, std::less<>>> fields = entryFields(entry);
    std::string problem = fields ? parseEvent(*fields, event) : "fields are not string pairs";
    if (!problem.empty()) {
      logger("broker")->warn("event skipped tenant={} id={} reason=\"{}\"", tenant, id, problem);
      continue;
    }
    event.id = id;
    if (event.tenant.empty()) {
      event.tenant = tenant;
    }
    page.events.push_back(std::move(event));
  }
  return page;
}

std::vector<std::string> eventFields(const JobEventMessage& event) {
  std::vector<std::string> fields = {
      "type",         event.type, "tenant",     event.tenant, "batch_id",
      event.batch_id, "job_id",   event.job_id, "row",        std::to_string(event.row)};
  auto add = [&](const char* name, std::string value) {
    fields.emplace_back(name);
    fields.push_back(std::move(value));
  };
  if (event.type == "state") {
    add("from_state", event.from_state);
    add("to_state", event.to_state);
    add("attempt", std::to_string(event.attempt));
    if (!event.worker.empty()) {
      add("worker", event.worker);
    }
    if (!event.error.empty()) {
      add("error", event.error);
    }
    if (event.to_state == "retrying") {
      add("next_try_at_ms", std::to_string(event.next_try_at_ms));
    }
  } else {
    add("frames_done", std::to_string(event.frames_done));
    add("frames_total", std::to_string(event.frames_total));
  }
  add("at_ms", std::to_string(event.at_ms));
  return fields;
}

}  // namespace

std::string eventStreamKey(const std::string& tenant) {
  return fmt::format("smmhub:ev:{{{}}}", tenant);
}

Result<std::unique_ptr<EventLog>> EventLog::create(EventLogOptions options) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint,
                          redis::parseUrl(options.redis_url, "event log redis_url"));
  if (options.max_len == 0) {
    return Status::invalidArgument("event log max_len is 0; expected at least 1 entry per tenant");
  }
  return std::make_unique<EventLog>(std::move(options), std::move(endpoint));
}

EventLog::EventLog(EventLogOptions options, redis::Endpoint endpoint)
    : options_(std::move(options)), pool_(std::move(endpoint), options_.pool) {}

EventLog::~EventLog() = default;

Status EventLog::publish(const JobEventMessage& event) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(event.tenant));
  if (event.type != "state" && event.type != "progress") {
    return Status::invalidArgument("event type '" + event.type +
                                   "' is invalid; expected state or progress");
  }
  std::string key = eventStreamKey(event.tenant);
  std::string max_len = std::to_string(options_.max_len);
  std::vector<std::string> fields = eventFields(event);
  std::vector<std::string_view> args = {"XADD", key, "MAXLEN", "~", max_len, "*"};
  args.insert(args.end(), fields.begin(), fields.end());

  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply, connection->command(args));
  if (reply->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(fmt::format("redis {}: XADD {}: {}", pool_.endpoint().url, key,
                                           redis::replyText(reply.get())));
  }
  return okStatus();
}

Result<std::vector<JobEventMessage>> EventLog::read(const std::string& tenant,
                                                    const std::string& after_id,
                                                    std::chrono::milliseconds block, int count) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(tenant));
  if (after_id.empty()) {
    return Status::invalidArgument("event read: after_id is empty; pass \"0-0\", \"$\" or an id");
  }
  if (count < 1) {
    return Status::invalidArgument(fmt::format("event read: count {} is below 1", count));
  }
  std::string key = eventStreamKey(tenant);
  auto deadline = std::chrono::steady_clock::now() + block;

  // A page of skipped entries moves AFTER past them and reads on, so that
  // malformed entries never hide the valid ones behind them.
  std::string after = after_id;
  for (;;) {
    std::chrono::milliseconds wait{0};
    if (block.count() > 0) {
      wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (wait.count() <= 0) {
        return std::vector<JobEventMessage>{};
      }
    }
    SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply, readOnce(key, after, wait, count));
    ParsedPage page = parseReadReply(reply.get(), tenant);
    if (!page.events.empty() || page.last_id.empty()) {
      return std::move(page.events);
    }
    after = page.last_id;
  }
}

Result<redis::ReplyPtr> EventLog::readOnce(const std::string& key, const std::string& after_id,
                                           std::chrono::milliseconds block, int count) {
  std::string count_text = std::to_string(count);
  std::string block_text = std::to_string(block.count());
  std::vector<std::string_view> args = {"XREAD", "COUNT", count_text};
  if (block.count() > 0) {
    args.insert(args.end(), {"BLOCK", block_text});
  }
  args.insert(args.end(), {"STREAMS", key, after_id});

  Result<redis::ReplyPtr> reply = Status::internal("no reply");
  if (block.count() == 0) {
    SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());
    reply = connection->command(args);
  } else {
    // The server replies only when the wait ends, so the socket's read
    // timeout must outlast it.
    BlockingConnection blocking = takeBlocking(options_.pool.timeout + block);
    reply = blocking.connection->command(args);
    giveBackBlocking(std::move(blocking));
  }
  if (!reply.ok()) {
    return reply.status();
  }
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(fmt::format("redis {}: XREAD {}: {}", pool_.endpoint().url, key,
                                           redis::replyText(reply->get())));
  }
  return reply;
}

Result<std::string> EventLog::lastId(const std::string& tenant) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(tenant));
  std::string key = eventStreamKey(tenant);
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply,
                          connection->command({"XREVRANGE", key, "+", "-", "COUNT", "1"}));
  if (reply->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(fmt::format("redis {}: XREVRANGE {}: {}", pool_.endpoint().url, key,
                                           redis::replyText(reply.get())));
  }
  std::string_view id = redis::replyText(redis::elementAt(redis::elementAt(reply.get(), 0), 0));
  return id.empty() ? std::string("0-0") : std::string(id);
}

EventLog::BlockingConnection EventLog::takeBlocking(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(blocking_mutex_);
    for (auto it = idle_blocking_.begin(); it != idle_blocking_.end(); ++it) {
      if (it->timeout >= timeout) {
        BlockingConnection found = std::move(*it);
        idle_blocking_.erase(it);
        return found;
      }
    }
  }
  return {timeout, std::make_unique<redis::Connection>(pool_.endpoint(), timeout)};
}

void EventLog::giveBackBlocking(BlockingConnection blocking) {
  // A connection that failed has closed itself, and the next read makes a new one.
  if (!blocking.connection->isOpen()) {
    return;
  }
  std::lock_guard lock(blocking_mutex_);
  if (idle_blocking_.size() < kMaxIdleBlocking) {
    idle_blocking_.push_back(std::move(blocking));
  }
}

}  // namespace smmhub::broker
