// Internal to src/render/video: H.264 P-frames in which every macroblock is
// skipped, so that a decoder shows the previous reference picture again.
//
// SegmentEncoder writes these for repeated frames at the end of a segment
// instead of running them through libx264: a skipped frame is a few bytes
// and costs no encoding. The frames use a PPS of their own with CAVLC entropy
// coding, because an all-skip slice then needs only one code (mb_skip_run) and
// no arithmetic coder. That PPS goes into the stream's extradata next to
// libx264's.
//
// SkipFrameWriter also renumbers copies of libx264's IDRs, because a copy
// that ends a segment must not share its idr_pic_id with the next segment's
// first IDR.
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
  // order count type 1, scaling matrices, no reference frames, slice
  // groups).
  static Result<SkipFrameWriter> create(std::string_view extradata);

  // The Annex B NAL unit of the PPS that the skipped frames refer to.
  const std::string& pps() const { return pps_; }

  // Returns the Annex B access unit of a P-frame that repeats the previous
  // frame, FRAMES_AFTER_IDR frames after the last IDR, when every frame since
  // that IDR is a reference frame with consecutive frame_num.
  // REQUIRES: frames_after_idr >= 1.
  std::string skipFrame(int frames_after_idr) const;

  // Returns the idr_pic_id of the first IDR slice of ACCESS_UNIT, one of
  // libx264's Annex B access units.
  // Errors: invalid argument when it has no IDR slice, or when the slice
  // header cannot be read or is not an I slice with libx264's PPS.
  Result<int> idrPicId(std::string_view access_unit) const;

  // Returns ACCESS_UNIT, an IDR of libx264's in Annex B, with idr_pic_id set
  // to IDR_PIC_ID in every slice. Other NAL units are copied without trailing
  // zero bytes, and every start code becomes four bytes long.
  // Errors: as idrPicId().
  // REQUIRES: idr_pic_id is in 0 to 65535.
  Result<std::string> withIdrPicId(std::string_view access_unit, int idr_pic_id) const;

 private:
  struct IdrSliceHeader;

  SkipFrameWriter() = default;

  Result<IdrSliceHeader> readIdrSliceHeader(std::string_view rbsp) const;
  Result<std::string> rewriteIdrSlice(std::string_view rbsp, std::uint32_t idr_pic_id) const;

  int sps_id_ = 0;
  // libx264's PPS, which its IDRs refer to, and the fields of it that their
  // slice headers depend on.
  int keyframe_pps_id_ = 0;
  bool cabac_ = false;
  bool bottom_field_poc_ = false;
  bool deblocking_control_ = false;
  bool redundant_pic_cnt_ = false;
  // The skipped frames' PPS.
  int pps_id_ = 0;
  int log2_max_frame_num_ = 0;
  int poc_type_ = 0;
  int log2_max_poc_lsb_ = 0;
  std::uint32_t macroblocks_ = 0;
  std::string pps_;
};

}  // namespace smmhub::render::internal
