#include "broker/workers.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <string_view>

#include <fmt/format.h>

#include "common/log.h"

namespace smmhub::broker {
namespace {

std::string workersKey() {
  return "smmhub:bk:workers";
}

// Replaces the hash KEYS[2] with the field/value pairs ARGV[4..], sets it to
// expire after ARGV[3] ms, and scores member ARGV[1] of the zset KEYS[1]
// with ARGV[2].
const redis::Script& beatScript() {
  static const auto* script = new redis::Script(R"lua(
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
)lua");
  return *script;
}

bool hasWhitespace(std::string_view text) {
  return text.find_first_of(" \t\r\n") != std::string_view::npos;
}

template <typename T>
bool parseInteger(std::string_view text, T& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

std::vector<std::string> splitSpaces(std::string_view text) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    if (end > start) {
      words.emplace_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return words;
}

// Stores the hash field NAME = VALUE in WORKER. Returns false for a number
// that does not parse.
bool setField(WorkerInfo& worker, std::string_view name, std::string_view value) {
  if (name == "host") {
    worker.host = value;
  } else if (name == "version") {
    worker.version = value;
  } else if (name == "active") {
    worker.active = splitSpaces(value);
  } else if (name == "pid") {
    return parseInteger(value, worker.pid);
  } else if (name == "started_at_ms") {
    return parseInteger(value, worker.started_at_ms);
  } else if (name == "concurrency") {
    return parseInteger(value, worker.concurrency);
  } else if (name == "completed") {
    return parseInteger(value, worker.completed);
  } else if (name == "failed") {
    return parseInteger(value, worker.failed);
  }
  return true;
}

}  // namespace

std::string workerKey(const std::string& id) {
  return "smmhub:bk:worker:" + id;
}

Result<std::unique_ptr<WorkerRegistry>> WorkerRegistry::create(WorkerRegistryOptions options) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint,
                          redis::parseUrl(options.redis_url, "worker registry redis_url"));
  if (options.stale_after.count() < 1) {
    return Status::invalidArgument(fmt::format("worker registry stale_after {} ms is below 1 ms",
                                               options.stale_after.count()));
  }
  return std::make_unique<WorkerRegistry>(std::move(options), std::move(endpoint));
}

WorkerRegistry::WorkerRegistry(WorkerRegistryOptions options, redis::Endpoint endpoint)
    : options_(std::move(options)), pool_(std::move(endpoint), options_.pool) {}

Status WorkerRegistry::beat(const WorkerInfo& info, std::int64_t now_ms) {
  if (info.id.empty() || hasWhitespace(info.id)) {
    return Status::invalidArgument("worker id '" + info.id +
                                   "' is invalid; expected a non-empty id without whitespace");
  }
  std::string active;
  for (const std::string& job : info.active) {
    if (job.empty() || hasWhitespace(job)) {
      return Status::invalidArgument(
          fmt::format("worker {}: active job id '{}' is empty or has whitespace", info.id, job));
    }
    active += active.empty() ? job : " " + job;
  }

  std::vector<std::string> keys = {workersKey(), workerKey(info.id)};
  std::vector<std::string> args = {info.id,
                                   std::to_string(now_ms),
                                   std::to_string(options_.stale_after.count()),
                                   "host",
                                   info.host,
                                   "pid",
                                   std::to_string(info.pid),
                                   "started_at_ms",
                                   std::to_string(info.started_at_ms),
                                   "concurrency",
                                   std::to_string(info.concurrency),
                                   "active",
                                   active,
                                   "completed",
                                   std::to_string(info.completed),
                                   "failed",
                                   std::to_string(info.failed),
                                   "version",
                                   info.version};
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply, beatScript().run(*connection, keys, args));
  if (reply->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(fmt::format("redis {}: worker beat {}: {}", pool_.endpoint().url,
                                           info.id, redis::replyText(reply.get())));
  }
  return okStatus();
}

Result<std::vector<WorkerInfo>> WorkerRegistry::live(std::int64_t now_ms,
                                                     std::chrono::milliseconds stale_after) {
  if (stale_after.count() < 1) {
    return Status::invalidArgument(
        fmt::format("stale period {} ms is below 1 ms", stale_after.count()));
  }
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());

  // Workers that died without remove() leave their id behind; the hash
  // expires by itself, the set member only here.
  std::string forgotten = fmt::format("({}", now_ms - 10 * stale_after.count());
  SMMHUB_ASSIGN_OR_RETURN(
      redis::ReplyPtr removed,
      connection->command({"ZREMRANGEBYSCORE", workersKey(), "-inf", forgotten}));
  if (removed->type == REDIS_REPLY_ERROR) {
    return Status::unavailable(fmt::format("redis {}: ZREMRANGEBYSCORE {}: {}",
                                           pool_.endpoint().url, workersKey(),
                                           redis::replyText(removed.get())));
  }

  std::string oldest = std::to_string(now_ms - stale_after.count());
  SMMHUB_ASSIGN_OR_RETURN(
      redis::ReplyPtr members,
      connection->command({"ZRANGEBYSCORE", workersKey(), oldest, "+inf", "WITHSCORES"}));
  if (members->type != REDIS_REPLY_ARRAY) {
    return Status::unavailable(fmt::format("redis {}: ZRANGEBYSCORE {}: {}", pool_.endpoint().url,
                                           workersKey(), redis::replyText(members.get())));
  }
  std::vector<WorkerInfo> workers;
  for (std::size_t i = 0; i + 1 < members->elements; i += 2) {
    WorkerInfo worker;
    worker.id = redis::replyText(members->element[i]);
    double score = 0;
    std::string_view score_text = redis::replyText(members->element[i + 1]);
    auto [end, error] =
        std::from_chars(score_text.data(), score_text.data() + score_text.size(), score);
    if (worker.id.empty() || error != std::errc()) {
      logger("broker")->warn("worker skipped id={} reason=\"score '{}' is not a number\"",
                             worker.id, score_text);
      continue;
    }
    worker.last_beat_ms = static_cast<std::int64_t>(score);
    workers.push_back(std::move(worker));
  }
  return readHashes(*connection, std::move(workers));
}

// Reads the hashes of WORKERS in one pipeline and returns those that still
// have one, sorted by id.
Result<std::vector<WorkerInfo>> WorkerRegistry::readHashes(redis::Connection& connection,
                                                           std::vector<WorkerInfo> workers) {
  for (const WorkerInfo& worker : workers) {
    std::string key = workerKey(worker.id);
    std::vector<std::string_view> args = {"HGETALL", key};
    SMMHUB_RETURN_IF_ERROR(connection.append(args));
  }
  std::vector<WorkerInfo> found;
  for (WorkerInfo& worker : workers) {
    SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr hash, connection.readReply());
    if (hash->type != REDIS_REPLY_ARRAY || hash->elements == 0) {
      continue;
    }
    for (std::size_t i = 0; i + 1 < hash->elements; i += 2) {
      std::string_view name = redis::replyText(hash->element[i]);
      std::string_view value = redis::replyText(hash->element[i + 1]);
      if (!setField(worker, name, value)) {
        logger("broker")->warn("worker field ignored id={} field={} value=\"{}\"", worker.id, name,
                               value);
      }
    }
    found.push_back(std::move(worker));
  }
  std::sort(found.begin(), found.end(),
            [](const WorkerInfo& a, const WorkerInfo& b) { return a.id < b.id; });
  return found;
}

Status WorkerRegistry::remove(const std::string& id) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool_.acquire());
  SMMHUB_RETURN_IF_ERROR(
      connection->append(std::vector<std::string_view>{"ZREM", workersKey(), id}));
  std::string key = workerKey(id);
  SMMHUB_RETURN_IF_ERROR(connection->append(std::vector<std::string_view>{"DEL", key}));
  // Both replies are read before either is checked, so that no reply is
  // left on a connection that goes back to the pool.
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr from_set, connection->readReply());
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr hash, connection->readReply());
  for (const redis::ReplyPtr& reply : {std::cref(from_set), std::cref(hash)}) {
    if (reply->type == REDIS_REPLY_ERROR) {
      return Status::unavailable(fmt::format("redis {}: remove worker {}: {}", pool_.endpoint().url,
                                             id, redis::replyText(reply.get())));
    }
  }
  return okStatus();
}

}  // namespace smmhub::broker
