// The settings of the H.264 and AAC encoders for one output video.
#pragma once

#include <string>

namespace smmhub::render {

struct EncodeSettings {
  int width = 1080;
  int height = 1920;
  int fps = 30;
  // x264 constant rate factor from 0 (lossless) to 51. Lower is better quality.
  int crf = 23;
  // An x264 preset name, "ultrafast" to "placebo".
  std::string preset = "veryfast";
  // Encoder threads, or 0 to let x264 choose.
  int threads = 0;
  // Frames per closed GOP: every GOP starts with an IDR keyframe.
  int gop_frames = 60;
  // AAC target bit rate in bits per second. FFmpeg's native AAC encoder
  // averages up to about 7% above its target on music (136 kb/s for a 128 kb/s
  // target on the Match Day bed), so 112 kb/s keeps the stream under the
  // 128 kb/s that Instagram's publishing API accepts.
  int audio_bitrate = 112000;
};

}  // namespace smmhub::render
