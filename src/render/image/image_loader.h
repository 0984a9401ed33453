// Image adapter: loads PNG, JPEG, WebP, GIF and SVG files into box-sized
// Rasters, and writes Rasters as PNG or JPEG.
//
// Raster formats go through libvips (8.14): the header is checked against
// ImageLimits before any pixel is decoded, EXIF orientation is applied, and
// CMYK, 16-bit, grey and grey+alpha images come out as 8-bit sRGB. SVG goes
// through librsvg (2.54) from the file's bytes, with no base file, so that no
// external reference is ever resolved or fetched. The format always comes from
// the content, never from the file name.
//
//   ImageRequest request{.path = "assets/crest.png", .box_width = 360, .box_height = 420};
//   Diagnostics warnings;
//   SMMHUB_ASSIGN_OR_RETURN(Raster crest, loadImage(request, ImageLimits{}, &warnings));
//
// All functions are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/diagnostics.h"
#include "common/status.h"
#include "render/raster.h"

namespace smmhub::render {

enum class ImageFormat {
  kPng,
  kJpeg,
  kWebp,
  kGif,
  kSvg,
};

// Returns the lowercase name of a format, such as "png".
const char* imageFormatName(ImageFormat format);

// Detects the format of PATH from its first bytes: magic numbers for PNG,
// JPEG, GIF and WebP, and an <svg> root element within the first 64 KiB for
// SVG (after any XML declaration, comments and DOCTYPE). Returns notFound
// when the file cannot be opened and invalidArgument when it is empty, an HTML
// page or no supported format; each message starts with the path.
Result<ImageFormat> sniffImageFormat(const std::filesystem::path& path);

// Limits checked before decoding, so that a small file that declares huge
// dimensions is rejected from its header.
struct ImageLimits {
  std::int64_t max_file_bytes = 50 << 20;
  std::int64_t max_pixels = 100'000'000;
};

// How an image is placed in its box.
enum class Fit {
  kCover,    // scaled to cover the box, centred, the overflow cropped
  kContain,  // scaled to fit inside the box, centred, transparent margins
  kFill,     // stretched to the box, aspect not kept
};

struct ImageRequest {
  std::filesystem::path path;
  int box_width = 0;
  int box_height = 0;
  Fit fit = Fit::kContain;
  // Radius in pixels of the rounded-rectangle mask on the drawn image area.
  double corner_radius = 0;
};

// Loads REQUEST.path and returns a Raster of exactly box_width x box_height
// with the image placed per REQUEST.fit. Adds one warning to WARNINGS (which
// may be null) per external reference in an SVG that was not fetched.
// Errors name the file: notFound when it is missing, invalidArgument when it
// is empty, not an image, over a limit or cannot be decoded.
// REQUIRES: 0 < box_width, box_height <= 16384.
Result<Raster> loadImage(const ImageRequest& request, const ImageLimits& limits,
                         Diagnostics* warnings);

// Writes RASTER as a baseline JPEG of QUALITY (1 to 100) with libvips'
// jpegsave. Alpha is removed, which leaves transparent areas black.
Status writePosterJpeg(const Raster& raster, const std::filesystem::path& path, int quality = 85);

// Writes RASTER as an 8-bit RGBA PNG (straight alpha).
Status writePng(const Raster& raster, const std::filesystem::path& path);

// Reads a PNG at its own size into a Raster, converted to 8-bit sRGB: grey
// and RGB gain an opaque alpha, 16-bit values are scaled to 8 bits. Pixels of
// an 8-bit RGBA PNG are exact when opaque; translucent ones are rounded by
// premultiplication. Meant for golden images in tests.
Result<Raster> readPng(const std::filesystem::path& path);

}  // namespace smmhub::render
