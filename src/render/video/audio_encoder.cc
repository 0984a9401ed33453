#include "render/video/audio_encoder.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/log.h"
#include "render/video/audio_track.h"
#include "render/video/codec_setup.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace smmhub::render {

namespace {

using internal::avError;
using internal::kAacFrameSize;

constexpr char kErrorContext[] = "sound track";

// Moves every packet that ENCODER has ready into PACKETS.
Status drainPackets(AVCodecContext& encoder, AVPacket& packet,
                    std::vector<EncodedPacket>& packets) {
  while (true) {
    int error = avcodec_receive_packet(&encoder, &packet);
    if (error == AVERROR(EAGAIN) || error == AVERROR_EOF) {
      return okStatus();
    }
    if (error < 0) {
      return avError(error, "receiving an encoded packet", kErrorContext);
    }

    EncodedPacket encoded;
    encoded.data.assign(reinterpret_cast<const char*>(packet.data),
                        static_cast<size_t>(packet.size));
    encoded.pts = packet.pts;
    encoded.dts = packet.dts;
    encoded.duration = packet.duration;
    encoded.keyframe = (packet.flags & AV_PKT_FLAG_KEY) != 0;
    packets.push_back(std::move(encoded));
    av_packet_unref(&packet);
  }
}

Status sendFrame(AVCodecContext& encoder, const AVFrame* frame, AVPacket& packet,
                 std::vector<EncodedPacket>& packets) {
  int error = avcodec_send_frame(&encoder, frame);
  if (error < 0) {
    return avError(error, frame == nullptr ? "flushing the aac encoder" : "encoding audio",
                   kErrorContext);
  }
  return drainPackets(encoder, packet, packets);
}

}  // namespace

Result<EncodedAudio> encodeAudio(const float* interleaved_stereo, size_t sample_frames,
                                 std::int64_t video_frames, const EncodeSettings& settings) {
  SMMHUB_RETURN_IF_ERROR(internal::checkEncodeSettings(settings));
  if (video_frames < 0) {
    return Status::invalidArgument("sound track: video_frames " + std::to_string(video_frames) +
                                   " is negative");
  }
  internal::routeFfmpegLogs();
  SMMHUB_ASSIGN_OR_RETURN(internal::CodecContextPtr encoder,
                          internal::openAacEncoder(settings.audio_bitrate, true, kErrorContext));
  SMMHUB_ASSIGN_OR_RETURN(internal::PacketPtr packet, internal::allocPacket());

  EncodedAudio audio;
  audio.sample_rate = encoder->sample_rate;
  audio.channels = encoder->ch_layout.nb_channels;
  audio.bit_rate = static_cast<int>(encoder->bit_rate);
  audio.frame_size = encoder->frame_size;
  audio.initial_padding = encoder->initial_padding;
  audio.extradata.assign(reinterpret_cast<const char*>(encoder->extradata),
                         static_cast<size_t>(encoder->extradata_size));

  // The sound lasts exactly as long as the video: cut, or pad with silence.
  audio.sample_frames = video_frames * kAudioSampleRate / settings.fps;
  const auto target = static_cast<size_t>(audio.sample_frames);
  std::vector<float> samples(interleaved_stereo,
                             interleaved_stereo + 2 * std::min(sample_frames, target));
  samples.resize(2 * target, 0.0f);

  // Whole AAC frames, then a shorter last one, as VideoWriter::finish() does.
  for (size_t done = 0; done < target; done += kAacFrameSize) {
    const int count = static_cast<int>(std::min<size_t>(kAacFrameSize, target - done));
    SMMHUB_ASSIGN_OR_RETURN(
        internal::FramePtr frame,
        internal::makeAudioFrame(samples.data() + 2 * done, count, static_cast<std::int64_t>(done),
                                 kErrorContext));
    SMMHUB_RETURN_IF_ERROR(sendFrame(*encoder, frame.get(), *packet, audio.packets));
  }
  SMMHUB_RETURN_IF_ERROR(sendFrame(*encoder, nullptr, *packet, audio.packets));

  Status valid = checkAudio(audio);
  if (!valid.ok()) {
    return Status::internal("the aac encoder made an unexpected sound track: " + valid.message());
  }
  logger("render")->debug("sound track done samples_in={} samples_out={} packets={}", sample_frames,
                          target, audio.packets.size());
  return audio;
}

}  // namespace smmhub::render
