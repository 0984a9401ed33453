#include "render/video/media_input.h"

#include <gtest/gtest.h>

#include "render/video/test_util.h"

extern "C" {
#include <libavformat/avformat.h>
}

namespace smmhub::render {
namespace {

using testing::TempDir;
using testing::testdata;

TEST(MediaInputTest, OpensAllowedMp4) {
  auto input = openMediaInput(testdata("phone-vfr.mp4"));

  ASSERT_TRUE(input.ok()) << input.status().toString();
  EXPECT_STREQ((*input)->iformat->name, "mov,mp4,m4a,3gp,3g2,mj2");
  EXPECT_EQ((*input)->nb_streams, 2u);
}

TEST(MediaInputTest, OpensFlac) {
  auto input = openMediaInput(testdata("music-96k-24bit-mono.flac"));

  ASSERT_TRUE(input.ok()) << input.status().toString();
  EXPECT_STREQ((*input)->iformat->name, "flac");
}

TEST(MediaInputTest, RejectsHlsPlaylist) {
  TempDir dir;
  const auto segment = dir.file("segment.mp4");
  std::filesystem::copy_file(testdata("phone-vfr.mp4"), segment);
  const auto playlist = dir.write("clip.m3u8",
                                  "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n"
                                  "#EXTINF:3.0,\nsegment.mp4\n#EXT-X-ENDLIST\n");

  auto input = openMediaInput(playlist);

  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(input.status().message().find(playlist.string()), std::string::npos);
  EXPECT_NE(input.status().message().find("'hls'"), std::string::npos) << input.status().message();
}

TEST(MediaInputTest, RejectsConcatScript) {
  TempDir dir;
  std::filesystem::copy_file(testdata("phone-vfr.mp4"), dir.file("a.mp4"));
  const auto script = dir.write("list.txt", "ffconcat version 1.0\nfile 'a.mp4'\n");

  auto input = openMediaInput(script);

  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(input.status().message().find(script.string()), std::string::npos);
  EXPECT_NE(input.status().message().find("'concat'"), std::string::npos)
      << input.status().message();
}

TEST(MediaInputTest, RejectsConcatScriptNamedMp4) {
  TempDir dir;
  std::filesystem::copy_file(testdata("phone-vfr.mp4"), dir.file("a.mp4"));
  const auto script = dir.write("disguised.mp4", "ffconcat version 1.0\nfile 'a.mp4'\n");

  auto input = openMediaInput(script);

  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(input.status().message().find(script.string()), std::string::npos);
}

TEST(MediaInputTest, RejectsTextFileNamedMp4) {
  TempDir dir;
  const auto text = dir.write("notes.mp4", "These are meeting notes, not a video.\n");

  auto input = openMediaInput(text);

  // The extension selects the mp4 demuxer, which finds no moov box.
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(input.status().message().find(text.string()), std::string::npos)
      << input.status().message();
}

TEST(MediaInputTest, RejectsImage) {
  const auto image = testdata("reference-sdr-tonemapped.png");

  auto input = openMediaInput(image);

  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(input.status().message().find(image.string()), std::string::npos);
  EXPECT_NE(input.status().message().find("'png_pipe'"), std::string::npos)
      << input.status().message();
}

TEST(MediaInputTest, RejectsFileOverSizeLimit) {
  MediaInputLimits limits;
  limits.max_bytes = 1000;

  auto input = openMediaInput(testdata("phone-vfr.mp4"), limits);

  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(input.status().message().find("phone-vfr.mp4"), std::string::npos);
  EXPECT_NE(input.status().message().find("11666 bytes"), std::string::npos)
      << input.status().message();
}

TEST(MediaInputTest, MissingFileIsNotFound) {
  auto input = openMediaInput(testdata("no-such-clip.mp4"));

  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kNotFound);
  EXPECT_NE(input.status().message().find("no-such-clip.mp4"), std::string::npos);
}

}  // namespace
}  // namespace smmhub::render
