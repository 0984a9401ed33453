#include "render/video/segment_encoder.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/log.h"
#include "render/video/codec_setup.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace smmhub::render {

namespace {

using internal::avError;

// Errors name the segment, because no file exists yet.
constexpr char kErrorContext[] = "segment";

// stitchable=1 makes x264 choose the SPS and PPS from the settings alone, not
// from the first frames, so that separately encoded segments share them.
constexpr std::string_view kSegmentX264Params = "stitchable=1";

// Returns x264's rc-lookahead for PRESET, from param_apply_preset() in
// x264's common/base.c (x264 0.164): the frames its rate control looks ahead.
int presetLookahead(std::string_view preset) {
  if (preset == "ultrafast" || preset == "superfast") {
    return 0;
  }
  if (preset == "veryfast") {
    return 10;
  }
  if (preset == "faster") {
    return 20;
  }
  if (preset == "fast") {
    return 30;
  }
  if (preset == "slow") {
    return 50;
  }
  if (preset == "slower" || preset == "veryslow" || preset == "placebo") {
    return 60;
  }
  // medium, x264's default.
  return 40;
}

size_t packetBytes(const std::vector<EncodedPacket>& packets) {
  size_t bytes = 0;
  for (const EncodedPacket& packet : packets) {
    bytes += packet.data.size();
  }
  return bytes;
}

}  // namespace

SegmentEncoder::SegmentEncoder(EncodeSettings settings) : settings_(std::move(settings)) {}

SegmentEncoder::~SegmentEncoder() = default;

Result<std::unique_ptr<SegmentEncoder>> SegmentEncoder::open(const EncodeSettings& settings) {
  SMMHUB_RETURN_IF_ERROR(internal::checkEncodeSettings(settings));
  internal::routeFfmpegLogs();
  std::unique_ptr<SegmentEncoder> encoder(new SegmentEncoder(settings));

  // The global header puts the SPS and PPS in extradata, where the muxer
  // compares them, instead of in the first packet.
  SMMHUB_ASSIGN_OR_RETURN(
      encoder->encoder_,
      internal::openX264Encoder(settings, true, kSegmentX264Params, kErrorContext));
  SMMHUB_ASSIGN_OR_RETURN(encoder->converter_, internal::createYuvConverter(
                                                   settings.width, settings.height, kErrorContext));
  SMMHUB_ASSIGN_OR_RETURN(encoder->packet_, internal::allocPacket());

  const AVCodecContext& context = *encoder->encoder_;
  EncodedSegment& segment = encoder->segment_;
  segment.settings = segmentSettings(settings);
  segment.reorder_delay = context.has_b_frames;
  segment.extradata.assign(reinterpret_cast<const char*>(context.extradata),
                           static_cast<size_t>(context.extradata_size));

  // The skipped frames' PPS joins the extradata of every segment, used or
  // not, so that all segments with the same settings keep equal extradata.
  // With one-frame GOPs every frame is a keyframe and nothing can be skipped.
  auto skip_writer = internal::SkipFrameWriter::create(segment.extradata);
  if (skip_writer.ok() && settings.gop_frames > 1) {
    segment.extradata += skip_writer->pps();
    encoder->skip_writer_ = std::move(skip_writer).value();
  } else {
    logger("render")->debug("segment skipped frames off gop={} reason={}", settings.gop_frames,
                            skip_writer.ok() ? "one-frame gops" : skip_writer.status().message());
  }
  return encoder;
}

Status SegmentEncoder::requireOpen() const {
  if (finished_) {
    return Status::failedPrecondition("segment: already finished");
  }
  return okStatus();
}

Status SegmentEncoder::writeFrame(const Raster& frame) {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  if (frame.width != settings_.width || frame.height != settings_.height) {
    return Status::invalidArgument(
        "segment: frame " + std::to_string(frame_count_) + " is " + std::to_string(frame.width) +
        "x" + std::to_string(frame.height) + " but the video is " +
        std::to_string(settings_.width) + "x" + std::to_string(settings_.height));
  }

  // The picture held back is not held to the end of the segment after all.
  if (last_frame_ != nullptr) {
    SMMHUB_RETURN_IF_ERROR(sendHeldBack(frame_count_ - sent_frames_, false));
  }

  // A new buffer per frame, because the encoder may still hold the last one.
  SMMHUB_ASSIGN_OR_RETURN(last_frame_, internal::convertToYuv(*converter_, frame, kErrorContext));
  ++frame_count_;
  return okStatus();
}

Status SegmentEncoder::repeatFrame() {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  if (last_frame_ == nullptr) {
    return Status::failedPrecondition("segment: repeatFrame needs a previous writeFrame");
  }
  ++frame_count_;
  return okStatus();
}

Status SegmentEncoder::sendHeldBack(int count, bool force_keyframe) {
  for (int i = 0; i < count; ++i) {
    // A new reference to the same buffers: no copy and no conversion.
    internal::FramePtr copy(av_frame_clone(last_frame_.get()));
    if (copy == nullptr) {
      return Status::resourceExhausted("segment: av_frame_clone failed");
    }
    SMMHUB_RETURN_IF_ERROR(send(copy.get(), force_keyframe && i == 0));
  }
  return okStatus();
}

Status SegmentEncoder::send(AVFrame* frame, bool force_keyframe) {
  frame->pts = sent_frames_;
  frame->pkt_duration = 1;
  // forced-idr=1 (openX264Encoder) makes libx264 encode an I picture type as
  // an IDR. Other frames leave the type to libx264.
  frame->pict_type = force_keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  int error = avcodec_send_frame(encoder_.get(), frame);
  if (error < 0) {
    return avError(error, "encoding frame " + std::to_string(sent_frames_), kErrorContext);
  }
  ++sent_frames_;
  return drainPackets();
}

Status SegmentEncoder::drainPackets() {
  while (true) {
    int error = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (error == AVERROR(EAGAIN) || error == AVERROR_EOF) {
      return okStatus();
    }
    if (error < 0) {
      return avError(error, "receiving an encoded packet", kErrorContext);
    }

    EncodedPacket packet;
    packet.data.assign(reinterpret_cast<const char*>(packet_->data),
                       static_cast<size_t>(packet_->size));
    packet.pts = packet_->pts;
    packet.dts = packet_->dts;
    packet.duration = packet_->duration == 0 ? 1 : packet_->duration;
    packet.keyframe = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
    segment_.packets.push_back(std::move(packet));
    av_packet_unref(packet_.get());
  }
}

Status SegmentEncoder::flush() {
  int error = avcodec_send_frame(encoder_.get(), nullptr);
  if (error < 0) {
    return avError(error, "flushing the encoder", kErrorContext);
  }
  return drainPackets();
}

// Returns the keyframe from which the picture held from HELD_FROM to the end
// is copied and skipped, or -1 when libx264 encodes every frame.
int SegmentEncoder::heldKeyframe(int held_from) const {
  const int last = frame_count_ - 1;
  if (!skip_writer_.has_value() || held_from >= last) {
    return -1;
  }

  // The first GOP start that shows the held picture, unless it is the last
  // frame and nothing after it could be skipped.
  const int gop = settings_.gop_frames;
  const int gop_start = (held_from + gop - 1) / gop * gop;
  const int at_gop_start = gop_start < last ? gop_start : -1;

  // A forced IDR costs more than the P-frame it replaces, and more bytes.
  const int saved = repeatsEncoded(held_from, at_gop_start) - repeatsEncoded(held_from, held_from);
  return saved >= kMinRepeatsSavedByForcedKeyframe ? held_from : at_gop_start;
}

// Returns how many frames after HELD_FROM libx264 encodes when KEYFRAME is
// the held picture's keyframe. A KEYFRAME of -1 means that it encodes them
// all.
int SegmentEncoder::repeatsEncoded(int held_from, int keyframe) const {
  const int last = frame_count_ - 1;
  if (keyframe < 0) {
    return last - held_from;
  }
  return keyframe - held_from + std::min(last - keyframe, presetLookahead(settings_.preset));
}

void SegmentEncoder::dropPacketsAfter(int keyframe) {
  std::erase_if(segment_.packets,
                [keyframe](const EncodedPacket& packet) { return packet.pts > keyframe; });
}

Status SegmentEncoder::appendSkippedFrames(int keyframe) {
  // libx264 ends on KEYFRAME: closed GOPs put every earlier frame before it
  // in decode order, so it is the last packet and the only reference after
  // it.
  const EncodedPacket& last = segment_.packets.back();
  if (!last.keyframe || last.pts != keyframe) {
    return Status::internal("segment: libx264 did not end on a keyframe at frame " +
                            std::to_string(keyframe) + " (last packet: pts " +
                            std::to_string(last.pts) + ")");
  }
  const std::string keyframe_data = last.data;

  int last_keyframe = keyframe;
  for (int frame = keyframe + 1; frame < frame_count_; ++frame) {
    EncodedPacket packet;
    packet.pts = frame;
    packet.duration = 1;
    if ((frame - keyframe) % settings_.gop_frames == 0) {
      // The same picture again as a keyframe, so that no GOP is longer than
      // gop_frames.
      packet.data = keyframe_data;
      packet.keyframe = true;
      last_keyframe = frame;
    } else {
      packet.data = skip_writer_->skipFrame(frame - last_keyframe);
    }
    segment_.packets.push_back(std::move(packet));
  }
  return okStatus();
}

Status SegmentEncoder::renumberLastKeyframe() {
  // x264 numbers a segment's IDRs 0, 1, 0, ..., and ITU-T H.264 forbids two
  // IDRs in a row with the same idr_pic_id. A keyframe that ends the segment
  // gets 1, which the next segment's first IDR never has. The keyframe before
  // it is at least gop_frames away, because one-frame GOPs skip nothing.
  EncodedPacket& last = segment_.packets.back();
  if (!skip_writer_.has_value() || segment_.packets.size() < 2 || !last.keyframe) {
    return okStatus();
  }
  auto failed = [&last](const Status& status) {
    return Status::internal("segment: cannot set idr_pic_id of the keyframe at frame " +
                            std::to_string(last.pts) + ": " + status.message());
  };

  Result<int> id = skip_writer_->idrPicId(last.data);
  if (!id.ok()) {
    return failed(id.status());
  }
  if (*id == 1) {
    return okStatus();
  }
  Result<std::string> renumbered = skip_writer_->withIdrPicId(last.data, 1);
  if (!renumbered.ok()) {
    return failed(renumbered.status());
  }
  last.data = std::move(renumbered).value();
  return okStatus();
}

Result<EncodedSegment> SegmentEncoder::finish() {
  SMMHUB_RETURN_IF_ERROR(requireOpen());
  if (frame_count_ == 0) {
    return Status::failedPrecondition("segment: finish() needs at least one frame");
  }
  finished_ = true;

  // The held picture goes to libx264 up to the keyframe that shows it, and
  // its later frames are copies of that keyframe and skipped frames.
  const int held_from = sent_frames_;
  const int keyframe = heldKeyframe(held_from);
  const bool forced = keyframe >= 0 && keyframe % settings_.gop_frames != 0;
  const int encoded_frames = keyframe >= 0 ? keyframe + 1 : frame_count_;
  // Repeats past the keyframe let x264's lookahead see that the picture
  // stays, so that macroblock-tree rate control gives the keyframe the
  // quality of a long-lived reference. Their packets are then dropped.
  const int lookahead_frames =
      keyframe >= 0 ? std::min(frame_count_ - encoded_frames, presetLookahead(settings_.preset))
                    : 0;
  SMMHUB_RETURN_IF_ERROR(sendHeldBack(encoded_frames + lookahead_frames - held_from, forced));
  SMMHUB_RETURN_IF_ERROR(flush());
  if (keyframe >= 0) {
    dropPacketsAfter(keyframe);
    SMMHUB_RETURN_IF_ERROR(appendSkippedFrames(keyframe));
  }
  SMMHUB_RETURN_IF_ERROR(renumberLastKeyframe());
  segment_.frame_count = frame_count_;

  // x264 numbers dts from -reorder_delay, except in a segment too short to
  // reorder, where it copies pts. Numbering every segment the same way keeps
  // dts strictly increasing across stitched segments.
  for (size_t i = 0; i < segment_.packets.size(); ++i) {
    segment_.packets[i].dts = static_cast<std::int64_t>(i) - segment_.reorder_delay;
  }

  // libx264 is expected to meet every other invariant. A segment that does
  // not would make a broken video, so it fails here and not in the muxer.
  Status valid = checkSegment(segment_);
  if (!valid.ok()) {
    return Status::internal("libx264 made an unexpected segment: " + valid.message());
  }
  logger("render")->debug(
      "segment done frames={} encoded={} skipped={} held_from={} keyframe={} forced={} bytes={}",
      frame_count_, encoded_frames, frame_count_ - encoded_frames, held_from, keyframe, forced,
      packetBytes(segment_.packets));
  return std::move(segment_);
}

}  // namespace smmhub::render
