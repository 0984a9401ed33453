// Reading frames of a user's video clip for a background video layer.
//
// A VideoClip decodes forward as the render asks for later times and seeks
// only when asked for an earlier time. Each frame comes out upright (the
// container's display-matrix rotation applied), in SDR BT.709 (HLG and PQ
// clips are tone-mapped), as opaque premultiplied BGRA of the requested size.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto clip, VideoClip::open(path));
//   for (int i = 0; i < 150; ++i) {
//     SMMHUB_ASSIGN_OR_RETURN(RasterPtr frame, clip->frameAt(i / 30.0, 1080, 1920));
//   }
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "common/status.h"
#include "render/raster.h"
#include "render/video/av_util.h"
#include "render/video/media_input.h"

struct AVFilterContext;
struct AVStream;

namespace smmhub::render {

// One video clip being decoded. Not thread-safe.
// NOTE: only the rotation part of the display matrix is applied: a mirrored
// matrix and a non-square sample aspect ratio are ignored.
class VideoClip {
 public:
  // Opens the first video stream of PATH through openMediaInput().
  // Errors: those of openMediaInput(), and invalid argument when the file has no
  // video stream or no decoder for it.
  static Result<std::unique_ptr<VideoClip>> open(const std::filesystem::path& path,
                                                 const MediaInputLimits& limits = {});

  ~VideoClip();
  VideoClip(const VideoClip&) = delete;
  VideoClip& operator=(const VideoClip&) = delete;
  VideoClip(VideoClip&&) = delete;
  VideoClip& operator=(VideoClip&&) = delete;

  // Size of the upright picture, after the display-matrix rotation.
  int displayWidth() const { return display_width_; }
  int displayHeight() const { return display_height_; }
  // Clockwise rotation applied to the coded picture: 0, 90, 180 or 270.
  int rotationDegrees() const { return rotation_degrees_; }
  // True for HLG or PQ clips, which are tone-mapped to SDR.
  bool isHdr() const { return hdr_; }
  // Duration of the video stream in seconds, from its real timestamps.
  double duration() const { return duration_s_; }

  // Returns the frame shown at T_S seconds from the clip's start: the one with
  // the largest timestamp <= T_S. Times before the first frame get the first
  // frame, and times past the end get the last. The frame is scaled to
  // OUT_WIDTH x OUT_HEIGHT without keeping the aspect ratio. Asking again for
  // the same frame and size returns the same raster.
  // REQUIRES: out_width > 0 and out_height > 0.
  Result<RasterPtr> frameAt(double t_s, int out_width, int out_height);

 private:
  explicit VideoClip(std::filesystem::path path);

  Status openDecoder(const MediaInputLimits& limits);
  Status seekTo(double t_s);
  Status advanceTo(double t_s);
  Result<internal::FramePtr> decodeNext();
  Status buildFilterGraph(int out_width, int out_height);
  Result<RasterPtr> convertCurrent(int out_width, int out_height);
  double frameTime(const AVFrame& frame) const;

  std::filesystem::path path_;
  internal::InputContextPtr input_;
  internal::CodecContextPtr decoder_;
  internal::PacketPtr packet_;
  AVStream* stream_ = nullptr;
  int display_width_ = 0;
  int display_height_ = 0;
  int rotation_degrees_ = 0;
  bool hdr_ = false;
  double duration_s_ = 0;
  bool demuxer_done_ = false;

  // The frame shown at the last requested time, and the decoded frame after it.
  internal::FramePtr current_;
  double current_time_s_ = 0;
  std::int64_t current_serial_ = 0;
  internal::FramePtr next_;
  double next_time_s_ = 0;

  // Rotation, tone mapping and scaling to the last requested size.
  internal::FilterGraphPtr graph_;
  AVFilterContext* graph_source_ = nullptr;
  AVFilterContext* graph_sink_ = nullptr;
  int graph_input_width_ = 0;
  int graph_input_height_ = 0;
  int graph_input_format_ = -1;
  int graph_output_width_ = 0;
  int graph_output_height_ = 0;

  RasterPtr cached_;
  std::int64_t cached_serial_ = -1;
};

}  // namespace smmhub::render
