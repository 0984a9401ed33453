#include "render/video/video_writer.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "render/video/audio_track.h"
#include "render/video/probe.h"
#include "render/video/test_util.h"
#include "render/video/video_clip.h"

namespace smmhub::render {
namespace {

using testing::TempDir;

constexpr double kFrameDuration = 1.0 / 30;

Raster solidFrame(int width, int height, std::uint8_t b, std::uint8_t g, std::uint8_t r) {
  Raster frame(width, height);
  for (size_t i = 0; i < frame.pixels.size(); i += 4) {
    frame.pixels[i] = b;
    frame.pixels[i + 1] = g;
    frame.pixels[i + 2] = r;
    frame.pixels[i + 3] = 255;
  }
  return frame;
}

// A moving bar over a gradient, so that the encoder has motion to code.
Raster movingFrame(int width, int height, int index) {
  Raster frame(width, height);
  for (int y = 0; y < height; ++y) {
    std::uint8_t* row = frame.row(y);
    for (int x = 0; x < width; ++x) {
      const bool bar = std::abs(x - (index * 7) % width) < width / 10;
      const size_t pixel = 4 * static_cast<size_t>(x);
      row[pixel] = static_cast<std::uint8_t>(bar ? 255 : y * 255 / height);
      row[pixel + 1] = static_cast<std::uint8_t>(bar ? 255 : x * 255 / width);
      row[pixel + 2] = static_cast<std::uint8_t>(bar ? 255 : 64);
      row[pixel + 3] = 255;
    }
  }
  return frame;
}

// 440 Hz stereo tone at 48 kHz.
std::vector<float> tone(double duration_s) {
  const auto frames = static_cast<size_t>(duration_s * kAudioSampleRate);
  std::vector<float> samples(2 * frames);
  for (size_t i = 0; i < frames; ++i) {
    const double t_s = static_cast<double>(i) / kAudioSampleRate;
    const auto value = static_cast<float>(0.25 * std::sin(2 * M_PI * 440.0 * t_s));
    samples[2 * i] = value;
    samples[2 * i + 1] = value;
  }
  return samples;
}

// Writes 240 frames, three of every four by repeatFrame(), plus AUDIO_S of tone.
Status writeVideo(const std::filesystem::path& path, const EncodeSettings& settings,
                  double audio_s) {
  SMMHUB_ASSIGN_OR_RETURN(auto writer, VideoWriter::open(path, settings));
  const std::vector<float> audio = tone(audio_s);
  SMMHUB_RETURN_IF_ERROR(writer->writeAudio(audio.data(), audio.size() / 2));
  for (int i = 0; i < 240; ++i) {
    Status status = i % 4 == 0 ? writer->writeFrame(movingFrame(settings.width, settings.height, i))
                               : writer->repeatFrame();
    SMMHUB_RETURN_IF_ERROR(status);
  }
  return writer->finish();
}

// Checks every rule of the platform output spec on the file at PATH.
void expectPlatformSpec(const std::filesystem::path& path, int width, int height) {
  auto info = probeMedia(path);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_TRUE(info->moov_before_mdat);
  EXPECT_FALSE(info->has_edit_list);

  ASSERT_TRUE(info->video.has_value());
  const MediaInfo::VideoStream& video = *info->video;
  EXPECT_EQ(video.frame_count, 240);
  EXPECT_EQ(video.width, width);
  EXPECT_EQ(video.height, height);
  EXPECT_EQ(video.codec, "h264");
  EXPECT_EQ(video.profile, "High");
  EXPECT_EQ(video.pix_fmt, "yuv420p");
  EXPECT_DOUBLE_EQ(video.fps, 30.0);
  EXPECT_TRUE(video.constant_frame_rate);
  EXPECT_DOUBLE_EQ(video.start_s, 0.0);
  EXPECT_DOUBLE_EQ(video.duration_s, 8.0);
  EXPECT_EQ(video.color_transfer, "bt709");
  EXPECT_EQ(video.color_primaries, "bt709");
  EXPECT_EQ(video.color_space, "bt709");

  ASSERT_TRUE(info->audio.has_value());
  const MediaInfo::AudioStream& audio = *info->audio;
  EXPECT_EQ(audio.codec, "aac");
  EXPECT_EQ(audio.sample_rate, 48000);
  EXPECT_EQ(audio.channels, 2);
  EXPECT_DOUBLE_EQ(audio.start_s, 0.0);
  EXPECT_LE(audio.bit_rate, 128000);
  EXPECT_NEAR(audio.duration_s, video.duration_s, kFrameDuration);
}

EncodeSettings smallSettings() {
  EncodeSettings settings;
  settings.width = 180;
  settings.height = 320;
  settings.preset = "ultrafast";
  return settings;
}

TEST(VideoWriterTest, FullSizeOutputMeetsPlatformSpec) {
  TempDir dir;
  const auto path = dir.file("full.mp4");

  Status status = writeVideo(path, EncodeSettings{}, 8.0);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 1080, 1920);
}

TEST(VideoWriterTest, SmallOutputMeetsPlatformSpec) {
  TempDir dir;
  const auto path = dir.file("small.mp4");

  Status status = writeVideo(path, smallSettings(), 8.0);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
}

TEST(VideoWriterTest, ShortAudioIsPaddedToVideoLength) {
  TempDir dir;
  const auto path = dir.file("short-audio.mp4");

  Status status = writeVideo(path, smallSettings(), 3.0);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
}

TEST(VideoWriterTest, LongAudioIsCutToVideoLength) {
  TempDir dir;
  const auto path = dir.file("long-audio.mp4");

  Status status = writeVideo(path, smallSettings(), 11.5);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
}

TEST(VideoWriterTest, NoAudioGivesSilentTrack) {
  TempDir dir;
  const auto path = dir.file("silent.mp4");

  Status status = writeVideo(path, smallSettings(), 0.0);
  auto decoded = decodeAudio(path, 0, 0);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
  ASSERT_TRUE(decoded.ok()) << decoded.status().toString();
  EXPECT_GE(decoded->frames(), 8u * kAudioSampleRate);
  for (float sample : decoded->samples) {
    ASSERT_FLOAT_EQ(sample, 0.0f);
  }
}

TEST(VideoWriterTest, ColoursSurviveBt709RoundTrip) {
  TempDir dir;
  const auto path = dir.file("colours.mp4");
  const EncodeSettings settings = smallSettings();
  {
    auto writer = VideoWriter::open(path, settings);
    ASSERT_TRUE(writer.ok()) << writer.status().toString();
    ASSERT_TRUE((*writer)->writeFrame(solidFrame(180, 320, 40, 160, 220)).ok());
    for (int i = 1; i < 30; ++i) {
      ASSERT_TRUE((*writer)->repeatFrame().ok());
    }
    ASSERT_TRUE((*writer)->finish().ok());
  }

  auto clip = VideoClip::open(path);
  ASSERT_TRUE(clip.ok()) << clip.status().toString();
  auto frame = (*clip)->frameAt(0.5, 180, 320);

  ASSERT_TRUE(frame.ok()) << frame.status().toString();
  const std::uint8_t* pixel = (*frame)->row(160) + static_cast<size_t>(4 * 90);
  EXPECT_NEAR(pixel[0], 40, 4);
  EXPECT_NEAR(pixel[1], 160, 4);
  EXPECT_NEAR(pixel[2], 220, 4);
  EXPECT_EQ(pixel[3], 255);
}

TEST(VideoWriterTest, RepeatBeforeFirstFrameFails) {
  TempDir dir;
  auto writer = VideoWriter::open(dir.file("empty.mp4"), smallSettings());
  ASSERT_TRUE(writer.ok()) << writer.status().toString();

  Status status = (*writer)->repeatFrame();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
}

TEST(VideoWriterTest, WrongFrameSizeFails) {
  TempDir dir;
  auto writer = VideoWriter::open(dir.file("size.mp4"), smallSettings());
  ASSERT_TRUE(writer.ok()) << writer.status().toString();

  Status status = (*writer)->writeFrame(solidFrame(100, 100, 0, 0, 0));

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("100x100"), std::string::npos) << status.message();
}

TEST(VideoWriterTest, OddFrameSizeIsRejected) {
  TempDir dir;
  EncodeSettings settings = smallSettings();
  settings.width = 181;

  auto writer = VideoWriter::open(dir.file("odd.mp4"), settings);

  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kInvalidArgument);
}

TEST(VideoWriterTest, UnknownPresetFailsNamingIt) {
  TempDir dir;
  EncodeSettings settings = smallSettings();
  settings.preset = "warp-speed";

  auto writer = VideoWriter::open(dir.file("preset.mp4"), settings);

  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.status().message().find("warp-speed"), std::string::npos)
      << writer.status().message();
}

}  // namespace
}  // namespace smmhub::render
