// Internal to src/render/video: the encoder and muxer setup that every writer
// in this folder shares, so that every H.264 and AAC stream the engine writes
// comes from the same options and the same colour conversion.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"
#include "render/raster.h"
#include "render/video/av_util.h"
#include "render/video/encode_settings.h"

struct AVDictionary;

namespace smmhub::render::internal {

// The native AAC encoder takes 1024 samples per channel in each frame.
inline constexpr int kAacFrameSize = 1024;

// Checks that SETTINGS are in range.
// Errors: invalid argument naming the value and the valid range.
Status checkEncodeSettings(const EncodeSettings& settings);

// Returns the dictionary entries that FFmpeg did not consume, as "a, b".
std::string unusedOptions(const AVDictionary* options);

// Creates an MP4 muxer for the file PATH, without opening the file.
Result<OutputContextPtr> createMp4Output(const std::filesystem::path& path);

// Opens the file PATH for OUTPUT and writes the MP4 header, as openMp4File()
// and writeMp4Header() do.
Status startMp4File(AVFormatContext& output, const std::filesystem::path& path);

// Creates or truncates the file PATH and attaches it to OUTPUT.
Status openMp4File(AVFormatContext& output, const std::filesystem::path& path);

// Writes the MP4 header, with the options that every output of the engine
// uses: moov before mdat (faststart), no edit lists, and signed composition
// offsets for B-frames. PATH names the file in errors.
// REQUIRES: openMp4File() was called, and every stream of OUTPUT has its
// codec parameters.
Status writeMp4Header(AVFormatContext& output, const std::filesystem::path& path);

// Opens libx264 for SETTINGS: yuv420p tagged BT.709, H.264 High, constant
// frame rate with time base 1/fps, and closed GOPs of gop_frames. A frame
// sent with pict_type AV_PICTURE_TYPE_I is an IDR, and the next GOP starts
// gop_frames after it.
// EXTRA_X264_PARAMS ("key=value:key=value", may be empty) are appended to the
// x264 options. With GLOBAL_HEADER the SPS and PPS go to the context's
// extradata instead of the first packet. FILE names the output in errors.
Result<CodecContextPtr> openX264Encoder(const EncodeSettings& settings, bool global_header,
                                        std::string_view extra_x264_params,
                                        const std::filesystem::path& file);

// Creates the BGRA to yuv420p converter with the BT.709 matrix: full-range
// RGB in, limited range out.
Result<SwsContextPtr> createYuvConverter(int width, int height, const std::filesystem::path& file);

// Converts FRAME, premultiplied BGRA treated as opaque, to a new yuv420p frame
// tagged BT.709 limited range.
// REQUIRES: FRAME has the size the converter was created for.
Result<FramePtr> convertToYuv(SwsContext& converter, const Raster& frame,
                              const std::filesystem::path& file);

// Opens FFmpeg's native AAC encoder: 48 kHz stereo planar float at BIT_RATE
// bits per second, time base 1/48000.
Result<CodecContextPtr> openAacEncoder(int bit_rate, bool global_header,
                                       const std::filesystem::path& file);

// Makes an audio frame for the AAC encoder from SAMPLE_FRAMES frames of
// interleaved stereo float, with presentation time PTS in samples.
// REQUIRES: sample_frames <= kAacFrameSize.
Result<FramePtr> makeAudioFrame(const float* interleaved, int sample_frames, std::int64_t pts,
                                const std::filesystem::path& file);

}  // namespace smmhub::render::internal
