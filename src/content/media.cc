#include "content/media.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace smmhub::content {
namespace {

struct TypeNames {
  MediaType type;
  std::string_view name;
  std::string_view extension;
};

constexpr std::array<TypeNames, 14> kTypes = {{
    {MediaType::kPng, "image/png", "png"},
    {MediaType::kJpeg, "image/jpeg", "jpg"},
    {MediaType::kGif, "image/gif", "gif"},
    {MediaType::kWebp, "image/webp", "webp"},
    {MediaType::kSvg, "image/svg+xml", "svg"},
    {MediaType::kTtf, "font/ttf", "ttf"},
    {MediaType::kOtf, "font/otf", "otf"},
    {MediaType::kWoff, "font/woff", "woff"},
    {MediaType::kWoff2, "font/woff2", "woff2"},
    {MediaType::kWav, "audio/wav", "wav"},
    {MediaType::kMp3, "audio/mpeg", "mp3"},
    {MediaType::kM4a, "audio/mp4", "m4a"},
    {MediaType::kOgg, "audio/ogg", "ogg"},
    {MediaType::kFlac, "audio/flac", "flac"},
}};

const TypeNames& namesOf(MediaType type) {
  return kTypes[static_cast<size_t>(type)];
}

std::string lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::uint32_t bigEndian16(std::string_view bytes, size_t at) {
  return (static_cast<std::uint8_t>(bytes[at]) << 8) | static_cast<std::uint8_t>(bytes[at + 1]);
}

std::uint32_t bigEndian32(std::string_view bytes, size_t at) {
  return (bigEndian16(bytes, at) << 16) | bigEndian16(bytes, at + 2);
}

std::uint32_t littleEndian(std::string_view bytes, size_t at, int count) {
  std::uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<std::uint8_t>(bytes[at + i]);
  }
  return value;
}

Status truncated(std::string_view type, std::string_view what) {
  return Status::invalidArgument("invalid " + std::string(type) + ": the file ends before its " +
                                 std::string(what));
}

// The PNG signature is followed by the IHDR chunk, whose first fields are
// the width and height as 32-bit big-endian numbers.
Result<MediaInfo> sniffPng(std::string_view bytes) {
  if (bytes.size() < 24) {
    return truncated("PNG", "IHDR chunk");
  }
  if (bytes.substr(12, 4) != "IHDR") {
    return Status::invalidArgument("invalid PNG: the first chunk is not IHDR");
  }
  return MediaInfo{
      .type = MediaType::kPng, .width = bigEndian32(bytes, 16), .height = bigEndian32(bytes, 20)};
}

bool isStartOfFrame(std::uint8_t marker) {
  // C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
}

// Walks the JPEG marker segments up to the first start-of-frame marker,
// whose segment contains the height and then the width, 16 bits each.
Result<MediaInfo> sniffJpeg(std::string_view bytes) {
  size_t at = 2;
  while (at + 4 <= bytes.size()) {
    if (static_cast<std::uint8_t>(bytes[at]) != 0xff) {
      return Status::invalidArgument("invalid JPEG: no marker at byte " + std::to_string(at));
    }
    auto marker = static_cast<std::uint8_t>(bytes[at + 1]);
    if (marker == 0xff) {  // fill byte before a marker
      ++at;
      continue;
    }
    if (marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) {
      at += 2;  // markers without a length
      continue;
    }
    if (marker == 0xda || marker == 0xd9) {
      return Status::invalidArgument(
          "invalid JPEG: no start-of-frame marker before the image data");
    }
    std::uint32_t length = bigEndian16(bytes, at + 2);
    if (length < 2) {
      return Status::invalidArgument("invalid JPEG: segment length " + std::to_string(length) +
                                     " at byte " + std::to_string(at));
    }
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.size() || length < 7) {
        return truncated("JPEG", "start-of-frame segment");
      }
      return MediaInfo{.type = MediaType::kJpeg,
                       .width = bigEndian16(bytes, at + 7),
                       .height = bigEndian16(bytes, at + 5)};
    }
    at += 2 + length;
  }
  return truncated("JPEG", "start-of-frame marker");
}

// The logical screen descriptor follows the 6-byte signature: width and
// height as 16-bit little-endian numbers.
// NOTE: only the screen is checked; a frame's own image descriptor may
// declare a larger size, and the frame count is not limited.
Result<MediaInfo> sniffGif(std::string_view bytes) {
  if (bytes.size() < 10) {
    return truncated("GIF", "logical screen descriptor");
  }
  return MediaInfo{.type = MediaType::kGif,
                   .width = littleEndian(bytes, 6, 2),
                   .height = littleEndian(bytes, 8, 2)};
}

// RIFF....WEBP, then one of three first chunks, whose data starts at byte 20:
//   "VP8 " lossy: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit
//          width and height in 16-bit little-endian fields;
//   "VP8L" lossless: the signature 2F, then width - 1 and height - 1 in 14
//          bits each;
//   "VP8X" extended: 4 bytes of flags, then canvas width - 1 and height - 1
//          in 24 bits each.
Result<MediaInfo> sniffWebp(std::string_view bytes) {
  if (bytes.size() < 30) {
    return truncated("WebP", "first chunk");
  }
  std::string_view chunk = bytes.substr(12, 4);
  if (chunk == "VP8 ") {
    if (static_cast<std::uint8_t>(bytes[23]) != 0x9d ||
        static_cast<std::uint8_t>(bytes[24]) != 0x01 ||
        static_cast<std::uint8_t>(bytes[25]) != 0x2a) {
      return Status::invalidArgument("invalid WebP: the VP8 chunk lacks the start code 9D 01 2A");
    }
    return MediaInfo{.type = MediaType::kWebp,
                     .width = littleEndian(bytes, 26, 2) & 0x3fff,
                     .height = littleEndian(bytes, 28, 2) & 0x3fff};
  }
  if (chunk == "VP8L") {
    if (static_cast<std::uint8_t>(bytes[20]) != 0x2f) {
      return Status::invalidArgument("invalid WebP: the VP8L chunk lacks the signature 2F");
    }
    std::uint32_t bits = littleEndian(bytes, 21, 4);
    return MediaInfo{.type = MediaType::kWebp,
                     .width = (bits & 0x3fff) + 1,
                     .height = ((bits >> 14) & 0x3fff) + 1};
  }
  if (chunk == "VP8X") {
    return MediaInfo{.type = MediaType::kWebp,
                     .width = littleEndian(bytes, 24, 3) + 1,
                     .height = littleEndian(bytes, 27, 3) + 1};
  }
  return Status::invalidArgument("invalid WebP: unknown first chunk '" + std::string(chunk) +
                                 "'; expected VP8, VP8L or VP8X");
}

// An sfnt font (TrueType or OpenType) starts with its table count after the
// 4-byte version; a count of 0 or one whose directory overruns the file is
// not a font.
Result<MediaInfo> sniffSfnt(std::string_view bytes, MediaType type) {
  std::string_view name = type == MediaType::kTtf ? "TrueType font" : "OpenType font";
  if (bytes.size() < 12) {
    return truncated(name, "table directory");
  }
  std::uint32_t tables = bigEndian16(bytes, 4);
  if (tables == 0 || 12 + 16 * static_cast<size_t>(tables) > bytes.size()) {
    return Status::invalidArgument("invalid " + std::string(name) + ": table count " +
                                   std::to_string(tables) + " does not fit a file of " +
                                   std::to_string(bytes.size()) + " bytes");
  }
  return MediaInfo{.type = type};
}

// WOFF and WOFF2 headers store the file's own length at byte 8.
Result<MediaInfo> sniffWoff(std::string_view bytes, MediaType type) {
  std::string_view name = type == MediaType::kWoff ? "WOFF font" : "WOFF2 font";
  if (bytes.size() < 12) {
    return truncated(name, "header");
  }
  std::uint32_t length = bigEndian32(bytes, 8);
  if (length != bytes.size()) {
    return Status::invalidArgument("invalid " + std::string(name) +
                                   ": the header gives a length of " + std::to_string(length) +
                                   " bytes but the file has " + std::to_string(bytes.size()));
  }
  return MediaInfo{.type = type};
}

// RIFF....WAVE, then chunks of a 4-byte id and a 32-bit little-endian size,
// each padded to an even size. The "fmt " chunk comes before "data" and
// gives the codec (the format tag), the channels and the sample rate. The
// extensible format (FFFE) keeps the codec in the first two bytes of its
// sub-format GUID, 24 bytes into the chunk.
Result<MediaInfo> sniffWav(std::string_view bytes) {
  size_t at = 12;
  while (at + 8 <= bytes.size()) {
    std::string_view id = bytes.substr(at, 4);
    std::uint32_t size = littleEndian(bytes, at + 4, 4);
    if (id == "data") {
      return Status::invalidArgument("invalid WAV: the data chunk comes before the fmt chunk");
    }
    if (id != "fmt ") {
      at += 8 + static_cast<size_t>(size) + (size & 1);
      continue;
    }
    if (size < 16 || at + 24 > bytes.size()) {
      return truncated("WAV", "fmt chunk");
    }
    std::uint32_t format = littleEndian(bytes, at + 8, 2);
    std::uint32_t channels = littleEndian(bytes, at + 10, 2);
    std::uint32_t rate = littleEndian(bytes, at + 12, 4);
    if (format == 0xfffe) {
      if (size < 40 || at + 34 > bytes.size()) {
        return truncated("WAV", "extensible fmt chunk");
      }
      format = littleEndian(bytes, at + 32, 2);
    }
    // PCM, IEEE float, A-law and mu-law, which FFmpeg's pcm_* decoders read.
    if (format != 1 && format != 3 && format != 6 && format != 7) {
      return Status::invalidArgument(
          fmt::format("unsupported WAV codec 0x{:04X}; supported are PCM (0x0001), IEEE float "
                      "(0x0003), A-law (0x0006) and mu-law (0x0007); convert the file to PCM",
                      format));
    }
    if (channels < 1 || channels > 8) {
      return Status::invalidArgument(
          fmt::format("invalid WAV: {} channels; expected 1 to 8", channels));
    }
    if (rate < 8000 || rate > 192000) {
      return Status::invalidArgument(
          fmt::format("invalid WAV: sample rate {} Hz; expected 8000 to 192000", rate));
    }
    return MediaInfo{.type = MediaType::kWav};
  }
  return truncated("WAV", "fmt chunk");
}

// Returns the bytes that an ID3v2 tag at the start of BYTES takes: a
// 10-byte header whose last 4 bytes are the size in 7 bits each, and a
// 10-byte footer when flag 0x10 is set. Returns 0 without a tag.
size_t id3TagBytes(std::string_view bytes) {
  if (bytes.size() < 10 || !bytes.starts_with("ID3")) {
    return 0;
  }
  size_t size = 0;
  for (size_t i = 6; i < 10; ++i) {
    size = (size << 7) | (static_cast<std::uint8_t>(bytes[i]) & 0x7f);
  }
  bool footer = (static_cast<std::uint8_t>(bytes[5]) & 0x10) != 0;
  return 10 + size + (footer ? 10 : 0);
}

// Returns the length in bytes of the MPEG audio frame (MPEG-1, 2 or 2.5,
// layer I, II or III) whose header starts at AT, or nullopt when no valid
// header is there. A free-format frame gives 0, because its length is not in
// the header. The header fields are an 11-bit sync, the version, the layer,
// the bitrate index and the sample rate index (ISO/IEC 11172-3, 13818-3).
std::optional<size_t> mpegFrameBytes(std::string_view bytes, size_t at) {
  if (at + 4 > bytes.size()) {
    return std::nullopt;
  }
  std::uint32_t header = bigEndian32(bytes, at);
  std::uint32_t version = (header >> 19) & 3;  // 0: 2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
  std::uint32_t layer = (header >> 17) & 3;    // 0: reserved, 1: III, 2: II, 3: I
  std::uint32_t bitrate_index = (header >> 12) & 15;
  std::uint32_t rate_index = (header >> 10) & 3;
  if ((header & 0xffe00000) != 0xffe00000 || version == 1 || layer == 0 || bitrate_index == 15 ||
      rate_index == 3) {
    return std::nullopt;
  }

  static constexpr std::uint16_t kBitratesKbps[5][15] = {
      {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},  // MPEG-1 layer I
      {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},     // MPEG-1 layer II
      {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},      // MPEG-1 layer III
      {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},     // MPEG-2 layer I
      {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},          // MPEG-2 II, III
  };
  static constexpr std::uint32_t kMpeg1RatesHz[3] = {44100, 48000, 32000};
  bool mpeg1 = version == 3;
  int table = 4;
  if (mpeg1) {
    table = 3 - static_cast<int>(layer);
  } else if (layer == 3) {
    table = 3;
  }
  std::uint32_t bitrate = kBitratesKbps[table][bitrate_index] * 1000;
  if (bitrate == 0) {
    return size_t{0};
  }

  // MPEG-2 halves the MPEG-1 sample rates and MPEG-2.5 quarters them.
  std::uint32_t rate = kMpeg1RatesHz[rate_index];
  if (version == 2) {
    rate /= 2;
  } else if (version == 0) {
    rate /= 4;
  }
  std::uint32_t padding = (header >> 9) & 1;
  if (layer == 3) {
    return size_t{(12 * bitrate / rate + padding) * 4};  // 384 samples in 4-byte slots
  }
  std::uint32_t samples = layer == 1 && !mpeg1 ? 576 : 1152;
  return size_t{samples / 8 * bitrate / rate + padding};
}

// Whether BYTES hold MPEG audio frames from AT: a valid header, and a second
// one right after the first frame unless the file ends before it.
bool isMpegAudio(std::string_view bytes, size_t at) {
  std::optional<size_t> length = mpegFrameBytes(bytes, at);
  if (!length) {
    return false;
  }
  size_t next = at + *length;
  return *length == 0 || next + 4 > bytes.size() || mpegFrameBytes(bytes, next).has_value();
}

// Whether AT starts an ADTS header: the 12-bit sync of raw AAC and layer 0.
bool isAdts(std::string_view bytes, size_t at) {
  return at + 2 <= bytes.size() && static_cast<std::uint8_t>(bytes[at]) == 0xff &&
         (static_cast<std::uint8_t>(bytes[at + 1]) & 0xf6) == 0xf0;
}

// Whether BYTES start with an ISO base media "ftyp" box that lists the brand
// "M4A " as its major or a compatible brand. The box is its 32-bit size,
// "ftyp", the major brand, a 4-byte version, then compatible brands.
bool isM4a(std::string_view bytes) {
  if (bytes.size() < 16 || bytes.substr(4, 4) != "ftyp") {
    return false;
  }
  size_t end = std::min<size_t>(bigEndian32(bytes, 0), bytes.size());
  if (bytes.substr(8, 4) == "M4A ") {
    return true;
  }
  for (size_t at = 16; at + 4 <= end; at += 4) {
    if (bytes.substr(at, 4) == "M4A ") {
      return true;
    }
  }
  return false;
}

// The codec that the first packet of an Ogg stream names, or "" when BYTES
// are not an Ogg page. A page header has 27 bytes, from "OggS" to the count
// of lacing values at byte 26, and the first packet follows the values.
std::string_view oggCodec(std::string_view bytes) {
  if (bytes.size() < 27 || !bytes.starts_with("OggS")) {
    return "";
  }
  size_t packet = 27 + static_cast<std::uint8_t>(bytes[26]);
  std::string_view head = bytes.substr(std::min(packet, bytes.size()), 8);
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kCodecs = {{
      {"\x01vorbis", "Vorbis"},
      {"OpusHead", "Opus"},
      {"\x80theora", "Theora video"},
      {"\x7f"
       "FLAC",
       "FLAC"},
      {"Speex   ", "Speex"},
      {"fishead", "Skeleton"},
  }};
  for (const auto& [signature, codec] : kCodecs) {
    if (head.starts_with(signature)) {
      return codec;
    }
  }
  return "an unknown codec";
}

// "fLaC", then the STREAMINFO metadata block: a 4-byte block header of type
// 0 and length 34, whose bytes 10 to 12 start with the 20-bit sample rate.
Result<MediaInfo> sniffFlac(std::string_view bytes) {
  size_t at = id3TagBytes(bytes) + 4;
  if (at + 4 + 34 > bytes.size()) {
    return truncated("FLAC", "STREAMINFO block");
  }
  std::uint32_t type = static_cast<std::uint8_t>(bytes[at]) & 0x7f;
  std::uint32_t length = bigEndian32(bytes, at) & 0xffffff;
  if (type != 0 || length != 34) {
    return Status::invalidArgument("invalid FLAC: the first metadata block is not STREAMINFO");
  }
  std::uint32_t rate = (bigEndian32(bytes, at + 14) >> 12) & 0xfffff;
  if (rate == 0) {
    return Status::invalidArgument("invalid FLAC: STREAMINFO gives a sample rate of 0 Hz");
  }
  return MediaInfo{.type = MediaType::kFlac};
}

Result<MediaInfo> sniffMp3(std::string_view bytes) {
  size_t tag = id3TagBytes(bytes);
  if (tag >= bytes.size()) {
    return truncated("MP3", "first audio frame, inside its ID3 tag");
  }
  if (!isMpegAudio(bytes, tag)) {
    return Status::invalidArgument(
        fmt::format("invalid MP3: no MPEG audio frame at byte {}, after the ID3 tag", tag));
  }
  return MediaInfo{.type = MediaType::kMp3};
}

// Skips a UTF-8 byte-order mark, white space, the XML declaration, comments
// and a DOCTYPE, and returns the rest, which starts at the root element.
std::string_view skipXmlProlog(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  for (;;) {
    size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) {
      return {};
    }
    text.remove_prefix(start);
    std::string_view end_mark;
    if (text.starts_with("<?")) {
      end_mark = "?>";
    } else if (text.starts_with("<!--")) {
      end_mark = "-->";
    } else if (text.starts_with("<!DOCTYPE") || text.starts_with("<!doctype")) {
      // An internal subset in brackets may contain '>'.
      size_t bracket = text.find('[');
      size_t close = text.find('>');
      end_mark = bracket != std::string_view::npos && bracket < close ? "]>" : ">";
    } else {
      return text;
    }
    size_t end = text.find(end_mark);
    if (end == std::string_view::npos) {
      return {};
    }
    text.remove_prefix(end + end_mark.size());
  }
}

bool isSvgRoot(std::string_view text) {
  for (std::string_view open : {"<svg", "<svg:svg"}) {
    if (text.size() > open.size() && text.starts_with(open) &&
        std::string_view(" \t\r\n>/").find(text[open.size()]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string describeUnknownContent(std::string_view bytes) {
  if (bytes.empty()) {
    return "the file is empty";
  }
  std::string head = lowercase(skipXmlProlog(bytes.substr(0, 1024)));
  std::string start = lowercase(bytes.substr(0, 64));
  if (head.starts_with("<html") || start.find("<!doctype html") != std::string::npos) {
    return "the content is an HTML document, not an image, font or audio file";
  }
  if (head.starts_with("<")) {
    return "the content is XML whose root element is not <svg>";
  }
  if (bytes.starts_with("%PDF")) {
    return "the content is a PDF document, not an image, font or audio file";
  }
  if (bytes.starts_with("ttcf")) {
    return "the content is a font collection (TTC); upload each font as its own TTF or OTF";
  }
  if (std::string_view codec = oggCodec(bytes); !codec.empty()) {
    return "the content is an Ogg stream of " + std::string(codec) +
           "; supported in Ogg are Vorbis and Opus audio";
  }
  if (bytes.size() >= 12 && bytes.substr(4, 4) == "ftyp") {
    std::string_view brand = bytes.substr(8, 4);
    for (std::string_view image : {"avif", "avis", "heic", "heix", "mif1", "msf1"}) {
      if (brand == image) {
        return "the content is an AVIF or HEIF image; supported images are PNG, JPEG, GIF, WebP "
               "and SVG";
      }
    }
    return "the content is an MP4 or QuickTime file without the M4A brand; upload audio as an "
           "M4A file (video files are not accepted)";
  }
  if (isAdts(bytes, std::min(id3TagBytes(bytes), bytes.size()))) {
    return "the content is raw AAC (ADTS); upload AAC audio inside an M4A file";
  }
  return "the content is of an unknown type; supported are PNG, JPEG, GIF, WebP, SVG, TTF, "
         "OTF, WOFF, WOFF2, WAV, MP3, M4A, Ogg and FLAC";
}

std::string_view mediaTypeName(MediaType type) {
  return namesOf(type).name;
}

std::string_view mediaTypeExtension(MediaType type) {
  return namesOf(type).extension;
}

bool isFont(MediaType type) {
  return type == MediaType::kTtf || type == MediaType::kOtf || type == MediaType::kWoff ||
         type == MediaType::kWoff2;
}

bool isAudio(MediaType type) {
  return type == MediaType::kWav || type == MediaType::kMp3 || type == MediaType::kM4a ||
         type == MediaType::kOgg || type == MediaType::kFlac;
}

std::optional<MediaType> mediaTypeFromName(std::string_view name) {
  std::string lower = lowercase(name.substr(0, name.find(';')));
  lower.erase(lower.find_last_not_of(" \t") + 1);
  lower.erase(0, lower.find_first_not_of(" \t"));
  for (const TypeNames& names : kTypes) {
    if (lower == names.name) {
      return names.type;
    }
  }
  static constexpr std::array<std::pair<std::string_view, MediaType>, 19> kAliases = {{
      {"image/jpg", MediaType::kJpeg},
      {"image/pjpeg", MediaType::kJpeg},
      {"image/x-png", MediaType::kPng},
      {"image/svg", MediaType::kSvg},
      {"application/x-font-ttf", MediaType::kTtf},
      {"font/sfnt", MediaType::kTtf},
      {"application/x-font-otf", MediaType::kOtf},
      {"application/font-woff", MediaType::kWoff},
      {"application/font-woff2", MediaType::kWoff2},
      {"audio/x-wav", MediaType::kWav},
      {"audio/wave", MediaType::kWav},
      {"audio/vnd.wave", MediaType::kWav},
      {"audio/mp3", MediaType::kMp3},
      {"audio/x-m4a", MediaType::kM4a},
      {"audio/m4a", MediaType::kM4a},
      {"audio/opus", MediaType::kOgg},
      {"application/ogg", MediaType::kOgg},
      {"audio/x-flac", MediaType::kFlac},
      {"audio/x-mpeg", MediaType::kMp3},
  }};
  for (const auto& [alias, type] : kAliases) {
    if (lower == alias) {
      return type;
    }
  }
  return std::nullopt;
}

std::optional<MediaType> mediaTypeFromExtension(std::string_view file_name) {
  size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    return std::nullopt;
  }
  std::string extension = lowercase(file_name.substr(dot + 1));
  if (extension == "jpeg" || extension == "jpe") {
    return MediaType::kJpeg;
  }
  if (extension == "oga" || extension == "opus") {
    return MediaType::kOgg;
  }
  if (extension == "wave") {
    return MediaType::kWav;
  }
  for (const TypeNames& names : kTypes) {
    if (extension == names.extension) {
      return names.type;
    }
  }
  return std::nullopt;
}

std::optional<MediaType> detectMediaType(std::string_view bytes) {
  if (bytes.starts_with("\x89PNG\r\n\x1a\n")) {
    return MediaType::kPng;
  }
  if (bytes.starts_with("\xFF\xD8\xFF")) {
    return MediaType::kJpeg;
  }
  if (bytes.starts_with("GIF87a") || bytes.starts_with("GIF89a")) {
    return MediaType::kGif;
  }
  if (bytes.size() >= 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP") {
    return MediaType::kWebp;
  }
  if (bytes.starts_with(std::string_view("\0\1\0\0", 4)) || bytes.starts_with("true")) {
    return MediaType::kTtf;
  }
  if (bytes.starts_with("OTTO")) {
    return MediaType::kOtf;
  }
  if (bytes.starts_with("wOFF")) {
    return MediaType::kWoff;
  }
  if (bytes.starts_with("wOF2")) {
    return MediaType::kWoff2;
  }
  if (bytes.size() >= 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WAVE") {
    return MediaType::kWav;
  }
  if (isM4a(bytes)) {
    return MediaType::kM4a;
  }
  if (std::string_view codec = oggCodec(bytes); codec == "Vorbis" || codec == "Opus") {
    return MediaType::kOgg;
  }
  // An ID3 tag may come before MP3 frames, and before a FLAC stream too.
  size_t tag = id3TagBytes(bytes);
  if (bytes.substr(std::min(tag, bytes.size())).starts_with("fLaC")) {
    return MediaType::kFlac;
  }
  if ((tag > 0 && !isAdts(bytes, tag)) || isMpegAudio(bytes, 0)) {
    return MediaType::kMp3;
  }
  // The root element decides, so that an XHTML page is not taken for SVG.
  if (isSvgRoot(skipXmlProlog(bytes.substr(0, 64 * 1024)))) {
    return MediaType::kSvg;
  }
  return std::nullopt;
}

Result<MediaInfo> sniffMedia(std::string_view bytes) {
  std::optional<MediaType> type = detectMediaType(bytes);
  if (!type) {
    return Status::invalidArgument(describeUnknownContent(bytes));
  }
  switch (*type) {
    case MediaType::kPng:
      return sniffPng(bytes);
    case MediaType::kJpeg:
      return sniffJpeg(bytes);
    case MediaType::kGif:
      return sniffGif(bytes);
    case MediaType::kWebp:
      return sniffWebp(bytes);
    case MediaType::kTtf:
    case MediaType::kOtf:
      return sniffSfnt(bytes, *type);
    case MediaType::kWoff:
    case MediaType::kWoff2:
      return sniffWoff(bytes, *type);
    case MediaType::kSvg:
      // Its size comes from checkSvg(), which parses the whole document.
      return MediaInfo{.type = MediaType::kSvg};
    case MediaType::kWav:
      return sniffWav(bytes);
    case MediaType::kMp3:
      return sniffMp3(bytes);
    case MediaType::kFlac:
      return sniffFlac(bytes);
    case MediaType::kM4a:
    case MediaType::kOgg:
      // detectMediaType() read what these headers tell: the brand and codec.
      return MediaInfo{.type = *type};
  }
  return Status::internal("unhandled media type");
}

}  // namespace smmhub::content
