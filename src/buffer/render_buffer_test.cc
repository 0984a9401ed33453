#include "buffer/render_buffer.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "buffer/blob.h"
#include "buffer/redis_tier.h"
#include "common/tenant.h"
#include "testing/redis_server.h"

namespace smmhub::buffer {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kVersion = "smmhub-engine-test";

BufferOptions options(std::string version = std::string(kVersion)) {
  BufferOptions result;
  result.tenant = "acme";
  result.engine_version = std::move(version);
  return result;
}

std::unique_ptr<RedisTier> connect(const testing::RedisServer& redis) {
  Result<std::unique_ptr<RedisTier>> tier = RedisTier::create(RedisOptions{.url = redis.url()});
  EXPECT_TRUE(tier.ok()) << tier.status().toString();
  return std::move(tier).value();
}

// A maker that counts its calls and returns VALUE after DELAY.
struct CountingMaker {
  std::string value = "pixels";
  std::chrono::milliseconds delay{0};
  std::atomic<int> calls{0};

  std::function<Result<std::string>()> make() {
    return [this]() -> Result<std::string> {
      calls++;
      std::this_thread::sleep_for(delay);
      return value;
    };
  }
};

TEST(RenderBufferTest, KeysAreScopedByTenant) {
  RenderBuffer acme(options(), nullptr);
  BufferOptions other_options = options();
  other_options.tenant = "globex";
  RenderBuffer globex(other_options, nullptr);

  EXPECT_EQ(acme.scopedKey("layer", "ab12"), "smmhub:rb:{acme}:layer:ab12");
  EXPECT_NE(acme.scopedKey("layer", "ab12"), globex.scopedKey("layer", "ab12"));
}

TEST(RenderBufferTest, TenantNamesChecked) {
  EXPECT_TRUE(checkTenantName("acme-sports_2").ok());
  EXPECT_EQ(checkTenantName("").message(), "tenant '': use 1 to 64 letters, digits, '-' or '_'");
  EXPECT_FALSE(checkTenantName("a}b").ok());
  EXPECT_FALSE(checkTenantName("a:b").ok());
  EXPECT_FALSE(checkTenantName(std::string(65, 'a')).ok());
}

TEST(RenderBufferTest, MemoryTierMakesOnce) {
  RenderBuffer buffer(options(), nullptr);
  CountingMaker maker;

  Result<std::string> first = buffer.getOrMake("k", maker.make());
  Result<std::string> second = buffer.getOrMake("k", maker.make());

  EXPECT_EQ(*first, "pixels");
  EXPECT_EQ(*second, "pixels");
  EXPECT_EQ(maker.calls, 1);
  EXPECT_EQ(buffer.stats().memory.hits, 1u);
  EXPECT_EQ(buffer.stats().memory.misses, 1u);
}

TEST(RenderBufferTest, ErrorsAreNotStored) {
  RenderBuffer buffer(options(), nullptr);
  int calls = 0;
  auto failing = [&]() -> Result<std::string> {
    calls++;
    return Status::invalidArgument("corrupt crest");
  };

  Result<std::string> first = buffer.getOrMake("k", failing);
  Result<std::string> second = buffer.getOrMake("k", failing);

  EXPECT_EQ(first.status().message(), "corrupt crest");
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(calls, 2);
}

TEST(RenderBufferTest, SecondProcessHitsSharedTier) {
  testing::RedisServer redis;
  auto tier_a = connect(redis);
  auto tier_b = connect(redis);
  RenderBuffer worker_a(options(), tier_a.get());
  RenderBuffer worker_b(options(), tier_b.get());
  CountingMaker maker;

  Result<std::string> made = worker_a.getOrMake(worker_a.scopedKey("segment", "1"), maker.make());
  Result<std::string> reused = worker_b.getOrMake(worker_b.scopedKey("segment", "1"), maker.make());

  EXPECT_EQ(*made, "pixels");
  EXPECT_EQ(*reused, "pixels");
  EXPECT_EQ(maker.calls, 1);
  EXPECT_EQ(worker_b.stats().shared.hits, 1u);
  EXPECT_EQ(worker_b.stats().shared.bytes, 6u);
}

TEST(RenderBufferTest, ConcurrentWorkersMakeSharedValueOnce) {
  testing::RedisServer redis;
  auto tier_a = connect(redis);
  auto tier_b = connect(redis);
  RenderBuffer worker_a(options(), tier_a.get());
  RenderBuffer worker_b(options(), tier_b.get());
  CountingMaker maker;
  maker.delay = 300ms;
  std::string key = worker_a.scopedKey("plate", "intro");

  Result<std::string> from_a = Status::internal("not run");
  Result<std::string> from_b = Status::internal("not run");
  std::thread a([&] { from_a = worker_a.getOrMake(key, maker.make()); });
  std::thread b([&] { from_b = worker_b.getOrMake(key, maker.make()); });
  a.join();
  b.join();

  EXPECT_EQ(maker.calls, 1);
  EXPECT_EQ(*from_a, "pixels");
  EXPECT_EQ(*from_b, "pixels");
  EXPECT_EQ(worker_a.stats().waited + worker_b.stats().waited, 1u);
}

TEST(RenderBufferTest, CorruptEntryDroppedAndMadeAgain) {
  testing::RedisServer redis;
  auto tier = connect(redis);
  RenderBuffer first(options(), tier.get());
  CountingMaker maker;
  std::string key = first.scopedKey("layer", "crest");
  ASSERT_TRUE(first.getOrMake(key, maker.make()).ok());
  std::string stored = **tier->get(key);
  stored[stored.size() - 2] = static_cast<char>(stored[stored.size() - 2] ^ 0xFF);
  ASSERT_TRUE(tier->put(key, stored).ok());

  RenderBuffer second(options(), tier.get());
  Result<std::string> value = second.getOrMake(key, maker.make());
  RenderBuffer third(options(), tier.get());
  Result<std::string> repaired = third.getOrMake(key, maker.make());

  EXPECT_EQ(*value, "pixels");
  EXPECT_EQ(maker.calls, 2);
  EXPECT_EQ(second.stats().corrupt, 1u);
  EXPECT_EQ(*repaired, "pixels");
  EXPECT_EQ(third.stats().shared.hits, 1u);
}

TEST(RenderBufferTest, OtherEngineVersionNeverUsed) {
  testing::RedisServer redis;
  auto tier = connect(redis);
  RenderBuffer old_engine(options("smmhub-engine-1"), tier.get());
  RenderBuffer new_engine(options("smmhub-engine-2"), tier.get());
  CountingMaker old_maker{.value = "old pixels"};
  CountingMaker new_maker{.value = "new pixels"};
  std::string key = old_engine.scopedKey("layer", "logo");

  ASSERT_TRUE(old_engine.getOrMake(key, old_maker.make()).ok());
  Result<std::string> value = new_engine.getOrMake(key, new_maker.make());

  EXPECT_EQ(*value, "new pixels");
  EXPECT_EQ(new_maker.calls, 1);
  // Seen before and again after taking the render lock.
  EXPECT_EQ(new_engine.stats().stale, 2u);
  EXPECT_EQ(new_engine.stats().shared.hits, 0u);
}

TEST(RenderBufferTest, RedisDownMeansUncachedRendering) {
  testing::RedisServer redis;
  auto tier = connect(redis);
  RenderBuffer buffer(options(), tier.get());
  CountingMaker maker;
  redis.kill();

  Result<std::string> first = buffer.getOrMake("a", maker.make());
  Result<std::string> second = buffer.getOrMake("b", maker.make());

  EXPECT_EQ(*first, "pixels");
  EXPECT_EQ(*second, "pixels");
  EXPECT_EQ(maker.calls, 2);
  EXPECT_GE(buffer.stats().shared_errors, 2u);
  EXPECT_EQ(tier->stats().outages, 1u);
}

TEST(RenderBufferTest, HitsCountTimeSaved) {
  testing::RedisServer redis;
  auto tier = connect(redis);
  RenderBuffer maker_side(options(), tier.get());
  auto busy = []() -> Result<std::string> {
    std::uint64_t start = threadCpuMicros();
    volatile std::uint64_t sum = 0;
    while (threadCpuMicros() - start < 20'000) {
      sum = sum + 1;
    }
    return std::string("done");
  };
  ASSERT_TRUE(maker_side.getOrMake("k", busy).ok());

  RenderBuffer reader(options(), tier.get());
  ASSERT_TRUE(reader.getOrMake("k", busy).ok());

  EXPECT_GE(reader.stats().shared.saved_us, 20'000u);
  EXPECT_EQ(reader.stats().rendered, 0u);
}

}  // namespace
}  // namespace smmhub::buffer
