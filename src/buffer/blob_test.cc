#include "buffer/blob.h"

#include <gtest/gtest.h>

namespace smmhub::buffer {
namespace {

constexpr std::string_view kVersion = "smmhub-engine-test";

std::string samplePayload() {
  std::string bytes;
  for (int i = 0; i < 5000; ++i) {
    bytes += static_cast<char>(i % 7 == 0 ? i : 'a');
  }
  return bytes;
}

TEST(BlobTest, RoundTripKeepsBytesAndCost) {
  std::string payload = samplePayload();

  std::string stored = encodeBlob(payload, {std::string(kVersion), 1234});
  Result<DecodedBlob> decoded = decodeBlob(stored, kVersion);

  ASSERT_TRUE(decoded.ok()) << decoded.status().toString();
  EXPECT_EQ(decoded->bytes, payload);
  EXPECT_EQ(decoded->info.cost_us, 1234u);
  EXPECT_LT(stored.size(), payload.size() / 4);  // zstd on repetitive bytes
}

TEST(BlobTest, EmptyValueRoundTrips) {
  Result<DecodedBlob> decoded = decodeBlob(encodeBlob("", {std::string(kVersion), 0}), kVersion);

  ASSERT_TRUE(decoded.ok()) << decoded.status().toString();
  EXPECT_EQ(decoded->bytes, "");
}

TEST(BlobTest, EveryTruncationIsDataLoss) {
  std::string stored = encodeBlob(samplePayload(), {std::string(kVersion), 1});

  for (size_t length = 0; length < stored.size(); ++length) {
    Result<DecodedBlob> decoded = decodeBlob(std::string_view(stored).substr(0, length), kVersion);
    ASSERT_FALSE(decoded.ok()) << "length " << length;
    EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss) << "length " << length;
  }
}

TEST(BlobTest, FlippedPayloadByteFailsChecks) {
  std::string stored = encodeBlob(samplePayload(), {std::string(kVersion), 1});
  int rejected = 0;

  for (size_t at = 32 + kVersion.size(); at < stored.size(); ++at) {
    std::string corrupt = stored;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0x5A);
    Result<DecodedBlob> decoded = decodeBlob(corrupt, kVersion);
    rejected += decoded.ok() ? 0 : 1;
    if (decoded.ok()) {
      // A flip zstd cannot see must still give the original bytes.
      EXPECT_EQ(decoded->bytes, samplePayload()) << "byte " << at;
    }
  }

  EXPECT_EQ(rejected, static_cast<int>(stored.size() - 32 - kVersion.size()));
}

TEST(BlobTest, OtherEngineVersionRefused) {
  std::string stored = encodeBlob("pixels", {"smmhub-engine-1", 1});

  Result<DecodedBlob> decoded = decodeBlob(stored, "smmhub-engine-2");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(decoded.status().message(),
            "render buffer value was made by engine 'smmhub-engine-1', not 'smmhub-engine-2'");
}

TEST(BlobTest, ForeignBytesRefused) {
  Result<DecodedBlob> decoded =
      decodeBlob("PNG\x89 not ours at all, longer than a header", kVersion);

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "not a render buffer value (no header)");
}

}  // namespace
}  // namespace smmhub::buffer
