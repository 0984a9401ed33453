#include "render/video/segment_muxer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "render/video/audio_encoder.h"
#include "render/video/audio_track.h"
#include "render/video/probe.h"
#include "render/video/segment_encoder.h"
#include "render/video/segment_test_util.h"
#include "render/video/skip_frame.h"
#include "render/video/test_util.h"
#include "render/video/video_writer.h"

namespace smmhub::render {
namespace {

using testing::boxFrame;
using testing::smallSegmentSettings;
using testing::TempDir;

constexpr double kFrameDuration = 1.0 / 30;
constexpr int kTotalFrames = 240;

// One scene of the test video: FRAMES frames of a box of colour (B, G, R),
// of which the last STATIC_FRAMES repeat the frame before them. With
// WRITE_EVERY > 1 only every WRITE_EVERY-th animated frame is drawn and the
// others repeat it, as the engine does for slow animations.
struct Scene {
  int frames = 0;
  int static_frames = 0;
  std::uint8_t b = 0;
  std::uint8_t g = 0;
  std::uint8_t r = 0;
  int write_every = 1;

  int animatedFrames() const { return frames - static_frames; }
  // The index of the drawn frame that frame I of the scene shows.
  int drawnFrame(int i) const {
    const int animated = std::min(i, animatedFrames() - 1);
    return animated - animated % write_every;
  }
  Raster source(const EncodeSettings& settings, int i) const {
    return boxFrame(settings.width, settings.height, drawnFrame(i), b, g, r);
  }
};

// An intro with a moving box, a scene whose animation stops after 90 frames,
// and an outro: 240 frames, 8 s at 30 fps.
std::vector<Scene> threeScenes(int write_every = 1) {
  return {
      {60, 0, 40, 60, 255, write_every},
      {150, 60, 30, 230, 30, write_every},
      {30, 0, 255, 40, 40, write_every},
  };
}

Result<EncodedSegment> encodeScene(const Scene& scene, const EncodeSettings& settings) {
  SMMHUB_ASSIGN_OR_RETURN(auto encoder, SegmentEncoder::open(settings));
  for (int i = 0; i < scene.frames; ++i) {
    const bool drawn = i < scene.animatedFrames() && scene.drawnFrame(i) == i;
    Status status = drawn ? encoder->writeFrame(scene.source(settings, i)) : encoder->repeatFrame();
    SMMHUB_RETURN_IF_ERROR(status);
  }
  return encoder->finish();
}

Result<std::vector<EncodedSegment>> encodeScenes(const std::vector<Scene>& scenes,
                                                 const EncodeSettings& settings) {
  std::vector<EncodedSegment> segments;
  for (const Scene& scene : scenes) {
    SMMHUB_ASSIGN_OR_RETURN(EncodedSegment segment, encodeScene(scene, settings));
    segments.push_back(std::move(segment));
  }
  return segments;
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

Result<EncodedAudio> toneTrack(double duration_s, std::int64_t video_frames,
                               const EncodeSettings& settings) {
  const std::vector<float> samples = tone(duration_s);
  return encodeAudio(samples.data(), samples.size() / 2, video_frames, settings);
}

Status stitch(const std::filesystem::path& path, const EncodeSettings& settings,
              const std::vector<EncodedSegment>& segments, EncodedAudio audio) {
  SMMHUB_ASSIGN_OR_RETURN(auto muxer, SegmentMuxer::open(path, settings, std::move(audio)));
  for (const EncodedSegment& segment : segments) {
    SMMHUB_RETURN_IF_ERROR(muxer->writeSegment(segment));
  }
  return muxer->finish();
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// Checks every rule of the platform output spec on the file at PATH.
void expectPlatformSpec(const std::filesystem::path& path, int width, int height) {
  auto info = probeMedia(path);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_TRUE(info->moov_before_mdat);
  EXPECT_FALSE(info->has_edit_list);

  ASSERT_TRUE(info->video.has_value());
  const MediaInfo::VideoStream& video = *info->video;
  EXPECT_EQ(video.frame_count, kTotalFrames);
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

// The three scenes and the tone, encoded once for all tests.
struct StitchInputs {
  EncodeSettings settings = smallSegmentSettings();
  std::vector<EncodedSegment> segments;
  EncodedAudio audio;
};

const StitchInputs& stitchInputs() {
  static const StitchInputs kInputs = [] {
    StitchInputs made;
    auto segments = encodeScenes(threeScenes(), made.settings);
    EXPECT_TRUE(segments.ok()) << segments.status().toString();
    auto audio = toneTrack(8.0, kTotalFrames, made.settings);
    EXPECT_TRUE(audio.ok()) << audio.status().toString();
    if (segments.ok() && audio.ok()) {
      made.segments = std::move(segments).value();
      made.audio = std::move(audio).value();
    }
    return made;
  }();
  return kInputs;
}

class SegmentMuxerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(inputs_.segments.size(), 3u); }

  const StitchInputs& inputs_ = stitchInputs();
  const EncodeSettings& settings_ = inputs_.settings;
  const std::vector<EncodedSegment>& segments_ = inputs_.segments;
  const EncodedAudio& audio_ = inputs_.audio;
};

TEST_F(SegmentMuxerTest, StitchedVideoMeetsPlatformSpec) {
  TempDir dir;
  const auto path = dir.file("stitched.mp4");

  Status status = stitch(path, settings_, segments_, audio_);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
}

TEST_F(SegmentMuxerTest, TimestampsIncreaseAcrossSegments) {
  TempDir dir;
  const auto path = dir.file("stitched.mp4");
  ASSERT_TRUE(stitch(path, settings_, segments_, audio_).ok());

  auto file = testing::demuxAndDecode(path);

  ASSERT_TRUE(file.ok()) << file.status().toString();
  const std::vector<EncodedPacket>& video = file->video.packets;
  ASSERT_EQ(video.size(), static_cast<size_t>(kTotalFrames));
  // One frame in the stream's time base.
  const std::int64_t tick = file->video.time_base.den / 30;
  ASSERT_EQ(tick * 30, file->video.time_base.den);
  std::vector<std::int64_t> pts;
  std::vector<std::int64_t> keyframes;
  for (size_t i = 0; i < video.size(); ++i) {
    if (i > 0) {
      ASSERT_GT(video[i].dts, video[i - 1].dts) << "video packet " << i;
    }
    EXPECT_EQ(video[i].duration, tick) << "video packet " << i;
    pts.push_back(video[i].pts);
    if (video[i].keyframe) {
      keyframes.push_back(video[i].pts / tick);
    }
  }
  std::sort(pts.begin(), pts.end());
  for (size_t i = 0; i < pts.size(); ++i) {
    ASSERT_EQ(pts[i], static_cast<std::int64_t>(i) * tick) << "frame " << i;
  }
  // The second scene's picture is held from its frame 89 (149 in the video),
  // which is forced to an IDR and copied 60 frames later.
  EXPECT_EQ(keyframes, (std::vector<std::int64_t>{0, 60, 120, 149, 209, 210}));

  const std::vector<EncodedPacket>& audio = file->audio.packets;
  ASSERT_FALSE(audio.empty());
  for (size_t i = 1; i < audio.size(); ++i) {
    ASSERT_GT(audio[i].dts, audio[i - 1].dts) << "audio packet " << i;
  }
}

TEST_F(SegmentMuxerTest, SegmentsMeetAtDifferentIdrPicIds) {
  auto writer = internal::SkipFrameWriter::create(segments_[1].extradata);
  ASSERT_TRUE(writer.ok()) << writer.status().toString();

  // The second segment ends with a copy of its third IDR, whose
  // idr_pic_id libx264 set to 0 like that of every segment's first IDR.
  auto last = writer->idrPicId(segments_[1].packets.back().data);
  auto next = writer->idrPicId(segments_[2].packets.front().data);

  ASSERT_TRUE(segments_[1].packets.back().keyframe);
  ASSERT_TRUE(last.ok()) << last.status().toString();
  ASSERT_TRUE(next.ok()) << next.status().toString();
  EXPECT_EQ(*last, 1);
  EXPECT_EQ(*next, 0);
}

TEST_F(SegmentMuxerTest, StitchedFramesEqualSegmentFrames) {
  TempDir dir;
  const auto path = dir.file("stitched.mp4");
  ASSERT_TRUE(stitch(path, settings_, segments_, audio_).ok());
  std::vector<std::string> expected;
  for (const EncodedSegment& segment : segments_) {
    auto pictures = testing::decodeSegment(segment);
    ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
    expected.insert(expected.end(), pictures->begin(), pictures->end());
  }

  auto file = testing::demuxAndDecode(path);

  ASSERT_TRUE(file.ok()) << file.status().toString();
  ASSERT_EQ(expected.size(), static_cast<size_t>(kTotalFrames));
  ASSERT_EQ(file->pictures.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_TRUE(file->pictures[i] == expected[i]) << "frame " << i;
  }
}

TEST_F(SegmentMuxerTest, SeamsShowTheRightPictures) {
  TempDir dir;
  const auto path = dir.file("stitched.mp4");
  ASSERT_TRUE(stitch(path, settings_, segments_, audio_).ok());
  const std::vector<Scene> scenes = threeScenes();
  struct Seam {
    int frame;  // Index in the video.
    int scene;  // The scene and scene frame it must show.
    int scene_frame;
    int other_scene;  // The picture on the other side of the seam.
    int other_scene_frame;
  };
  const std::vector<Seam> seams = {
      {59, 0, 59, 1, 0}, {60, 1, 0, 0, 59}, {209, 1, 149, 2, 0}, {210, 2, 0, 1, 149}};

  auto file = testing::demuxAndDecode(path);

  ASSERT_TRUE(file.ok()) << file.status().toString();
  ASSERT_EQ(file->pictures.size(), static_cast<size_t>(kTotalFrames));
  for (const Seam& seam : seams) {
    auto right = testing::sourcePlanes(scenes[seam.scene].source(settings_, seam.scene_frame));
    auto other =
        testing::sourcePlanes(scenes[seam.other_scene].source(settings_, seam.other_scene_frame));
    ASSERT_TRUE(right.ok()) << right.status().toString();
    ASSERT_TRUE(other.ok()) << other.status().toString();
    const std::string& picture = file->pictures[static_cast<size_t>(seam.frame)];

    const double right_psnr = testing::lumaPsnr(picture, *right, 180, 320);
    const double other_psnr = testing::lumaPsnr(picture, *other, 180, 320);

    EXPECT_GT(right_psnr, 30.0) << "frame " << seam.frame;
    EXPECT_GT(right_psnr, other_psnr + 3.0) << "frame " << seam.frame;
  }
}

TEST_F(SegmentMuxerTest, OneFrameSegmentsStitch) {
  TempDir dir;
  const auto path = dir.file("one-frame.mp4");
  auto first = encodeScene(Scene{1, 0, 200, 30, 30}, settings_);
  auto second = encodeScene(Scene{1, 0, 30, 200, 30}, settings_);
  auto rest = encodeScene(Scene{kTotalFrames - 2, 100, 30, 30, 200}, settings_);
  ASSERT_TRUE(first.ok() && second.ok() && rest.ok());
  std::vector<std::string> expected;
  for (const EncodedSegment* segment : {&*first, &*second, &*rest}) {
    auto pictures = testing::decodeSegment(*segment);
    ASSERT_TRUE(pictures.ok()) << pictures.status().toString();
    expected.insert(expected.end(), pictures->begin(), pictures->end());
  }

  Status status = stitch(path, settings_, {*first, *second, *rest}, audio_);
  auto file = testing::demuxAndDecode(path);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
  ASSERT_TRUE(file.ok()) << file.status().toString();
  ASSERT_EQ(file->pictures.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_TRUE(file->pictures[i] == expected[i]) << "frame " << i;
  }
}

TEST_F(SegmentMuxerTest, ParsedSegmentGivesSameFile) {
  TempDir dir;
  auto parsed = parseSegment(serializeSegment(segments_[1]));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  auto parsed_audio = parseAudio(serializeAudio(audio_));
  ASSERT_TRUE(parsed_audio.ok()) << parsed_audio.status().toString();
  const std::vector<EncodedSegment> from_cache = {segments_[0], *parsed, segments_[2]};

  Status fresh = stitch(dir.file("fresh.mp4"), settings_, segments_, audio_);
  Status cached = stitch(dir.file("cached.mp4"), settings_, from_cache, *parsed_audio);

  ASSERT_TRUE(fresh.ok()) << fresh.toString();
  ASSERT_TRUE(cached.ok()) << cached.toString();
  const std::string fresh_bytes = readFile(dir.file("fresh.mp4"));
  EXPECT_GT(fresh_bytes.size(), 10000u);
  EXPECT_TRUE(fresh_bytes == readFile(dir.file("cached.mp4")));
}

TEST_F(SegmentMuxerTest, ReencodedSegmentGivesSameFile) {
  TempDir dir;
  auto again = encodeScene(threeScenes()[1], settings_);
  ASSERT_TRUE(again.ok()) << again.status().toString();
  const std::vector<EncodedSegment> reencoded = {segments_[0], *again, segments_[2]};

  Status first = stitch(dir.file("first.mp4"), settings_, segments_, audio_);
  Status second = stitch(dir.file("second.mp4"), settings_, reencoded, audio_);

  ASSERT_TRUE(first.ok()) << first.toString();
  ASSERT_TRUE(second.ok()) << second.toString();
  EXPECT_TRUE(readFile(dir.file("first.mp4")) == readFile(dir.file("second.mp4")));
}

TEST_F(SegmentMuxerTest, SoundTrackMatchesVideoWriters) {
  TempDir dir;
  const auto stitched_path = dir.file("stitched.mp4");
  const auto writer_path = dir.file("writer.mp4");
  ASSERT_TRUE(stitch(stitched_path, settings_, segments_, audio_).ok());
  {
    auto writer = VideoWriter::open(writer_path, settings_);
    ASSERT_TRUE(writer.ok()) << writer.status().toString();
    const std::vector<float> samples = tone(8.0);
    ASSERT_TRUE((*writer)->writeAudio(samples.data(), samples.size() / 2).ok());
    ASSERT_TRUE((*writer)->writeFrame(boxFrame(180, 320, 0, 0, 0, 0)).ok());
    for (int i = 1; i < kTotalFrames; ++i) {
      ASSERT_TRUE((*writer)->repeatFrame().ok());
    }
    ASSERT_TRUE((*writer)->finish().ok());
  }

  auto stitched = testing::demuxAndDecode(stitched_path);
  auto written = testing::demuxAndDecode(writer_path);

  ASSERT_TRUE(stitched.ok()) << stitched.status().toString();
  ASSERT_TRUE(written.ok()) << written.status().toString();
  EXPECT_EQ(stitched->audio_extradata, written->audio_extradata);
  EXPECT_EQ(stitched->audio_profile, written->audio_profile);
  EXPECT_EQ(stitched->audio_frame_size, written->audio_frame_size);
  EXPECT_EQ(stitched->video_profile, written->video_profile);
  ASSERT_EQ(stitched->audio.packets.size(), written->audio.packets.size());
  for (size_t i = 0; i < written->audio.packets.size(); ++i) {
    EXPECT_EQ(stitched->audio.packets[i], written->audio.packets[i]) << "audio packet " << i;
  }
}

TEST_F(SegmentMuxerTest, OtherSettingsAreRejectedNamingThem) {
  TempDir dir;
  EncodeSettings other = settings_;
  other.crf = 28;
  auto segment = encodeScene(Scene{10, 0, 1, 2, 3}, other);
  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  auto muxer = SegmentMuxer::open(dir.file("crf.mp4"), settings_, audio_);
  ASSERT_TRUE(muxer.ok()) << muxer.status().toString();
  ASSERT_TRUE((*muxer)->writeSegment(segments_[0]).ok());

  Status status = (*muxer)->writeSegment(*segment);

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("segment 2 (frames 60 to 69)"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("crf 28 differs from the video's 23"), std::string::npos)
      << status.message();
}

TEST_F(SegmentMuxerTest, OtherPresetIsRejectedNamingIt) {
  TempDir dir;
  EncodeSettings other = settings_;
  other.preset = "ultrafast";
  auto segment = encodeScene(Scene{10, 0, 1, 2, 3}, other);
  ASSERT_TRUE(segment.ok()) << segment.status().toString();
  auto muxer = SegmentMuxer::open(dir.file("preset.mp4"), settings_, audio_);
  ASSERT_TRUE(muxer.ok()) << muxer.status().toString();

  Status status = (*muxer)->writeSegment(*segment);

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("preset 'ultrafast' differs from the video's 'veryfast'"),
            std::string::npos)
      << status.message();
}

TEST_F(SegmentMuxerTest, OtherExtradataIsRejected) {
  TempDir dir;
  EncodedSegment changed = segments_[1];
  changed.extradata[6] = static_cast<char>(changed.extradata[6] ^ 0x01);
  auto muxer = SegmentMuxer::open(dir.file("extradata.mp4"), settings_, audio_);
  ASSERT_TRUE(muxer.ok()) << muxer.status().toString();
  ASSERT_TRUE((*muxer)->writeSegment(segments_[0]).ok());

  Status status = (*muxer)->writeSegment(changed);

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("extradata (SPS and PPS) differs from the first segment's at "
                                  "byte 6"),
            std::string::npos)
      << status.message();
}

TEST_F(SegmentMuxerTest, BrokenSegmentIsRejected) {
  TempDir dir;
  EncodedSegment broken = segments_[0];
  broken.packets[3].dts = broken.packets[2].dts;
  auto muxer = SegmentMuxer::open(dir.file("broken.mp4"), settings_, audio_);
  ASSERT_TRUE(muxer.ok()) << muxer.status().toString();

  Status status = (*muxer)->writeSegment(broken);

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("segment 1 (frames 0 to 59)"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("packet 3 has dts"), std::string::npos) << status.message();
}

TEST_F(SegmentMuxerTest, SoundTrackOfOtherLengthFails) {
  TempDir dir;
  auto short_audio = toneTrack(8.0, kTotalFrames - 1, settings_);
  ASSERT_TRUE(short_audio.ok()) << short_audio.status().toString();

  Status status = stitch(dir.file("short.mp4"), settings_, segments_, *short_audio);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("lasts 382400 samples but the video's 240 frames last 384000"),
            std::string::npos)
      << status.message();
}

TEST_F(SegmentMuxerTest, FinishWithoutSegmentsFails) {
  TempDir dir;
  auto muxer = SegmentMuxer::open(dir.file("empty.mp4"), settings_, audio_);
  ASSERT_TRUE(muxer.ok()) << muxer.status().toString();

  Status status = (*muxer)->finish();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(SegmentMuxerTest, ShortSoundTrackIsPadded) {
  TempDir dir;
  const auto path = dir.file("short-tone.mp4");
  auto audio = toneTrack(3.0, kTotalFrames, settings_);
  ASSERT_TRUE(audio.ok()) << audio.status().toString();

  Status status = stitch(path, settings_, segments_, *audio);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
}

TEST_F(SegmentMuxerTest, LongSoundTrackIsCut) {
  TempDir dir;
  const auto path = dir.file("long-tone.mp4");
  auto audio = toneTrack(11.5, kTotalFrames, settings_);
  ASSERT_TRUE(audio.ok()) << audio.status().toString();

  Status status = stitch(path, settings_, segments_, *audio);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 180, 320);
}

TEST(SegmentMuxerFullSizeTest, FullSizeStitchMeetsPlatformSpec) {
  TempDir dir;
  const auto path = dir.file("full.mp4");
  const EncodeSettings settings;
  auto segments = encodeScenes(threeScenes(4), settings);
  ASSERT_TRUE(segments.ok()) << segments.status().toString();
  auto audio = toneTrack(8.0, kTotalFrames, settings);
  ASSERT_TRUE(audio.ok()) << audio.status().toString();

  Status status = stitch(path, settings, *segments, *audio);

  ASSERT_TRUE(status.ok()) << status.toString();
  expectPlatformSpec(path, 1080, 1920);
}

}  // namespace
}  // namespace smmhub::render
