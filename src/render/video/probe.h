// Reading a finished video back to check it against the platform rules.
//
// probeMedia() reads the file through libavformat, not through the writer's
// own bookkeeping, and walks the MP4 box tree itself to report what
// libavformat hides: whether moov comes before mdat (fast start) and whether
// any track has an edit list.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/status.h"

namespace smmhub::render {

struct MediaInfo {
  double duration_s = 0;
  // libavformat's demuxer name, such as "mov,mp4,m4a,3gp,3g2,mj2".
  std::string format_name;
  // MP4 box layout. Both are false for files that are not ISO BMFF.
  bool moov_before_mdat = false;
  bool has_edit_list = false;

  struct VideoStream {
    std::string codec;    // "h264"
    std::string profile;  // "High"
    std::string pix_fmt;  // "yuv420p"
    int width = 0;
    int height = 0;
    // Counted by demuxing every packet of the stream.
    int frame_count = 0;
    // The average frame rate.
    double fps = 0;
    // True when the average and the real base frame rate are equal and every
    // frame lasts the same time.
    bool constant_frame_rate = false;
    double start_s = 0;
    double duration_s = 0;
    std::string color_transfer;   // "bt709"
    std::string color_primaries;  // "bt709"
    std::string color_space;      // "bt709"
  };
  // The first video stream, if any.
  std::optional<VideoStream> video;

  struct AudioStream {
    std::string codec;  // "aac"
    int sample_rate = 0;
    int channels = 0;
    double start_s = 0;
    double duration_s = 0;
    std::int64_t bit_rate = 0;
  };
  // The first audio stream, if any.
  std::optional<AudioStream> audio;
};

// Reads the container, stream parameters and packets of the media file PATH.
// Errors: not found for a missing file, and data loss naming the file for a
// truncated or corrupt file.
Result<MediaInfo> probeMedia(const std::filesystem::path& path);

}  // namespace smmhub::render
