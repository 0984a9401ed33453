#include "render/raster_cache.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace smmhub::render {
namespace {

RasterPtr rasterOfBytes(int width) {
  return std::make_shared<const Raster>(width, 1);  // width * 4 bytes
}

TEST(RasterCacheTest, EvictsLeastRecentlyUsedByBytes) {
  MemoryRasterCache cache(100);
  cache.insert("a", rasterOfBytes(10));  // 40 bytes
  cache.insert("b", rasterOfBytes(10));
  ASSERT_NE(cache.find("a"), nullptr);  // a is now the most recently used

  cache.insert("c", rasterOfBytes(10));

  EXPECT_NE(cache.find("a"), nullptr);
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("c"), nullptr);
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.stats().bytes, 80u);
}

TEST(RasterCacheTest, SkipsEntryLargerThanCapacity) {
  MemoryRasterCache cache(10);

  cache.insert("big", rasterOfBytes(10));

  EXPECT_EQ(cache.find("big"), nullptr);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(RasterCacheTest, ConcurrentMissesRenderOnce) {
  MemoryRasterCache cache(1 << 20);
  RasterMemo memo(&cache);
  std::atomic<int> renders{0};
  auto make = [&]() -> Result<RasterPtr> {
    renders++;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return rasterOfBytes(8);
  };

  std::vector<std::thread> threads;
  std::vector<RasterPtr> results(4);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = *memo.getOrMake("logo", make); });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(renders.load(), 1);
  for (const auto& result : results) {
    EXPECT_EQ(result, results[0]);
  }
}

TEST(RasterCacheTest, ErrorsAreNotCached) {
  MemoryRasterCache cache(1 << 20);
  RasterMemo memo(&cache);
  int calls = 0;
  auto failing = [&]() -> Result<RasterPtr> {
    calls++;
    return Status::invalidArgument("crest.png: file is empty (0 bytes)");
  };

  Result<RasterPtr> first = memo.getOrMake("crest", failing);
  Result<RasterPtr> second = memo.getOrMake("crest", failing);

  EXPECT_FALSE(first.ok());
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(calls, 2);
}

TEST(RasterCacheTest, AdmitOnRepeatCachesSecondRequest) {
  MemoryRasterCache cache(1 << 20);
  RasterMemo memo(&cache);
  int calls = 0;
  auto make = [&]() -> Result<RasterPtr> {
    calls++;
    return rasterOfBytes(4);
  };

  ASSERT_TRUE(memo.getOrMake("plate", make, true).ok());
  EXPECT_EQ(cache.stats().entries, 0u);
  ASSERT_TRUE(memo.getOrMake("plate", make, true).ok());
  EXPECT_EQ(cache.stats().entries, 1u);
  ASSERT_TRUE(memo.getOrMake("plate", make, true).ok());

  EXPECT_EQ(calls, 2);
}

TEST(RasterCacheTest, NullCacheAlwaysMakes) {
  RasterMemo memo(nullptr);
  int calls = 0;
  auto make = [&]() -> Result<RasterPtr> {
    calls++;
    return rasterOfBytes(1);
  };

  ASSERT_TRUE(memo.getOrMake("k", make).ok());
  ASSERT_TRUE(memo.getOrMake("k", make).ok());

  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace smmhub::render
