// Fixed-window counters in Redis, for rate limits: each count adds one to a
// key that expires a window after the window's first count.
//
//   Result<WindowCount> calls = countInWindow(pool, "smmhub:rl:gen:{t1}", 60s);
//   if (calls.ok() && calls->count > 30) { ... retry after calls->ms_left ... }
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"
#include "redis/pool.h"

namespace smmhub::redis {

// A counter's value in its current window and the milliseconds until the
// window ends.
struct WindowCount {
  long long count = 0;
  long long ms_left = 0;
};

// Adds one to the counter KEY and returns it. The first count of a window
// starts the window of length WINDOW. Errors: unavailable from Redis.
Result<WindowCount> countInWindow(Pool& pool, const std::string& key,
                                  std::chrono::milliseconds window);

// Returns the counter KEY without counting: {0, 0} when no window is open.
// Errors: unavailable from Redis.
Result<WindowCount> readWindow(Pool& pool, const std::string& key);

// Returns the whole seconds until MS_LEFT milliseconds have passed, at
// least 1, for a Retry-After header.
long long retryAfterSeconds(long long ms_left);

}  // namespace smmhub::redis
