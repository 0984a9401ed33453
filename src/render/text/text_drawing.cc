// Drawing a laid-out text with shadow and stroke, and reporting what Pango did.
#include "render/text/internal/text_drawing.h"

#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <vector>

namespace smmhub::render::internal {
namespace {

void setSourceColor(cairo_t* context, const Color& color) {
  cairo_set_source_rgba(context, color.r / 255.0, color.g / 255.0, color.b / 255.0,
                        color.a / 255.0);
}

// Returns the top-left point at which LAYOUT is drawn in the box.
std::pair<double, double> layoutOrigin(PangoLayout* layout, const TextStyle& style,
                                       double padding_px, int box_width, int box_height) {
  // Placed by the union of ink and logical extents, which is what
  // shrink-to-fit measured, so that overhanging glyphs stay in the box.
  PangoRectangle ink{};
  PangoRectangle logical{};
  pango_layout_get_extents(layout, &ink, &logical);
  pango_extents_to_pixels(&ink, nullptr);
  pango_extents_to_pixels(&logical, nullptr);
  double left = std::min(ink.x, logical.x);
  double top = std::min(ink.y, logical.y);
  double width = std::max(ink.x + ink.width, logical.x + logical.width) - left;
  double height = std::max(ink.y + ink.height, logical.y + logical.height) - top;

  double vertical = style.valign == TextStyle::VAlign::kTop      ? 0
                    : style.valign == TextStyle::VAlign::kBottom ? 1
                                                                 : 0.5;
  double y = padding_px + (box_height - 2 * padding_px - height) * vertical - top;

  // A layout with a width is aligned by Pango; one without, by its extents.
  if (pango_layout_get_width(layout) != -1) {
    return {padding_px, y};
  }
  double horizontal = style.align == TextStyle::Align::kLeft    ? 0
                      : style.align == TextStyle::Align::kRight ? 1
                                                                : 0.5;
  return {padding_px + (box_width - 2 * padding_px - width) * horizontal - left, y};
}

void strokeLayout(cairo_t* context, PangoLayout* layout, const Stroke& stroke) {
  pango_cairo_layout_path(context, layout);
  cairo_set_line_width(context, stroke.width_px);
  cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke(context);
}

// Paints the blurred silhouette of the text (fill and stroke) in the shadow
// colour, offset by (dx, dy).
void drawShadow(cairo_t* target, PangoLayout* layout, const TextStyle& style, double x, double y,
                int width, int height) {
  const Shadow& shadow = *style.shadow;
  cairo_surface_t* mask = cairo_image_surface_create(CAIRO_FORMAT_A8, width, height);
  cairo_t* context = cairo_create(mask);
  cairo_move_to(context, x, y);
  pango_cairo_show_layout(context, layout);
  if (style.stroke) {
    cairo_move_to(context, x, y);
    strokeLayout(context, layout, *style.stroke);
  }
  cairo_destroy(context);

  cairo_surface_flush(mask);
  int radius = static_cast<int>(std::lround(shadow.blur_px));
  boxBlurAlpha(cairo_image_surface_get_data(mask), width, height,
               cairo_image_surface_get_stride(mask), radius);
  cairo_surface_mark_dirty(mask);

  setSourceColor(target, shadow.color);
  cairo_mask_surface(target, mask, shadow.dx, shadow.dy);
  cairo_surface_destroy(mask);
}

// One box-blur pass over COUNT values spaced STEP apart, using a running sum
// over 2 * RADIUS + 1 values with edges clamped.
void blurLine(unsigned char* values, int count, int step, int radius, std::vector<int>& scratch) {
  scratch.resize(count);
  for (int i = 0; i < count; ++i) {
    scratch[i] = values[i * step];
  }
  int window = 2 * radius + 1;
  int sum = 0;
  for (int i = -radius; i <= radius; ++i) {
    sum += scratch[std::clamp(i, 0, count - 1)];
  }
  for (int i = 0; i < count; ++i) {
    values[i * step] = static_cast<unsigned char>((sum + window / 2) / window);
    sum += scratch[std::min(i + radius + 1, count - 1)] - scratch[std::max(i - radius, 0)];
  }
}

bool isBlank(std::string_view text) {
  for (const char* p = text.data(); p < text.data() + text.size(); p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (!g_unichar_isspace(c) && c != 0x2028) {
      return false;
    }
  }
  return true;
}

void addFallback(const PangoItem* item, const std::string& text, const std::string& family,
                 TextReport& report) {
  std::string_view run_text(text.data() + item->offset, static_cast<std::size_t>(item->length));
  if (item->analysis.font == nullptr || isBlank(run_text)) {
    return;
  }
  PangoFontDescription* font = pango_font_describe(item->analysis.font);
  const char* used = pango_font_description_get_family(font);
  std::string used_family = used != nullptr ? used : "";
  pango_font_description_free(font);
  if (g_ascii_strcasecmp(used_family.c_str(), family.c_str()) == 0) {
    return;
  }

  // Pango may split one fallback into several runs; report them as one.
  if (!report.fallbacks.empty() && report.fallbacks.back().font_family == used_family) {
    report.fallbacks.back().text += run_text;
    return;
  }
  report.fallbacks.push_back({std::string(run_text), used_family});
}

void addMissingCharacters(const PangoGlyphString* glyphs, TextReport& report) {
  for (int i = 0; i < glyphs->num_glyphs; ++i) {
    PangoGlyph glyph = glyphs->glyphs[i].glyph;
    if ((glyph & PANGO_GLYPH_UNKNOWN_FLAG) == 0) {
      continue;
    }
    // An unknown glyph carries its character in the low bits.
    auto character = static_cast<gunichar>(glyph & ~PANGO_GLYPH_UNKNOWN_FLAG);
    if (g_unichar_iscntrl(character) || g_unichar_isspace(character) || character == 0x2028) {
      continue;
    }
    std::array<char, 8> encoded{};
    int length = g_unichar_to_utf8(character, encoded.data());
    std::string_view utf8(encoded.data(), static_cast<std::size_t>(length));
    if (report.missing_characters.find(utf8) == std::string::npos) {
      report.missing_characters += utf8;
    }
  }
}

}  // namespace

void drawLayout(PangoLayout* layout, const TextStyle& style, double padding_px, Raster& raster) {
  cairo_surface_t* surface = cairo_image_surface_create_for_data(
      raster.pixels.data(), CAIRO_FORMAT_ARGB32, raster.width, raster.height, raster.stride());
  cairo_t* context = cairo_create(surface);
  auto [x, y] = layoutOrigin(layout, style, padding_px, raster.width, raster.height);

  if (style.shadow) {
    drawShadow(context, layout, style, x, y, raster.width, raster.height);
  }
  if (style.stroke && style.stroke->width_px > 0) {
    cairo_move_to(context, x, y);
    setSourceColor(context, style.stroke->color);
    strokeLayout(context, layout, *style.stroke);
  }
  cairo_move_to(context, x, y);
  setSourceColor(context, style.color);
  pango_cairo_show_layout(context, layout);

  cairo_destroy(context);
  cairo_surface_flush(surface);
  cairo_surface_destroy(surface);
}

void describeLayout(PangoLayout* layout, const std::string& text, const std::string& family,
                    TextReport& report) {
  report.line_count = pango_layout_get_line_count(layout);
  report.ellipsized = pango_layout_is_ellipsized(layout) != FALSE;
  report.unknown_glyphs = pango_layout_get_unknown_glyphs_count(layout);
  PangoLayoutLine* first_line = pango_layout_get_line_readonly(layout, 0);
  report.right_to_left = first_line != nullptr && first_line->resolved_dir == PANGO_DIRECTION_RTL;

  PangoLayoutIter* iter = pango_layout_get_iter(layout);
  do {
    PangoLayoutRun* run = pango_layout_iter_get_run_readonly(iter);
    if (run == nullptr) {
      continue;
    }
    report.right_to_left = report.right_to_left || run->item->analysis.level % 2 == 1;
    addFallback(run->item, text, family, report);
    addMissingCharacters(run->glyphs, report);
  } while (pango_layout_iter_next_run(iter));
  pango_layout_iter_free(iter);
}

void boxBlurAlpha(unsigned char* data, int width, int height, int stride, int radius) {
  if (radius <= 0 || width <= 0 || height <= 0) {
    return;
  }
  std::vector<int> scratch;
  for (int pass = 0; pass < 3; ++pass) {
    for (int y = 0; y < height; ++y) {
      blurLine(data + static_cast<std::ptrdiff_t>(y) * stride, width, 1, radius, scratch);
    }
    for (int x = 0; x < width; ++x) {
      blurLine(data + x, height, stride, radius, scratch);
    }
  }
}

}  // namespace smmhub::render::internal
