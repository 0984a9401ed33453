#include "render/video/audio_track.h"

#include <algorithm>
#include <cmath>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

namespace smmhub::render {

namespace {

using internal::avError;

// One audio stream's decoder and resampler, feeding one output buffer.
class AudioDecoding {
 public:
  AudioDecoding(const std::filesystem::path& path, std::size_t max_frames)
      : path_(path), max_frames_(max_frames) {}

  Status open(const AVStream& stream, const AVCodec& codec);
  // Decodes PACKET, or flushes the decoder and the resampler when null.
  Status decode(const AVPacket* packet);
  bool full() const { return output_.frames() >= max_frames_; }
  AudioBuffer take() { return std::move(output_); }

 private:
  Status openResampler(const AVFrame& frame);
  Status resample(const AVFrame* frame);

  const std::filesystem::path& path_;
  std::size_t max_frames_;
  internal::CodecContextPtr decoder_;
  internal::SwrContextPtr resampler_;
  internal::FramePtr frame_;
  AudioBuffer output_;
};

Status AudioDecoding::open(const AVStream& stream, const AVCodec& codec) {
  decoder_.reset(avcodec_alloc_context3(&codec));
  if (decoder_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot allocate an audio decoder");
  }
  int error = avcodec_parameters_to_context(decoder_.get(), stream.codecpar);
  if (error < 0) {
    return avError(error, "reading audio codec parameters", path_);
  }
  error = avcodec_open2(decoder_.get(), &codec, nullptr);
  if (error < 0) {
    return avError(error, std::string("opening the ") + codec.name + " decoder", path_);
  }
  SMMHUB_ASSIGN_OR_RETURN(frame_, internal::allocFrame());
  return okStatus();
}

Status AudioDecoding::openResampler(const AVFrame& frame) {
  // Some files leave the channel order unspecified, so assume the default
  // layout for the channel count.
  AVChannelLayout input_layout = {};
  if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&input_layout, frame.ch_layout.nb_channels);
  } else {
    av_channel_layout_copy(&input_layout, &frame.ch_layout);
  }

  SwrContext* raw = nullptr;
  AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
  int error =
      swr_alloc_set_opts2(&raw, &stereo, AV_SAMPLE_FMT_FLT, kAudioSampleRate, &input_layout,
                          static_cast<AVSampleFormat>(frame.format), frame.sample_rate, 0, nullptr);
  resampler_.reset(raw);
  const int input_channels = input_layout.nb_channels;
  av_channel_layout_uninit(&input_layout);
  if (error < 0) {
    return avError(error, "configuring the resampler", path_);
  }

  // swresample spreads mono over both channels at -3 dB, but a mono music bed
  // should play as loud as its source.
  if (input_channels == 1) {
    const double mono_to_stereo[2] = {1.0, 1.0};
    error = swr_set_matrix(resampler_.get(), mono_to_stereo, 1);
    if (error < 0) {
      return avError(error, "setting the mono to stereo matrix", path_);
    }
  }
  error = swr_init(resampler_.get());
  if (error < 0) {
    return avError(error, "starting the resampler", path_);
  }
  return okStatus();
}

Status AudioDecoding::resample(const AVFrame* frame) {
  const int input_count = frame == nullptr ? 0 : frame->nb_samples;
  const int capacity = swr_get_out_samples(resampler_.get(), input_count);
  if (capacity <= 0) {
    return okStatus();
  }

  const std::size_t old_size = output_.samples.size();
  output_.samples.resize(old_size + 2 * static_cast<std::size_t>(capacity));
  auto* out = reinterpret_cast<std::uint8_t*>(output_.samples.data() + old_size);
  const int converted = swr_convert(
      resampler_.get(), &out, capacity,
      frame == nullptr ? nullptr : const_cast<const std::uint8_t**>(frame->extended_data),
      input_count);
  if (converted < 0) {
    output_.samples.resize(old_size);
    return avError(converted, "resampling audio", path_);
  }
  output_.samples.resize(old_size + 2 * static_cast<std::size_t>(converted));
  return okStatus();
}

Status AudioDecoding::decode(const AVPacket* packet) {
  int error = avcodec_send_packet(decoder_.get(), packet);
  if (error < 0 && error != AVERROR_EOF) {
    return avError(error, "decoding audio", path_);
  }

  while ((error = avcodec_receive_frame(decoder_.get(), frame_.get())) >= 0) {
    // The first frame tells the real sample format, rate and layout.
    Status status = resampler_ == nullptr ? openResampler(*frame_) : okStatus();
    if (status.ok()) {
      status = resample(frame_.get());
    }
    av_frame_unref(frame_.get());
    SMMHUB_RETURN_IF_ERROR(status);
  }
  if (error != AVERROR(EAGAIN) && error != AVERROR_EOF) {
    return avError(error, "decoding audio", path_);
  }

  // At the end, drain the samples that the resampler holds back.
  if (packet == nullptr && resampler_ != nullptr) {
    return resample(nullptr);
  }
  return okStatus();
}

std::size_t toFrames(double seconds) {
  return static_cast<std::size_t>(std::llround(std::max(seconds, 0.0) * kAudioSampleRate));
}

}  // namespace

Result<AudioBuffer> decodeAudio(const std::filesystem::path& path, double start_s,
                                double duration_s, const MediaInputLimits& limits) {
  SMMHUB_ASSIGN_OR_RETURN(internal::InputContextPtr input, openMediaInput(path, limits));

  // A video without sound is a normal input: it contributes silence.
  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (index == AVERROR_STREAM_NOT_FOUND) {
    return AudioBuffer{};
  }
  if (index < 0) {
    return avError(index, "finding an audio decoder", path);
  }

  const std::size_t start = toFrames(start_s);
  const std::size_t end = duration_s > 0 ? start + toFrames(duration_s) : SIZE_MAX;
  AudioDecoding decoding(path, end);
  SMMHUB_RETURN_IF_ERROR(decoding.open(*input->streams[index], *codec));

  // Decode packet by packet until the requested end, then flush.
  SMMHUB_ASSIGN_OR_RETURN(internal::PacketPtr packet, internal::allocPacket());
  int error = 0;
  while (!decoding.full() && (error = av_read_frame(input.get(), packet.get())) >= 0) {
    Status status = packet->stream_index == index ? decoding.decode(packet.get()) : okStatus();
    av_packet_unref(packet.get());
    SMMHUB_RETURN_IF_ERROR(status);
  }
  if (error < 0 && error != AVERROR_EOF) {
    return avError(error, "reading audio packets", path);
  }
  SMMHUB_RETURN_IF_ERROR(decoding.decode(nullptr));

  // Cut to [start, end).
  AudioBuffer buffer = decoding.take();
  const std::size_t frames = buffer.frames();
  buffer.samples.resize(2 * std::min(frames, end));
  buffer.samples.erase(
      buffer.samples.begin(),
      buffer.samples.begin() + static_cast<std::ptrdiff_t>(2 * std::min(start, buffer.frames())));
  return buffer;
}

AudioMix::AudioMix(double duration_s) : sum_(2 * toFrames(duration_s), 0.0f) {
  clipped_.samples = sum_;
}

void AudioMix::add(const AudioBuffer& clip, double at_s, double volume, double fade_in_s,
                   double fade_out_s, bool loop) {
  const std::size_t total = sum_.size() / 2;
  const std::size_t first = toFrames(at_s);
  if (clip.empty() || first >= total) {
    return;
  }

  // The clip covers [first, last): once, or repeated to the end with LOOP.
  const std::size_t last = loop ? total : std::min(total, first + clip.frames());
  const double length = static_cast<double>(last - first);
  const double fade_in = static_cast<double>(toFrames(fade_in_s));
  const double fade_out = static_cast<double>(toFrames(fade_out_s));

  for (std::size_t i = first; i < last; ++i) {
    const double offset = static_cast<double>(i - first);
    double gain = volume;
    if (fade_in > 0 && offset < fade_in) {
      gain *= offset / fade_in;
    }
    if (fade_out > 0 && length - offset < fade_out) {
      gain *= (length - offset) / fade_out;
    }

    const std::size_t source = (i - first) % clip.frames();
    for (std::size_t channel = 0; channel < 2; ++channel) {
      float& sample = sum_[2 * i + channel];
      sample += static_cast<float>(gain * clip.samples[2 * source + channel]);
      clipped_.samples[2 * i + channel] = std::clamp(sample, -1.0f, 1.0f);
    }
  }
}

}  // namespace smmhub::render
