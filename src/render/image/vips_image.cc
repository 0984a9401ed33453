// The libvips half of the image adapter: raster loading with limits checked
// from the header, and PNG/JPEG writing. libvips reports errors through a
// process-wide buffer, which vipsStatus() turns into a Status.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <vips/vips.h>

#include "common/log.h"
#include "render/image/image_loader.h"
#include "render/image/internal/image_internal.h"

namespace smmhub::render {
namespace {

struct VipsImageDeleter {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using VipsImagePtr = std::unique_ptr<VipsImage, VipsImageDeleter>;

struct GFreeDeleter {
  void operator()(void* memory) const { g_free(memory); }
};

// Initialises libvips once per process. The operation cache is off because
// the engine caches rendered layers itself.
Status ensureVipsStarted() {
  static std::once_flag once;
  static bool started = false;
  std::call_once(once, [] {
    if (VIPS_INIT("smmhub") != 0) {
      return;
    }
    vips_cache_set_max(0);
    // Loaders libvips marks untrusted (ImageMagick, MATLAB, ...) are never
    // needed, because only sniffed PNG, JPEG, GIF and WebP files reach libvips.
    vips_block_untrusted_set(TRUE);
    started = true;
  });
  if (!started) {
    return Status::internal("libvips failed to initialise: " + std::string(vips_error_buffer()));
  }
  return okStatus();
}

// Moves libvips' error buffer into a Status. NOTE: the buffer is shared by
// all threads, so a message may include another thread's concurrent error.
Status vipsStatus(const std::filesystem::path& path, const std::string& action) {
  std::unique_ptr<char, GFreeDeleter> buffer(vips_error_buffer_copy());
  std::string detail = buffer ? buffer.get() : "";
  while (!detail.empty() && detail.back() == '\n') {
    detail.pop_back();
  }
  for (char& c : detail) {
    c = c == '\n' ? ' ' : c;
  }
  return Status::invalidArgument(path.string() + ": " + action + " failed: " + detail);
}

// Formats PIXELS in megapixels with a printf FORMAT for one double.
std::string megapixels(std::int64_t pixels, const char* format) {
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), format, static_cast<double>(pixels) / 1e6);
  return text.data();
}

// Opens only the header and rejects images whose pixel count is over the
// limit. Returns the displayed size, with EXIF orientation applied.
Result<std::pair<int, int>> checkHeader(const std::filesystem::path& path,
                                        const ImageLimits& limits) {
  VipsImagePtr header(
      vips_image_new_from_file(path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (!header) {
    return vipsStatus(path, "reading the image header");
  }

  int width = vips_image_get_width(header.get());
  int height = vips_image_get_height(header.get());
  std::int64_t pixels = static_cast<std::int64_t>(width) * height;
  if (pixels > limits.max_pixels) {
    return Status::invalidArgument(
        path.string() + ": " + std::to_string(width) + "x" + std::to_string(height) + " pixels (" +
        megapixels(pixels, "%.1f") + " megapixels) exceeds the limit of " +
        megapixels(limits.max_pixels, "%g") + " megapixels");
  }
  if (vips_image_get_orientation_swap(header.get())) {
    std::swap(width, height);
  }
  return std::pair{width, height};
}

// Converts any libvips image (CMYK, 16-bit, grey, grey+alpha, RGB) to 8-bit
// sRGB with an alpha band.
Result<VipsImagePtr> toSrgbAlpha(VipsImagePtr image, const std::filesystem::path& path) {
  VipsImage* out = nullptr;
  if (vips_image_guess_interpretation(image.get()) != VIPS_INTERPRETATION_sRGB ||
      image->BandFmt != VIPS_FORMAT_UCHAR) {
    if (vips_colourspace(image.get(), &out, VIPS_INTERPRETATION_sRGB, nullptr) != 0) {
      return vipsStatus(path, "converting to sRGB");
    }
    image.reset(out);
  }
  if (image->BandFmt != VIPS_FORMAT_UCHAR) {
    if (vips_cast_uchar(image.get(), &out, nullptr) != 0) {
      return vipsStatus(path, "converting to 8 bits");
    }
    image.reset(out);
  }
  if (image->Bands == 3) {
    if (vips_bandjoin_const1(image.get(), &out, 255.0, nullptr) != 0) {
      return vipsStatus(path, "adding an alpha band");
    }
    image.reset(out);
  }
  if (image->Bands != 4) {
    return Status::invalidArgument(path.string() + ": image has " + std::to_string(image->Bands) +
                                   " bands after conversion to sRGB; expected 4");
  }
  return image;
}

// Decodes IMAGE and copies it into a Raster, premultiplying and swizzling
// RGBA into cairo's B,G,R,A byte order.
Result<Raster> toRaster(VipsImage* image, const std::filesystem::path& path) {
  std::size_t size = 0;
  std::unique_ptr<void, GFreeDeleter> memory(vips_image_write_to_memory(image, &size));
  if (!memory) {
    return vipsStatus(path, "decoding");
  }

  Raster raster(vips_image_get_width(image), vips_image_get_height(image));
  const auto* rgba = static_cast<const std::uint8_t*>(memory.get());
  for (std::size_t i = 0; i + 3 < raster.pixels.size() && i + 3 < size; i += 4) {
    unsigned alpha = rgba[i + 3];
    auto premultiply = [alpha](unsigned value) {
      unsigned t = value * alpha + 0x80;  // cairo's rounding
      return static_cast<std::uint8_t>((t + (t >> 8)) >> 8);
    };
    raster.pixels[i] = premultiply(rgba[i + 2]);
    raster.pixels[i + 1] = premultiply(rgba[i + 1]);
    raster.pixels[i + 2] = premultiply(rgba[i]);
    raster.pixels[i + 3] = static_cast<std::uint8_t>(alpha);
  }
  return raster;
}

// Draws IMAGE at RECT (rounded to whole pixels) in a new box-sized Raster,
// masked by the rounded rectangle.
Raster placeRaster(Raster& image, const internal::PlacedRect& rect, const ImageRequest& request) {
  Raster box(request.box_width, request.box_height);
  cairo_surface_t* target = internal::wrapRaster(box);
  cairo_surface_t* source = internal::wrapRaster(image);
  cairo_t* context = cairo_create(target);

  internal::PlacedRect drawn{std::round(rect.x), std::round(rect.y),
                             static_cast<double>(image.width), static_cast<double>(image.height)};
  internal::clipRoundedRect(context, drawn, request.corner_radius);
  cairo_set_source_surface(context, source, drawn.x, drawn.y);
  cairo_paint(context);

  cairo_destroy(context);
  cairo_surface_destroy(source);
  cairo_surface_flush(target);
  cairo_surface_destroy(target);
  return box;
}

Raster unpremultiplyToRgba(const Raster& raster) {
  Raster rgba(raster.width, raster.height);
  for (std::size_t i = 0; i + 3 < raster.pixels.size(); i += 4) {
    unsigned alpha = raster.pixels[i + 3];
    auto straight = [alpha](unsigned value) {
      return alpha == 0
                 ? std::uint8_t{0}
                 : static_cast<std::uint8_t>(std::min(255u, (value * 255 + alpha / 2) / alpha));
    };
    rgba.pixels[i] = straight(raster.pixels[i + 2]);
    rgba.pixels[i + 1] = straight(raster.pixels[i + 1]);
    rgba.pixels[i + 2] = straight(raster.pixels[i]);
    rgba.pixels[i + 3] = static_cast<std::uint8_t>(alpha);
  }
  return rgba;
}

// Wraps straight-alpha RGBA bytes in a libvips image. RGBA must outlive it.
Result<VipsImagePtr> wrapRgba(const Raster& rgba, const std::filesystem::path& path) {
  VipsImagePtr image(vips_image_new_from_memory(rgba.pixels.data(), rgba.pixels.size(), rgba.width,
                                                rgba.height, 4, VIPS_FORMAT_UCHAR));
  if (!image) {
    return vipsStatus(path, "wrapping the raster");
  }
  image->Type = VIPS_INTERPRETATION_sRGB;
  return image;
}

}  // namespace

namespace internal {

Result<Raster> loadVipsImage(const ImageRequest& request, const ImageLimits& limits) {
  SMMHUB_RETURN_IF_ERROR(ensureVipsStarted());
  const std::filesystem::path& path = request.path;
  SMMHUB_ASSIGN_OR_RETURN(auto displayed, checkHeader(path, limits));

  // vips_thumbnail shrinks on load (JPEG DCT scaling, WebP), applies EXIF
  // orientation, imports CMYK with its fallback profile and reads only the
  // first page of a GIF or WebP animation, composed by the loader. A file
  // cut short is an error, never a picture with a grey or black remainder.
  PlacedRect rect = placeInBox(displayed.first, displayed.second, request.box_width,
                               request.box_height, request.fit);
  bool cover = request.fit == Fit::kCover;
  int width = cover ? request.box_width : std::max(1, static_cast<int>(std::lround(rect.width)));
  int height = cover ? request.box_height : std::max(1, static_cast<int>(std::lround(rect.height)));
  VipsImage* out = nullptr;
  int failed =
      vips_thumbnail(path.c_str(), &out, width, "height", height, "size",
                     cover ? VIPS_SIZE_BOTH : VIPS_SIZE_FORCE, "crop",
                     cover ? VIPS_INTERESTING_CENTRE : VIPS_INTERESTING_NONE, "fail_on",
                     VIPS_FAIL_ON_TRUNCATED, nullptr);
  if (failed != 0) {
    return vipsStatus(path, "decoding");
  }
  logger("render")->debug("image loaded path={} displayed={}x{} scaled={}x{}", path.string(),
                          displayed.first, displayed.second, width, height);

  SMMHUB_ASSIGN_OR_RETURN(VipsImagePtr rgba, toSrgbAlpha(VipsImagePtr(out), path));
  SMMHUB_ASSIGN_OR_RETURN(Raster image, toRaster(rgba.get(), path));
  if (cover) {
    rect = {0, 0, static_cast<double>(request.box_width), static_cast<double>(request.box_height)};
  }
  return placeRaster(image, rect, request);
}

}  // namespace internal

Status writePosterJpeg(const Raster& raster, const std::filesystem::path& path, int quality) {
  SMMHUB_RETURN_IF_ERROR(ensureVipsStarted());
  if (quality < 1 || quality > 100) {
    return Status::invalidArgument("JPEG quality " + std::to_string(quality) +
                                   " is invalid; use 1 to 100");
  }

  // jpegsave flattens the alpha band against black, which gives the
  // premultiplied colour back.
  Raster rgba = unpremultiplyToRgba(raster);
  SMMHUB_ASSIGN_OR_RETURN(VipsImagePtr image, wrapRgba(rgba, path));
  if (vips_jpegsave(image.get(), path.c_str(), "Q", quality, "strip", TRUE, nullptr) != 0) {
    return vipsStatus(path, "writing JPEG");
  }
  return okStatus();
}

Status writePng(const Raster& raster, const std::filesystem::path& path) {
  SMMHUB_RETURN_IF_ERROR(ensureVipsStarted());
  Raster rgba = unpremultiplyToRgba(raster);
  SMMHUB_ASSIGN_OR_RETURN(VipsImagePtr image, wrapRgba(rgba, path));
  if (vips_pngsave(image.get(), path.c_str(), "strip", TRUE, nullptr) != 0) {
    return vipsStatus(path, "writing PNG");
  }
  return okStatus();
}

Result<Raster> readPng(const std::filesystem::path& path) {
  SMMHUB_RETURN_IF_ERROR(ensureVipsStarted());
  SMMHUB_ASSIGN_OR_RETURN(ImageFormat format, sniffImageFormat(path));
  if (format != ImageFormat::kPng) {
    return Status::invalidArgument(path.string() + ": expected a PNG file, found " +
                                   imageFormatName(format));
  }

  VipsImagePtr image(vips_image_new_from_file(path.c_str(), nullptr));
  if (!image) {
    return vipsStatus(path, "reading PNG");
  }
  SMMHUB_ASSIGN_OR_RETURN(VipsImagePtr rgba, toSrgbAlpha(std::move(image), path));
  return toRaster(rgba.get(), path);
}

}  // namespace smmhub::render
