// Raster: the engine's in-memory picture.
//
// Pixels are premultiplied alpha in cairo's ARGB32 layout: one 32-bit word per
// pixel, which on little-endian machines is the byte order B, G, R, A. Rows are
// packed (stride = width * 4). Every adapter (images, SVG, text, video frames)
// returns this layout, so that the compositor blends any layer without
// conversion and can wrap a Raster in a cairo image surface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace smmhub::render {

struct Raster {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;

  Raster() = default;
  Raster(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 4, 0) {}

  int stride() const { return width * 4; }
  size_t byteSize() const { return pixels.size(); }
  bool empty() const { return width == 0 || height == 0; }

  std::uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * stride(); }
  const std::uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * stride(); }
};

using RasterPtr = std::shared_ptr<const Raster>;

// An sRGB colour with straight (not premultiplied) alpha, 0..255 per channel.
struct Color {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;
  std::uint8_t a = 255;

  bool operator==(const Color&) const = default;
};

}  // namespace smmhub::render
