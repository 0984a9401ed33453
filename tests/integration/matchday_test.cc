// Renders Match Day videos from the example and reads each file back through
// libavformat to check it against the platform rules: 240 frames, 1080x1920,
// H.264 High yuv420p at a constant 30 fps, AAC stereo 48 kHz, moov before
// mdat, no edit list, audio and video of equal length.
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "render/batch.h"
#include "render/video/probe.h"
#include "render/video/segment_test_util.h"
#include "test_support.h"

namespace smmhub::render {
namespace {

using smmhub::testing::kMatchDay;
using smmhub::testing::TempDir;

class MatchDayTest : public ::testing::Test {
 protected:
  BatchRequest request(const TempDir& out) {
    BatchRequest request;
    request.template_path = kMatchDay / "template.json";
    request.data_path = kMatchDay / "fixtures.csv";
    request.brand_dir = kMatchDay / "brand";
    request.out_dir = out.path();
    request.jobs = 2;
    return request;
  }
};

TEST_F(MatchDayTest, OutputsMeetPlatformSpec) {
  TempDir out;
  BatchRequest batch = request(out);
  batch.rows = {1, 4};  // row 4 is "Brighton & Hove Albion FC", with an ampersand
  batch.name_pattern = "{{row}}-{{home}}-v-{{away}}";

  Result<BatchReport> report = runBatch(batch, nullptr);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_EQ(report->rows.size(), 2u);
  EXPECT_EQ(report->failed(), 0);
  EXPECT_EQ(report->rows[1].video.filename(), "004-Everton-FC-v-Brighton-&-Hove-Albion-FC.mp4");
  for (const RowOutcome& row : report->rows) {
    ASSERT_TRUE(row.ok) << row.error;
    Result<MediaInfo> info = probeMedia(row.video);
    ASSERT_TRUE(info.ok()) << info.status().toString();
    ASSERT_TRUE(info->video.has_value());
    ASSERT_TRUE(info->audio.has_value());
    const auto& video = *info->video;
    const auto& audio = *info->audio;
    EXPECT_EQ(video.frame_count, 240);
    EXPECT_EQ(video.width, 1080);
    EXPECT_EQ(video.height, 1920);
    EXPECT_EQ(video.codec, "h264");
    EXPECT_EQ(video.profile, "High");
    EXPECT_EQ(video.pix_fmt, "yuv420p");
    EXPECT_DOUBLE_EQ(video.fps, 30.0);
    EXPECT_TRUE(video.constant_frame_rate);
    EXPECT_EQ(video.color_primaries, "bt709");
    EXPECT_EQ(audio.codec, "aac");
    EXPECT_EQ(audio.channels, 2);
    EXPECT_EQ(audio.sample_rate, 48000);
    EXPECT_LE(audio.bit_rate, 128000);
    EXPECT_TRUE(info->moov_before_mdat);
    EXPECT_FALSE(info->has_edit_list);
    EXPECT_NEAR(video.duration_s, 8.0, 1e-6);
    EXPECT_NEAR(audio.duration_s, video.duration_s, 1.0 / 30);
    EXPECT_EQ(row.frames, 240);
    EXPECT_EQ(row.bytes, static_cast<std::int64_t>(std::filesystem::file_size(row.video)));
  }
}

TEST_F(MatchDayTest, PosterIsJpegAndNoPartialFilesRemain) {
  TempDir out;
  BatchRequest batch = request(out);
  batch.rows = {2};

  Result<BatchReport> report = runBatch(batch, nullptr);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_TRUE(report->rows[0].ok) << report->rows[0].error;
  EXPECT_EQ(report->rows[0].video, out.file("002.mp4"));
  EXPECT_EQ(report->rows[0].poster, out.file("002.jpg"));
  std::ifstream poster(out.file("002.jpg"), std::ios::binary);
  unsigned char magic[3] = {};
  poster.read(reinterpret_cast<char*>(magic), 3);
  EXPECT_EQ(magic[0], 0xFF);
  EXPECT_EQ(magic[1], 0xD8);
  EXPECT_EQ(magic[2], 0xFF);
  EXPECT_EQ(smmhub::testing::countFiles(out.path(), ".mp4.partial"), 0);
  EXPECT_EQ(smmhub::testing::countFiles(out.path(), ".jpg.partial"), 0);
}

TEST_F(MatchDayTest, RepeatedFramesAreNotComposited) {
  TempDir out;
  BatchRequest batch = request(out);
  batch.rows = {3};

  Result<BatchReport> report = runBatch(batch, nullptr);

  // Only the fade (frames 0 to 15), the slides (frames 60 to 72) and the
  // outro's first frame differ from the frame before them.
  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_TRUE(report->rows[0].ok) << report->rows[0].error;
  EXPECT_EQ(report->rows[0].frames, 240);
  EXPECT_EQ(report->rows[0].composited_frames, 16 + 13 + 1);
}

TEST_F(MatchDayTest, HeldPicturesStartAtKeyframes) {
  TempDir out;
  BatchRequest batch = request(out);
  batch.rows = {3};
  Result<BatchReport> report = runBatch(batch, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_TRUE(report->rows[0].ok) << report->rows[0].error;

  auto file = testing::demuxAndDecode(report->rows[0].video);

  // Each scene's last drawn frame (15, 72 and 210) starts a picture held to
  // the scene's end. The first two are forced to IDRs and the fixture's is
  // copied every 60 frames; the outro's is the scene's first frame.
  ASSERT_TRUE(file.ok()) << file.status().toString();
  const std::vector<EncodedPacket>& packets = file->video.packets;
  ASSERT_EQ(packets.size(), 240u);
  const std::int64_t tick = file->video.time_base.den / 30;
  std::vector<std::int64_t> keyframes;
  for (size_t i = 0; i < packets.size(); ++i) {
    if (i > 0) {
      ASSERT_GT(packets[i].dts, packets[i - 1].dts) << "packet " << i;
    }
    if (packets[i].keyframe) {
      keyframes.push_back(packets[i].pts / tick);
    }
  }
  EXPECT_EQ(keyframes, (std::vector<std::int64_t>{0, 15, 60, 72, 132, 192, 210}));
  const std::vector<std::string>& pictures = file->pictures;
  ASSERT_EQ(pictures.size(), 240u);
  for (auto [held, end] : {std::pair{15, 60}, std::pair{72, 210}, std::pair{210, 240}}) {
    for (int i = held + 1; i < end; ++i) {
      ASSERT_TRUE(pictures[static_cast<size_t>(i)] == pictures[static_cast<size_t>(held)])
          << "frame " << i << " differs from frame " << held;
    }
  }
}

TEST_F(MatchDayTest, SharedScenesMadeOncePerBatch) {
  TempDir one_out;
  BatchRequest one = request(one_out);
  one.rows = {1};
  one.jobs = 1;
  TempDir three_out;
  BatchRequest three = request(three_out);
  three.rows = {1, 2, 3};
  three.jobs = 1;

  Result<BatchReport> first = runBatch(one, nullptr);
  Result<BatchReport> batch = runBatch(three, nullptr);

  // Videos 2 and 3 take the encoded intro, outro and music from the buffer.
  // In their fixture scene they take the 5 layers that every fixture of
  // matchday 1 shares: the background, competition, matchday, VS and venue.
  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(batch.ok()) << batch.status().toString();
  EXPECT_EQ(batch->failed(), 0);
  EXPECT_EQ(first->buffer.memory.hits, 0u);
  EXPECT_EQ(batch->buffer.memory.hits, 2u * 3);
  EXPECT_EQ(batch->buffer.memory.misses, 4u + 2);  // 4 for video 1, its fixture for each other
  EXPECT_EQ(batch->cache.hits - first->cache.hits, 2u * 5);
}

std::string readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The intro and the outro are shared and the fixture scene is unique: video 2
// of a batch stitches the first video's intro and outro segments, and must
// still be the very file that a render without the buffer writes.
TEST_F(MatchDayTest, BufferNeverChangesOutputBytes) {
  TempDir cached_out;
  BatchRequest cached = request(cached_out);
  cached.rows = {1, 2};
  cached.jobs = 1;
  TempDir uncached_out;
  BatchRequest uncached = request(uncached_out);
  uncached.rows = {1, 2};
  uncached.jobs = 1;
  uncached.reuse = false;

  Result<BatchReport> with_buffer = runBatch(cached, nullptr);
  Result<BatchReport> without = runBatch(uncached, nullptr);

  ASSERT_TRUE(with_buffer.ok()) << with_buffer.status().toString();
  ASSERT_TRUE(without.ok()) << without.status().toString();
  EXPECT_EQ(with_buffer->buffer.memory.hits, 3u);  // video 2: intro, outro, music
  EXPECT_EQ(without->buffer.memory.hits + without->buffer.memory.misses, 0u);
  for (const char* name : {"001.mp4", "002.mp4", "002.jpg"}) {
    std::string cached_bytes = readBytes(cached_out.file(name));
    EXPECT_GT(cached_bytes.size(), 1000u) << name;
    EXPECT_TRUE(cached_bytes == readBytes(uncached_out.file(name))) << name;
  }
}

}  // namespace
}  // namespace smmhub::render
