#include "render/video/media_input.h"

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
}

namespace smmhub::render {

namespace {

// libavformat's own probe reads at most this many bytes.
constexpr std::uintmax_t kProbeBytes = 1 << 20;

bool isAllowedDemuxer(std::string_view names) {
  // A demuxer name can list several formats ("matroska,webm"), and each of
  // them must be on the allowlist.
  const std::string_view allowed = kAllowedDemuxers;
  while (!names.empty()) {
    size_t comma = names.find(',');
    std::string_view name = names.substr(0, comma);
    names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 1);

    bool found = false;
    std::string_view rest = allowed;
    while (!rest.empty() && !found) {
      size_t next = rest.find(',');
      found = rest.substr(0, next) == name;
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    }
    if (!found) {
      return false;
    }
  }
  return true;
}

Status checkSize(const std::filesystem::path& path, const MediaInputLimits& limits) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return Status::notFound(path.string() + ": cannot read the media file: " + error.message());
  }
  if (size > limits.max_bytes) {
    return Status::invalidArgument(path.string() + ": media file is " + std::to_string(size) +
                                   " bytes, over the limit of " + std::to_string(limits.max_bytes) +
                                   " bytes; upload a shorter or smaller file");
  }
  return okStatus();
}

// Detects the format from the file's first bytes and its name, the way
// avformat_open_input would, without running any demuxer.
Result<const AVInputFormat*> detectFormat(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::vector<unsigned char> bytes(kProbeBytes + AVPROBE_PADDING_SIZE, 0);
  file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(kProbeBytes));
  const std::string name = path.string();

  AVProbeData probe = {};
  probe.filename = name.c_str();
  probe.buf = bytes.data();
  probe.buf_size = static_cast<int>(file.gcount());
  int score = 0;
  const AVInputFormat* format = av_probe_input_format3(&probe, 1, &score);
  if (format == nullptr || score <= 0) {
    return Status::invalidArgument(name +
                                   ": media format not recognized; upload an MP4, MOV, WebM, MKV, "
                                   "AVI, WAV, FLAC, MP3, Ogg or AAC file");
  }
  return format;
}

}  // namespace

Result<internal::InputContextPtr> openMediaInput(const std::filesystem::path& path,
                                                 const MediaInputLimits& limits) {
  SMMHUB_RETURN_IF_ERROR(checkSize(path, limits));
  internal::routeFfmpegLogs();

  // Reject playlists, scripts and image sequences before their demuxer runs.
  SMMHUB_ASSIGN_OR_RETURN(const AVInputFormat* format, detectFormat(path));
  if (!isAllowedDemuxer(format->name)) {
    return Status::invalidArgument(path.string() + ": media format '" + format->name +
                                   "' is not allowed; upload an MP4, MOV, WebM, MKV, AVI, WAV, "
                                   "FLAC, MP3, Ogg or AAC file");
  }

  // The whitelists also bind any nested open the demuxer might attempt.
  AVDictionary* options = nullptr;
  av_dict_set(&options, "protocol_whitelist", "file", 0);
  av_dict_set(&options, "format_whitelist", kAllowedDemuxers, 0);
  AVFormatContext* raw = nullptr;
  const std::string url = "file:" + path.string();
  int error = avformat_open_input(&raw, url.c_str(), format, &options);
  av_dict_free(&options);
  if (error < 0) {
    return internal::avError(error, "opening media", path);
  }
  internal::InputContextPtr input(raw);

  error = avformat_find_stream_info(input.get(), nullptr);
  if (error < 0) {
    return internal::avError(error, "reading stream information", path);
  }
  return input;
}

}  // namespace smmhub::render
