// Encoding the rendered frames and the mixed audio into an MP4 file.
//
// The output meets the rules that Instagram's publishing API and Twitter
// enforce: H.264 High profile, yuv420p tagged BT.709, constant frame rate,
// AAC stereo at 48 kHz, moov before mdat (fast start) and no edit lists.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto writer, VideoWriter::open(path, EncodeSettings{}));
//   for (const Raster& frame : frames) {
//     SMMHUB_RETURN_IF_ERROR(writer->writeFrame(frame));
//   }
//   SMMHUB_RETURN_IF_ERROR(writer->writeAudio(mix.samples.data(), mix.frames()));
//   SMMHUB_RETURN_IF_ERROR(writer->finish());
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "render/raster.h"
#include "render/video/audio_track.h"
#include "render/video/av_util.h"
#include "render/video/encode_settings.h"

struct AVStream;

namespace smmhub::render {

// An MP4 encoder for one output file. Not thread-safe.
class VideoWriter {
 public:
  // Creates the file PATH and starts an H.264 + AAC MP4 in it. The file is
  // complete only after finish(), so the caller picks a temporary name and
  // renames it.
  // Errors: invalid argument for settings out of range, and the FFmpeg error for
  // an encoder or a file that cannot be opened.
  static Result<std::unique_ptr<VideoWriter>> open(const std::filesystem::path& path,
                                                   const EncodeSettings& settings);

  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;
  VideoWriter(VideoWriter&&) = delete;
  VideoWriter& operator=(VideoWriter&&) = delete;

  // Encodes the next frame. The raster is premultiplied BGRA and treated as
  // opaque: alpha is ignored.
  // REQUIRES: frame.width and frame.height equal the settings.
  Status writeFrame(const Raster& frame);

  // Encodes the previous frame's picture again as the next frame, without
  // converting it again.
  // Errors: failed precondition before the first writeFrame().
  Status repeatFrame();

  // Appends SAMPLE_FRAMES frames of 48 kHz interleaved stereo float audio.
  Status writeAudio(const float* interleaved_stereo, size_t sample_frames);

  // Pads or cuts the audio to the video's duration, flushes both encoders and
  // writes the trailer, which moves moov before mdat.
  // NOTE: without an edit list, players also play the AAC encoder's 1024
  // priming samples, so the audio starts 21.3 ms late and its stream is that
  // much longer than the video (both under one frame at 30 fps).
  Status finish();

  std::int64_t framesWritten() const { return video_frames_; }

 private:
  VideoWriter(std::filesystem::path path, EncodeSettings settings);

  Status openVideoEncoder();
  Status openAudioEncoder();
  Status openFile();
  Status sendVideo(AVFrame* frame);
  Status sendAudio(AVFrame* frame);
  Status encodeCoveredAudio();
  Status encodeAudioFrame(const float* interleaved, int sample_frames);
  Status drainPackets(AVCodecContext& encoder, AVStream& stream);
  Status requireOpen() const;

  std::filesystem::path path_;
  EncodeSettings settings_;
  internal::OutputContextPtr output_;
  internal::CodecContextPtr video_encoder_;
  internal::CodecContextPtr audio_encoder_;
  AVStream* video_stream_ = nullptr;
  AVStream* audio_stream_ = nullptr;
  internal::SwsContextPtr converter_;
  internal::FramePtr last_frame_;
  internal::PacketPtr packet_;

  // Interleaved stereo samples not yet encoded, fewer than one AAC frame
  // after each writeAudio().
  std::vector<float> pending_audio_;
  std::int64_t video_frames_ = 0;
  std::int64_t audio_frames_sent_ = 0;      // Sample frames given to the encoder.
  std::int64_t audio_frames_received_ = 0;  // Sample frames given to writeAudio().
  bool finished_ = false;
};

}  // namespace smmhub::render
