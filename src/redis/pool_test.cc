#include "redis/pool.h"

#include <thread>

#include <gtest/gtest.h>

#include "testing/redis_server.h"

namespace smmhub::redis {
namespace {

using namespace std::chrono_literals;
using smmhub::testing::RedisServer;

Endpoint endpointOf(const RedisServer& server) {
  return *parseUrl(server.url(), "test");
}

TEST(RedisPoolTest, ReusesReturnedConnections) {
  RedisServer server;
  Pool pool(endpointOf(server), {});
  for (int i = 0; i < 5; ++i) {
    Result<Pool::Lease> lease = pool.acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().toString();
    ASSERT_TRUE((*lease)->command({"PING"}).ok());
  }
  {
    Result<Pool::Lease> first = pool.acquire();
    Result<Pool::Lease> second = pool.acquire();
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(second.ok());
  }
  EXPECT_EQ(pool.stats().connects, 2u);
}

TEST(RedisPoolTest, BacksOffAfterFailedConnectsAndRecovers) {
  RedisServer server;
  std::string url = server.url();
  server.kill();
  Pool pool(*parseUrl(url, "test"), {.timeout = 300ms, .min_backoff = 200ms, .max_backoff = 400ms});

  Result<Pool::Lease> failed = pool.acquire();
  Result<Pool::Lease> during_backoff = pool.acquire();

  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(failed.status().message().starts_with("redis " + url + ": connect: "))
      << failed.status().message();
  ASSERT_FALSE(during_backoff.ok());
  EXPECT_NE(during_backoff.status().message().find("; next connect in "), std::string::npos)
      << during_backoff.status().message();
  EXPECT_EQ(pool.stats().failed_connects, 1u);
  EXPECT_EQ(pool.stats().refused, 1u);

  server.restart();
  std::this_thread::sleep_for(450ms);
  Result<Pool::Lease> back = pool.acquire();
  ASSERT_TRUE(back.ok()) << back.status().toString();
  EXPECT_TRUE((*back)->command({"PING"}).ok());
}

TEST(RedisPoolTest, DropsConnectionsThatFailed) {
  RedisServer server;
  Pool pool(endpointOf(server), {.timeout = 300ms});
  {
    Result<Pool::Lease> lease = pool.acquire();
    ASSERT_TRUE(lease.ok());
  }
  server.restart();  // the idle connection is now dead
  {
    Result<Pool::Lease> stale = pool.acquire();
    ASSERT_TRUE(stale.ok());
    EXPECT_FALSE((*stale)->command({"PING"}).ok());
  }
  Result<Pool::Lease> fresh = pool.acquire();
  ASSERT_TRUE(fresh.ok()) << fresh.status().toString();
  EXPECT_TRUE((*fresh)->command({"PING"}).ok());
  EXPECT_EQ(pool.stats().connects, 2u);
}

}  // namespace
}  // namespace smmhub::redis
