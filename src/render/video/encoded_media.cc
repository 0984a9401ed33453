#include "render/video/encoded_media.h"

#include <utility>

#include "common/bytes.h"

namespace smmhub::render {

namespace {

// Each binary form starts with a magic and a format version. Version 1:
//
//   segment: "SMSG" u32 version, i32 width, height, fps, crf, gop_frames,
//            threads, str preset, i32 frame_count, reorder_delay,
//            str extradata, u32 packet count, packets
//   audio:   "SMAU" u32 version, i32 sample_rate, channels, bit_rate,
//            frame_size, initial_padding, i64 sample_frames, str extradata,
//            u32 packet count, packets
//   packet:  i64 pts, dts, duration, u8 flags (bit 0: keyframe), str data
//   str:     u32 byte count, then the bytes
//
// Integers are little-endian, and the value ends after the last packet.
constexpr std::string_view kSegmentMagic = "SMSG";
constexpr std::string_view kAudioMagic = "SMAU";
constexpr std::uint32_t kFormatVersion = 1;
// The smallest packet: three timestamps, the flags, the data's byte count and
// one byte of data.
constexpr size_t kMinPacketBytes = 3 * 8 + 1 + 4 + 1;
constexpr std::uint8_t kKeyframeFlag = 1;

// Limits that no real segment reaches, so that a corrupt value is rejected
// before it sizes anything.
constexpr int kMaxDimension = 16384;
constexpr int kMaxFps = 1000;
constexpr int kMaxThreads = 1024;
constexpr int kMaxReorderDelay = 16;
constexpr size_t kMaxPresetBytes = 32;
// About 265 days at 48 kHz: keeps audio timestamp arithmetic far from
// overflow.
constexpr std::int64_t kMaxAudioTimestamp = std::int64_t{1} << 40;
constexpr int kMaxSampleRate = 384000;
constexpr int kMaxChannels = 64;

class ByteWriter {
 public:
  void putU8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }

  void putU32(std::uint32_t value) { putLittle(value, 4); }
  void putI32(std::int32_t value) { putLittle(static_cast<std::uint32_t>(value), 4); }
  void putI64(std::int64_t value) { putLittle(static_cast<std::uint64_t>(value), 8); }

  void putString(std::string_view bytes) {
    putU32(static_cast<std::uint32_t>(bytes.size()));
    out_.append(bytes);
  }

  void putPackets(const std::vector<EncodedPacket>& packets) {
    putU32(static_cast<std::uint32_t>(packets.size()));
    for (const EncodedPacket& packet : packets) {
      putI64(packet.pts);
      putI64(packet.dts);
      putI64(packet.duration);
      putU8(packet.keyframe ? kKeyframeFlag : 0);
      putString(packet.data);
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void putLittle(std::uint64_t value, int bytes) { appendLittle(out_, value, bytes); }

  std::string out_;
};

// Reads fields in order. Every read checks the bytes left first and names
// the field in its error, so that a truncated value reports where it ends.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, std::string_view what) : bytes_(bytes), what_(what) {}

  Status readU8(std::string_view field, std::uint8_t* value) {
    std::uint64_t raw = 0;
    SMMHUB_RETURN_IF_ERROR(readLittle(field, 1, &raw));
    *value = static_cast<std::uint8_t>(raw);
    return okStatus();
  }

  Status readU32(std::string_view field, std::uint32_t* value) {
    std::uint64_t raw = 0;
    SMMHUB_RETURN_IF_ERROR(readLittle(field, 4, &raw));
    *value = static_cast<std::uint32_t>(raw);
    return okStatus();
  }

  Status readI32(std::string_view field, int* value) {
    std::uint64_t raw = 0;
    SMMHUB_RETURN_IF_ERROR(readLittle(field, 4, &raw));
    *value = static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
    return okStatus();
  }

  Status readI64(std::string_view field, std::int64_t* value) {
    std::uint64_t raw = 0;
    SMMHUB_RETURN_IF_ERROR(readLittle(field, 8, &raw));
    *value = static_cast<std::int64_t>(raw);
    return okStatus();
  }

  Status readString(std::string_view field, std::string* value) {
    std::uint32_t size = 0;
    SMMHUB_RETURN_IF_ERROR(readU32(field, &size));
    SMMHUB_RETURN_IF_ERROR(require(field, size));
    value->assign(bytes_.substr(offset_, size));
    offset_ += size;
    return okStatus();
  }

  Status readMagic(std::string_view magic) {
    if (bytes_.substr(0, magic.size()) != magic) {
      return Status::dataLoss(std::string(what_) + " data does not start with the magic '" +
                              std::string(magic) + "'");
    }
    offset_ = magic.size();
    return okStatus();
  }

  Status readVersion() {
    std::uint32_t version = 0;
    SMMHUB_RETURN_IF_ERROR(readU32("format version", &version));
    if (version != kFormatVersion) {
      return Status::dataLoss(std::string(what_) + " data has format version " +
                              std::to_string(version) + ", but this build reads only version " +
                              std::to_string(kFormatVersion) + "; encode it again");
    }
    return okStatus();
  }

  Status readPackets(std::vector<EncodedPacket>* packets) {
    std::uint32_t count = 0;
    SMMHUB_RETURN_IF_ERROR(readU32("packet count", &count));
    // Checked before reserving, so that a corrupt count cannot allocate much.
    if (count > remaining() / kMinPacketBytes) {
      return Status::dataLoss(std::string(what_) + " data is truncated: " + std::to_string(count) +
                              " packets need at least " + std::to_string(count * kMinPacketBytes) +
                              " bytes, but only " + std::to_string(remaining()) + " remain");
    }
    packets->clear();
    packets->reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      EncodedPacket packet;
      std::uint8_t flags = 0;
      SMMHUB_RETURN_IF_ERROR(readI64("packet pts", &packet.pts));
      SMMHUB_RETURN_IF_ERROR(readI64("packet dts", &packet.dts));
      SMMHUB_RETURN_IF_ERROR(readI64("packet duration", &packet.duration));
      SMMHUB_RETURN_IF_ERROR(readU8("packet flags", &flags));
      SMMHUB_RETURN_IF_ERROR(readString("packet data", &packet.data));
      if ((flags & ~kKeyframeFlag) != 0) {
        return Status::dataLoss(std::string(what_) + " data has unknown flags " +
                                std::to_string(flags) + " on packet " + std::to_string(i));
      }
      packet.keyframe = (flags & kKeyframeFlag) != 0;
      packets->push_back(std::move(packet));
    }
    return okStatus();
  }

  Status requireEnd() const {
    if (remaining() != 0) {
      return Status::dataLoss(std::string(what_) + " data has " + std::to_string(remaining()) +
                              " unexpected bytes after its last packet");
    }
    return okStatus();
  }

 private:
  size_t remaining() const { return bytes_.size() - offset_; }

  Status require(std::string_view field, size_t count) const {
    if (count > remaining()) {
      return Status::dataLoss(std::string(what_) + " data is truncated: the " + std::string(field) +
                              " at byte " + std::to_string(offset_) + " needs " +
                              std::to_string(count) + " bytes, but only " +
                              std::to_string(remaining()) + " remain");
    }
    return okStatus();
  }

  Status readLittle(std::string_view field, int count, std::uint64_t* value) {
    SMMHUB_RETURN_IF_ERROR(require(field, static_cast<size_t>(count)));
    *value = smmhub::readLittle(bytes_, offset_, count);
    offset_ += static_cast<size_t>(count);
    return okStatus();
  }

  std::string_view bytes_;
  std::string_view what_;
  size_t offset_ = 0;
};

Status invalid(std::string_view what, const std::string& message) {
  return Status::invalidArgument(std::string(what) + " is invalid: " + message);
}

Status checkSegmentSettings(const SegmentSettings& settings) {
  if (settings.width <= 0 || settings.height <= 0 || settings.width > kMaxDimension ||
      settings.height > kMaxDimension || settings.width % 2 != 0 || settings.height % 2 != 0) {
    return invalid("segment", "frame size " + std::to_string(settings.width) + "x" +
                                  std::to_string(settings.height) +
                                  " is not a positive, even size up to " +
                                  std::to_string(kMaxDimension));
  }
  if (settings.fps <= 0 || settings.fps > kMaxFps) {
    return invalid("segment", "fps " + std::to_string(settings.fps) + " is not in 1 to " +
                                  std::to_string(kMaxFps));
  }
  if (settings.crf < 0 || settings.crf > 51) {
    return invalid("segment", "crf " + std::to_string(settings.crf) + " is not in 0 to 51");
  }
  if (settings.gop_frames <= 0) {
    return invalid("segment",
                   "gop_frames " + std::to_string(settings.gop_frames) + " is not positive");
  }
  if (settings.threads < 0 || settings.threads > kMaxThreads) {
    return invalid("segment", "threads " + std::to_string(settings.threads) + " is not in 0 to " +
                                  std::to_string(kMaxThreads));
  }
  if (settings.preset.empty() || settings.preset.size() > kMaxPresetBytes) {
    return invalid("segment", "the preset name has " + std::to_string(settings.preset.size()) +
                                  " bytes, not 1 to " + std::to_string(kMaxPresetBytes));
  }
  return okStatus();
}

// Checks that the packets' pts cover 0 to frame_count - 1 exactly once.
Status checkSegmentPts(const EncodedSegment& segment) {
  std::vector<bool> seen(static_cast<size_t>(segment.frame_count), false);
  for (size_t i = 0; i < segment.packets.size(); ++i) {
    const std::int64_t pts = segment.packets[i].pts;
    if (pts < 0 || pts >= segment.frame_count) {
      return invalid("segment", "packet " + std::to_string(i) + " has pts " + std::to_string(pts) +
                                    " outside 0 to " + std::to_string(segment.frame_count - 1));
    }
    if (seen[static_cast<size_t>(pts)]) {
      return invalid("segment", "pts " + std::to_string(pts) + " occurs twice");
    }
    seen[static_cast<size_t>(pts)] = true;
  }
  return okStatus();
}

Status checkSegmentPackets(const EncodedSegment& segment) {
  const std::vector<EncodedPacket>& packets = segment.packets;
  if (packets.size() != static_cast<size_t>(segment.frame_count)) {
    return invalid("segment", std::to_string(packets.size()) + " packets for " +
                                  std::to_string(segment.frame_count) + " frames");
  }
  if (!packets.front().keyframe || packets.front().pts != 0) {
    return invalid("segment", "the first packet is not a keyframe with pts 0");
  }
  for (size_t i = 0; i < packets.size(); ++i) {
    const EncodedPacket& packet = packets[i];
    const std::string where = "packet " + std::to_string(i);
    if (packet.data.empty()) {
      return invalid("segment", where + " is empty");
    }
    if (packet.duration != 1) {
      return invalid("segment",
                     where + " lasts " + std::to_string(packet.duration) + " frames, not 1");
    }
    const std::int64_t expected_dts = static_cast<std::int64_t>(i) - segment.reorder_delay;
    if (packet.dts != expected_dts) {
      return invalid("segment", where + " has dts " + std::to_string(packet.dts) + ", not " +
                                    std::to_string(expected_dts));
    }
    if (packet.dts > packet.pts) {
      return invalid("segment", where + " has dts " + std::to_string(packet.dts) +
                                    " after its pts " + std::to_string(packet.pts));
    }
  }
  return checkSegmentPts(segment);
}

Status wrapAsDataLoss(std::string_view what, const Status& status) {
  if (status.ok()) {
    return status;
  }
  return Status::dataLoss(std::string(what) + " data is malformed: " + status.message());
}

}  // namespace

SegmentSettings segmentSettings(const EncodeSettings& settings) {
  SegmentSettings video;
  video.width = settings.width;
  video.height = settings.height;
  video.fps = settings.fps;
  video.crf = settings.crf;
  video.preset = settings.preset;
  video.gop_frames = settings.gop_frames;
  video.threads = settings.threads;
  return video;
}

Status checkSegment(const EncodedSegment& segment) {
  SMMHUB_RETURN_IF_ERROR(checkSegmentSettings(segment.settings));
  if (segment.frame_count <= 0) {
    return invalid("segment",
                   "frame_count " + std::to_string(segment.frame_count) + " is not positive");
  }
  if (segment.reorder_delay < 0 || segment.reorder_delay > kMaxReorderDelay) {
    return invalid("segment", "reorder_delay " + std::to_string(segment.reorder_delay) +
                                  " is not in 0 to " + std::to_string(kMaxReorderDelay));
  }
  if (segment.extradata.empty()) {
    return invalid("segment", "it has no extradata (SPS and PPS)");
  }
  return checkSegmentPackets(segment);
}

std::string serializeSegment(const EncodedSegment& segment) {
  ByteWriter writer;
  for (char c : kSegmentMagic) {
    writer.putU8(static_cast<std::uint8_t>(c));
  }
  writer.putU32(kFormatVersion);

  const SegmentSettings& settings = segment.settings;
  writer.putI32(settings.width);
  writer.putI32(settings.height);
  writer.putI32(settings.fps);
  writer.putI32(settings.crf);
  writer.putI32(settings.gop_frames);
  writer.putI32(settings.threads);
  writer.putString(settings.preset);

  writer.putI32(segment.frame_count);
  writer.putI32(segment.reorder_delay);
  writer.putString(segment.extradata);
  writer.putPackets(segment.packets);
  return writer.take();
}

Result<EncodedSegment> parseSegment(std::string_view bytes) {
  ByteReader reader(bytes, "segment");
  SMMHUB_RETURN_IF_ERROR(reader.readMagic(kSegmentMagic));
  SMMHUB_RETURN_IF_ERROR(reader.readVersion());

  EncodedSegment segment;
  SegmentSettings& settings = segment.settings;
  SMMHUB_RETURN_IF_ERROR(reader.readI32("width", &settings.width));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("height", &settings.height));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("fps", &settings.fps));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("crf", &settings.crf));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("gop_frames", &settings.gop_frames));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("threads", &settings.threads));
  SMMHUB_RETURN_IF_ERROR(reader.readString("preset", &settings.preset));

  SMMHUB_RETURN_IF_ERROR(reader.readI32("frame_count", &segment.frame_count));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("reorder_delay", &segment.reorder_delay));
  SMMHUB_RETURN_IF_ERROR(reader.readString("extradata", &segment.extradata));
  SMMHUB_RETURN_IF_ERROR(reader.readPackets(&segment.packets));
  SMMHUB_RETURN_IF_ERROR(reader.requireEnd());

  SMMHUB_RETURN_IF_ERROR(wrapAsDataLoss("segment", checkSegment(segment)));
  return segment;
}

Status checkAudio(const EncodedAudio& audio) {
  if (audio.sample_rate > kMaxSampleRate || audio.channels > kMaxChannels ||
      audio.sample_frames > kMaxAudioTimestamp) {
    return invalid("sound track", "sample_rate " + std::to_string(audio.sample_rate) +
                                      ", channels " + std::to_string(audio.channels) +
                                      " or sample_frames " + std::to_string(audio.sample_frames) +
                                      " is beyond its limit");
  }
  if (audio.sample_rate <= 0 || audio.channels <= 0 || audio.bit_rate <= 0 ||
      audio.frame_size <= 0 || audio.initial_padding < 0 || audio.sample_frames < 0) {
    return invalid("sound track",
                   "sample_rate " + std::to_string(audio.sample_rate) + ", channels " +
                       std::to_string(audio.channels) + ", bit_rate " +
                       std::to_string(audio.bit_rate) + " and frame_size " +
                       std::to_string(audio.frame_size) + " must be positive, initial_padding " +
                       std::to_string(audio.initial_padding) + " and sample_frames " +
                       std::to_string(audio.sample_frames) + " not negative");
  }
  if (audio.extradata.empty()) {
    return invalid("sound track", "it has no extradata (AudioSpecificConfig)");
  }
  for (size_t i = 0; i < audio.packets.size(); ++i) {
    const EncodedPacket& packet = audio.packets[i];
    const std::string where = "packet " + std::to_string(i);
    if (packet.data.empty() || packet.duration <= 0) {
      return invalid("sound track", where + " is empty or has no duration");
    }
    if (packet.pts < -kMaxAudioTimestamp || packet.pts > kMaxAudioTimestamp ||
        packet.duration > kMaxAudioTimestamp) {
      return invalid("sound track", where + " has pts " + std::to_string(packet.pts) +
                                        " or duration " + std::to_string(packet.duration) +
                                        " beyond " + std::to_string(kMaxAudioTimestamp));
    }
    if (packet.pts != packet.dts) {
      return invalid("sound track", where + " has pts " + std::to_string(packet.pts) + " and dts " +
                                        std::to_string(packet.dts) + ", which AAC keeps equal");
    }
    if (i > 0 && packet.dts <= audio.packets[i - 1].dts) {
      return invalid("sound track", where + " has dts " + std::to_string(packet.dts) +
                                        ", not after the previous " +
                                        std::to_string(audio.packets[i - 1].dts));
    }
  }
  return okStatus();
}

std::string serializeAudio(const EncodedAudio& audio) {
  ByteWriter writer;
  for (char c : kAudioMagic) {
    writer.putU8(static_cast<std::uint8_t>(c));
  }
  writer.putU32(kFormatVersion);

  writer.putI32(audio.sample_rate);
  writer.putI32(audio.channels);
  writer.putI32(audio.bit_rate);
  writer.putI32(audio.frame_size);
  writer.putI32(audio.initial_padding);
  writer.putI64(audio.sample_frames);
  writer.putString(audio.extradata);
  writer.putPackets(audio.packets);
  return writer.take();
}

Result<EncodedAudio> parseAudio(std::string_view bytes) {
  ByteReader reader(bytes, "sound track");
  SMMHUB_RETURN_IF_ERROR(reader.readMagic(kAudioMagic));
  SMMHUB_RETURN_IF_ERROR(reader.readVersion());

  EncodedAudio audio;
  SMMHUB_RETURN_IF_ERROR(reader.readI32("sample_rate", &audio.sample_rate));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("channels", &audio.channels));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("bit_rate", &audio.bit_rate));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("frame_size", &audio.frame_size));
  SMMHUB_RETURN_IF_ERROR(reader.readI32("initial_padding", &audio.initial_padding));
  SMMHUB_RETURN_IF_ERROR(reader.readI64("sample_frames", &audio.sample_frames));
  SMMHUB_RETURN_IF_ERROR(reader.readString("extradata", &audio.extradata));
  SMMHUB_RETURN_IF_ERROR(reader.readPackets(&audio.packets));
  SMMHUB_RETURN_IF_ERROR(reader.requireEnd());

  SMMHUB_RETURN_IF_ERROR(wrapAsDataLoss("sound track", checkAudio(audio)));
  return audio;
}

}  // namespace smmhub::render
