#include "render/video/video_writer.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "render/video/codec_setup.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace smmhub::render {

namespace {

using internal::avError;
using internal::kAacFrameSize;

// Interleaved stereo values in one AAC frame.
constexpr size_t kAacFrameValues = 2 * static_cast<size_t>(kAacFrameSize);

bool needsGlobalHeader(const AVFormatContext& output) {
  return (output.oformat->flags & AVFMT_GLOBALHEADER) != 0;
}

}  // namespace

VideoWriter::VideoWriter(std::filesystem::path path, EncodeSettings settings)
    : path_(std::move(path)), settings_(std::move(settings)) {}

VideoWriter::~VideoWriter() = default;

Result<std::unique_ptr<VideoWriter>> VideoWriter::open(const std::filesystem::path& path,
                                                       const EncodeSettings& settings) {
  SMMHUB_RETURN_IF_ERROR(internal::checkEncodeSettings(settings));
  internal::routeFfmpegLogs();
  std::unique_ptr<VideoWriter> writer(new VideoWriter(path, settings));

  SMMHUB_ASSIGN_OR_RETURN(writer->output_, internal::createMp4Output(path));
  SMMHUB_ASSIGN_OR_RETURN(writer->packet_, internal::allocPacket());

  SMMHUB_RETURN_IF_ERROR(writer->openVideoEncoder());
  SMMHUB_RETURN_IF_ERROR(writer->openAudioEncoder());
  SMMHUB_RETURN_IF_ERROR(writer->openFile());
  return writer;
}

Status VideoWriter::openVideoEncoder() {
  SMMHUB_ASSIGN_OR_RETURN(
      video_encoder_, internal::openX264Encoder(settings_, needsGlobalHeader(*output_), "", path_));
  const AVCodecContext& encoder = *video_encoder_;

  video_stream_ = avformat_new_stream(output_.get(), nullptr);
  if (video_stream_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot add the video stream");
  }
  video_stream_->time_base = encoder.time_base;
  video_stream_->avg_frame_rate = encoder.framerate;
  int error = avcodec_parameters_from_context(video_stream_->codecpar, &encoder);
  if (error < 0) {
    return avError(error, "copying video codec parameters", path_);
  }
  return okStatus();
}

Status VideoWriter::openAudioEncoder() {
  SMMHUB_ASSIGN_OR_RETURN(
      audio_encoder_,
      internal::openAacEncoder(settings_.audio_bitrate, needsGlobalHeader(*output_), path_));
  const AVCodecContext& encoder = *audio_encoder_;

  audio_stream_ = avformat_new_stream(output_.get(), nullptr);
  if (audio_stream_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot add the audio stream");
  }
  audio_stream_->time_base = encoder.time_base;
  int error = avcodec_parameters_from_context(audio_stream_->codecpar, &encoder);
  if (error < 0) {
    return avError(error, "copying audio codec parameters", path_);
  }
  return okStatus();
}

Status VideoWriter::openFile() {
  SMMHUB_RETURN_IF_ERROR(internal::startMp4File(*output_, path_));
  SMMHUB_ASSIGN_OR_RETURN(converter_,
                          internal::createYuvConverter(settings_.width, settings_.height, path_));

  logger("render")->debug(
      "encode start path={} size={}x{} fps={} crf={} preset={} gop={} audio_bitrate={}",
      path_.string(), settings_.width, settings_.height, settings_.fps, settings_.crf,
      settings_.preset, settings_.gop_frames, settings_.audio_bitrate);
  return okStatus();
}

Status VideoWriter::requireOpen() const {
  if (finished_) {
    return Status::failedPrecondition(path_.string() + ": the video is already finished");
  }
  return okStatus();
}

Status VideoWriter::writeFrame(const Raster& frame) {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  if (frame.width != settings_.width || frame.height != settings_.height) {
    return Status::invalidArgument(path_.string() + ": frame is " + std::to_string(frame.width) +
                                   "x" + std::to_string(frame.height) + " but the video is " +
                                   std::to_string(settings_.width) + "x" +
                                   std::to_string(settings_.height));
  }

  // A new buffer per frame, because the encoder may still hold the last one.
  SMMHUB_ASSIGN_OR_RETURN(internal::FramePtr picture,
                          internal::convertToYuv(*converter_, frame, path_));

  last_frame_ = std::move(picture);
  return sendVideo(last_frame_.get());
}

Status VideoWriter::repeatFrame() {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  if (last_frame_ == nullptr) {
    return Status::failedPrecondition(path_.string() + ": repeatFrame needs a previous writeFrame");
  }

  // A new reference to the same buffers: no copy and no conversion.
  internal::FramePtr copy(av_frame_clone(last_frame_.get()));
  if (copy == nullptr) {
    return Status::resourceExhausted(path_.string() + ": av_frame_clone failed");
  }
  return sendVideo(copy.get());
}

Status VideoWriter::sendVideo(AVFrame* frame) {
  frame->pts = video_frames_;
  frame->pkt_duration = 1;
  int error = avcodec_send_frame(video_encoder_.get(), frame);
  if (error < 0) {
    return avError(error, "encoding video frame " + std::to_string(video_frames_), path_);
  }
  ++video_frames_;
  SMMHUB_RETURN_IF_ERROR(drainPackets(*video_encoder_, *video_stream_));
  return encodeCoveredAudio();
}

Status VideoWriter::encodeCoveredAudio() {
  // Only whole AAC frames inside the video's duration so far: finish() may
  // still cut the audio to the video's length.
  const std::int64_t covered = video_frames_ * kAudioSampleRate / settings_.fps;
  size_t done = 0;
  while (pending_audio_.size() - done >= kAacFrameValues &&
         audio_frames_sent_ + kAacFrameSize <= covered) {
    SMMHUB_RETURN_IF_ERROR(encodeAudioFrame(pending_audio_.data() + done, kAacFrameSize));
    done += kAacFrameValues;
  }
  pending_audio_.erase(pending_audio_.begin(),
                       pending_audio_.begin() + static_cast<std::ptrdiff_t>(done));
  return okStatus();
}

Status VideoWriter::writeAudio(const float* interleaved_stereo, size_t sample_frames) {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  pending_audio_.insert(pending_audio_.end(), interleaved_stereo,
                        interleaved_stereo + 2 * sample_frames);
  audio_frames_received_ += static_cast<std::int64_t>(sample_frames);
  return encodeCoveredAudio();
}

Status VideoWriter::encodeAudioFrame(const float* interleaved, int sample_frames) {
  SMMHUB_ASSIGN_OR_RETURN(
      internal::FramePtr frame,
      internal::makeAudioFrame(interleaved, sample_frames, audio_frames_sent_, path_));
  audio_frames_sent_ += sample_frames;
  return sendAudio(frame.get());
}

Status VideoWriter::sendAudio(AVFrame* frame) {
  int error = avcodec_send_frame(audio_encoder_.get(), frame);
  if (error < 0) {
    return avError(error, "encoding audio", path_);
  }
  return drainPackets(*audio_encoder_, *audio_stream_);
}

Status VideoWriter::drainPackets(AVCodecContext& encoder, AVStream& stream) {
  while (true) {
    int error = avcodec_receive_packet(&encoder, packet_.get());
    if (error == AVERROR(EAGAIN) || error == AVERROR_EOF) {
      return okStatus();
    }
    if (error < 0) {
      return avError(error, "receiving an encoded packet", path_);
    }

    if (packet_->duration == 0 && &stream == video_stream_) {
      packet_->duration = 1;
    }
    av_packet_rescale_ts(packet_.get(), encoder.time_base, stream.time_base);
    packet_->stream_index = stream.index;
    error = av_interleaved_write_frame(output_.get(), packet_.get());
    if (error < 0) {
      return avError(error, "writing a packet", path_);
    }
  }
}

Status VideoWriter::finish() {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  finished_ = true;

  // Audio lasts exactly as long as the video: pad with silence or cut.
  const std::int64_t target = video_frames_ * kAudioSampleRate / settings_.fps;
  const std::int64_t missing = target - audio_frames_sent_;
  pending_audio_.resize(static_cast<size_t>(std::max<std::int64_t>(missing, 0)) * 2, 0.0f);
  for (std::int64_t done = 0; done < missing; done += kAacFrameSize) {
    const int count = static_cast<int>(std::min<std::int64_t>(kAacFrameSize, missing - done));
    SMMHUB_RETURN_IF_ERROR(encodeAudioFrame(pending_audio_.data() + 2 * done, count));
  }
  pending_audio_.clear();

  // Flush both encoders, then write moov (moved to the front by faststart).
  int error = avcodec_send_frame(video_encoder_.get(), nullptr);
  if (error < 0) {
    return avError(error, "flushing the video encoder", path_);
  }
  SMMHUB_RETURN_IF_ERROR(drainPackets(*video_encoder_, *video_stream_));
  SMMHUB_RETURN_IF_ERROR(sendAudio(nullptr));
  error = av_write_trailer(output_.get());
  if (error < 0) {
    return avError(error, "writing the MP4 trailer", path_);
  }
  error = avio_closep(&output_->pb);
  if (error < 0) {
    return avError(error, "closing the output file", path_);
  }

  logger("render")->info("encode done path={} frames={} audio_samples_in={} audio_samples_out={}",
                         path_.string(), video_frames_, audio_frames_received_, target);
  return okStatus();
}

}  // namespace smmhub::render
