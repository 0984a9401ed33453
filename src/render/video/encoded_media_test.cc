#include "render/video/encoded_media.h"

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "render/video/audio_encoder.h"
#include "render/video/segment_encoder.h"
#include "render/video/segment_test_util.h"

namespace smmhub::render {
namespace {

using testing::boxFrame;

// A real segment of four 64x64 frames, the last two repeats, small enough to
// parse at every truncated length.
EncodedSegment smallSegment() {
  EncodeSettings settings = testing::smallSegmentSettings();
  settings.width = 64;
  settings.height = 64;
  auto encoder = SegmentEncoder::open(settings);
  EXPECT_TRUE(encoder.ok()) << encoder.status().toString();
  EXPECT_TRUE((*encoder)->writeFrame(boxFrame(64, 64, 0, 255, 0, 0)).ok());
  EXPECT_TRUE((*encoder)->writeFrame(boxFrame(64, 64, 1, 255, 0, 0)).ok());
  EXPECT_TRUE((*encoder)->repeatFrame().ok());
  EXPECT_TRUE((*encoder)->repeatFrame().ok());
  auto segment = (*encoder)->finish();
  EXPECT_TRUE(segment.ok()) << segment.status().toString();
  return std::move(segment).value();
}

// A real sound track of 0.1 s of silence.
EncodedAudio smallAudio() {
  const std::vector<float> silence(2 * size_t{4800}, 0.0f);
  auto audio = encodeAudio(silence.data(), 4800, 3, testing::smallSegmentSettings());
  EXPECT_TRUE(audio.ok()) << audio.status().toString();
  return std::move(audio).value();
}

void expectSameSegment(const EncodedSegment& actual, const EncodedSegment& expected) {
  EXPECT_EQ(actual.settings, expected.settings);
  EXPECT_EQ(actual.frame_count, expected.frame_count);
  EXPECT_EQ(actual.reorder_delay, expected.reorder_delay);
  EXPECT_EQ(actual.extradata, expected.extradata);
  EXPECT_EQ(actual.packets, expected.packets);
}

void expectSameAudio(const EncodedAudio& actual, const EncodedAudio& expected) {
  EXPECT_EQ(actual.sample_rate, expected.sample_rate);
  EXPECT_EQ(actual.channels, expected.channels);
  EXPECT_EQ(actual.bit_rate, expected.bit_rate);
  EXPECT_EQ(actual.frame_size, expected.frame_size);
  EXPECT_EQ(actual.initial_padding, expected.initial_padding);
  EXPECT_EQ(actual.sample_frames, expected.sample_frames);
  EXPECT_EQ(actual.extradata, expected.extradata);
  EXPECT_EQ(actual.packets, expected.packets);
}

// Parses every prefix of BYTES shorter than the whole: each must fail with
// data loss.
template <typename Parse>
void expectEveryTruncationFails(const std::string& bytes, Parse parse) {
  for (size_t length = 0; length < bytes.size(); ++length) {
    auto parsed = parse(std::string_view(bytes).substr(0, length));
    ASSERT_FALSE(parsed.ok()) << "length " << length << " of " << bytes.size();
    ASSERT_EQ(parsed.status().code(), StatusCode::kDataLoss) << parsed.status().toString();
  }
}

// Changes random bytes of BYTES, 1 to 4 at a time: each copy must either fail
// with data loss or parse into a value that passes CHECK.
template <typename Parse, typename Check>
void expectByteFlipsParseOrFail(const std::string& bytes, Parse parse, Check check) {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<size_t> position(0, bytes.size() - 1);
  std::uniform_int_distribution<int> value(0, 255);
  std::uniform_int_distribution<int> flips(1, 4);
  int parsed_count = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string changed = bytes;
    for (int i = flips(random); i > 0; --i) {
      changed[position(random)] = static_cast<char>(value(random));
    }
    auto parsed = parse(changed);
    if (parsed.ok()) {
      ++parsed_count;
      ASSERT_TRUE(check(*parsed).ok()) << "round " << round;
    } else {
      ASSERT_EQ(parsed.status().code(), StatusCode::kDataLoss) << parsed.status().toString();
    }
  }
  // Most changes land in packet bytes and parse, so CHECK ran.
  EXPECT_GT(parsed_count, 0);
}

TEST(EncodedMediaTest, SegmentRoundTripKeepsEveryField) {
  const EncodedSegment segment = smallSegment();

  auto parsed = parseSegment(serializeSegment(segment));

  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  expectSameSegment(*parsed, segment);
  EXPECT_EQ(serializeSegment(*parsed), serializeSegment(segment));
}

TEST(EncodedMediaTest, TruncatedSegmentFailsAtEveryLength) {
  const std::string bytes = serializeSegment(smallSegment());

  expectEveryTruncationFails(bytes, parseSegment);
  EXPECT_TRUE(parseSegment(bytes).ok());
}

TEST(EncodedMediaTest, ChangedSegmentBytesParseOrFailCleanly) {
  const std::string bytes = serializeSegment(smallSegment());

  expectByteFlipsParseOrFail(bytes, parseSegment, checkSegment);
}

TEST(EncodedMediaTest, SegmentWithWrongMagicFails) {
  std::string bytes = serializeSegment(smallSegment());
  bytes[0] = 'X';

  auto parsed = parseSegment(bytes);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(parsed.status().message().find("magic"), std::string::npos)
      << parsed.status().message();
}

TEST(EncodedMediaTest, SegmentWithOtherVersionFailsNamingIt) {
  std::string bytes = serializeSegment(smallSegment());
  bytes[4] = 7;

  auto parsed = parseSegment(bytes);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(parsed.status().message().find("format version 7"), std::string::npos)
      << parsed.status().message();
}

TEST(EncodedMediaTest, SegmentWithTrailingBytesFails) {
  const std::string bytes = serializeSegment(smallSegment()) + "x";

  auto parsed = parseSegment(bytes);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(parsed.status().message().find("1 unexpected bytes"), std::string::npos)
      << parsed.status().message();
}

TEST(EncodedMediaTest, TruncationNamesTheField) {
  const std::string bytes = serializeSegment(smallSegment());

  auto parsed = parseSegment(std::string_view(bytes).substr(0, 14));

  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("the height at byte 12"), std::string::npos)
      << parsed.status().message();
}

TEST(EncodedMediaTest, CheckSegmentRejectsBrokenInvariants) {
  const EncodedSegment valid = smallSegment();
  ASSERT_TRUE(checkSegment(valid).ok());
  const std::vector<std::pair<std::string, std::function<void(EncodedSegment&)>>> cases = {
      {"odd width",
       [](EncodedSegment& s) {
         s.settings.width = 63;
       }},
      {"crf 52",
       [](EncodedSegment& s) {
         s.settings.crf = 52;
       }},
      {"empty preset",
       [](EncodedSegment& s) {
         s.settings.preset.clear();
       }},
      {"no frames",
       [](EncodedSegment& s) {
         s.frame_count = 0;
       }},
      {"packet count",
       [](EncodedSegment& s) {
         s.packets.pop_back();
       }},
      {"no extradata",
       [](EncodedSegment& s) {
         s.extradata.clear();
       }},
      {"first not keyframe",
       [](EncodedSegment& s) {
         s.packets[0].keyframe = false;
       }},
      {"dts",
       [](EncodedSegment& s) {
         s.packets[1].dts += 1;
       }},
      {"duplicate pts",
       [](EncodedSegment& s) {
         s.packets[1].pts = s.packets[2].pts;
       }},
      {"pts past end",
       [](EncodedSegment& s) {
         s.packets[1].pts = 4;
       }},
      {"duration",
       [](EncodedSegment& s) {
         s.packets[2].duration = 2;
       }},
      {"empty packet",
       [](EncodedSegment& s) {
         s.packets[2].data.clear();
       }},
  };

  for (const auto& [name, change] : cases) {
    EncodedSegment broken = valid;
    change(broken);

    Status status = checkSegment(broken);

    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(EncodedMediaTest, AudioRoundTripKeepsEveryField) {
  const EncodedAudio audio = smallAudio();

  auto parsed = parseAudio(serializeAudio(audio));

  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  expectSameAudio(*parsed, audio);
}

TEST(EncodedMediaTest, TruncatedAudioFailsAtEveryLength) {
  const std::string bytes = serializeAudio(smallAudio());

  expectEveryTruncationFails(bytes, parseAudio);
  EXPECT_TRUE(parseAudio(bytes).ok());
}

TEST(EncodedMediaTest, ChangedAudioBytesParseOrFailCleanly) {
  const std::string bytes = serializeAudio(smallAudio());

  expectByteFlipsParseOrFail(bytes, parseAudio, checkAudio);
}

TEST(EncodedMediaTest, SegmentBytesAreNotAudio) {
  auto parsed = parseAudio(serializeSegment(smallSegment()));

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
}

TEST(EncodedMediaTest, CheckAudioRejectsBrokenInvariants) {
  const EncodedAudio valid = smallAudio();
  ASSERT_TRUE(checkAudio(valid).ok());
  ASSERT_GE(valid.packets.size(), 2u);
  const std::vector<std::pair<std::string, std::function<void(EncodedAudio&)>>> cases = {
      {"no sample rate",
       [](EncodedAudio& a) {
         a.sample_rate = 0;
       }},
      {"no channels",
       [](EncodedAudio& a) {
         a.channels = 0;
       }},
      {"negative length",
       [](EncodedAudio& a) {
         a.sample_frames = -1;
       }},
      {"no extradata",
       [](EncodedAudio& a) {
         a.extradata.clear();
       }},
      {"pts not dts",
       [](EncodedAudio& a) {
         a.packets[0].pts += 1;
       }},
      {"dts order",
       [](EncodedAudio& a) {
         a.packets[1].dts = a.packets[0].dts;
       }},
      {"no duration",
       [](EncodedAudio& a) {
         a.packets[0].duration = 0;
       }},
      {"huge pts",
       [](EncodedAudio& a) {
         a.packets.back().pts = a.packets.back().dts = INT64_MAX;
       }},
  };

  for (const auto& [name, change] : cases) {
    EncodedAudio broken = valid;
    change(broken);

    Status status = checkAudio(broken);

    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << name;
  }
}

}  // namespace
}  // namespace smmhub::render
