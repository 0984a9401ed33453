// Helpers shared by the image adapter's loaders. Not for use outside
// src/render/image.
#pragma once

#include <cairo.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/diagnostics.h"
#include "common/status.h"
#include "render/image/image_loader.h"
#include "render/raster.h"

namespace smmhub::render::internal {

// Rectangle in box pixels where an image is drawn. For
// Fit::kCover the rectangle is larger than the box and the surplus is cropped.
struct PlacedRect {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
};

// Places an image of SOURCE_WIDTH x SOURCE_HEIGHT (any unit, only the aspect
// matters) in the box per FIT.
PlacedRect placeInBox(double source_width, double source_height, int box_width, int box_height,
                      Fit fit);

// Wraps RASTER's pixels in a cairo ARGB32 surface; the Raster must outlive it.
// The caller destroys the surface with cairo_surface_destroy.
cairo_surface_t* wrapRaster(Raster& raster);

// Clips CONTEXT to RECT with rounded corners of RADIUS pixels (clamped to half
// the shorter side); a radius of 0 clips to the plain rectangle.
void clipRoundedRect(cairo_t* context, const PlacedRect& rect, double radius);

// Loads a PNG, JPEG, GIF or WebP file through libvips.
Result<Raster> loadVipsImage(const ImageRequest& request, const ImageLimits& limits);

// Renders an SVG file through librsvg straight at the box size.
Result<Raster> loadSvgImage(const ImageRequest& request, const ImageLimits& limits,
                            Diagnostics* warnings);

// Reads a whole file of at most MAX_BYTES bytes.
Result<std::string> readFileBytes(const std::filesystem::path& path, std::int64_t max_bytes);

}  // namespace smmhub::render::internal
