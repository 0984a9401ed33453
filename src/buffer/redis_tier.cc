#include "buffer/redis_tier.h"

#include <charconv>
#include <functional>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "common/log.h"

namespace smmhub::buffer {
namespace {

using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

timeval toTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// Deletes KEY only when it still holds TOKEN, so that a worker whose lock
// expired never releases the lock another worker took since.
constexpr std::string_view kUnlockScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
    "return 0";

std::string randomToken() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

Result<int> parsePort(std::string_view text, const std::string& url) {
  int port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return Status::invalidArgument("--cache-redis '" + url + "': port '" + std::string(text) +
                                   "' is not a number from 1 to 65535");
  }
  return port;
}

}  // namespace

struct RedisTier::Reply {
  ReplyPtr reply{nullptr, freeReplyObject};
};

Result<std::unique_ptr<RedisTier>> RedisTier::create(RedisOptions options) {
  const std::string& url = options.url;
  Endpoint endpoint;
  if (url.starts_with("unix://")) {
    endpoint.socket = url.substr(7);
    if (endpoint.socket.empty() || endpoint.socket[0] != '/') {
      return Status::invalidArgument("--cache-redis '" + url +
                                     "': expected unix:///absolute/path/to/redis.sock");
    }
  } else if (url.starts_with("redis://")) {
    std::string rest = url.substr(8);
    size_t slash = rest.find('/');
    if (slash != std::string::npos) {
      std::string db = rest.substr(slash + 1);
      auto [end, error] = std::from_chars(db.data(), db.data() + db.size(), endpoint.db);
      if (db.empty() || error != std::errc() || end != db.data() + db.size() || endpoint.db < 0) {
        return Status::invalidArgument("--cache-redis '" + url + "': database '" + db +
                                       "' is not a number");
      }
      rest = rest.substr(0, slash);
    }
    if (rest.find('@') != std::string::npos) {
      return Status::invalidArgument("--cache-redis '" + url +
                                     "': user names and passwords are not supported; use a "
                                     "Redis reachable without them or a Unix socket");
    }
    size_t colon = rest.rfind(':');
    endpoint.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
      SMMHUB_ASSIGN_OR_RETURN(endpoint.port, parsePort(rest.substr(colon + 1), url));
    }
    if (endpoint.host.starts_with('[') && endpoint.host.ends_with(']')) {
      endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
    }
    if (endpoint.host.empty()) {
      return Status::invalidArgument("--cache-redis '" + url + "': no host");
    }
  } else {
    return Status::invalidArgument("--cache-redis '" + url +
                                   "': expected redis://HOST:PORT[/DB] or unix:///PATH");
  }
  return std::unique_ptr<RedisTier>(new RedisTier(std::move(options), std::move(endpoint)));
}

RedisTier::RedisTier(RedisOptions options, Endpoint endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

RedisTier::~RedisTier() {
  if (context_ != nullptr) {
    redisFree(context_);
  }
}

void RedisTier::failLocked(const std::string& what) {
  stats_.errors++;
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  down_until_ = std::chrono::steady_clock::now() + options_.retry_after;
  if (!down_) {
    down_ = true;
    stats_.outages++;
    logger("buffer")->warn(
        "redis render buffer unavailable url={} error=\"{}\"; rendering uncached, retrying in "
        "{} ms",
        options_.url, what, options_.retry_after.count());
  }
}

Status RedisTier::connectLocked() {
  if (context_ != nullptr) {
    return okStatus();
  }
  if (down_ && std::chrono::steady_clock::now() < down_until_) {
    stats_.skipped++;
    return Status::unavailable("redis render buffer " + options_.url + " is down");
  }
  timeval timeout = toTimeval(options_.timeout);
  context_ = endpoint_.socket.empty()
                 ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, timeout)
                 : redisConnectUnixWithTimeout(endpoint_.socket.c_str(), timeout);
  if (context_ == nullptr || context_->err != 0) {
    std::string error = context_ == nullptr ? "out of memory" : context_->errstr;
    failLocked("connect: " + error);
    return Status::unavailable("redis render buffer " + options_.url + ": " + error);
  }
  redisSetTimeout(context_, timeout);
  if (endpoint_.db != 0) {
    std::string db = std::to_string(endpoint_.db);
    ReplyPtr reply(static_cast<redisReply*>(redisCommand(context_, "SELECT %s", db.c_str())),
                   freeReplyObject);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      std::string error = reply ? reply->str : context_->errstr;
      failLocked("SELECT " + db + ": " + error);
      return Status::unavailable("redis render buffer " + options_.url + ": " + error);
    }
  }
  if (down_) {
    down_ = false;
    logger("buffer")->warn("redis render buffer reachable again url={}", options_.url);
  }
  return okStatus();
}

Result<RedisTier::Reply> RedisTier::command(std::initializer_list<std::string_view> args) {
  std::lock_guard lock(mutex_);
  SMMHUB_RETURN_IF_ERROR(connectLocked());
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  Reply reply;
  reply.reply.reset(static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply.reply) {
    std::string error = context_->errstr;
    failLocked(std::string(*args.begin()) + ": " + error);
    return Status::unavailable("redis render buffer " + options_.url + ": " + error);
  }
  if (reply.reply->type == REDIS_REPLY_ERROR) {
    // An error reply comes from a working server, so the connection stays.
    stats_.errors++;
    return Status::unavailable("redis render buffer " + options_.url + ": " +
                               std::string(*args.begin()) + ": " + reply.reply->str);
  }
  return reply;
}

Result<std::optional<std::string>> RedisTier::get(const std::string& key) {
  SMMHUB_ASSIGN_OR_RETURN(Reply reply, command({"GET", key}));
  if (reply.reply->type != REDIS_REPLY_STRING) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::string(reply.reply->str, reply.reply->len));
}

Status RedisTier::put(const std::string& key, std::string_view value) {
  if (value.size() > options_.max_value_bytes) {
    std::lock_guard lock(mutex_);
    stats_.oversized++;
    return okStatus();
  }
  std::string ttl = std::to_string(options_.ttl.count());
  SMMHUB_ASSIGN_OR_RETURN(Reply reply, command({"SET", key, value, "EX", ttl}));
  return okStatus();
}

Status RedisTier::remove(const std::string& key) {
  SMMHUB_ASSIGN_OR_RETURN(Reply reply, command({"UNLINK", key}));
  return okStatus();
}

Result<std::optional<std::string>> RedisTier::tryLock(const std::string& key) {
  std::string token = randomToken();
  std::string ttl = std::to_string(options_.lock_ttl.count());
  SMMHUB_ASSIGN_OR_RETURN(Reply reply, command({"SET", key + ":lock", token, "NX", "PX", ttl}));
  if (reply.reply->type == REDIS_REPLY_STATUS) {
    return std::optional<std::string>(token);
  }
  return std::optional<std::string>();
}

Status RedisTier::unlock(const std::string& key, const std::string& token) {
  SMMHUB_ASSIGN_OR_RETURN(Reply reply, command({"EVAL", kUnlockScript, "1", key + ":lock", token}));
  return okStatus();
}

Status RedisTier::scanPrefix(const std::string& prefix,
                             const std::function<Status(std::string_view key)>& visit) {
  std::string cursor = "0";
  std::string pattern = prefix + "*";
  do {
    SMMHUB_ASSIGN_OR_RETURN(Reply page,
                            command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}));
    const redisReply* reply = page.reply.get();
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
    SMMHUB_ASSIGN_OR_RETURN(Reply gone, command({"UNLINK", key}));
    removed += gone.reply->type == REDIS_REPLY_INTEGER ? gone.reply->integer : 0;
    return okStatus();
  }));
  return removed;
}

Result<std::pair<std::uint64_t, std::uint64_t>> RedisTier::measurePrefix(
    const std::string& prefix) {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  SMMHUB_RETURN_IF_ERROR(scanPrefix(prefix, [&](std::string_view key) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(Reply length, command({"STRLEN", key}));
    keys++;
    bytes += length.reply->type == REDIS_REPLY_INTEGER ? length.reply->integer : 0;
    return okStatus();
  }));
  return std::make_pair(keys, bytes);
}

RedisTierStats RedisTier::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace smmhub::buffer
