#include "content/media.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace smmhub::content {
namespace {

struct TypeNames {
  MediaType type;
  std::string_view name;
  std::string_view extension;
};

constexpr std::array<TypeNames, 9> kTypes = {{
    {MediaType::kPng, "image/png", "png"},
    {MediaType::kJpeg, "image/jpeg", "jpg"},
    {MediaType::kGif, "image/gif", "gif"},
    {MediaType::kWebp, "image/webp", "webp"},
    {MediaType::kSvg, "image/svg+xml", "svg"},
    {MediaType::kTtf, "font/ttf", "ttf"},
    {MediaType::kOtf, "font/otf", "otf"},
    {MediaType::kWoff, "font/woff", "woff"},
    {MediaType::kWoff2, "font/woff2", "woff2"},
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
    return "the content is an HTML document, not an image or font";
  }
  if (head.starts_with("<")) {
    return "the content is XML whose root element is not <svg>";
  }
  if (bytes.starts_with("%PDF")) {
    return "the content is a PDF document, not an image or font";
  }
  if (bytes.starts_with("ttcf")) {
    return "the content is a font collection (TTC); upload each font as its own TTF or OTF";
  }
  return "the content is of an unknown type; supported are PNG, JPEG, GIF, WebP, SVG, TTF, "
         "OTF, WOFF and WOFF2";
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

std::optional<MediaType> mediaTypeFromName(std::string_view name) {
  std::string lower = lowercase(name.substr(0, name.find(';')));
  lower.erase(lower.find_last_not_of(" \t") + 1);
  lower.erase(0, lower.find_first_not_of(" \t"));
  for (const TypeNames& names : kTypes) {
    if (lower == names.name) {
      return names.type;
    }
  }
  static constexpr std::array<std::pair<std::string_view, MediaType>, 9> kAliases = {{
      {"image/jpg", MediaType::kJpeg},
      {"image/pjpeg", MediaType::kJpeg},
      {"image/x-png", MediaType::kPng},
      {"image/svg", MediaType::kSvg},
      {"application/x-font-ttf", MediaType::kTtf},
      {"font/sfnt", MediaType::kTtf},
      {"application/x-font-otf", MediaType::kOtf},
      {"application/font-woff", MediaType::kWoff},
      {"application/font-woff2", MediaType::kWoff2},
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
  }
  return Status::internal("unhandled media type");
}

}  // namespace smmhub::content
