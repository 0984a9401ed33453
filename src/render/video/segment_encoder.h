// Encoding one scene's frames into an H.264 segment that stitches with others.
//
// Each segment is a separate libx264 run that starts with an IDR and has
// closed GOPs of gop_frames, so that no packet refers to a frame of another
// segment. x264's stitchable mode keeps the SPS and PPS the same for every
// segment encoded with the same settings, so SegmentMuxer can put segments
// into one stream in any order.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto encoder, SegmentEncoder::open(settings));
//   for (int i = 0; i < 150; ++i) {
//     // The scene's animations end at frame 90.
//     SMMHUB_RETURN_IF_ERROR(i < 90 ? encoder->writeFrame(frames[i]) : encoder->repeatFrame());
//   }
//   SMMHUB_ASSIGN_OR_RETURN(EncodedSegment segment, encoder->finish());
//
// The picture of the last writeFrame() is held to the end of the segment
// when only repeatFrame() calls follow it. Its frames after a keyframe that
// shows it cost almost nothing: later keyframes are copies of that keyframe's
// packet, and the frames between are P-frames whose macroblocks are all
// skipped. libx264 still encodes the repeats that its lookahead reads after
// the keyframe (10 at veryfast), and the encoder drops them, so that rate
// control gives the keyframe the quality of a picture that stays.
//
// The keyframe is the held picture's first frame, forced to an IDR, when that
// spares libx264 at least kMinRepeatsSavedByForcedKeyframe repeats. GOPs then
// restart there: later keyframes follow every gop_frames, where libx264 puts
// them after a forced IDR. Otherwise the keyframe is the first GOP start that
// shows the picture, and every frame up to it goes through libx264. A forced
// IDR can cost one keyframe's bytes, because a held run that starts between
// GOP starts may need one keyframe more to keep GOPs at most gop_frames long.
// That choice needs the length of the held run, so each written frame is
// held back until the next writeFrame() or finish(), as repeats are.
// NOTE: the held picture does not improve after the keyframe as it does when
// libx264 encodes every repeat (40.8 against 42.5 dB luma PSNR in
// bench/segment_encode).
//
// The same frames, the same repeatFrame() calls and the same settings give
// the same bytes in every run. libx264 runs with cpu-independent=1, which
// x264 documents as making its output independent of the CPU model. With
// threads 0, x264 picks the thread count, and so the bytes, from the
// machine's cores. The whole segment stays in memory.
#pragma once

#include <memory>
#include <optional>

#include "common/status.h"
#include "render/raster.h"
#include "render/video/av_util.h"
#include "render/video/encode_settings.h"
#include "render/video/encoded_media.h"
#include "render/video/skip_frame.h"

namespace smmhub::render {

// An H.264 encoder for one segment. Not thread-safe.
class SegmentEncoder {
 public:
  // Repeats that libx264 must be spared before the held picture's first
  // frame is forced to an IDR. On a Match Day fixture picture (1080x1920,
  // veryfast, CRF 23, one x264 thread), the IDR cost 11 CPU ms more than the
  // P-frame it replaced. Each repeat that libx264 encodes cost 10 to 12 ms,
  // so two spared repeats pay for the IDR.
  static constexpr int kMinRepeatsSavedByForcedKeyframe = 2;

  // Starts a segment with the video part of SETTINGS.
  // Errors: invalid argument for settings out of range, and the FFmpeg error
  // when libx264 cannot be opened.
  static Result<std::unique_ptr<SegmentEncoder>> open(const EncodeSettings& settings);

  ~SegmentEncoder();
  SegmentEncoder(const SegmentEncoder&) = delete;
  SegmentEncoder& operator=(const SegmentEncoder&) = delete;
  SegmentEncoder(SegmentEncoder&&) = delete;
  SegmentEncoder& operator=(SegmentEncoder&&) = delete;

  // Encodes the next frame. The raster is premultiplied BGRA and treated as
  // opaque: alpha is ignored. The converted picture is held back until the
  // next writeFrame() or finish(), which decide how to encode it.
  // Errors: invalid argument when the frame's size is not the settings' size.
  Status writeFrame(const Raster& frame);

  // Encodes the previous frame's picture again as the next frame, without
  // converting it again. Repeats are held back like written frames.
  // Errors: failed precondition before the first writeFrame().
  Status repeatFrame();

  // Flushes the encoder and returns the segment.
  // Errors: failed precondition when no frame was written or finish() was
  // already called; internal when libx264's output breaks an invariant of
  // checkSegment().
  Result<EncodedSegment> finish();

  int framesWritten() const { return frame_count_; }

 private:
  explicit SegmentEncoder(EncodeSettings settings);

  Status requireOpen() const;
  Status sendHeldBack(int count, bool force_keyframe);
  Status send(AVFrame* frame, bool force_keyframe);
  Status drainPackets();
  Status flush();
  int heldKeyframe(int held_from) const;
  int repeatsEncoded(int held_from, int keyframe) const;
  void dropPacketsAfter(int keyframe);
  Status appendSkippedFrames(int keyframe);
  Status renumberLastKeyframe();

  EncodeSettings settings_;
  internal::CodecContextPtr encoder_;
  internal::SwsContextPtr converter_;
  // The picture of the last writeFrame().
  internal::FramePtr last_frame_;
  internal::PacketPtr packet_;
  // Unset when libx264's headers do not allow skipped frames.
  std::optional<internal::SkipFrameWriter> skip_writer_;
  EncodedSegment segment_;
  // Frames given to writeFrame() and repeatFrame(), and those given to
  // libx264 so far.
  int frame_count_ = 0;
  int sent_frames_ = 0;
  bool finished_ = false;
};

}  // namespace smmhub::render
