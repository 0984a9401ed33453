#include <chrono>

#include <fmt/format.h>

#include "credits/internal.h"

namespace smmhub::credits {

std::string accountKey(std::string_view tenant) {
  return fmt::format("smmhub:cr:{{{}}}:account", tenant);
}
std::string holdsKey(std::string_view tenant) {
  return fmt::format("smmhub:cr:{{{}}}:holds", tenant);
}
std::string eventsKey(std::string_view tenant) {
  return fmt::format("smmhub:cr:{{{}}}:events", tenant);
}
std::string recordKey(std::string_view tenant, std::string_view key) {
  return fmt::format("smmhub:cr:{{{}}}:key:{}", tenant, key);
}
std::string tenantsKey() {
  return "smmhub:cr:tenants";
}

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string recordValue(const Entry& entry) {
  return fmt::format("{}\n{} {} {} {}", entry.request, entry.amount, entry.available_after,
                     entry.held_after, entry.job_held_after);
}

// A record holds "REQUEST\nMOVED AVAILABLE HELD JOB_HELD", where REQUEST is
// "OPERATION|AMOUNT|JOB" and AMOUNT is "up to N" for a partial reservation.
// A key seen with another request is rejected: reusing a key for a
// different call is a caller's bug that would otherwise lose the second
// call. A rejected call (short, not held) leaves no record, so that it may
// be tried again with the same key once credits arrive.
const redis::Script& applyScript() {
  static const auto* script = new redis::Script(R"lua(
local account, holds, record, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, amount_text, job, actor = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local partial, ttl, key = ARGV[5], ARGV[6], ARGV[7]
local request = op .. '|' .. amount_text .. '|' .. job
if op == 'reserve' and partial == '1' then
  request = op .. '|up to ' .. amount_text .. '|' .. job
end

local seen = redis.call('GET', record)
if seen then
  local newline = string.find(seen, '\n', 1, true)
  if not newline then
    return redis.error_reply('malformed idempotency record ' .. record)
  end
  local seen_request = string.sub(seen, 1, newline - 1)
  if seen_request ~= request then
    return {'key_reused', 0, 0, 0, 0, 0, seen_request}
  end
  local numbers = {}
  for number in string.gmatch(string.sub(seen, newline + 1), '%-?%d+') do
    numbers[#numbers + 1] = tonumber(number)
  end
  return {'done', numbers[1], numbers[2], numbers[3], numbers[4], 1, ''}
end

local counters = redis.call('HMGET', account, 'available', 'held')
if not counters[1] then
  return {'unseeded', 0, 0, 0, 0, 0, ''}
end
local available, held = tonumber(counters[1]), tonumber(counters[2])
local job_held = tonumber(redis.call('HGET', holds, job) or '0')
local amount = tonumber(amount_text) or 0

local moved, available_change, held_change = 0, 0, 0
if op == 'topup' then
  moved, available_change = amount, amount
elseif op == 'adjustment' then
  if available + amount < 0 then
    return {'short', 0, available, held, job_held, 0, ''}
  end
  moved, available_change = amount, amount
elseif op == 'reserve' then
  moved = amount
  if available < amount then
    if partial ~= '1' or available <= 0 then
      return {'short', 0, available, held, job_held, 0, ''}
    end
    moved = available
  end
  available_change, held_change = -moved, moved
elseif op == 'charge' then
  if job_held < amount then
    return {'not_held', 0, available, held, job_held, 0, ''}
  end
  moved, held_change = amount, -amount
elseif op == 'release' then
  moved = amount
  if amount_text == 'all' then
    -- A hold below zero (a hand edit) has nothing to give back.
    moved = math.max(job_held, 0)
  end
  if job_held < moved then
    return {'not_held', 0, available, held, job_held, 0, ''}
  end
  available_change, held_change = moved, -moved
else
  return redis.error_reply('unknown credit operation ' .. op)
end

if available_change ~= 0 then
  available = redis.call('HINCRBY', account, 'available', available_change)
end
if held_change ~= 0 then
  held = redis.call('HINCRBY', account, 'held', held_change)
  job_held = redis.call('HINCRBY', holds, job, held_change)
  if job_held == 0 then
    redis.call('HDEL', holds, job)
  end
end
if moved ~= 0 then
  local time = redis.call('TIME')
  local at_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('XADD', events, '*', 'kind', op, 'amount', moved,
             'available_change', available_change, 'held_change', held_change,
             'key', key, 'job', job, 'actor', actor, 'request', request,
             'available_after', available, 'held_after', held, 'job_held_after', job_held,
             'at_ms', at_ms)
end
redis.call('SET', record,
           string.format('%s\n%d %d %d %d', request, moved, available, held, job_held),
           'PX', ttl)
return {'done', moved, available, held, job_held, 0, ''}
)lua");
  return *script;
}

// Replaces the counters in KEYS[1] and KEYS[2] with ARGV[first] (available),
// ARGV[first + 1] (held) and the job and credits pairs after them.
constexpr std::string_view kWriteCountersLua = R"lua(
local function writeCounters(first)
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'available', ARGV[first], 'held', ARGV[first + 1])
  for i = first + 2, #ARGV, 2 do
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
)lua";

const redis::Script& seedScript() {
  static const auto* script = new redis::Script(std::string(kWriteCountersLua) + R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
writeCounters(1)
return 1
)lua");
  return *script;
}

const redis::Script& repairScript() {
  static const auto* script =
      new redis::Script(std::string(kLastEventIdLua) + std::string(kWriteCountersLua) + R"lua(
if last ~= ARGV[1] then
  return 0
end
writeCounters(2)
return 1
)lua");
  return *script;
}

}  // namespace smmhub::credits
