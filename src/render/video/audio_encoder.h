// Encoding a video's whole sound track to AAC packets on its own, so that the
// render buffer can keep them and SegmentMuxer can write them into any video
// with the same mix and duration without encoding them again.
//
//   SMMHUB_ASSIGN_OR_RETURN(EncodedAudio audio,
//                           encodeAudio(mix.samples.data(), mix.frames(), 240, settings));
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "render/video/encode_settings.h"
#include "render/video/encoded_media.h"

namespace smmhub::render {

// Encodes SAMPLE_FRAMES frames of 48 kHz interleaved stereo float audio with
// FFmpeg's native AAC encoder at settings.audio_bitrate, padded with silence
// or cut to the duration of VIDEO_FRAMES frames at settings.fps. The packets
// are the ones VideoWriter writes for the same samples and frame count.
// NOTE: the encoder computes in floating point, so machines with different
// SIMD instruction sets may encode the same mix to different bytes.
// Errors: invalid argument for settings out of range or a negative
// VIDEO_FRAMES, and the FFmpeg error when encoding fails.
Result<EncodedAudio> encodeAudio(const float* interleaved_stereo, size_t sample_frames,
                                 std::int64_t video_frames, const EncodeSettings& settings);

}  // namespace smmhub::render
