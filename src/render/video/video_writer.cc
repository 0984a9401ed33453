#include "render/video/video_writer.h"

#include <algorithm>
#include <utility>

#include "common/log.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libswscale/swscale.h>
}

namespace smmhub::render {

namespace {

using internal::avError;

// The native AAC encoder takes 1024 samples per channel in each frame.
constexpr int kAacFrameSize = 1024;
// Interleaved stereo values in one AAC frame.
constexpr size_t kAacFrameValues = 2 * static_cast<size_t>(kAacFrameSize);

Status checkSettings(const EncodeSettings& settings) {
  if (settings.width <= 0 || settings.height <= 0 || settings.width % 2 != 0 ||
      settings.height % 2 != 0) {
    return Status::invalidArgument("frame size " + std::to_string(settings.width) + "x" +
                                   std::to_string(settings.height) +
                                   " is invalid: yuv420p needs a positive, even width and height");
  }
  if (settings.fps <= 0 || settings.gop_frames <= 0 || settings.audio_bitrate <= 0) {
    return Status::invalidArgument("fps " + std::to_string(settings.fps) + ", gop_frames " +
                                   std::to_string(settings.gop_frames) + " and audio_bitrate " +
                                   std::to_string(settings.audio_bitrate) + " must be positive");
  }
  if (settings.crf < 0 || settings.crf > 51) {
    return Status::invalidArgument("crf " + std::to_string(settings.crf) +
                                   " is out of range: use 0 to 51");
  }
  return okStatus();
}

// Returns the dictionary entries that FFmpeg did not consume, as "a, b".
std::string unusedOptions(const AVDictionary* options) {
  std::string names;
  const AVDictionaryEntry* entry = nullptr;
  while ((entry = av_dict_get(options, "", entry, AV_DICT_IGNORE_SUFFIX)) != nullptr) {
    names += names.empty() ? "" : ", ";
    names += entry->key;
  }
  return names;
}

}  // namespace

VideoWriter::VideoWriter(std::filesystem::path path, EncodeSettings settings)
    : path_(std::move(path)), settings_(std::move(settings)) {}

VideoWriter::~VideoWriter() = default;

Result<std::unique_ptr<VideoWriter>> VideoWriter::open(const std::filesystem::path& path,
                                                       const EncodeSettings& settings) {
  SMMHUB_RETURN_IF_ERROR(checkSettings(settings));
  internal::routeFfmpegLogs();
  std::unique_ptr<VideoWriter> writer(new VideoWriter(path, settings));

  AVFormatContext* raw = nullptr;
  const std::string name = path.string();
  int error = avformat_alloc_output_context2(&raw, nullptr, "mp4", name.c_str());
  if (error < 0) {
    return avError(error, "creating the MP4 muxer", path);
  }
  writer->output_.reset(raw);
  SMMHUB_ASSIGN_OR_RETURN(writer->packet_, internal::allocPacket());

  SMMHUB_RETURN_IF_ERROR(writer->openVideoEncoder());
  SMMHUB_RETURN_IF_ERROR(writer->openAudioEncoder());
  SMMHUB_RETURN_IF_ERROR(writer->openFile());
  return writer;
}

Status VideoWriter::openVideoEncoder() {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) {
    return Status::failedPrecondition(
        "libavcodec has no libx264 encoder; install an FFmpeg "
        "build with --enable-libx264");
  }
  video_encoder_.reset(avcodec_alloc_context3(codec));
  AVCodecContext& encoder = *video_encoder_;

  // Constant frame rate: one tick of the time base per frame.
  encoder.width = settings_.width;
  encoder.height = settings_.height;
  encoder.pix_fmt = AV_PIX_FMT_YUV420P;
  encoder.time_base = AVRational{1, settings_.fps};
  encoder.framerate = AVRational{settings_.fps, 1};
  encoder.sample_aspect_ratio = AVRational{1, 1};
  encoder.gop_size = settings_.gop_frames;
  encoder.keyint_min = settings_.gop_frames;
  encoder.flags |= AV_CODEC_FLAG_CLOSED_GOP;
  encoder.thread_count = settings_.threads;
  encoder.profile = FF_PROFILE_H264_HIGH;

  // Tags that match the BT.709 limited-range conversion in writeFrame().
  encoder.color_primaries = AVCOL_PRI_BT709;
  encoder.color_trc = AVCOL_TRC_BT709;
  encoder.colorspace = AVCOL_SPC_BT709;
  encoder.color_range = AVCOL_RANGE_MPEG;
  if (output_->oformat->flags & AVFMT_GLOBALHEADER) {
    encoder.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  }

  // Fixed GOPs: no scene-cut keyframes, every GOP closed and gop_frames long.
  // The profile option only caps the profile, and presets up to superfast
  // drop the 8x8 transform, so 8x8dct=1 makes even ultrafast output High.
  const std::string gop = std::to_string(settings_.gop_frames);
  const std::string x264_params =
      "keyint=" + gop + ":min-keyint=" + gop + ":scenecut=0:open-gop=0:8x8dct=1";
  AVDictionary* options = nullptr;
  av_dict_set(&options, "preset", settings_.preset.c_str(), 0);
  av_dict_set(&options, "crf", std::to_string(settings_.crf).c_str(), 0);
  av_dict_set(&options, "profile", "high", 0);
  av_dict_set(&options, "x264-params", x264_params.c_str(), 0);
  int error = avcodec_open2(&encoder, codec, &options);
  const std::string unused = unusedOptions(options);
  av_dict_free(&options);
  if (error < 0) {
    return avError(error, "opening libx264 with preset '" + settings_.preset + "'", path_);
  }
  if (!unused.empty()) {
    return Status::internal(path_.string() + ": libx264 ignored options: " + unused);
  }

  video_stream_ = avformat_new_stream(output_.get(), nullptr);
  if (video_stream_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot add the video stream");
  }
  video_stream_->time_base = encoder.time_base;
  video_stream_->avg_frame_rate = encoder.framerate;
  error = avcodec_parameters_from_context(video_stream_->codecpar, &encoder);
  if (error < 0) {
    return avError(error, "copying video codec parameters", path_);
  }
  return okStatus();
}

Status VideoWriter::openAudioEncoder() {
  const AVCodec* codec = avcodec_find_encoder_by_name("aac");
  if (codec == nullptr) {
    return Status::failedPrecondition("libavcodec has no native aac encoder");
  }
  audio_encoder_.reset(avcodec_alloc_context3(codec));
  AVCodecContext& encoder = *audio_encoder_;

  encoder.sample_fmt = AV_SAMPLE_FMT_FLTP;
  encoder.sample_rate = kAudioSampleRate;
  encoder.ch_layout = AV_CHANNEL_LAYOUT_STEREO;
  encoder.bit_rate = settings_.audio_bitrate;
  encoder.time_base = AVRational{1, kAudioSampleRate};
  if (output_->oformat->flags & AVFMT_GLOBALHEADER) {
    encoder.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  }
  int error = avcodec_open2(&encoder, codec, nullptr);
  if (error < 0) {
    return avError(error, "opening the aac encoder", path_);
  }

  audio_stream_ = avformat_new_stream(output_.get(), nullptr);
  if (audio_stream_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot add the audio stream");
  }
  audio_stream_->time_base = encoder.time_base;
  error = avcodec_parameters_from_context(audio_stream_->codecpar, &encoder);
  if (error < 0) {
    return avError(error, "copying audio codec parameters", path_);
  }
  return okStatus();
}

Status VideoWriter::openFile() {
  const std::string url = "file:" + path_.string();
  int error = avio_open(&output_->pb, url.c_str(), AVIO_FLAG_WRITE);
  if (error < 0) {
    return avError(error, "creating the output file", path_);
  }

  // B-frames make the first dts negative. Signed composition offsets (ctts
  // version 1) keep the first pts at 0 without an edit list.
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart+negative_cts_offsets", 0);
  av_dict_set(&options, "use_editlist", "0", 0);
  error = avformat_write_header(output_.get(), &options);
  const std::string unused = unusedOptions(options);
  av_dict_free(&options);
  if (error < 0) {
    return avError(error, "writing the MP4 header", path_);
  }
  if (!unused.empty()) {
    return Status::internal(path_.string() + ": the mp4 muxer ignored options: " + unused);
  }

  // BGRA to yuv420p with the BT.709 matrix: full-range RGB in, limited range out.
  converter_.reset(sws_getContext(settings_.width, settings_.height, AV_PIX_FMT_BGRA,
                                  settings_.width, settings_.height, AV_PIX_FMT_YUV420P,
                                  SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr,
                                  nullptr, nullptr));
  if (converter_ == nullptr) {
    return Status::internal(path_.string() + ": cannot create the BGRA to yuv420p converter");
  }
  const int* bt709 = sws_getCoefficients(SWS_CS_ITU709);
  sws_setColorspaceDetails(converter_.get(), bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16);

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
  SMMHUB_ASSIGN_OR_RETURN(internal::FramePtr picture, internal::allocFrame());
  picture->format = AV_PIX_FMT_YUV420P;
  picture->width = settings_.width;
  picture->height = settings_.height;
  int error = av_frame_get_buffer(picture.get(), 0);
  if (error < 0) {
    return avError(error, "allocating a video frame", path_);
  }

  const std::uint8_t* source[4] = {frame.pixels.data(), nullptr, nullptr, nullptr};
  const int source_stride[4] = {frame.stride(), 0, 0, 0};
  sws_scale(converter_.get(), source, source_stride, 0, frame.height, picture->data,
            picture->linesize);
  picture->color_primaries = AVCOL_PRI_BT709;
  picture->color_trc = AVCOL_TRC_BT709;
  picture->colorspace = AVCOL_SPC_BT709;
  picture->color_range = AVCOL_RANGE_MPEG;

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
  SMMHUB_ASSIGN_OR_RETURN(internal::FramePtr frame, internal::allocFrame());
  frame->format = AV_SAMPLE_FMT_FLTP;
  frame->sample_rate = kAudioSampleRate;
  frame->ch_layout = AV_CHANNEL_LAYOUT_STEREO;
  frame->nb_samples = sample_frames;
  int error = av_frame_get_buffer(frame.get(), 0);
  if (error < 0) {
    return avError(error, "allocating an audio frame", path_);
  }

  // The encoder takes planar float: split left and right.
  auto* left = reinterpret_cast<float*>(frame->data[0]);
  auto* right = reinterpret_cast<float*>(frame->data[1]);
  for (size_t i = 0; i < static_cast<size_t>(sample_frames); ++i) {
    left[i] = interleaved[2 * i];
    right[i] = interleaved[2 * i + 1];
  }
  frame->pts = audio_frames_sent_;
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
