// Encoded H.264 segments and AAC sound tracks, and their binary form for the
// render buffer.
//
// An EncodedSegment is one scene encoded on its own as closed GOPs, so that
// SegmentMuxer can copy its packets into any video that shows the same scene.
// An EncodedAudio is a video's whole sound track, encoded once.
//
//   std::string bytes = serializeSegment(segment);
//   SMMHUB_ASSIGN_OR_RETURN(EncodedSegment copy, parseSegment(bytes));
//
// The binary form is little-endian and starts with a magic and a format
// version. Parsing checks the structure and every count and timestamp
// against the rest, so that a truncated or malformed value fails with data
// loss instead of reaching the muxer. It does not checksum the packet bytes:
// the render buffer's stored form does that.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "render/video/encode_settings.h"

namespace smmhub::render {

// One compressed frame of video or audio, in decode order.
struct EncodedPacket {
  std::string data;
  // Timestamps and duration in the stream's time base: 1/fps for video,
  // 1/48000 for audio.
  std::int64_t pts = 0;
  std::int64_t dts = 0;
  std::int64_t duration = 0;
  bool keyframe = false;

  bool operator==(const EncodedPacket&) const = default;
};

// The encoder settings that determine a segment's bytes. Segments stitch into
// one stream only when these are equal.
struct SegmentSettings {
  int width = 0;
  int height = 0;
  int fps = 0;
  int crf = 0;
  std::string preset;
  int gop_frames = 0;
  // NOTE: x264's output depends on its thread count (not on the CPU model,
  // because it runs with cpu-independent=1). With 0, x264 picks the count
  // from the machine's cores, so machines with different core counts make
  // different, equally valid, bytes for the same frames.
  int threads = 0;

  bool operator==(const SegmentSettings&) const = default;
};

// Returns the video part of SETTINGS.
SegmentSettings segmentSettings(const EncodeSettings& settings);

// The packets of one run of frames encoded by SegmentEncoder as closed GOPs:
// the first packet is an IDR with pts 0, and no packet refers to frames
// outside the segment.
struct EncodedSegment {
  SegmentSettings settings;
  int frame_count = 0;
  // Frames by which decode order runs ahead of presentation order because of
  // B-frames (x264: 0 without B-frames, 1 with B-frames, 2 with B-pyramid).
  int reorder_delay = 0;
  // Annex B NAL units: libx264's SPS and PPS (AV_CODEC_FLAG_GLOBAL_HEADER),
  // then the PPS of SegmentEncoder's skipped frames. The MP4 muxer turns them
  // into an avcC box.
  std::string extradata;
  // One packet per frame, in decode order, in the time base 1/fps: pts runs
  // over 0 to frame_count - 1, packet i's dts is i - reorder_delay, and every
  // duration is 1.
  std::vector<EncodedPacket> packets;
};

// Checks the invariants that SegmentMuxer relies on. The settings are in
// range, and there is one packet per frame, each lasting one frame. The first
// packet is an IDR with pts 0, and every pts from 0 to frame_count - 1 occurs
// once. Packet i's dts is i - reorder_delay and never after its pts, which
// makes timestamps strictly increase across segments stitched in a row.
// Errors: invalid argument naming the first broken invariant.
Status checkSegment(const EncodedSegment& segment);

// Returns the binary form of SEGMENT.
std::string serializeSegment(const EncodedSegment& segment);

// Reads a segment from its binary form and checks it with checkSegment().
// Errors: data loss for a wrong magic, an unknown format version, truncated
// or trailing bytes, or a segment that breaks an invariant.
Result<EncodedSegment> parseSegment(std::string_view bytes);

// A whole sound track encoded by encodeAudio() as AAC.
struct EncodedAudio {
  int sample_rate = 0;
  int channels = 0;
  int bit_rate = 0;
  // Samples per channel in each AAC frame (1024).
  int frame_size = 0;
  // Priming samples that the encoder adds before the sound (1024). The first
  // packet's pts is -initial_padding.
  int initial_padding = 0;
  // Length of the sound in sample frames, without the priming samples. It
  // equals the video's duration, because encodeAudio() pads or cuts to it.
  std::int64_t sample_frames = 0;
  // The AAC AudioSpecificConfig.
  std::string extradata;
  // Packets in decode order, with timestamps in the time base 1/sample_rate.
  std::vector<EncodedPacket> packets;
};

// Checks the invariants that SegmentMuxer relies on: positive rates and
// sizes, packets with positive durations, dts strictly increasing and equal to
// pts.
// Errors: invalid argument naming the first broken invariant.
Status checkAudio(const EncodedAudio& audio);

// Returns the binary form of AUDIO.
std::string serializeAudio(const EncodedAudio& audio);

// Reads a sound track from its binary form and checks it with checkAudio().
// Errors: data loss, as for parseSegment().
Result<EncodedAudio> parseAudio(std::string_view bytes);

}  // namespace smmhub::render
