#include "render/video/segment_muxer.h"

#include <cstring>
#include <sstream>
#include <utility>

#include "common/log.h"
#include "render/video/codec_setup.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
}

namespace smmhub::render {

namespace {

using internal::avError;

// Returns "NAME A differs from the video's B" for the first field in which
// the segment's settings A differ from the video's settings B, or "".
std::string settingsDifference(const SegmentSettings& segment, const SegmentSettings& video) {
  auto differ = [](const std::string& name, const auto& a, const auto& b) {
    std::ostringstream text;
    text << name << " " << a << " differs from the video's " << b;
    return text.str();
  };
  if (segment.width != video.width || segment.height != video.height) {
    return differ("frame size",
                  std::to_string(segment.width) + "x" + std::to_string(segment.height),
                  std::to_string(video.width) + "x" + std::to_string(video.height));
  }
  if (segment.fps != video.fps) {
    return differ("fps", segment.fps, video.fps);
  }
  if (segment.crf != video.crf) {
    return differ("crf", segment.crf, video.crf);
  }
  if (segment.preset != video.preset) {
    return differ("preset", "'" + segment.preset + "'", "'" + video.preset + "'");
  }
  if (segment.gop_frames != video.gop_frames) {
    return differ("gop_frames", segment.gop_frames, video.gop_frames);
  }
  if (segment.threads != video.threads) {
    return differ("threads", segment.threads, video.threads);
  }
  return "";
}

// Returns the index of the first byte where A and B differ, or the shorter
// length when one is a prefix of the other.
size_t firstDifference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) {
    ++i;
  }
  return i;
}

// Copies BYTES into CODECPAR's extradata, with the zeroed padding that
// FFmpeg's readers expect.
Status setExtradata(AVCodecParameters& codecpar, const std::string& bytes) {
  codecpar.extradata =
      static_cast<std::uint8_t*>(av_mallocz(bytes.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (codecpar.extradata == nullptr) {
    return Status::resourceExhausted("cannot allocate " + std::to_string(bytes.size()) +
                                     " bytes of extradata");
  }
  std::memcpy(codecpar.extradata, bytes.data(), bytes.size());
  codecpar.extradata_size = static_cast<int>(bytes.size());
  return okStatus();
}

}  // namespace

SegmentMuxer::SegmentMuxer(std::filesystem::path path, EncodeSettings settings, EncodedAudio audio)
    : path_(std::move(path)), settings_(std::move(settings)), audio_(std::move(audio)) {}

SegmentMuxer::~SegmentMuxer() = default;

Result<std::unique_ptr<SegmentMuxer>> SegmentMuxer::open(const std::filesystem::path& path,
                                                         const EncodeSettings& settings,
                                                         EncodedAudio audio) {
  SMMHUB_RETURN_IF_ERROR(internal::checkEncodeSettings(settings));
  SMMHUB_RETURN_IF_ERROR(checkAudio(audio).withContext(path.string()));
  internal::routeFfmpegLogs();
  std::unique_ptr<SegmentMuxer> muxer(new SegmentMuxer(path, settings, std::move(audio)));

  // The header waits for the first segment, which brings the SPS and PPS.
  SMMHUB_ASSIGN_OR_RETURN(muxer->output_, internal::createMp4Output(path));
  SMMHUB_ASSIGN_OR_RETURN(muxer->packet_, internal::allocPacket());
  SMMHUB_RETURN_IF_ERROR(internal::openMp4File(*muxer->output_, path));
  return muxer;
}

Status SegmentMuxer::requireOpen() const {
  if (finished_) {
    return Status::failedPrecondition(path_.string() + ": the video is already finished");
  }
  return okStatus();
}

Status SegmentMuxer::checkCompatible(const EncodedSegment& segment) const {
  const std::string where = path_.string() + ": segment " + std::to_string(segments_written_ + 1) +
                            " (frames " + std::to_string(video_frames_) + " to " +
                            std::to_string(video_frames_ + segment.frame_count - 1) + ")";
  SMMHUB_RETURN_IF_ERROR(checkSegment(segment).withContext(where));

  const std::string difference = settingsDifference(segment.settings, segmentSettings(settings_));
  if (!difference.empty()) {
    return Status::invalidArgument(where + ": " + difference +
                                   "; encode every segment with the video's settings");
  }
  if (!started_) {
    return okStatus();
  }
  if (segment.extradata != extradata_) {
    return Status::invalidArgument(
        where + ": extradata (SPS and PPS) differs from the first segment's at byte " +
        std::to_string(firstDifference(segment.extradata, extradata_)) + " (" +
        std::to_string(segment.extradata.size()) + " bytes against " +
        std::to_string(extradata_.size()) +
        "); encode every segment with the same libx264 and settings");
  }
  if (segment.reorder_delay != reorder_delay_) {
    return Status::invalidArgument(
        where + ": reorder_delay " + std::to_string(segment.reorder_delay) +
        " differs from the first segment's " + std::to_string(reorder_delay_));
  }
  return okStatus();
}

Status SegmentMuxer::addVideoStream(const EncodedSegment& first) {
  video_stream_ = avformat_new_stream(output_.get(), nullptr);
  if (video_stream_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot add the video stream");
  }
  video_stream_->time_base = AVRational{1, settings_.fps};
  video_stream_->avg_frame_rate = AVRational{settings_.fps, 1};

  // The parameters that VideoWriter copies from its libx264 context.
  AVCodecParameters& codecpar = *video_stream_->codecpar;
  codecpar.codec_type = AVMEDIA_TYPE_VIDEO;
  codecpar.codec_id = AV_CODEC_ID_H264;
  codecpar.format = AV_PIX_FMT_YUV420P;
  codecpar.width = settings_.width;
  codecpar.height = settings_.height;
  codecpar.profile = FF_PROFILE_H264_HIGH;
  codecpar.sample_aspect_ratio = AVRational{1, 1};
  codecpar.color_primaries = AVCOL_PRI_BT709;
  codecpar.color_trc = AVCOL_TRC_BT709;
  codecpar.color_space = AVCOL_SPC_BT709;
  codecpar.color_range = AVCOL_RANGE_MPEG;
  codecpar.video_delay = first.reorder_delay;
  return setExtradata(codecpar, first.extradata).withContext(path_.string());
}

Status SegmentMuxer::addAudioStream() {
  audio_stream_ = avformat_new_stream(output_.get(), nullptr);
  if (audio_stream_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot add the audio stream");
  }
  audio_stream_->time_base = AVRational{1, audio_.sample_rate};

  // The parameters that VideoWriter copies from its AAC context.
  AVCodecParameters& codecpar = *audio_stream_->codecpar;
  codecpar.codec_type = AVMEDIA_TYPE_AUDIO;
  codecpar.codec_id = AV_CODEC_ID_AAC;
  codecpar.format = AV_SAMPLE_FMT_FLTP;
  codecpar.profile = FF_PROFILE_AAC_LOW;
  codecpar.sample_rate = audio_.sample_rate;
  av_channel_layout_default(&codecpar.ch_layout, audio_.channels);
  codecpar.bit_rate = audio_.bit_rate;
  codecpar.frame_size = audio_.frame_size;
  codecpar.initial_padding = audio_.initial_padding;
  return setExtradata(codecpar, audio_.extradata).withContext(path_.string());
}

Status SegmentMuxer::startFile(const EncodedSegment& first) {
  SMMHUB_RETURN_IF_ERROR(addVideoStream(first));
  SMMHUB_RETURN_IF_ERROR(addAudioStream());
  SMMHUB_RETURN_IF_ERROR(internal::writeMp4Header(*output_, path_));

  logger("render")->debug("stitch start path={} size={}x{} fps={} crf={} preset={} gop={}",
                          path_.string(), settings_.width, settings_.height, settings_.fps,
                          settings_.crf, settings_.preset, settings_.gop_frames);
  return okStatus();
}

Status SegmentMuxer::writeSegment(const EncodedSegment& segment) {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  SMMHUB_RETURN_IF_ERROR(checkCompatible(segment));
  if (!started_) {
    SMMHUB_RETURN_IF_ERROR(startFile(segment));
    extradata_ = segment.extradata;
    reorder_delay_ = segment.reorder_delay;
    started_ = true;
  }

  // Packet i's dts is i - reorder_delay in every segment, so after the shift
  // the first dts is one more than the previous segment's last.
  for (const EncodedPacket& packet : segment.packets) {
    SMMHUB_RETURN_IF_ERROR(writePacket(packet, *video_stream_, video_frames_, settings_.fps));
    SMMHUB_RETURN_IF_ERROR(writeAudioUntil(packet.dts + video_frames_));
  }
  video_frames_ += segment.frame_count;
  ++segments_written_;
  return okStatus();
}

Status SegmentMuxer::writeAudioUntil(std::int64_t video_dts) {
  // Audio packets up to the video's decode time, so that the interleaver
  // buffers few packets and audio and video alternate in the file.
  while (audio_packets_written_ < audio_.packets.size()) {
    const EncodedPacket& packet = audio_.packets[audio_packets_written_];
    if (av_compare_ts(packet.dts, AVRational{1, audio_.sample_rate}, video_dts,
                      AVRational{1, settings_.fps}) > 0) {
      break;
    }
    SMMHUB_RETURN_IF_ERROR(writeNextAudioPacket());
  }
  return okStatus();
}

Status SegmentMuxer::writeNextAudioPacket() {
  const EncodedPacket& packet = audio_.packets[audio_packets_written_];
  SMMHUB_RETURN_IF_ERROR(writePacket(packet, *audio_stream_, 0, audio_.sample_rate));
  ++audio_packets_written_;
  return okStatus();
}

Status SegmentMuxer::writePacket(const EncodedPacket& packet, AVStream& stream, std::int64_t shift,
                                 int time_base_den) {
  int error = av_new_packet(packet_.get(), static_cast<int>(packet.data.size()));
  if (error < 0) {
    return avError(error, "allocating a packet", path_);
  }
  std::memcpy(packet_->data, packet.data.data(), packet.data.size());
  packet_->pts = packet.pts + shift;
  packet_->dts = packet.dts + shift;
  packet_->duration = packet.duration;
  packet_->flags = packet.keyframe ? AV_PKT_FLAG_KEY : 0;
  packet_->stream_index = stream.index;
  av_packet_rescale_ts(packet_.get(), AVRational{1, time_base_den}, stream.time_base);

  // The muxer takes the packet's reference and leaves packet_ blank.
  error = av_interleaved_write_frame(output_.get(), packet_.get());
  if (error < 0) {
    return avError(error, "writing a packet", path_);
  }
  return okStatus();
}

Status SegmentMuxer::finish() {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  if (!started_) {
    return Status::failedPrecondition(path_.string() + ": finish() needs at least one segment");
  }
  const std::int64_t duration_samples = video_frames_ * audio_.sample_rate / settings_.fps;
  if (audio_.sample_frames != duration_samples) {
    return Status::failedPrecondition(
        path_.string() + ": the sound track lasts " + std::to_string(audio_.sample_frames) +
        " samples but the video's " + std::to_string(video_frames_) + " frames last " +
        std::to_string(duration_samples) + "; encode the sound track for " +
        std::to_string(video_frames_) + " frames");
  }
  finished_ = true;

  while (audio_packets_written_ < audio_.packets.size()) {
    SMMHUB_RETURN_IF_ERROR(writeNextAudioPacket());
  }
  int error = av_write_trailer(output_.get());
  if (error < 0) {
    return avError(error, "writing the MP4 trailer", path_);
  }
  error = avio_closep(&output_->pb);
  if (error < 0) {
    return avError(error, "closing the output file", path_);
  }

  logger("render")->info("stitch done path={} frames={} segments={} audio_samples={}",
                         path_.string(), video_frames_, segments_written_, audio_.sample_frames);
  return okStatus();
}

}  // namespace smmhub::render
