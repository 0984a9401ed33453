#include "buffer/redis_tier.h"

#include <functional>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"

namespace smmhub::buffer {
namespace {

using redis::ReplyPtr;

// Deletes KEY only when it still holds TOKEN, so that a worker whose lock
// expired never releases the lock another worker took since.
const redis::Script& unlockScript() {
  static const auto* script = new redis::Script(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
      "return 0");
  return *script;
}

std::string randomToken() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

}  // namespace

Result<std::unique_ptr<RedisTier>> RedisTier::create(RedisOptions options) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint, redis::parseUrl(options.url, "--cache-redis"));
  return std::unique_ptr<RedisTier>(new RedisTier(std::move(options), std::move(endpoint)));
}

RedisTier::RedisTier(RedisOptions options, redis::Endpoint endpoint)
    : options_(std::move(options)), connection_(std::move(endpoint), options_.timeout) {}

RedisTier::~RedisTier() = default;

void RedisTier::failLocked(const Status& error) {
  stats_.errors++;
  connection_.close();
  down_until_ = std::chrono::steady_clock::now() + options_.retry_after;
  if (!down_) {
    down_ = true;
    stats_.outages++;
    logger("buffer")->warn(
        "redis render buffer unavailable url={} error=\"{}\"; rendering uncached, retrying in "
        "{} ms",
        options_.url, error.message(), options_.retry_after.count());
  }
}

Status RedisTier::connectLocked() {
  if (connection_.isOpen()) {
    return okStatus();
  }
  if (down_ && std::chrono::steady_clock::now() < down_until_) {
    stats_.skipped++;
    return Status::unavailable("render buffer: redis " + options_.url + " is down");
  }
  if (Status opened = connection_.open(); !opened.ok()) {
    failLocked(opened);
    return opened.withContext("render buffer");
  }
  if (down_) {
    down_ = false;
    logger("buffer")->warn("redis render buffer reachable again url={}", options_.url);
  }
  return okStatus();
}

Result<ReplyPtr> RedisTier::command(std::initializer_list<std::string_view> args) {
  std::lock_guard lock(mutex_);
  SMMHUB_RETURN_IF_ERROR(connectLocked());
  Result<ReplyPtr> reply = connection_.command(args);
  if (!reply.ok()) {
    failLocked(reply.status());
    return reply.status().withContext("render buffer");
  }
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    // An error reply comes from a working server, so the connection stays.
    stats_.errors++;
    return Status::unavailable("render buffer: redis " + options_.url + ": " +
                               std::string(*args.begin()) + ": " +
                               std::string(redis::replyText(reply->get())));
  }
  return reply;
}

Result<std::optional<std::string>> RedisTier::get(const std::string& key) {
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, command({"GET", key}));
  if (reply->type != REDIS_REPLY_STRING) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::string(reply->str, reply->len));
}

Status RedisTier::put(const std::string& key, std::string_view value) {
  if (value.size() > options_.max_value_bytes) {
    std::lock_guard lock(mutex_);
    stats_.oversized++;
    return okStatus();
  }
  std::string ttl = std::to_string(options_.ttl.count());
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, command({"SET", key, value, "EX", ttl}));
  return okStatus();
}

Status RedisTier::remove(const std::string& key) {
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, command({"UNLINK", key}));
  return okStatus();
}

Result<std::optional<std::string>> RedisTier::tryLock(const std::string& key) {
  std::string token = randomToken();
  std::string ttl = std::to_string(options_.lock_ttl.count());
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, command({"SET", key + ":lock", token, "NX", "PX", ttl}));
  if (reply->type == REDIS_REPLY_STATUS) {
    return std::optional<std::string>(token);
  }
  return std::optional<std::string>();
}

Status RedisTier::unlock(const std::string& key, const std::string& token) {
  std::lock_guard lock(mutex_);
  SMMHUB_RETURN_IF_ERROR(connectLocked());
  std::string keys[] = {key + ":lock"};
  std::string args[] = {token};
  Result<ReplyPtr> reply = unlockScript().run(connection_, keys, args);
  if (!reply.ok()) {
    failLocked(reply.status());
    return reply.status().withContext("render buffer");
  }
  return okStatus();
}

Status RedisTier::scanPrefix(const std::string& prefix,
                             const std::function<Status(std::string_view key)>& visit) {
  std::string cursor = "0";
  std::string pattern = prefix + "*";
  do {
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr page,
                            command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}));
    const redisReply* reply = page.get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      return Status::internal("redis SCAN gave an unexpected reply");
    }
    cursor = std::string(reply->element[0]->str, reply->element[0]->len);
    const redisReply* keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; ++i) {
      SMMHUB_RETURN_IF_ERROR(visit(std::string_view(keys->element[i]->str, keys->element[i]->len)));
    }
  } while (cursor != "0");
  return okStatus();
}

Result<std::uint64_t> RedisTier::removePrefix(const std::string& prefix) {
  std::uint64_t removed = 0;
  SMMHUB_RETURN_IF_ERROR(scanPrefix(prefix, [&](std::string_view key) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr gone, command({"UNLINK", key}));
    removed += gone->type == REDIS_REPLY_INTEGER ? gone->integer : 0;
    return okStatus();
  }));
  return removed;
}

Result<std::pair<std::uint64_t, std::uint64_t>> RedisTier::measurePrefix(
    const std::string& prefix) {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  SMMHUB_RETURN_IF_ERROR(scanPrefix(prefix, [&](std::string_view key) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(ReplyPtr length, command({"STRLEN", key}));
    keys++;
    bytes += length->type == REDIS_REPLY_INTEGER ? length->integer : 0;
    return okStatus();
  }));
  return std::make_pair(keys, bytes);
}

RedisTierStats RedisTier::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace smmhub::buffer
