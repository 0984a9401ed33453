#include "redis/window_counter.h"

#include <thread>

#include <gtest/gtest.h>

#include "testing/redis_server.h"

namespace smmhub::redis {
namespace {

using namespace std::chrono_literals;
using smmhub::testing::RedisServer;

TEST(WindowCounterTest, CountsThenStartsANewWindow) {
  RedisServer server;
  Pool pool(*parseUrl(server.url(), "test"), {});

  Result<WindowCount> none = readWindow(pool, "calls");
  ASSERT_TRUE(none.ok()) << none.status().toString();
  EXPECT_EQ(none->count, 0);
  EXPECT_EQ(none->ms_left, 0);

  for (long long expected = 1; expected <= 3; ++expected) {
    Result<WindowCount> counted = countInWindow(pool, "calls", 300ms);
    ASSERT_TRUE(counted.ok()) << counted.status().toString();
    EXPECT_EQ(counted->count, expected);
    EXPECT_GT(counted->ms_left, 0);
    EXPECT_LE(counted->ms_left, 300);
  }
  Result<WindowCount> read = readWindow(pool, "calls");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->count, 3);

  std::this_thread::sleep_for(400ms);
  Result<WindowCount> next = countInWindow(pool, "calls", 300ms);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->count, 1);
}

TEST(WindowCounterTest, RedisDownIsUnavailable) {
  RedisServer server;
  std::string url = server.url();
  server.kill();
  Pool pool(*parseUrl(url, "test"), {.timeout = 300ms});

  Result<WindowCount> counted = countInWindow(pool, "calls", 1s);
  ASSERT_FALSE(counted.ok());
  EXPECT_EQ(counted.status().code(), StatusCode::kUnavailable);
}

TEST(WindowCounterTest, RetryAfterRoundsUpToWholeSeconds) {
  EXPECT_EQ(retryAfterSeconds(0), 1);
  EXPECT_EQ(retryAfterSeconds(1), 1);
  EXPECT_EQ(retryAfterSeconds(1000), 1);
  EXPECT_EQ(retryAfterSeconds(1001), 2);
  EXPECT_EQ(retryAfterSeconds(59'500), 60);
}

}  // namespace
}  // namespace smmhub::redis
