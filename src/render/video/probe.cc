#include "render/video/probe.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <string_view>
#include <vector>

#include "render/video/media_input.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
}

namespace smmhub::render {

namespace {

using internal::avError;

struct BoxLayout {
  bool moov_before_mdat = false;
  bool has_edit_list = false;
};

struct BoxHeader {
  std::string type;
  std::uint64_t size = 0;  // Whole box, header included.
  std::uint64_t header_size = 8;
};

std::uint64_t readBigEndian(const unsigned char* bytes, int count) {
  std::uint64_t value = 0;
  for (int i = 0; i < count; ++i) {
    value = (value << 8) | bytes[i];
  }
  return value;
}

// Parses the box header at the start of the AVAILABLE bytes at BYTES. A box
// size of 0 means that the box extends to the end.
Result<BoxHeader> parseBoxHeader(const unsigned char* bytes, std::uint64_t available,
                                 const std::filesystem::path& path) {
  if (available < 8) {
    return Status::dataLoss(path.string() + ": MP4 box header is truncated");
  }
  BoxHeader header;
  header.size = readBigEndian(bytes, 4);
  header.type.assign(reinterpret_cast<const char*>(bytes + 4), 4);
  if (header.size == 1) {
    if (available < 16) {
      return Status::dataLoss(path.string() + ": MP4 box header is truncated");
    }
    header.size = readBigEndian(bytes + 8, 8);
    header.header_size = 16;
  } else if (header.size == 0) {
    header.size = available;
  }

  if (header.size < header.header_size) {
    return Status::dataLoss(path.string() + ": MP4 box '" + header.type + "' has invalid size " +
                            std::to_string(header.size));
  }
  if (header.size > available) {
    return Status::dataLoss(path.string() + ": MP4 box '" + header.type +
                            "' is truncated: it declares " + std::to_string(header.size) +
                            " bytes but only " + std::to_string(available) + " remain");
  }
  return header;
}

// Returns true when an elst box sits anywhere under the container BYTES.
Result<bool> containsEditList(const unsigned char* bytes, std::uint64_t size,
                              const std::filesystem::path& path) {
  std::uint64_t offset = 0;
  while (offset < size) {
    SMMHUB_ASSIGN_OR_RETURN(BoxHeader box, parseBoxHeader(bytes + offset, size - offset, path));
    if (box.type == "elst") {
      return true;
    }

    // Edit lists live in moov/trak/edts.
    if (box.type == "trak" || box.type == "edts") {
      SMMHUB_ASSIGN_OR_RETURN(bool found, containsEditList(bytes + offset + box.header_size,
                                                           box.size - box.header_size, path));
      if (found) {
        return true;
      }
    }
    offset += box.size;
  }
  return false;
}

Result<std::vector<unsigned char>> readRange(std::ifstream& file, std::uint64_t offset,
                                             std::uint64_t size,
                                             const std::filesystem::path& path) {
  std::vector<unsigned char> bytes(size);
  file.seekg(static_cast<std::streamoff>(offset));
  file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(file.gcount()) != size) {
    return Status::dataLoss(path.string() + ": cannot read " + std::to_string(size) +
                            " bytes at offset " + std::to_string(offset));
  }
  return bytes;
}

// Walks the top-level boxes of the MP4 file PATH, and moov's children.
Result<BoxLayout> scanBoxes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  // The file can vanish meanwhile, as when a worker ends a cancelled batch
  // and removes its work folders. That is an error for the caller, not an
  // exception that ends the process.
  std::error_code size_error;
  const std::uint64_t file_size = std::filesystem::file_size(path, size_error);
  if (size_error) {
    return Status::unavailable(path.string() +
                               ": cannot read the file size: " + size_error.message());
  }
  BoxLayout layout;
  bool seen_moov = false;
  bool seen_mdat = false;

  std::uint64_t offset = 0;
  while (offset < file_size) {
    const std::uint64_t available = file_size - offset;
    SMMHUB_ASSIGN_OR_RETURN(auto head,
                            readRange(file, offset, std::min<std::uint64_t>(available, 16), path));
    SMMHUB_ASSIGN_OR_RETURN(BoxHeader box, parseBoxHeader(head.data(), available, path));

    if (box.type == "mdat" && !seen_moov) {
      seen_mdat = true;
    }
    if (box.type == "moov") {
      layout.moov_before_mdat = !seen_mdat;
      seen_moov = true;
      SMMHUB_ASSIGN_OR_RETURN(
          auto moov, readRange(file, offset + box.header_size, box.size - box.header_size, path));
      SMMHUB_ASSIGN_OR_RETURN(bool edit_list, containsEditList(moov.data(), moov.size(), path));
      layout.has_edit_list = layout.has_edit_list || edit_list;
    }
    offset += box.size;
  }

  if (!seen_moov) {
    return Status::dataLoss(path.string() + ": MP4 file has no moov box");
  }
  return layout;
}

double seconds(std::int64_t value, AVRational time_base) {
  return value == AV_NOPTS_VALUE ? 0.0 : static_cast<double>(value) * av_q2d(time_base);
}

std::string orEmpty(const char* text) {
  return text == nullptr ? std::string() : std::string(text);
}

MediaInfo::VideoStream describeVideo(const AVStream& stream) {
  const AVCodecParameters& params = *stream.codecpar;
  MediaInfo::VideoStream video;
  video.codec = avcodec_get_name(params.codec_id);
  video.profile = orEmpty(avcodec_profile_name(params.codec_id, params.profile));
  video.pix_fmt = orEmpty(av_get_pix_fmt_name(static_cast<AVPixelFormat>(params.format)));
  video.width = params.width;
  video.height = params.height;
  video.fps = av_q2d(stream.avg_frame_rate);
  video.constant_frame_rate = av_cmp_q(stream.avg_frame_rate, stream.r_frame_rate) == 0;
  video.start_s = seconds(stream.start_time, stream.time_base);
  video.duration_s = seconds(stream.duration, stream.time_base);
  video.color_transfer = orEmpty(av_color_transfer_name(params.color_trc));
  video.color_primaries = orEmpty(av_color_primaries_name(params.color_primaries));
  video.color_space = orEmpty(av_color_space_name(params.color_space));
  return video;
}

MediaInfo::AudioStream describeAudio(const AVStream& stream) {
  const AVCodecParameters& params = *stream.codecpar;
  MediaInfo::AudioStream audio;
  audio.codec = avcodec_get_name(params.codec_id);
  audio.sample_rate = params.sample_rate;
  audio.channels = params.ch_layout.nb_channels;
  audio.start_s = seconds(stream.start_time, stream.time_base);
  audio.duration_s = seconds(stream.duration, stream.time_base);
  audio.bit_rate = params.bit_rate;
  return audio;
}

// Demuxes every packet: counts the video frames and checks that each lasts
// the same time.
Status countVideoPackets(AVFormatContext& input, int video_index, MediaInfo::VideoStream& video,
                         const std::filesystem::path& path) {
  SMMHUB_ASSIGN_OR_RETURN(internal::PacketPtr packet, internal::allocPacket());
  std::int64_t first_duration = -1;
  bool equal_durations = true;

  int error = 0;
  while ((error = av_read_frame(&input, packet.get())) >= 0) {
    if (packet->flags & AV_PKT_FLAG_CORRUPT) {
      return Status::dataLoss(path.string() + ": packet at byte " + std::to_string(packet->pos) +
                              " is corrupt");
    }
    if (packet->stream_index == video_index) {
      ++video.frame_count;
      if (first_duration < 0) {
        first_duration = packet->duration;
      }
      equal_durations = equal_durations && packet->duration == first_duration;
    }
    av_packet_unref(packet.get());
  }

  if (error != AVERROR_EOF) {
    return avError(error, "reading packets", path);
  }
  video.constant_frame_rate = video.constant_frame_rate && equal_durations;
  return okStatus();
}

bool isIsoMedia(std::string_view format_name) {
  return format_name.find("mp4") != std::string_view::npos ||
         format_name.find("mov") != std::string_view::npos;
}

}  // namespace

Result<MediaInfo> probeMedia(const std::filesystem::path& path) {
  // Our own outputs are larger than an upload may be, so no size limit here.
  MediaInputLimits limits;
  limits.max_bytes = std::numeric_limits<std::uintmax_t>::max();
  SMMHUB_ASSIGN_OR_RETURN(internal::InputContextPtr input, openMediaInput(path, limits));

  MediaInfo info;
  info.format_name = input->iformat->name;
  info.duration_s =
      input->duration == AV_NOPTS_VALUE ? 0.0 : static_cast<double>(input->duration) / AV_TIME_BASE;
  if (isIsoMedia(info.format_name)) {
    SMMHUB_ASSIGN_OR_RETURN(BoxLayout layout, scanBoxes(path));
    info.moov_before_mdat = layout.moov_before_mdat;
    info.has_edit_list = layout.has_edit_list;
  }

  const int video_index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video_index >= 0) {
    info.video = describeVideo(*input->streams[video_index]);
  }
  const int audio_index = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (audio_index >= 0) {
    info.audio = describeAudio(*input->streams[audio_index]);
  }

  MediaInfo::VideoStream unused;
  SMMHUB_RETURN_IF_ERROR(
      countVideoPackets(*input, video_index, info.video ? *info.video : unused, path));
  return info;
}

}  // namespace smmhub::render
