// Stitching encoded segments and an encoded sound track into one MP4, without
// encoding anything again.
//
// The output follows the same rules as VideoWriter's: H.264 High yuv420p
// tagged BT.709, constant frame rate, AAC, moov before mdat and no edit
// lists. Each segment's packets are copied with their timestamps shifted by
// the frames already written, so a video made from segments kept in the
// render buffer is byte-identical to one made from freshly encoded segments.
//
//   SMMHUB_ASSIGN_OR_RETURN(EncodedAudio audio,
//                           encodeAudio(mix.data(), mix_frames, 240, settings));
//   SMMHUB_ASSIGN_OR_RETURN(auto muxer, SegmentMuxer::open(path, settings, std::move(audio)));
//   for (const EncodedSegment& segment : segments) {
//     SMMHUB_RETURN_IF_ERROR(muxer->writeSegment(segment));
//   }
//   SMMHUB_RETURN_IF_ERROR(muxer->finish());
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "render/video/av_util.h"
#include "render/video/encode_settings.h"
#include "render/video/encoded_media.h"

struct AVStream;

namespace smmhub::render {

// An MP4 muxer for one output file. Not thread-safe.
class SegmentMuxer {
 public:
  // Creates the file PATH for a video with SETTINGS and the sound track AUDIO,
  // which lasts as long as the whole video. The file is complete only after
  // finish(), so the caller picks a temporary name and renames it.
  // Errors: invalid argument for settings out of range or a sound track that
  // breaks an invariant of checkAudio(), and the FFmpeg error for a file that
  // cannot be created.
  static Result<std::unique_ptr<SegmentMuxer>> open(const std::filesystem::path& path,
                                                    const EncodeSettings& settings,
                                                    EncodedAudio audio);

  ~SegmentMuxer();
  SegmentMuxer(const SegmentMuxer&) = delete;
  SegmentMuxer& operator=(const SegmentMuxer&) = delete;
  SegmentMuxer(SegmentMuxer&&) = delete;
  SegmentMuxer& operator=(SegmentMuxer&&) = delete;

  // Appends SEGMENT's frames after those already written.
  // Errors: invalid argument, naming what differs, when the segment breaks an
  // invariant of checkSegment() or was encoded with other settings than the
  // video's. The same when its extradata (SPS and PPS) or reorder delay
  // differs from the first segment's. The FFmpeg error when writing fails.
  // NOTE: every segment starts with an IDR whose idr_pic_id is 0, and
  // SegmentEncoder gives 1 to a keyframe that ends a segment of two or more
  // frames. A one-frame segment, or one with one-frame GOPs that ends on id
  // 0, therefore puts two IDRs with the same idr_pic_id in a row, which
  // ITU-T H.264 forbids. FFmpeg decodes such a stream (tested), other
  // decoders are untested.
  Status writeSegment(const EncodedSegment& segment);

  // Writes the rest of the sound track and the trailer, which moves moov
  // before mdat.
  // Errors: failed precondition when no segment was written, or when the
  // sound track's length is not the video's duration.
  Status finish();

  std::int64_t framesWritten() const { return video_frames_; }

 private:
  SegmentMuxer(std::filesystem::path path, EncodeSettings settings, EncodedAudio audio);

  Status requireOpen() const;
  Status checkCompatible(const EncodedSegment& segment) const;
  Status startFile(const EncodedSegment& first);
  Status addVideoStream(const EncodedSegment& first);
  Status addAudioStream();
  Status writePacket(const EncodedPacket& packet, AVStream& stream, std::int64_t shift,
                     int time_base_den);
  Status writeAudioUntil(std::int64_t video_dts);
  Status writeNextAudioPacket();

  std::filesystem::path path_;
  EncodeSettings settings_;
  EncodedAudio audio_;
  internal::OutputContextPtr output_;
  internal::PacketPtr packet_;
  AVStream* video_stream_ = nullptr;
  AVStream* audio_stream_ = nullptr;
  // The first segment's extradata and reorder delay, which every later
  // segment must match. started_ is set once the header is written.
  std::string extradata_;
  int reorder_delay_ = 0;
  bool started_ = false;
  std::int64_t video_frames_ = 0;
  int segments_written_ = 0;
  size_t audio_packets_written_ = 0;
  bool finished_ = false;
};

}  // namespace smmhub::render
