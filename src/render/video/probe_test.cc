#include "render/video/probe.h"

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "render/video/test_util.h"

namespace smmhub::render {
namespace {

using testing::TempDir;
using testing::testdata;

std::string readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

TEST(ProbeTest, DescribesVariableFrameRateClip) {
  auto info = probeMedia(testdata("phone-vfr.mp4"));

  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_TRUE(info->moov_before_mdat);
  ASSERT_TRUE(info->video.has_value());
  EXPECT_EQ(info->video->frame_count, 100);
  EXPECT_EQ(info->video->width, 180);
  EXPECT_EQ(info->video->height, 320);
  EXPECT_FALSE(info->video->constant_frame_rate);
  ASSERT_TRUE(info->audio.has_value());
  EXPECT_EQ(info->audio->channels, 1);
}

TEST(ProbeTest, ReportsHdrTags) {
  auto info = probeMedia(testdata("iphone-hlg-10bit.mov"));

  ASSERT_TRUE(info.ok()) << info.status().toString();
  ASSERT_TRUE(info->video.has_value());
  EXPECT_EQ(info->video->codec, "hevc");
  EXPECT_EQ(info->video->pix_fmt, "yuv420p10le");
  EXPECT_EQ(info->video->color_transfer, "arib-std-b67");
  EXPECT_EQ(info->video->color_primaries, "bt2020");
  EXPECT_EQ(info->video->frame_count, 30);
}

TEST(ProbeTest, NoAudioStreamLeavesAudioEmpty) {
  auto info = probeMedia(testdata("clip-no-audio-track.mp4"));

  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_FALSE(info->audio.has_value());
  ASSERT_TRUE(info->video.has_value());
  EXPECT_EQ(info->video->frame_count, 60);
}

TEST(ProbeTest, TruncatedMp4IsDataLoss) {
  TempDir dir;
  const std::string bytes = readFile(testdata("clip-silent-track.mp4"));
  const auto truncated = dir.write("truncated.mp4", bytes.substr(0, bytes.size() / 2));

  auto info = probeMedia(truncated);

  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(info.status().message().find(truncated.string()), std::string::npos)
      << info.status().message();
}

TEST(ProbeTest, MoovCutOffIsDataLoss) {
  TempDir dir;
  const std::string bytes = readFile(testdata("clip-silent-track.mp4"));
  const auto truncated = dir.write("header-only.mp4", bytes.substr(0, 200));

  auto info = probeMedia(truncated);

  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(info.status().message().find(truncated.string()), std::string::npos)
      << info.status().message();
}

}  // namespace
}  // namespace smmhub::render
