// Decoding audio files and mixing them into the video's sound track.
//
// Everything here is 48 kHz interleaved stereo float, the format that
// VideoWriter::writeAudio() takes.
//
//   SMMHUB_ASSIGN_OR_RETURN(AudioBuffer music, decodeAudio(music_path, 0, 0));
//   AudioMix mix(8.0);
//   mix.add(music, 0.0, 0.8, 0.5, 1.0, true);
//   writer->writeAudio(mix.buffer().samples.data(), mix.buffer().frames());
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "common/status.h"
#include "render/video/media_input.h"

namespace smmhub::render {

// Sample rate of every AudioBuffer and of the audio that VideoWriter encodes.
inline constexpr int kAudioSampleRate = 48000;

struct AudioBuffer {
  // Interleaved stereo at kAudioSampleRate: left, right, left, right, ...
  std::vector<float> samples;

  // Number of sample frames (one left and one right sample each).
  size_t frames() const { return samples.size() / 2; }
  bool empty() const { return samples.empty(); }
};

// Decodes the first audio stream of PATH, an audio file or the audio of a
// video file, to 48 kHz stereo float, from START_S for DURATION_S seconds
// (to the end when DURATION_S <= 0). Mono is copied to both channels at full
// level. A file without an audio stream returns an empty buffer.
// Errors: those of openMediaInput(), and data loss when decoding fails.
// NOTE: decoding starts at the beginning of the file and skips to START_S, so
// a late START_S in a long file costs the decoding of everything before it.
Result<AudioBuffer> decodeAudio(const std::filesystem::path& path, double start_s,
                                double duration_s, const MediaInputLimits& limits = {});

// A sound track of fixed duration built from clips placed in time.
class AudioMix {
 public:
  // Creates DURATION_S seconds of silence.
  explicit AudioMix(double duration_s);

  // Adds CLIP starting at AT_S, scaled by VOLUME, with linear fades of
  // FADE_IN_S at its start and FADE_OUT_S before its end. With LOOP the clip
  // repeats until the end of the mix. Parts past the mix's end are dropped,
  // and the sum is clipped to [-1, 1].
  void add(const AudioBuffer& clip, double at_s, double volume, double fade_in_s, double fade_out_s,
           bool loop);

  // The clipped mix, duration_s * kAudioSampleRate frames long.
  const AudioBuffer& buffer() const { return clipped_; }

 private:
  // Unclipped sum, so that the order of add() calls does not matter.
  std::vector<float> sum_;
  AudioBuffer clipped_;
};

}  // namespace smmhub::render
