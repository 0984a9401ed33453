#include "render/video/audio_track.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "render/video/test_util.h"

namespace smmhub::render {
namespace {

using testing::testdata;

// Root mean square of both channels over sample frames [first, last).
double rms(const AudioBuffer& buffer, size_t first, size_t last) {
  double sum = 0;
  for (size_t i = 2 * first; i < 2 * last; ++i) {
    sum += static_cast<double>(buffer.samples[i]) * buffer.samples[i];
  }
  return std::sqrt(sum / static_cast<double>(2 * (last - first)));
}

float left(const AudioBuffer& buffer, size_t frame) {
  return buffer.samples[2 * frame];
}

float right(const AudioBuffer& buffer, size_t frame) {
  return buffer.samples[2 * frame + 1];
}

AudioBuffer constant(size_t frames, float value) {
  AudioBuffer buffer;
  buffer.samples.assign(2 * frames, value);
  return buffer;
}

TEST(AudioTrackTest, HiResMonoFlacBecomes48kStereo) {
  auto audio = decodeAudio(testdata("music-96k-24bit-mono.flac"), 0, 0);

  ASSERT_TRUE(audio.ok()) << audio.status().toString();
  EXPECT_NEAR(static_cast<double>(audio->frames()), 3.0 * kAudioSampleRate, 64);
  // The source's RMS is -27.1 dB (0.0442), and mono is copied at full level.
  EXPECT_NEAR(rms(*audio, 0, audio->frames()), 0.0442, 0.002);
  for (size_t i = 0; i < audio->frames(); ++i) {
    ASSERT_EQ(audio->samples[2 * i], audio->samples[2 * i + 1]) << "frame " << i;
  }
}

// Returns a 16-bit PCM WAV file of FRAMES stereo frames at SAMPLE_RATE, each
// sample at VALUE.
std::string pcmWav(std::uint32_t sample_rate, std::uint32_t frames, std::int16_t value) {
  std::string bytes;
  auto put = [&bytes](std::uint32_t number, int size) {
    for (int i = 0; i < size; ++i) {
      bytes.push_back(static_cast<char>((number >> (8 * i)) & 0xff));
    }
  };
  const std::uint32_t data_size = frames * 4;
  bytes += "RIFF";
  put(36 + data_size, 4);
  bytes += "WAVEfmt ";
  put(16, 4);
  put(1, 2);  // PCM
  put(2, 2);  // channels
  put(sample_rate, 4);
  put(sample_rate * 4, 4);  // bytes per second
  put(4, 2);                // bytes per frame
  put(16, 2);               // bits per sample
  bytes += "data";
  put(data_size, 4);
  for (std::uint32_t i = 0; i < 2 * frames; ++i) {
    put(static_cast<std::uint16_t>(value), 2);
  }
  return bytes;
}

TEST(AudioTrackTest, Wav44kIsResampledTo48k) {
  testing::TempDir dir;
  const auto wav = dir.write("tone.wav", pcmWav(44100, 44100, 8192));

  auto audio = decodeAudio(wav, 0, 0);

  ASSERT_TRUE(audio.ok()) << audio.status().toString();
  EXPECT_NEAR(static_cast<double>(audio->frames()), 48000.0, 2.0);
  EXPECT_NEAR(left(*audio, 24000), 0.25f, 1e-3);
  EXPECT_NEAR(right(*audio, 24000), 0.25f, 1e-3);
}

TEST(AudioTrackTest, StartAndDurationCutTheBuffer) {
  auto audio = decodeAudio(testdata("music-96k-24bit-mono.flac"), 0.5, 1.25);

  ASSERT_TRUE(audio.ok()) << audio.status().toString();
  EXPECT_EQ(audio->frames(), 60000u);
}

TEST(AudioTrackTest, NoAudioStreamGivesEmptyBuffer) {
  auto audio = decodeAudio(testdata("clip-no-audio-track.mp4"), 0, 0);

  ASSERT_TRUE(audio.ok()) << audio.status().toString();
  EXPECT_TRUE(audio->empty());
}

TEST(AudioTrackTest, SilentTrackDecodesToSilence) {
  auto audio = decodeAudio(testdata("clip-silent-track.mp4"), 0, 0);

  ASSERT_TRUE(audio.ok()) << audio.status().toString();
  EXPECT_NEAR(static_cast<double>(audio->frames()), 2.0 * kAudioSampleRate, 1024);
  EXPECT_LT(rms(*audio, 0, audio->frames()), 1e-4);
}

TEST(AudioTrackTest, BeepsOfVfrClipStayOnTheSecond) {
  auto audio = decodeAudio(testdata("phone-vfr.mp4"), 0, 0);

  ASSERT_TRUE(audio.ok()) << audio.status().toString();
  // Beeps of 50 ms start at 0, 1 and 2 s, and the gaps between them are silent.
  const size_t ms = kAudioSampleRate / 1000;
  for (size_t second = 0; second < 3; ++second) {
    const size_t beep = second * kAudioSampleRate;
    EXPECT_GT(rms(*audio, beep + 10 * ms, beep + 40 * ms), 0.3) << "second " << second;
    EXPECT_LT(rms(*audio, beep + 200 * ms, beep + 900 * ms), 0.01) << "second " << second;
  }
}

TEST(AudioTrackTest, TextFileIsRejected) {
  testing::TempDir dir;
  const auto text = dir.write("song.mp3", "not audio at all\n");

  auto audio = decodeAudio(text, 0, 0);

  ASSERT_FALSE(audio.ok());
  EXPECT_NE(audio.status().message().find(text.string()), std::string::npos);
}

TEST(AudioMixTest, EmptyMixIsSilenceOfTheDuration) {
  AudioMix mix(2.0);

  EXPECT_EQ(mix.buffer().frames(), 96000u);
  EXPECT_TRUE(std::all_of(mix.buffer().samples.begin(), mix.buffer().samples.end(),
                          [](float sample) { return sample == 0.0f; }));
}

TEST(AudioMixTest, ClipIsPlacedAndScaled) {
  AudioMix mix(1.0);

  mix.add(constant(4800, 0.5f), 0.5, 0.5, 0, 0, false);

  const AudioBuffer& out = mix.buffer();
  EXPECT_FLOAT_EQ(left(out, 23999), 0.0f);
  EXPECT_FLOAT_EQ(left(out, 24000), 0.25f);
  EXPECT_FLOAT_EQ(right(out, 28799), 0.25f);
  EXPECT_FLOAT_EQ(left(out, 28800), 0.0f);
}

TEST(AudioMixTest, SumIsClipped) {
  AudioMix mix(0.1);

  mix.add(constant(4800, 0.75f), 0, 1.0, 0, 0, false);
  mix.add(constant(4800, 0.75f), 0, 1.0, 0, 0, false);
  mix.add(constant(4800, -0.25f), 0, 1.0, 0, 0, false);

  EXPECT_FLOAT_EQ(mix.buffer().samples[0], 1.0f);
  EXPECT_FLOAT_EQ(mix.buffer().samples[100], 1.0f);
}

TEST(AudioMixTest, SumIsClippedOnlyAfterAdding) {
  AudioMix mix(0.1);

  mix.add(constant(4800, 0.75f), 0, 1.0, 0, 0, false);
  mix.add(constant(4800, 0.75f), 0, 1.0, 0, 0, false);
  mix.add(constant(4800, -0.75f), 0, 1.0, 0, 0, false);

  EXPECT_FLOAT_EQ(mix.buffer().samples[0], 0.75f);
}

TEST(AudioMixTest, LoopFillsToTheEnd) {
  AudioMix mix(1.0);
  AudioBuffer ramp;
  for (int i = 0; i < 1000; ++i) {
    ramp.samples.push_back(static_cast<float>(i) / 1000);
    ramp.samples.push_back(static_cast<float>(i) / 1000);
  }

  mix.add(ramp, 0.25, 1.0, 0, 0, true);

  const AudioBuffer& out = mix.buffer();
  EXPECT_FLOAT_EQ(left(out, 11999), 0.0f);
  EXPECT_FLOAT_EQ(left(out, 12000), 0.0f);
  EXPECT_FLOAT_EQ(left(out, 12500), 0.5f);
  EXPECT_FLOAT_EQ(left(out, 47999), 0.999f);
}

TEST(AudioMixTest, FadesRampLinearly) {
  AudioMix mix(1.0);

  mix.add(constant(48000, 1.0f), 0, 1.0, 0.5, 0.25, false);

  const AudioBuffer& out = mix.buffer();
  EXPECT_FLOAT_EQ(left(out, 0), 0.0f);
  EXPECT_FLOAT_EQ(left(out, 12000), 0.5f);
  EXPECT_FLOAT_EQ(left(out, 24000), 1.0f);
  EXPECT_FLOAT_EQ(left(out, 30000), 1.0f);
  EXPECT_FLOAT_EQ(left(out, 42000), 0.5f);
}

}  // namespace
}  // namespace smmhub::render
