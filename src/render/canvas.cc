#include "render/canvas.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>

#include "common/check.h"

namespace smmhub::render {
namespace {

struct SurfaceDeleter {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct ContextDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
struct PatternDeleter {
  void operator()(cairo_pattern_t* pattern) const { cairo_pattern_destroy(pattern); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using ContextPtr = std::unique_ptr<cairo_t, ContextDeleter>;
using PatternPtr = std::unique_ptr<cairo_pattern_t, PatternDeleter>;

// Wraps RASTER's pixels; the raster must outlive the surface. Cairo does not
// write through a surface made from const data unless asked to draw on it.
SurfacePtr wrap(const Raster& raster) {
  auto* data = const_cast<std::uint8_t*>(raster.pixels.data());  // NOLINT
  return SurfacePtr(cairo_image_surface_create_for_data(data, CAIRO_FORMAT_ARGB32, raster.width,
                                                        raster.height, raster.stride()));
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

void setSourceColor(cairo_t* cr, Color color) {
  cairo_set_source_rgba(cr, color.r / 255.0, color.g / 255.0, color.b / 255.0, color.a / 255.0);
}

Status addStops(cairo_pattern_t* pattern, const std::vector<templates::GradientStop>& stops) {
  for (const auto& stop : stops) {
    SMMHUB_ASSIGN_OR_RETURN(Color c, parseColor(stop.color));
    cairo_pattern_add_color_stop_rgba(pattern, stop.offset, c.r / 255.0, c.g / 255.0, c.b / 255.0,
                                      c.a / 255.0);
  }
  return okStatus();
}

// Builds the fill pattern of a WIDTH x HEIGHT box. Linear gradients follow CSS:
// the gradient line passes through the centre at ANGLE (180 = top to bottom)
// and is long enough that the corners get the end colours.
Result<PatternPtr> makeFill(const templates::Fill& fill, double width, double height) {
  using templates::FillType;
  PatternPtr pattern;
  if (fill.type == FillType::kSolid) {
    SMMHUB_ASSIGN_OR_RETURN(Color c, parseColor(fill.color));
    pattern.reset(cairo_pattern_create_rgba(c.r / 255.0, c.g / 255.0, c.b / 255.0, c.a / 255.0));
    return pattern;
  }
  if (fill.type == FillType::kLinear) {
    double angle = fill.angle_deg * std::numbers::pi / 180;
    double dx = std::sin(angle);
    double dy = -std::cos(angle);
    double half = (std::abs(width * dx) + std::abs(height * dy)) / 2;
    double cx = width / 2;
    double cy = height / 2;
    pattern.reset(cairo_pattern_create_linear(cx - dx * half, cy - dy * half, cx + dx * half,
                                              cy + dy * half));
  } else {
    double radius = std::hypot(width / 2, height / 2);
    pattern.reset(
        cairo_pattern_create_radial(width / 2, height / 2, 0, width / 2, height / 2, radius));
  }
  SMMHUB_RETURN_IF_ERROR(addStops(pattern.get(), fill.stops));
  return pattern;
}

void roundedRectangle(cairo_t* cr, double x, double y, double w, double h, double r) {
  r = std::min({r, w / 2, h / 2});
  if (r <= 0) {
    cairo_rectangle(cr, x, y, w, h);
    return;
  }
  constexpr double kQuarter = std::numbers::pi / 2;
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -kQuarter, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, kQuarter);
  cairo_arc(cr, x + r, y + h - r, r, kQuarter, 2 * kQuarter);
  cairo_arc(cr, x + r, y + r, r, 2 * kQuarter, 3 * kQuarter);
  cairo_close_path(cr);
}

void shapePath(cairo_t* cr, const templates::ShapeProps& shape, double w, double h) {
  switch (shape.shape) {
    case templates::ShapeType::kRectangle:
      roundedRectangle(cr, 0, 0, w, h, shape.corner_radius);
      break;
    case templates::ShapeType::kEllipse:
      cairo_save(cr);
      cairo_translate(cr, w / 2, h / 2);
      cairo_scale(cr, w / 2, h / 2);
      cairo_arc(cr, 0, 0, 1, 0, 2 * std::numbers::pi);
      cairo_restore(cr);
      break;
    case templates::ShapeType::kLine:
      cairo_move_to(cr, shape.x1, shape.y1);
      cairo_line_to(cr, shape.x2, shape.y2);
      break;
  }
}

}  // namespace

Result<Color> parseColor(std::string_view text) {
  auto invalid = [&] {
    return Status::invalidArgument("invalid colour '" + std::string(text) +
                                   "'; expected #RRGGBB or #RRGGBBAA");
  };
  if (text.empty() || text[0] != '#') {
    return invalid();
  }
  std::string_view hex = text.substr(1);
  std::string expanded;
  if (hex.size() == 3) {
    for (char c : hex) {
      expanded += {c, c};
    }
    hex = expanded;
  }
  if (hex.size() != 6 && hex.size() != 8) {
    return invalid();
  }
  int channels[4] = {0, 0, 0, 255};
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    int high = hexDigit(hex[2 * i]);
    int low = hexDigit(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return invalid();
    }
    channels[i] = high * 16 + low;
  }
  return Color{static_cast<std::uint8_t>(channels[0]), static_cast<std::uint8_t>(channels[1]),
               static_cast<std::uint8_t>(channels[2]), static_cast<std::uint8_t>(channels[3])};
}

void fillRaster(Raster& raster, Color color) {
  // Premultiply once, then write the 4-byte pattern B, G, R, A.
  auto premultiply = [&](std::uint8_t c) {
    return static_cast<std::uint8_t>((c * color.a + 127) / 255);
  };
  const std::uint8_t pixel[4] = {premultiply(color.b), premultiply(color.g), premultiply(color.r),
                                 color.a};
  for (size_t i = 0; i < raster.pixels.size(); i += 4) {
    std::copy(pixel, pixel + 4, raster.pixels.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

Result<Raster> drawShape(const templates::ShapeProps& shape, int width, int height) {
  Raster raster(width, height);
  SurfacePtr surface = wrap(raster);
  ContextPtr cr(cairo_create(surface.get()));

  if (shape.shape != templates::ShapeType::kLine && shape.fill.type != templates::FillType::kNone) {
    SMMHUB_ASSIGN_OR_RETURN(PatternPtr fill, makeFill(shape.fill, width, height));
    shapePath(cr.get(), shape, width, height);
    cairo_set_source(cr.get(), fill.get());
    cairo_fill(cr.get());
  }
  if (shape.stroke && shape.stroke->width > 0) {
    SMMHUB_ASSIGN_OR_RETURN(Color stroke, parseColor(shape.stroke->color));
    shapePath(cr.get(), shape, width, height);
    setSourceColor(cr.get(), stroke);
    cairo_set_line_width(cr.get(), shape.stroke->width);
    cairo_stroke(cr.get());
  }
  cairo_surface_flush(surface.get());
  return raster;
}

void compositeLayer(Raster& target, const Raster& source, const templates::Geometry& geometry,
                    const LayerState& state) {
  if (!state.visible || source.empty()) {
    return;
  }
  SurfacePtr target_surface = wrap(target);
  SurfacePtr source_surface = wrap(source);
  ContextPtr cr(cairo_create(target_surface.get()));

  double ax = 0;
  double ay = 0;
  anchorOffset(geometry.anchor, source.width, source.height, &ax, &ay);
  bool plain = state.scale == 1 && state.rotation_deg == 0;
  if (plain) {
    cairo_translate(cr.get(), std::round(state.x - ax), std::round(state.y - ay));
  } else {
    cairo_translate(cr.get(), state.x, state.y);
    cairo_rotate(cr.get(), state.rotation_deg * std::numbers::pi / 180);
    cairo_scale(cr.get(), state.scale, state.scale);
    cairo_translate(cr.get(), -ax, -ay);
  }
  cairo_set_source_surface(cr.get(), source_surface.get(), 0, 0);
  if (state.opacity >= 1) {
    cairo_paint(cr.get());
  } else {
    cairo_paint_with_alpha(cr.get(), state.opacity);
  }
  cairo_surface_flush(target_surface.get());
}

Raster scaleRaster(const Raster& raster, int width, int height) {
  Raster out(width, height);
  SurfacePtr target_surface = wrap(out);
  SurfacePtr source_surface = wrap(raster);
  ContextPtr cr(cairo_create(target_surface.get()));
  cairo_scale(cr.get(), static_cast<double>(width) / raster.width,
              static_cast<double>(height) / raster.height);
  cairo_set_source_surface(cr.get(), source_surface.get(), 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr.get()), CAIRO_FILTER_GOOD);
  cairo_paint(cr.get());
  cairo_surface_flush(target_surface.get());
  return out;
}

void blendOver(Raster& target, const Raster& over, double alpha) {
  SMMHUB_CHECK(target.width == over.width && target.height == over.height);
  SurfacePtr target_surface = wrap(target);
  SurfacePtr over_surface = wrap(over);
  ContextPtr cr(cairo_create(target_surface.get()));
  cairo_set_source_surface(cr.get(), over_surface.get(), 0, 0);
  cairo_paint_with_alpha(cr.get(), std::clamp(alpha, 0.0, 1.0));
  cairo_surface_flush(target_surface.get());
}

}  // namespace smmhub::render
