#include "render/video/video_clip.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include <gtest/gtest.h>

#include "render/video/probe.h"
#include "render/video/test_util.h"
#include "render/video/video_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

namespace smmhub::render {
namespace {

using testing::TempDir;
using testing::testdata;

struct Bgr {
  int b = 0;
  int g = 0;
  int r = 0;
};

Bgr pixelAt(const Raster& raster, int x, int y) {
  const std::uint8_t* pixel = raster.row(y) + 4 * static_cast<size_t>(x);
  return {pixel[0], pixel[1], pixel[2]};
}

double meanLuma(const Raster& raster) {
  double sum = 0;
  for (size_t i = 0; i < raster.pixels.size(); i += 4) {
    sum +=
        0.0722 * raster.pixels[i] + 0.7152 * raster.pixels[i + 1] + 0.2126 * raster.pixels[i + 2];
  }
  return sum / (static_cast<double>(raster.pixels.size()) / 4);
}

// Loads a PNG with libavcodec as opaque BGRA. The test reads the reference
// image directly, because openMediaInput() allows no image formats.
Raster loadPng(const std::filesystem::path& path) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  internal::InputContextPtr input(raw);
  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  internal::CodecContextPtr decoder(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(decoder.get(), input->streams[index]->codecpar);
  avcodec_open2(decoder.get(), codec, nullptr);

  internal::PacketPtr packet(av_packet_alloc());
  internal::FramePtr frame(av_frame_alloc());
  av_read_frame(input.get(), packet.get());
  avcodec_send_packet(decoder.get(), packet.get());
  avcodec_send_packet(decoder.get(), nullptr);
  if (avcodec_receive_frame(decoder.get(), frame.get()) < 0) {
    ADD_FAILURE() << "cannot decode " << path;
    return {};
  }

  Raster raster(frame->width, frame->height);
  internal::SwsContextPtr converter(sws_getContext(
      frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
      frame->height, AV_PIX_FMT_BGRA, SWS_POINT, nullptr, nullptr, nullptr));
  std::uint8_t* planes[4] = {raster.pixels.data(), nullptr, nullptr, nullptr};
  const int strides[4] = {raster.stride(), 0, 0, 0};
  sws_scale(converter.get(), frame->data, frame->linesize, 0, frame->height, planes, strides);
  return raster;
}

class RotationTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RotationTest, FrameIsUpright) {
  auto clip = VideoClip::open(testdata(GetParam()));
  ASSERT_TRUE(clip.ok()) << clip.status().toString();

  auto frame = (*clip)->frameAt(1.0, 180, 320);

  ASSERT_TRUE(frame.ok()) << frame.status().toString();
  EXPECT_EQ((*clip)->displayWidth(), 180);
  EXPECT_EQ((*clip)->displayHeight(), 320);
  // Red band on top, green band at the bottom, white arrow in the middle.
  const Bgr top = pixelAt(**frame, 30, 20);
  EXPECT_GT(top.r, 200);
  EXPECT_LT(top.g, 60);
  EXPECT_LT(top.b, 60);
  const Bgr bottom = pixelAt(**frame, 30, 300);
  EXPECT_LT(bottom.r, 60);
  EXPECT_GT(bottom.g, 100);
  EXPECT_LT(bottom.b, 60);
  const Bgr arrow_head = pixelAt(**frame, 70, 110);
  EXPECT_GT(arrow_head.r, 200);
  EXPECT_GT(arrow_head.g, 200);
  EXPECT_GT(arrow_head.b, 200);
}

INSTANTIATE_TEST_SUITE_P(PhoneClips, RotationTest,
                         ::testing::Values("phone-rot90.mp4", "phone-rot180.mp4"));

TEST(VideoClipTest, ReportsRotation) {
  auto rot90 = VideoClip::open(testdata("phone-rot90.mp4"));
  auto rot180 = VideoClip::open(testdata("phone-rot180.mp4"));

  ASSERT_TRUE(rot90.ok()) << rot90.status().toString();
  ASSERT_TRUE(rot180.ok()) << rot180.status().toString();
  EXPECT_EQ((*rot90)->rotationDegrees(), 90);
  EXPECT_EQ((*rot180)->rotationDegrees(), 180);
  EXPECT_FALSE((*rot90)->isHdr());
}

TEST(VideoClipTest, VariableFrameRateKeepsRealTiming) {
  auto clip = VideoClip::open(testdata("phone-vfr.mp4"));
  ASSERT_TRUE(clip.ok()) << clip.status().toString();

  // 100 frames: neither 100/30 s nor 100/60 s long.
  EXPECT_NEAR((*clip)->duration(), 3.0, 0.06);

  // White flashes at exactly 0, 1 and 2 s. At 10 fps the 1 s flash stays up
  // for 100 ms, and at 30 fps the 2 s flash for 33 ms.
  const struct {
    double t_s;
    bool white;
  } cases[] = {{0.0, true},  {0.02, false}, {0.5, false},  {0.99, false}, {1.0, true},
               {1.05, true}, {1.099, true}, {1.15, false}, {1.98, false}, {2.0, true},
               {2.02, true}, {2.05, false}, {2.99, false}};
  for (const auto& c : cases) {
    auto frame = (*clip)->frameAt(c.t_s, 180, 320);
    ASSERT_TRUE(frame.ok()) << frame.status().toString();
    EXPECT_EQ(meanLuma(**frame) > 200, c.white) << "t=" << c.t_s;
  }
}

TEST(VideoClipTest, BackwardJumpSeeks) {
  auto clip = VideoClip::open(testdata("phone-vfr.mp4"));
  ASSERT_TRUE(clip.ok()) << clip.status().toString();
  ASSERT_TRUE((*clip)->frameAt(2.5, 180, 320).ok());

  auto flash = (*clip)->frameAt(1.0, 180, 320);
  auto dark = (*clip)->frameAt(0.5, 90, 160);

  ASSERT_TRUE(flash.ok()) << flash.status().toString();
  ASSERT_TRUE(dark.ok()) << dark.status().toString();
  EXPECT_GT(meanLuma(**flash), 200);
  EXPECT_LT(meanLuma(**dark), 100);
  EXPECT_EQ((*dark)->width, 90);
  EXPECT_EQ((*dark)->height, 160);
}

TEST(VideoClipTest, SameFrameReturnsCachedRaster) {
  auto clip = VideoClip::open(testdata("clip-no-audio-track.mp4"));
  ASSERT_TRUE(clip.ok()) << clip.status().toString();

  auto first = (*clip)->frameAt(0.50, 180, 320);
  auto again = (*clip)->frameAt(0.51, 180, 320);

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_EQ(first->get(), again->get());
}

TEST(VideoClipTest, HlgClipIsToneMappedLikeReference) {
  const Raster reference = loadPng(testdata("reference-sdr-tonemapped.png"));
  auto clip = VideoClip::open(testdata("iphone-hlg-10bit.mov"));
  ASSERT_TRUE(clip.ok()) << clip.status().toString();
  EXPECT_TRUE((*clip)->isHdr());

  auto frame = (*clip)->frameAt(0.0, 320, 568);

  ASSERT_TRUE(frame.ok()) << frame.status().toString();
  ASSERT_EQ(reference.width, 320);
  ASSERT_EQ(reference.height, 568);
  // Mean and worst absolute channel difference over the whole picture. The
  // reference went through the same zscale and tonemap=hable chain.
  double sum = 0;
  int worst = 0;
  for (size_t i = 0; i < reference.pixels.size(); ++i) {
    const int difference = std::abs((*frame)->pixels[i] - reference.pixels[i]);
    sum += difference;
    worst = std::max(worst, difference);
  }
  EXPECT_LT(sum / static_cast<double>(reference.pixels.size()), 2.0);
  EXPECT_LT(worst, 24);
}

TEST(VideoClipTest, HlgClipOutputIsTaggedBt709) {
  TempDir dir;
  const auto path = dir.file("from-hlg.mp4");
  auto clip = VideoClip::open(testdata("iphone-hlg-10bit.mov"));
  ASSERT_TRUE(clip.ok()) << clip.status().toString();
  EncodeSettings settings;
  settings.width = 320;
  settings.height = 568;
  settings.preset = "ultrafast";
  auto writer = VideoWriter::open(path, settings);
  ASSERT_TRUE(writer.ok()) << writer.status().toString();

  for (int i = 0; i < 30; ++i) {
    auto frame = (*clip)->frameAt(i / 30.0, 320, 568);
    ASSERT_TRUE(frame.ok()) << frame.status().toString();
    ASSERT_TRUE((*writer)->writeFrame(**frame).ok());
  }
  ASSERT_TRUE((*writer)->finish().ok());
  auto info = probeMedia(path);

  ASSERT_TRUE(info.ok()) << info.status().toString();
  ASSERT_TRUE(info->video.has_value());
  EXPECT_EQ(info->video->pix_fmt, "yuv420p");
  EXPECT_EQ(info->video->color_transfer, "bt709");
  EXPECT_EQ(info->video->color_primaries, "bt709");
  EXPECT_EQ(info->video->frame_count, 30);
}

TEST(VideoClipTest, AudioOnlyFileIsRejected) {
  auto clip = VideoClip::open(testdata("music-96k-24bit-mono.flac"));

  ASSERT_FALSE(clip.ok());
  EXPECT_EQ(clip.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(clip.status().message().find("music-96k-24bit-mono.flac"), std::string::npos);
}

}  // namespace
}  // namespace smmhub::render
