#include "render/video/codec_setup.h"

#include "render/video/audio_track.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libswscale/swscale.h>
}

namespace smmhub::render::internal {

Status checkEncodeSettings(const EncodeSettings& settings) {
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
  if (settings.threads < 0) {
    return Status::invalidArgument("threads " + std::to_string(settings.threads) +
                                   " is negative: use 0 to let x264 choose");
  }
  return okStatus();
}

std::string unusedOptions(const AVDictionary* options) {
  std::string names;
  const AVDictionaryEntry* entry = nullptr;
  while ((entry = av_dict_get(options, "", entry, AV_DICT_IGNORE_SUFFIX)) != nullptr) {
    names += names.empty() ? "" : ", ";
    names += entry->key;
  }
  return names;
}

Result<OutputContextPtr> createMp4Output(const std::filesystem::path& path) {
  AVFormatContext* raw = nullptr;
  const std::string name = path.string();
  int error = avformat_alloc_output_context2(&raw, nullptr, "mp4", name.c_str());
  if (error < 0) {
    return avError(error, "creating the MP4 muxer", path);
  }
  return OutputContextPtr(raw);
}

Status startMp4File(AVFormatContext& output, const std::filesystem::path& path) {
  SMMHUB_RETURN_IF_ERROR(openMp4File(output, path));
  return writeMp4Header(output, path);
}

Status openMp4File(AVFormatContext& output, const std::filesystem::path& path) {
  const std::string url = "file:" + path.string();
  int error = avio_open(&output.pb, url.c_str(), AVIO_FLAG_WRITE);
  if (error < 0) {
    return avError(error, "creating the output file", path);
  }
  return okStatus();
}

Status writeMp4Header(AVFormatContext& output, const std::filesystem::path& path) {
  // B-frames make the first dts negative. Signed composition offsets (ctts
  // version 1) keep the first pts at 0 without an edit list.
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart+negative_cts_offsets", 0);
  av_dict_set(&options, "use_editlist", "0", 0);
  int error = avformat_write_header(&output, &options);
  const std::string unused = unusedOptions(options);
  av_dict_free(&options);
  if (error < 0) {
    return avError(error, "writing the MP4 header", path);
  }
  if (!unused.empty()) {
    return Status::internal(path.string() + ": the mp4 muxer ignored options: " + unused);
  }
  return okStatus();
}

Result<CodecContextPtr> openX264Encoder(const EncodeSettings& settings, bool global_header,
                                        std::string_view extra_x264_params,
                                        const std::filesystem::path& file) {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) {
    return Status::failedPrecondition(
        "libavcodec has no libx264 encoder; install an FFmpeg "
        "build with --enable-libx264");
  }
  CodecContextPtr context(avcodec_alloc_context3(codec));
  if (context == nullptr) {
    return Status::resourceExhausted(file.string() + ": cannot allocate the libx264 context");
  }
  AVCodecContext& encoder = *context;

  // Constant frame rate: one tick of the time base per frame.
  encoder.width = settings.width;
  encoder.height = settings.height;
  encoder.pix_fmt = AV_PIX_FMT_YUV420P;
  encoder.time_base = AVRational{1, settings.fps};
  encoder.framerate = AVRational{settings.fps, 1};
  encoder.sample_aspect_ratio = AVRational{1, 1};
  encoder.gop_size = settings.gop_frames;
  encoder.keyint_min = settings.gop_frames;
  encoder.flags |= AV_CODEC_FLAG_CLOSED_GOP;
  encoder.thread_count = settings.threads;
  encoder.profile = FF_PROFILE_H264_HIGH;

  // Tags that match the BT.709 limited-range conversion in convertToYuv().
  encoder.color_primaries = AVCOL_PRI_BT709;
  encoder.color_trc = AVCOL_TRC_BT709;
  encoder.colorspace = AVCOL_SPC_BT709;
  encoder.color_range = AVCOL_RANGE_MPEG;
  if (global_header) {
    encoder.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  }

  // Fixed GOPs: no scene-cut keyframes, every GOP closed and gop_frames long.
  // The profile option only caps the profile, and presets up to superfast
  // drop the 8x8 transform, so 8x8dct=1 makes even ultrafast output High.
  // cpu-independent=1 makes the output the same on every CPU and in every
  // run. Without it, libx264 0.164 on an AVX-512 Xeon gave different bytes
  // for the same frames from one process to the next (bench/segment_encode).
  const std::string gop = std::to_string(settings.gop_frames);
  std::string x264_params =
      "keyint=" + gop + ":min-keyint=" + gop + ":scenecut=0:open-gop=0:8x8dct=1:cpu-independent=1";
  if (!extra_x264_params.empty()) {
    x264_params += ":";
    x264_params += extra_x264_params;
  }
  AVDictionary* options = nullptr;
  av_dict_set(&options, "preset", settings.preset.c_str(), 0);
  av_dict_set(&options, "crf", std::to_string(settings.crf).c_str(), 0);
  av_dict_set(&options, "profile", "high", 0);
  av_dict_set(&options, "x264-params", x264_params.c_str(), 0);
  // A frame sent with pict_type AV_PICTURE_TYPE_I becomes an IDR. Without
  // forced-idr, FFmpeg 5.1's libx264 wrapper requests an x264 keyframe, which
  // is an IDR only because of open-gop=0.
  av_dict_set(&options, "forced-idr", "1", 0);
  int error = avcodec_open2(&encoder, codec, &options);
  const std::string unused = unusedOptions(options);
  av_dict_free(&options);
  if (error < 0) {
    return avError(error, "opening libx264 with preset '" + settings.preset + "'", file);
  }
  if (!unused.empty()) {
    return Status::internal(file.string() + ": libx264 ignored options: " + unused);
  }
  return context;
}

Result<SwsContextPtr> createYuvConverter(int width, int height, const std::filesystem::path& file) {
  SwsContextPtr converter(sws_getContext(
      width, height, AV_PIX_FMT_BGRA, width, height, AV_PIX_FMT_YUV420P,
      SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr, nullptr, nullptr));
  if (converter == nullptr) {
    return Status::internal(file.string() + ": cannot create the BGRA to yuv420p converter");
  }
  const int* bt709 = sws_getCoefficients(SWS_CS_ITU709);
  sws_setColorspaceDetails(converter.get(), bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16);
  return converter;
}

Result<FramePtr> convertToYuv(SwsContext& converter, const Raster& frame,
                              const std::filesystem::path& file) {
  SMMHUB_ASSIGN_OR_RETURN(FramePtr picture, allocFrame());
  picture->format = AV_PIX_FMT_YUV420P;
  picture->width = frame.width;
  picture->height = frame.height;
  int error = av_frame_get_buffer(picture.get(), 0);
  if (error < 0) {
    return avError(error, "allocating a video frame", file);
  }

  const std::uint8_t* source[4] = {frame.pixels.data(), nullptr, nullptr, nullptr};
  const int source_stride[4] = {frame.stride(), 0, 0, 0};
  sws_scale(&converter, source, source_stride, 0, frame.height, picture->data, picture->linesize);
  picture->color_primaries = AVCOL_PRI_BT709;
  picture->color_trc = AVCOL_TRC_BT709;
  picture->colorspace = AVCOL_SPC_BT709;
  picture->color_range = AVCOL_RANGE_MPEG;
  return picture;
}

Result<CodecContextPtr> openAacEncoder(int bit_rate, bool global_header,
                                       const std::filesystem::path& file) {
  const AVCodec* codec = avcodec_find_encoder_by_name("aac");
  if (codec == nullptr) {
    return Status::failedPrecondition("libavcodec has no native aac encoder");
  }
  CodecContextPtr context(avcodec_alloc_context3(codec));
  if (context == nullptr) {
    return Status::resourceExhausted(file.string() + ": cannot allocate the aac context");
  }
  AVCodecContext& encoder = *context;

  encoder.sample_fmt = AV_SAMPLE_FMT_FLTP;
  encoder.sample_rate = kAudioSampleRate;
  encoder.ch_layout = AV_CHANNEL_LAYOUT_STEREO;
  encoder.bit_rate = bit_rate;
  encoder.time_base = AVRational{1, kAudioSampleRate};
  if (global_header) {
    encoder.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  }
  int error = avcodec_open2(&encoder, codec, nullptr);
  if (error < 0) {
    return avError(error, "opening the aac encoder", file);
  }
  return context;
}

Result<FramePtr> makeAudioFrame(const float* interleaved, int sample_frames, std::int64_t pts,
                                const std::filesystem::path& file) {
  SMMHUB_ASSIGN_OR_RETURN(FramePtr frame, allocFrame());
  frame->format = AV_SAMPLE_FMT_FLTP;
  frame->sample_rate = kAudioSampleRate;
  frame->ch_layout = AV_CHANNEL_LAYOUT_STEREO;
  frame->nb_samples = sample_frames;
  int error = av_frame_get_buffer(frame.get(), 0);
  if (error < 0) {
    return avError(error, "allocating an audio frame", file);
  }

  // The encoder takes planar float: split left and right.
  auto* left = reinterpret_cast<float*>(frame->data[0]);
  auto* right = reinterpret_cast<float*>(frame->data[1]);
  for (size_t i = 0; i < static_cast<size_t>(sample_frames); ++i) {
    left[i] = interleaved[2 * i];
    right[i] = interleaved[2 * i + 1];
  }
  frame->pts = pts;
  return frame;
}

}  // namespace smmhub::render::internal
