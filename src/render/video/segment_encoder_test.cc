#include "render/video/segment_encoder.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "render/video/segment_test_util.h"

namespace smmhub::render {
namespace {

using testing::boxFrame;
using testing::smallSegmentSettings;

// Encodes FRAMES frames of a moving box, then REPEATS repeats of the last
// one.
Result<EncodedSegment> encodeBoxes(const EncodeSettings& settings, int frames, int repeats,
                                   std::uint8_t red = 200) {
  SMMHUB_ASSIGN_OR_RETURN(auto encoder, SegmentEncoder::open(settings));
  for (int i = 0; i < frames; ++i) {
    SMMHUB_RETURN_IF_ERROR(
        encoder->writeFrame(boxFrame(settings.width, settings.height, i, 40, 80, red)));
  }
  for (int i = 0; i < repeats; ++i) {
    SMMHUB_RETURN_IF_ERROR(encoder->repeatFrame());
  }
  return encoder->finish();
}

// Returns the pts of SEGMENT's keyframes, in decode order.
std::vector<std::int64_t> keyframesOf(const EncodedSegment& segment) {
  std::vector<std::int64_t> keyframes;
  for (const EncodedPacket& packet : segment.packets) {
    if (packet.keyframe) {
      keyframes.push_back(packet.pts);
    }
  }
  return keyframes;
}

// Returns how many packets of SEGMENT are skipped frames, by comparing each
// packet after a keyframe with the skipped frame that would stand there.
int skippedFrames(const EncodedSegment& segment) {
  auto writer = internal::SkipFrameWriter::create(segment.extradata);
  EXPECT_TRUE(writer.ok()) << writer.status().toString();
  if (!writer.ok()) {
    return -1;
  }
  const std::vector<std::int64_t> keyframes = keyframesOf(segment);
  int count = 0;
  for (const EncodedPacket& packet : segment.packets) {
    std::int64_t last_keyframe = 0;
    for (std::int64_t keyframe : keyframes) {
      last_keyframe = keyframe <= packet.pts ? keyframe : last_keyframe;
    }
    if (packet.pts > last_keyframe &&
        packet.data == writer->skipFrame(static_cast<int>(packet.pts - last_keyframe))) {
      ++count;
    }
  }
  return count;
}

TEST(SegmentEncoderTest, SameFramesGiveSameBytes) {
  const EncodeSettings settings = smallSegmentSettings();

  auto first = encodeBoxes(settings, 70, 20);
  auto second = encodeBoxes(settings, 70, 20);

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(first->extradata, second->extradata);
  ASSERT_EQ(first->packets.size(), second->packets.size());
  for (size_t i = 0; i < first->packets.size(); ++i) {
    EXPECT_TRUE(first->packets[i] == second->packets[i]) << "packet " << i;
  }
  EXPECT_EQ(serializeSegment(*first), serializeSegment(*second));
}

TEST(SegmentEncoderTest, SegmentsShareExtradata) {
  const EncodeSettings settings = smallSegmentSettings();

  auto long_red = encodeBoxes(settings, 100, 50, 255);
  auto short_blue = encodeBoxes(settings, 5, 0, 0);
  auto static_only = encodeBoxes(settings, 1, 89, 10);

  ASSERT_TRUE(long_red.ok()) << long_red.status().toString();
  ASSERT_TRUE(short_blue.ok()) << short_blue.status().toString();
  ASSERT_TRUE(static_only.ok()) << static_only.status().toString();
  EXPECT_FALSE(long_red->extradata.empty());
  EXPECT_EQ(long_red->extradata, short_blue->extradata);
  EXPECT_EQ(long_red->extradata, static_only->extradata);
}

TEST(SegmentEncoderTest, GopsAreClosedAndFixed) {
  const EncodeSettings settings = smallSegmentSettings();

  auto segment = encodeBoxes(settings, 150, 0);

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  EXPECT_EQ(segment->frame_count, 150);
  ASSERT_EQ(segment->packets.size(), 150u);
  EXPECT_TRUE(segment->packets.front().keyframe);
  EXPECT_EQ(keyframesOf(*segment), (std::vector<std::int64_t>{0, 60, 120}));
}

TEST(SegmentEncoderTest, DtsRunsFromMinusReorderDelay) {
  const EncodeSettings settings = smallSegmentSettings();

  auto segment = encodeBoxes(settings, 40, 0);

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  // veryfast has B-frames with B-pyramid.
  EXPECT_EQ(segment->reorder_delay, 2);
  for (size_t i = 0; i < segment->packets.size(); ++i) {
    EXPECT_EQ(segment->packets[i].dts, static_cast<std::int64_t>(i) - 2) << "packet " << i;
    EXPECT_LE(segment->packets[i].dts, segment->packets[i].pts) << "packet " << i;
  }
}

TEST(SegmentEncoderTest, ShortSegmentsFollowTheDtsRule) {
  const EncodeSettings settings = smallSegmentSettings();

  for (int frames = 1; frames <= 4; ++frames) {
    auto segment = encodeBoxes(settings, frames, 0);

    ASSERT_TRUE(segment.ok()) << frames << " frames: " << segment.status().toString();
    ASSERT_EQ(segment->packets.size(), static_cast<size_t>(frames));
    EXPECT_EQ(segment->packets.front().dts, -2) << frames << " frames";
    EXPECT_EQ(segment->packets.back().dts, frames - 3) << frames << " frames";
  }
}

TEST(SegmentEncoderTest, DecodedFramesMatchTheSource) {
  const EncodeSettings settings = smallSegmentSettings();
  auto segment = encodeBoxes(settings, 30, 30);
  ASSERT_TRUE(segment.ok()) << segment.status().toString();

  auto pictures = testing::decodeSegment(*segment);

  ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
  ASSERT_EQ(pictures->size(), 60u);
  for (int i = 0; i < 60; ++i) {
    auto source = testing::sourcePlanes(boxFrame(180, 320, std::min(i, 29), 40, 80, 200));
    ASSERT_TRUE(source.ok()) << source.status().toString();
    EXPECT_GT(testing::lumaPsnr((*pictures)[i], *source, 180, 320), 30.0) << "frame " << i;
  }
}

TEST(SegmentEncoderTest, HeldPictureStartsWithForcedKeyframe) {
  const EncodeSettings settings = smallSegmentSettings();

  auto segment = encodeBoxes(settings, 13, 137);

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  EXPECT_EQ(segment->frame_count, 150);
  ASSERT_EQ(segment->packets.size(), 150u);
  // Frame 12 is forced to an IDR, and GOPs restart there. libx264 encodes
  // frames 0 to 12; 72 and 132 copy frame 12's packet, the rest are skipped.
  EXPECT_EQ(keyframesOf(*segment), (std::vector<std::int64_t>{0, 12, 72, 132}));
  EXPECT_EQ(skippedFrames(*segment), 135);
  const EncodedPacket& keyframe = segment->packets[12];
  EXPECT_EQ(keyframe.pts, 12);
  for (size_t copy : {72u, 132u}) {
    EXPECT_TRUE(segment->packets[copy].data == keyframe.data) << "packet " << copy;
  }
}

TEST(SegmentEncoderTest, LastKeyframeGetsIdrPicIdOne) {
  for (const char* preset : {"veryfast", "ultrafast"}) {
    EncodeSettings settings = smallSegmentSettings();
    settings.preset = preset;

    // Frame 89 is forced to x264's third IDR and copied at 149, the last
    // frame.
    auto segment = encodeBoxes(settings, 90, 60);
    auto pictures = segment.ok() ? testing::decodeSegment(*segment)
                                 : Result<std::vector<std::string>>(segment.status());
    auto writer = segment.ok() ? internal::SkipFrameWriter::create(segment->extradata)
                               : Result<internal::SkipFrameWriter>(segment.status());

    ASSERT_TRUE(segment.ok()) << preset << ": " << segment.status().toString();
    ASSERT_TRUE(pictures.ok()) << preset << ": " << pictures.status().toString();
    ASSERT_TRUE(writer.ok()) << preset << ": " << writer.status().toString();
    ASSERT_EQ(keyframesOf(*segment), (std::vector<std::int64_t>{0, 60, 89, 149})) << preset;
    for (auto [packet, id] :
         {std::pair{0, 0}, std::pair{60, 1}, std::pair{89, 0}, std::pair{149, 1}}) {
      auto found = writer->idrPicId(segment->packets[static_cast<size_t>(packet)].data);
      ASSERT_TRUE(found.ok()) << preset << ": " << found.status().toString();
      EXPECT_EQ(*found, id) << preset << ", packet " << packet;
    }
    ASSERT_EQ(pictures->size(), 150u) << preset;
    EXPECT_TRUE((*pictures)[149] == (*pictures)[89]) << preset;
  }
}

TEST(SegmentEncoderTest, IdrPicIdChangesOnlyThatField) {
  for (const char* preset : {"veryfast", "ultrafast"}) {
    EncodeSettings settings = smallSegmentSettings();
    settings.preset = preset;
    auto segment = encodeBoxes(settings, 90, 60);
    ASSERT_TRUE(segment.ok()) << preset << ": " << segment.status().toString();
    auto writer = internal::SkipFrameWriter::create(segment->extradata);
    ASSERT_TRUE(writer.ok()) << preset << ": " << writer.status().toString();
    const std::string& forced = segment->packets[89].data;

    auto one = writer->withIdrPicId(forced, 1);
    auto zero = one.ok() ? writer->withIdrPicId(*one, 0) : one;

    ASSERT_TRUE(one.ok()) << preset << ": " << one.status().toString();
    ASSERT_TRUE(zero.ok()) << preset << ": " << zero.status().toString();
    EXPECT_NE(*one, forced) << preset;
    EXPECT_EQ(*zero, forced) << preset;
  }
}

TEST(SegmentEncoderTest, IdrPicIdOfSkippedFrameFails) {
  auto segment = encodeBoxes(smallSegmentSettings(), 1, 9);
  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  auto writer = internal::SkipFrameWriter::create(segment->extradata);
  ASSERT_TRUE(writer.ok()) << writer.status().toString();

  auto id = writer->idrPicId(writer->skipFrame(1));

  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("without an IDR slice"), std::string::npos)
      << id.status().message();
}

TEST(SegmentEncoderTest, HeldPictureTimestampsFollowTheDtsRule) {
  const EncodeSettings settings = smallSegmentSettings();

  auto segment = encodeBoxes(settings, 13, 137);

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  ASSERT_EQ(segment->packets.size(), 150u);
  EXPECT_EQ(segment->reorder_delay, 2);
  std::vector<bool> seen(150, false);
  for (size_t i = 0; i < segment->packets.size(); ++i) {
    const EncodedPacket& packet = segment->packets[i];
    EXPECT_EQ(packet.dts, static_cast<std::int64_t>(i) - 2) << "packet " << i;
    EXPECT_LE(packet.dts, packet.pts) << "packet " << i;
    EXPECT_EQ(packet.duration, 1) << "packet " << i;
    ASSERT_GE(packet.pts, 0) << "packet " << i;
    ASSERT_LT(packet.pts, 150) << "packet " << i;
    EXPECT_FALSE(seen[static_cast<size_t>(packet.pts)]) << "pts " << packet.pts;
    seen[static_cast<size_t>(packet.pts)] = true;
    // From the forced keyframe on, decode order is presentation order.
    if (i >= 12) {
      EXPECT_EQ(packet.pts, static_cast<std::int64_t>(i)) << "packet " << i;
    }
  }
}

TEST(SegmentEncoderTest, HeldPictureDecodesAsItsKeyframe) {
  const EncodeSettings settings = smallSegmentSettings();
  auto segment = encodeBoxes(settings, 13, 137);
  ASSERT_TRUE(segment.ok()) << segment.status().toString();

  auto pictures = testing::decodeSegment(*segment);

  ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
  ASSERT_EQ(pictures->size(), 150u);
  for (size_t i = 13; i < 150; ++i) {
    ASSERT_TRUE((*pictures)[i] == (*pictures)[12]) << "frame " << i;
  }
  for (int i = 0; i <= 12; ++i) {
    auto source = testing::sourcePlanes(boxFrame(180, 320, i, 40, 80, 200));
    ASSERT_TRUE(source.ok()) << source.status().toString();
    EXPECT_GT(testing::lumaPsnr((*pictures)[static_cast<size_t>(i)], *source, 180, 320), 30.0)
        << "frame " << i;
  }
}

TEST(SegmentEncoderTest, ForcedKeyframeGivesSameBytes) {
  const EncodeSettings settings = smallSegmentSettings();

  auto first = encodeBoxes(settings, 13, 137);
  auto second = encodeBoxes(settings, 13, 137);

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(keyframesOf(*first), (std::vector<std::int64_t>{0, 12, 72, 132}));
  EXPECT_EQ(serializeSegment(*first), serializeSegment(*second));
}

TEST(SegmentEncoderTest, ForcedKeyframeNeedsTwoSparedRepeats) {
  const EncodeSettings settings = smallSegmentSettings();

  // Frame 29 is held. libx264's lookahead takes 10 repeats either way, so
  // an IDR at 29 spares 1 of 11 repeats and 2 of 12.
  auto eleven = encodeBoxes(settings, 30, 11);
  auto twelve = encodeBoxes(settings, 30, 12);

  ASSERT_TRUE(eleven.ok()) << eleven.status().toString();
  ASSERT_TRUE(twelve.ok()) << twelve.status().toString();
  EXPECT_EQ(keyframesOf(*eleven), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(skippedFrames(*eleven), 0);
  EXPECT_EQ(keyframesOf(*twelve), (std::vector<std::int64_t>{0, 29}));
  EXPECT_EQ(skippedFrames(*twelve), 12);
}

TEST(SegmentEncoderTest, HeldNearGopStartKeepsFixedGops) {
  const EncodeSettings settings = smallSegmentSettings();

  // Held from 59, an IDR would spare libx264 only frame 60; held from 60,
  // frame 60 is a GOP start already.
  for (int written : {60, 61}) {
    auto segment = encodeBoxes(settings, written, 150 - written);

    ASSERT_TRUE(segment.ok()) << written << " written: " << segment.status().toString();
    ASSERT_EQ(segment->packets.size(), 150u);
    EXPECT_EQ(keyframesOf(*segment), (std::vector<std::int64_t>{0, 60, 120}))
        << written << " written";
    EXPECT_EQ(skippedFrames(*segment), 88) << written << " written";
    EXPECT_TRUE(segment->packets[120].data == segment->packets[60].data) << written << " written";
  }
}

TEST(SegmentEncoderTest, SkippedFramesRepeatTheKeyframe) {
  const EncodeSettings settings = smallSegmentSettings();
  auto segment = encodeBoxes(settings, 30, 100);
  ASSERT_TRUE(segment.ok()) << segment.status().toString();

  auto pictures = testing::decodeSegment(*segment);

  ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
  EXPECT_EQ(keyframesOf(*segment), (std::vector<std::int64_t>{0, 29, 89}));
  EXPECT_EQ(skippedFrames(*segment), 99);
  ASSERT_EQ(pictures->size(), 130u);
  for (size_t i = 30; i < 130; ++i) {
    ASSERT_TRUE((*pictures)[i] == (*pictures)[29]) << "frame " << i;
  }
  auto source = testing::sourcePlanes(boxFrame(180, 320, 29, 40, 80, 200));
  ASSERT_TRUE(source.ok()) << source.status().toString();
  EXPECT_GT(testing::lumaPsnr((*pictures)[29], *source, 180, 320), 30.0);
}

TEST(SegmentEncoderTest, StaticSceneEncodesOneFrame) {
  const EncodeSettings settings = smallSegmentSettings();

  auto segment = encodeBoxes(settings, 1, 149);
  auto pictures = segment.ok() ? testing::decodeSegment(*segment)
                               : Result<std::vector<std::string>>(segment.status());

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
  EXPECT_EQ(skippedFrames(*segment), 147);
  ASSERT_EQ(pictures->size(), 150u);
  for (size_t i = 1; i < 150; ++i) {
    ASSERT_TRUE((*pictures)[i] == (*pictures)[0]) << "frame " << i;
  }
}

TEST(SegmentEncoderTest, RepeatsBeforeNewFrameAreEncoded) {
  const EncodeSettings settings = smallSegmentSettings();
  auto encoder = SegmentEncoder::open(settings);
  ASSERT_TRUE(encoder.ok()) << encoder.status().toString();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*encoder)->writeFrame(boxFrame(180, 320, i, 0, 0, 0)).ok());
  }
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*encoder)->repeatFrame().ok());
  }
  ASSERT_TRUE((*encoder)->writeFrame(boxFrame(180, 320, 20, 0, 0, 0)).ok());

  auto segment = (*encoder)->finish();

  // Frame 19's picture is not held to the end, so it gets no forced IDR.
  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  EXPECT_EQ(segment->frame_count, 121);
  EXPECT_EQ(keyframesOf(*segment), (std::vector<std::int64_t>{0, 60, 120}));
  EXPECT_EQ(skippedFrames(*segment), 0);
}

TEST(SegmentEncoderTest, SkippedFramesWorkWithoutBFrames) {
  // ultrafast has no B-frames, so x264 uses picture order count type 2.
  EncodeSettings settings = smallSegmentSettings();
  settings.preset = "ultrafast";

  auto segment = encodeBoxes(settings, 10, 80);
  auto pictures = segment.ok() ? testing::decodeSegment(*segment)
                               : Result<std::vector<std::string>>(segment.status());

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
  EXPECT_EQ(segment->reorder_delay, 0);
  EXPECT_EQ(keyframesOf(*segment), (std::vector<std::int64_t>{0, 9, 69}));
  EXPECT_EQ(skippedFrames(*segment), 79);
  ASSERT_EQ(pictures->size(), 90u);
  for (size_t i = 10; i < 90; ++i) {
    ASSERT_TRUE((*pictures)[i] == (*pictures)[9]) << "frame " << i;
  }
}

TEST(SegmentEncoderTest, ShortGopsCopyTheKeyframe) {
  EncodeSettings settings = smallSegmentSettings();
  settings.gop_frames = 2;

  auto segment = encodeBoxes(settings, 3, 7);
  auto pictures = segment.ok() ? testing::decodeSegment(*segment)
                               : Result<std::vector<std::string>>(segment.status());

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
  // libx264 encodes frames 0 to 2; 3, 5, 7 and 9 are skipped; 4, 6 and 8
  // copy 2.
  EXPECT_EQ(skippedFrames(*segment), 4);
  ASSERT_EQ(pictures->size(), 10u);
  for (size_t i = 3; i < 10; ++i) {
    ASSERT_TRUE((*pictures)[i] == (*pictures)[2]) << "frame " << i;
  }
}

TEST(SegmentEncoderTest, OneFrameGopsSkipNothing) {
  EncodeSettings settings = smallSegmentSettings();
  settings.gop_frames = 1;

  auto segment = encodeBoxes(settings, 1, 9);
  auto pictures = segment.ok() ? testing::decodeSegment(*segment)
                               : Result<std::vector<std::string>>(segment.status());

  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
  for (const EncodedPacket& packet : segment->packets) {
    EXPECT_TRUE(packet.keyframe) << "packet " << packet.pts;
  }
  EXPECT_EQ(pictures->size(), 10u);
}

TEST(SegmentEncoderTest, ExtradataEndsWithSkipPps) {
  auto segment = encodeBoxes(smallSegmentSettings(), 2, 0);
  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  auto writer = internal::SkipFrameWriter::create(segment->extradata);
  ASSERT_TRUE(writer.ok()) << writer.status().toString();

  const std::string& pps = writer->pps();

  ASSERT_GT(segment->extradata.size(), pps.size());
  EXPECT_EQ(segment->extradata.substr(segment->extradata.size() - pps.size()), pps);
}

TEST(SegmentEncoderTest, WrongFrameSizeFails) {
  auto encoder = SegmentEncoder::open(smallSegmentSettings());
  ASSERT_TRUE(encoder.ok()) << encoder.status().toString();

  Status status = (*encoder)->writeFrame(boxFrame(100, 100, 0, 0, 0, 0));

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("100x100"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("180x320"), std::string::npos) << status.message();
}

TEST(SegmentEncoderTest, FinishWithoutFramesFails) {
  auto encoder = SegmentEncoder::open(smallSegmentSettings());
  ASSERT_TRUE(encoder.ok()) << encoder.status().toString();

  auto segment = (*encoder)->finish();

  ASSERT_FALSE(segment.ok());
  EXPECT_EQ(segment.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(segment.status().message().find("at least one frame"), std::string::npos)
      << segment.status().message();
}

TEST(SegmentEncoderTest, FinishTwiceFails) {
  auto encoder = SegmentEncoder::open(smallSegmentSettings());
  ASSERT_TRUE(encoder.ok()) << encoder.status().toString();
  ASSERT_TRUE((*encoder)->writeFrame(boxFrame(180, 320, 0, 0, 0, 0)).ok());
  ASSERT_TRUE((*encoder)->finish().ok());

  auto again = (*encoder)->finish();
  Status write = (*encoder)->repeatFrame();

  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(write.code(), StatusCode::kFailedPrecondition);
}

TEST(SegmentEncoderTest, RepeatBeforeFirstFrameFails) {
  auto encoder = SegmentEncoder::open(smallSegmentSettings());
  ASSERT_TRUE(encoder.ok()) << encoder.status().toString();

  Status status = (*encoder)->repeatFrame();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
}

TEST(SegmentEncoderTest, UnknownPresetFailsNamingIt) {
  EncodeSettings settings = smallSegmentSettings();
  settings.preset = "warp-speed";

  auto encoder = SegmentEncoder::open(settings);

  ASSERT_FALSE(encoder.ok());
  EXPECT_NE(encoder.status().message().find("warp-speed"), std::string::npos)
      << encoder.status().message();
}

}  // namespace
}  // namespace smmhub::render
