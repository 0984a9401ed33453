#include "broker/scripts.h"

#include <fmt/format.h>

namespace smmhub::broker::internal {

std::string ringKey() {
  return "smmhub:bk:ring";
}
std::string ringMembersKey() {
  return "smmhub:bk:ring:members";
}
std::string tokenKey() {
  return "smmhub:bk:token";
}
std::string wakeKey() {
  return "smmhub:bk:wake";
}
std::string activeKey() {
  return "smmhub:bk:active";
}
std::string delayedKey() {
  return "smmhub:bk:delayed";
}
std::string laneKey(std::string_view tenant, std::string_view lane) {
  return fmt::format("smmhub:bk:{{{}}}:{}", tenant, lane);
}
std::string knownKey(std::string_view tenant) {
  return fmt::format("smmhub:bk:{{{}}}:known", tenant);
}
std::string leaseKey(std::string_view tenant, std::string_view job_id) {
  return fmt::format("smmhub:bk:{{{}}}:lease:{}", tenant, job_id);
}

std::string_view laneOf(std::string_view priority) {
  return priority == "high" ? "high" : "ready";
}

namespace {

// Returns BODY after a Lua function wake(key, count) that adds one wake
// token per pushed job to the list KEY, keeping at most 1024. Idle workers
// wait on the list.
std::string withWake(std::string_view body) {
  return std::string(R"lua(
local function wake(key, count)
  for _ = 1, math.min(count, 1024) do
    redis.call('RPUSH', key, '1')
  end
  if count > 0 then
    redis.call('LTRIM', key, 0, 1023)
  end
end
)lua") + std::string(body);
}

}  // namespace

// Pushes the jobs ARGV[2..] of tenant ARGV[1] that the known set KEYS[1]
// does not contain to the lane KEYS[2], and the tenant into the ring
// (KEYS[3], with its members in KEYS[4]), and wakes as many idle workers
// through KEYS[5]. Returns how many were pushed.
const redis::Script& pushScript() {
  static const auto* script = new redis::Script(withWake(R"lua(
local pushed = 0
for i = 2, #ARGV do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    pushed = pushed + 1
  end
end
if pushed > 0 and redis.call('SADD', KEYS[4], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[3], ARGV[1])
end
wake(KEYS[5], pushed)
return pushed
)lua"));
  return *script;
}

// Adds job ARGV[1] to the known set KEYS[1] and, when it was not there,
// MEMBER ARGV[3] with score ARGV[2] to the zset KEYS[2]. Returns 1 when added.
const redis::Script& scheduleScript() {
  static const auto* script = new redis::Script(R"lua(
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
)lua");
  return *script;
}

// Takes the next tenant of the ring KEYS[1] (moving it to the tail), pops a
// job from its high lane or else its ready lane, grants a token from
// KEYS[3], sets the lease and records it in the zset KEYS[4]. A tenant left
// without jobs leaves the ring (and its members set KEYS[2]). ARGV: key
// prefix, worker, lease ms, now ms. Returns {tenant, job, token} or nil.
// A nil also clears the wake tokens KEYS[5], which no job backs any more.
//
// The tenant's keys are built here rather than passed in KEYS, so the script
// runs on one Redis only; Redis Cluster would need one ring per slot.
const redis::Script& claimScript() {
  static const auto* script = new redis::Script(R"lua(
local ring, members, counter, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, worker = ARGV[1], ARGV[2]
local lease_ms, now_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local tenants = redis.call('LLEN', ring)
for _ = 1, tenants do
  local tenant = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
  if not tenant then
    return nil
  end
  local base = prefix .. '{' .. tenant .. '}:'
  local job = redis.call('LPOP', base .. 'high')
  if not job then
    job = redis.call('LPOP', base .. 'ready')
  end
  if redis.call('LLEN', base .. 'high') + redis.call('LLEN', base .. 'ready') == 0 then
    redis.call('LREM', ring, -1, tenant)
    redis.call('SREM', members, tenant)
  end
  if job then
    local token = redis.call('INCR', counter)
    redis.call('SET', base .. 'lease:' .. job, worker .. ' ' .. token, 'PX', lease_ms)
    redis.call('ZADD', active, now_ms + lease_ms, tenant .. ' ' .. job .. ' ' .. token)
    return {tenant, job, token}
  end
end
redis.call('DEL', KEYS[5])
return nil
)lua");
  return *script;
}

// Extends the lease KEYS[1] to ARGV[2] ms and its deadline in the zset
// KEYS[2] to ARGV[3], when the lease still holds token ARGV[1] and its
// member ARGV[4] is still in the zset. Returns 1 when extended.
const redis::Script& heartbeatScript() {
  static const auto* script = new redis::Script(R"lua(
if not redis.call('ZSCORE', KEYS[2], ARGV[4]) then
  return 0
end
local value = redis.call('GET', KEYS[1])
if not value or string.match(value, '(%d+)$') ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[4])
return 1
)lua");
  return *script;
}

// Makes the lease KEYS[1] again with value ARGV[1] for ARGV[2] ms, and its
// member ARGV[4] in the leases zset KEYS[2] with deadline ARGV[3], after
// Redis lost them. A lease of a lower token than ARGV[5] is stale and is
// replaced. Returns 0 when a claim with a higher token holds the lease.
const redis::Script& restoreLeaseScript() {
  static const auto* script = new redis::Script(R"lua(
local value = redis.call('GET', KEYS[1])
if value and value ~= ARGV[1] then
  local held = tonumber(string.match(value, '(%d+)$') or '0')
  if held > tonumber(ARGV[5]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
)lua");
  return *script;
}

// Ends a claim: removes member ARGV[2] from the leases zset KEYS[2] and the
// lease KEYS[1] when it holds token ARGV[1]. Then, by mode ARGV[4]: "forget"
// removes job ARGV[3] from the known set KEYS[3]; "delay" adds member
// ARGV[6] to the retries zset KEYS[4] with score ARGV[5]; "keep" does no more.
const redis::Script& finishScript() {
  static const auto* script = new redis::Script(R"lua(
redis.call('ZREM', KEYS[2], ARGV[2])
local value = redis.call('GET', KEYS[1])
if value and string.match(value, '(%d+)$') == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if ARGV[4] == 'forget' then
  redis.call('SREM', KEYS[3], ARGV[3])
elseif ARGV[4] == 'delay' then
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[6])
end
return 1
)lua");
  return *script;
}

// Moves up to ARGV[2] retries due by ARGV[1] from the zset KEYS[1] to their
// lanes, and their tenants into the ring KEYS[2] (members KEYS[3]), and
// wakes as many idle workers through KEYS[4]. ARGV[3] is the key prefix.
// Returns how many moved.
const redis::Script& promoteScript() {
  static const auto* script = new redis::Script(withWake(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local tenant, job, lane = string.match(member, '^(%S+) (%S+) (%S+)$')
  if tenant then
    redis.call('RPUSH', ARGV[3] .. '{' .. tenant .. '}:' .. lane, job)
    if redis.call('SADD', KEYS[3], tenant) == 1 then
      redis.call('RPUSH', KEYS[2], tenant)
    end
  end
end
wake(KEYS[4], #due)
return #due
)lua"));
  return *script;
}

// Takes up to ARGV[2] leases of the zset KEYS[1] whose deadline passed by
// ARGV[1], and returns their members. It deletes each lease key, so that its
// worker's heartbeat fails. It also moves the deadline ARGV[3] ms on, so that
// no other reclaimer takes the lease while this one fails it in SQL. ARGV[4]
// is the key prefix.
const redis::Script& takeExpiredScript() {
  static const auto* script = new redis::Script(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), member)
  local tenant, job = string.match(member, '^(%S+) (%S+) ')
  if tenant then
    redis.call('DEL', ARGV[4] .. '{' .. tenant .. '}:lease:' .. job)
  end
end
return due
)lua");
  return *script;
}

// Removes the jobs ARGV[2..] of tenant ARGV[1] from its lanes KEYS[1] and
// KEYS[2], the retries zset KEYS[3] and the known set KEYS[4].
const redis::Script& removeScript() {
  static const auto* script = new redis::Script(R"lua(
for i = 2, #ARGV do
  local job = ARGV[i]
  redis.call('LREM', KEYS[1], 0, job)
  redis.call('LREM', KEYS[2], 0, job)
  redis.call('ZREM', KEYS[3], ARGV[1] .. ' ' .. job .. ' ready', ARGV[1] .. ' ' .. job .. ' high')
  redis.call('SREM', KEYS[4], job)
end
return 1
)lua");
  return *script;
}

// Counts the jobs in the lanes of the tenants in the ring KEYS[1], the
// leases zset KEYS[2] and the retries zset KEYS[3]. ARGV[1] is the key
// prefix. Returns {ready and high, high, active, delayed, tenants}.
const redis::Script& queueStatsScript() {
  static const auto* script = new redis::Script(R"lua(
local tenants = redis.call('LRANGE', KEYS[1], 0, -1)
local ready, high = 0, 0
for _, tenant in ipairs(tenants) do
  local base = ARGV[1] .. '{' .. tenant .. '}:'
  local h = redis.call('LLEN', base .. 'high')
  high = high + h
  ready = ready + h + redis.call('LLEN', base .. 'ready')
end
return {ready, high, redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]), #tenants}
)lua");
  return *script;
}

// Raises the token counter KEYS[1] to ARGV[1] when it is lower, so that a
// Redis that lost the counter grants tokens above those SQL has seen.
const redis::Script& raiseTokenScript() {
  static const auto* script = new redis::Script(R"lua(
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
)lua");
  return *script;
}

}  // namespace smmhub::broker::internal
