// Internal to src/render/video: H.264 P-frames in which every macroblock is
// skipped, so that a decoder shows the previous reference picture again.
//
// SegmentEncoder writes these for repeated frames at the end of a segment
// instead of running them through libx264: a skipped frame is a few bytes
// and costs no encoding. The frames use a PPS of their own with CAVLC entropy
// coding, because an all-skip slice then needs only one code (mb_skip_run) and
// no arithmetic coder. That PPS goes into the stream's extradata next to
// libx264's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::render::internal {

class SkipFrameWriter {
 public:
  // Reads the SPS and PPS from EXTRADATA, libx264's Annex B headers.
  // Errors: invalid argument when the headers cannot be parsed or use a
  // feature that the skipped frames do not support (interlacing, picture
  // order count type 1, scaling matrices, no reference frames).
  static Result<SkipFrameWriter> create(std::string_view extradata);

  // The Annex B NAL unit of the PPS that the skipped frames refer to.
  const std::string& pps() const { return pps_; }

  // Returns the Annex B access unit of a P-frame that repeats the previous
  // frame, FRAMES_AFTER_IDR frames after the last IDR, when every frame since
  // that IDR is a reference frame with consecutive frame_num.
  // REQUIRES: frames_after_idr >= 1.
  std::string skipFrame(int frames_after_idr) const;

 private:
  SkipFrameWriter() = default;

  int sps_id_ = 0;
  int pps_id_ = 0;
  int log2_max_frame_num_ = 0;
  int poc_type_ = 0;
  int log2_max_poc_lsb_ = 0;
  std::uint32_t macroblocks_ = 0;
  std::string pps_;
};

}  // namespace smmhub::render::internal
