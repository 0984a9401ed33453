// Format sniffing, the loadImage entry point and the placement helpers that
// the libvips and librsvg loaders share.
#include "render/image/image_loader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <string_view>
#include <system_error>

#include "common/files.h"
#include "render/image/internal/image_internal.h"

namespace smmhub::render {
namespace {

constexpr std::size_t kSniffBytes = 64 * 1024;
constexpr int kMaxBoxSide = 16384;

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) {
    return false;
  }
  return std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

std::string_view skipSpace(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) {
    ++i;
  }
  return text.substr(i);
}

// Skips a DOCTYPE, including an internal subset in brackets whose entity
// values may contain '>'. Returns an empty view when it does not end.
std::string_view skipDoctype(std::string_view text) {
  bool in_subset = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      quote = c == quote ? 0 : quote;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[') {
      in_subset = true;
    } else if (c == ']') {
      in_subset = false;
    } else if (c == '>' && !in_subset) {
      return text.substr(i + 1);
    }
  }
  return {};
}

// Returns whether the XML prolog (declaration, comments, processing
// instructions, DOCTYPE) is followed by an <svg> root element.
bool looksLikeSvg(std::string_view text) {
  if (startsWith(text, "\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  while (true) {
    text = skipSpace(text);
    std::size_t end = std::string_view::npos;
    if (startsWith(text, "<?")) {
      end = text.find("?>");
      end = end == std::string_view::npos ? end : end + 2;
    } else if (startsWith(text, "<!--")) {
      end = text.find("-->");
      end = end == std::string_view::npos ? end : end + 3;
    } else if (startsWithNoCase(text, "<!DOCTYPE")) {
      text = skipDoctype(text);
      continue;
    } else {
      break;
    }
    if (end == std::string_view::npos) {
      return false;
    }
    text.remove_prefix(end);
  }
  if (!startsWith(text, "<svg") || text.size() < 5) {
    return false;
  }
  char next = text[4];
  return next == ' ' || next == '>' || next == '\t' || next == '\r' || next == '\n' || next == '/';
}

bool looksLikeHtml(std::string_view text) {
  text = skipSpace(text);
  return startsWithNoCase(text, "<!DOCTYPE html") || startsWithNoCase(text, "<html") ||
         startsWithNoCase(text, "<head") || startsWithNoCase(text, "<body");
}

std::string hexPrefix(std::string_view bytes) {
  std::string hex;
  std::size_t count = std::min<std::size_t>(bytes.size(), 8);
  for (std::size_t i = 0; i < count; ++i) {
    std::array<char, 4> byte{};
    std::snprintf(byte.data(), byte.size(), "%02x", static_cast<unsigned char>(bytes[i]));
    hex += (i == 0 ? "" : " ");
    hex += byte.data();
  }
  return hex + (bytes.size() > count ? " ..." : "");
}

Result<ImageFormat> formatFromBytes(const std::filesystem::path& path, std::string_view head) {
  if (startsWith(head, "\x89PNG\r\n\x1A\n")) {
    return ImageFormat::kPng;
  }
  if (startsWith(head, "\xFF\xD8\xFF")) {
    return ImageFormat::kJpeg;
  }
  if (startsWith(head, "GIF87a") || startsWith(head, "GIF89a")) {
    return ImageFormat::kGif;
  }
  if (head.size() >= 12 && startsWith(head, "RIFF") && head.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  if (looksLikeSvg(head)) {
    return ImageFormat::kSvg;
  }
  if (looksLikeHtml(head)) {
    return Status::invalidArgument(path.string() +
                                   ": not an image: content starts like an HTML page");
  }
  return Status::invalidArgument(path.string() + ": unrecognised image format (first bytes " +
                                 hexPrefix(head) + ")");
}

}  // namespace

const char* imageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kGif:
      return "gif";
    case ImageFormat::kSvg:
      return "svg";
  }
  return "unknown";
}

Result<ImageFormat> sniffImageFormat(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::notFound(path.string() + ": file not found or not readable");
  }

  std::string head(kSniffBytes, '\0');
  file.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(file.gcount()));
  if (head.empty()) {
    return Status::invalidArgument(path.string() + ": file is empty (0 bytes)");
  }
  return formatFromBytes(path, head);
}

Result<Raster> loadImage(const ImageRequest& request, const ImageLimits& limits,
                         Diagnostics* warnings) {
  if (request.box_width <= 0 || request.box_height <= 0 || request.box_width > kMaxBoxSide ||
      request.box_height > kMaxBoxSide) {
    return Status::invalidArgument(
        request.path.string() + ": image box " + std::to_string(request.box_width) + "x" +
        std::to_string(request.box_height) + " is invalid; each side must be 1 to 16384 pixels");
  }

  if (std::optional<std::string> problem = regularFileProblem(request.path)) {
    return Status::notFound(*problem);
  }
  // The size limit comes first, so that an oversized file is never read.
  std::error_code error;
  std::uintmax_t file_bytes = std::filesystem::file_size(request.path, error);
  if (error) {
    return Status::notFound(request.path.string() + ": file not found or not readable (" +
                            error.message() + ")");
  }
  if (static_cast<std::int64_t>(file_bytes) > limits.max_file_bytes) {
    return Status::invalidArgument(request.path.string() + ": file is " +
                                   std::to_string(file_bytes) + " bytes, over the limit of " +
                                   std::to_string(limits.max_file_bytes) + " bytes");
  }

  SMMHUB_ASSIGN_OR_RETURN(ImageFormat format, sniffImageFormat(request.path));
  if (format == ImageFormat::kSvg) {
    return internal::loadSvgImage(request, limits, warnings);
  }
  return internal::loadVipsImage(request, limits);
}

namespace internal {

PlacedRect placeInBox(double source_width, double source_height, int box_width, int box_height,
                      Fit fit) {
  if (fit == Fit::kFill || source_width <= 0 || source_height <= 0) {
    return {0, 0, static_cast<double>(box_width), static_cast<double>(box_height)};
  }

  double scale_x = box_width / source_width;
  double scale_y = box_height / source_height;
  double scale = fit == Fit::kCover ? std::max(scale_x, scale_y) : std::min(scale_x, scale_y);
  double width = source_width * scale;
  double height = source_height * scale;
  return {(box_width - width) / 2, (box_height - height) / 2, width, height};
}

cairo_surface_t* wrapRaster(Raster& raster) {
  return cairo_image_surface_create_for_data(raster.pixels.data(), CAIRO_FORMAT_ARGB32,
                                             raster.width, raster.height, raster.stride());
}

void clipRoundedRect(cairo_t* context, const PlacedRect& rect, double radius) {
  double r = std::clamp(radius, 0.0, std::min(rect.width, rect.height) / 2);
  if (r <= 0) {
    cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height);
    cairo_clip(context);
    return;
  }

  constexpr double kQuarter = std::numbers::pi / 2;
  double right = rect.x + rect.width;
  double bottom = rect.y + rect.height;
  cairo_new_sub_path(context);
  cairo_arc(context, right - r, rect.y + r, r, -kQuarter, 0);
  cairo_arc(context, right - r, bottom - r, r, 0, kQuarter);
  cairo_arc(context, rect.x + r, bottom - r, r, kQuarter, 2 * kQuarter);
  cairo_arc(context, rect.x + r, rect.y + r, r, 2 * kQuarter, 3 * kQuarter);
  cairo_close_path(context);
  cairo_clip(context);
}

Result<std::string> readFileBytes(const std::filesystem::path& path, std::int64_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::notFound(path.string() + ": file not found or not readable");
  }

  std::string bytes;
  std::array<char, 65536> chunk{};
  while (file.read(chunk.data(), chunk.size()) || file.gcount() > 0) {
    bytes.append(chunk.data(), static_cast<std::size_t>(file.gcount()));
    if (static_cast<std::int64_t>(bytes.size()) > max_bytes) {
      return Status::invalidArgument(path.string() + ": file is over the limit of " +
                                     std::to_string(max_bytes) + " bytes");
    }
  }
  return bytes;
}

}  // namespace internal
}  // namespace smmhub::render
