#include "redis/window_counter.h"

#include <algorithm>

namespace smmhub::redis {

namespace {

// Adds 1 to the counter KEYS[1], which expires ARGV[1] ms after the first
// count of its window, and returns {count, ms left}.
const Script& countScript() {
  static const Script script(R"lua(
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
)lua");
  return script;
}

// Returns {count, ms left} of the counter KEYS[1], {0, 0} without it.
const Script& readScript() {
  static const Script script(R"lua(
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {count, ttl}
)lua");
  return script;
}

Result<WindowCount> runScript(Pool& pool, const Script& script, const std::string& key,
                              std::chrono::milliseconds window) {
  SMMHUB_ASSIGN_OR_RETURN(Pool::Lease connection, pool.acquire());
  std::string keys[] = {key};
  std::string args[] = {std::to_string(window.count())};
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, script.run(*connection, keys, args));
  const redisReply* count = elementAt(reply.get(), 0);
  const redisReply* ttl = elementAt(reply.get(), 1);
  if (count == nullptr || ttl == nullptr || count->type != REDIS_REPLY_INTEGER ||
      ttl->type != REDIS_REPLY_INTEGER) {
    return Status::internal("rate limit script returned an unexpected reply for " + key);
  }
  return WindowCount{count->integer, ttl->integer};
}

}  // namespace

Result<WindowCount> countInWindow(Pool& pool, const std::string& key,
                                  std::chrono::milliseconds window) {
  return runScript(pool, countScript(), key, window);
}

Result<WindowCount> readWindow(Pool& pool, const std::string& key) {
  return runScript(pool, readScript(), key, std::chrono::milliseconds(0));
}

long long retryAfterSeconds(long long ms_left) {
  return std::max<long long>(1, (ms_left + 999) / 1000);
}

}  // namespace smmhub::redis
