#include "buffer/redis_tier.h"

#include <thread>

#include <gtest/gtest.h>

#include "testing/redis_server.h"

namespace smmhub::buffer {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<RedisTier> connect(const std::string& url, RedisOptions options = {}) {
  options.url = url;
  Result<std::unique_ptr<RedisTier>> tier = RedisTier::create(options);
  EXPECT_TRUE(tier.ok()) << tier.status().toString();
  return tier.ok() ? std::move(tier).value() : nullptr;
}

TEST(RedisTierTest, StoresReadsAndRemoves) {
  testing::RedisServer redis;
  auto tier = connect(redis.url());
  std::string binary("a\0b\r\n", 5);

  ASSERT_TRUE(tier->put("k1", binary).ok());
  Result<std::optional<std::string>> found = tier->get("k1");
  Result<std::optional<std::string>> missing = tier->get("k2");
  ASSERT_TRUE(tier->remove("k1").ok());
  Result<std::optional<std::string>> removed = tier->get("k1");

  ASSERT_TRUE(found.ok()) << found.status().toString();
  EXPECT_EQ(found->value(), binary);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(removed->has_value());
}

TEST(RedisTierTest, LockIsExclusiveUntilReleasedByItsToken) {
  testing::RedisServer redis;
  auto first = connect(redis.url());
  auto second = connect(redis.url());

  auto token = first->tryLock("segment");
  auto rejected = second->tryLock("segment");
  ASSERT_TRUE(second->unlock("segment", "not-the-token").ok());
  auto still_rejected = second->tryLock("segment");
  ASSERT_TRUE(first->unlock("segment", **token).ok());
  auto second_token = second->tryLock("segment");

  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(token->has_value());
  ASSERT_TRUE(rejected.ok());
  EXPECT_FALSE(rejected->has_value());
  EXPECT_FALSE(still_rejected->has_value());
  EXPECT_TRUE(second_token->has_value());
}

TEST(RedisTierTest, LockOfDeadHolderExpires) {
  testing::RedisServer redis;
  RedisOptions options;
  options.lock_ttl = 200ms;
  auto holder = connect(redis.url(), options);
  auto other = connect(redis.url(), options);

  ASSERT_TRUE(holder->tryLock("plate")->has_value());
  holder.reset();  // dies without unlocking
  bool rejected_at_once = !other->tryLock("plate")->has_value();
  std::this_thread::sleep_for(300ms);

  EXPECT_TRUE(rejected_at_once);
  EXPECT_TRUE(other->tryLock("plate")->has_value());
}

TEST(RedisTierTest, DownServerFailsFastThenReconnects) {
  testing::RedisServer redis;
  RedisOptions options;
  options.retry_after = 300ms;
  auto tier = connect(redis.url(), options);
  ASSERT_TRUE(tier->put("k", "v").ok());

  redis.kill();
  Status first = tier->put("k", "v");
  auto started = std::chrono::steady_clock::now();
  Status during_back_off = tier->put("k", "v");
  auto rejected_in = std::chrono::steady_clock::now() - started;
  redis.restart();
  std::this_thread::sleep_for(400ms);
  Status after = tier->put("k", "again");

  EXPECT_EQ(first.code(), StatusCode::kUnavailable);
  EXPECT_EQ(during_back_off.code(), StatusCode::kUnavailable);
  EXPECT_LT(rejected_in, 50ms);
  EXPECT_TRUE(after.ok()) << after.toString();
  EXPECT_EQ(tier->stats().outages, 1u);
  EXPECT_EQ(tier->stats().skipped, 1u);
}

TEST(RedisTierTest, UnreachableServerIsUnavailable) {
  RedisOptions options;
  options.timeout = 100ms;
  auto tier = connect("redis://127.0.0.1:1", options);

  Result<std::optional<std::string>> found = tier->get("k");

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(found.status().message().find("redis://127.0.0.1:1"), std::string::npos);
}

TEST(RedisTierTest, OversizedValueIsNotStored) {
  testing::RedisServer redis;
  RedisOptions options;
  options.max_value_bytes = 10;
  auto tier = connect(redis.url(), options);

  ASSERT_TRUE(tier->put("big", std::string(11, 'x')).ok());

  EXPECT_FALSE(tier->get("big")->has_value());
  EXPECT_EQ(tier->stats().oversized, 1u);
}

TEST(RedisTierTest, PrefixMeasuredAndRemoved) {
  testing::RedisServer redis;
  auto tier = connect(redis.url());
  ASSERT_TRUE(tier->put("smmhub:rb:{a}:layer:1", "12345").ok());
  ASSERT_TRUE(tier->put("smmhub:rb:{a}:layer:2", "678").ok());
  ASSERT_TRUE(tier->put("smmhub:rb:{b}:layer:1", "9").ok());

  auto measured = tier->measurePrefix("smmhub:rb:{a}:");
  auto removed = tier->removePrefix("smmhub:rb:{a}:");

  ASSERT_TRUE(measured.ok()) << measured.status().toString();
  EXPECT_EQ(measured->first, 2u);
  EXPECT_EQ(measured->second, 8u);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2u);
  EXPECT_TRUE(tier->get("smmhub:rb:{b}:layer:1")->has_value());
}

TEST(RedisTierTest, BadUrlsNamed) {
  for (auto [url, message] : std::vector<std::pair<std::string, std::string>>{
           {"http://x",
            "--cache-redis 'http://x': expected redis://HOST:PORT[/DB] or unix:///PATH"},
           {"redis://h:99999",
            "--cache-redis 'redis://h:99999': port '99999' is not a number "
            "from 1 to 65535"},
           {"redis://:6379", "--cache-redis 'redis://:6379': no host"},
           {"redis://h:6379/x", "--cache-redis 'redis://h:6379/x': database 'x' is not a number"},
           {"unix://relative.sock",
            "--cache-redis 'unix://relative.sock': expected unix:///absolute/path/to/redis.sock"},
       }) {
    Result<std::unique_ptr<RedisTier>> tier = RedisTier::create(RedisOptions{.url = url});
    ASSERT_FALSE(tier.ok()) << url;
    EXPECT_EQ(tier.status().message(), message);
  }
}

}  // namespace
}  // namespace smmhub::buffer
