// renderText(): layout with Pango, shrink-to-fit, and drawing with cairo.
#include "render/text/text_renderer.h"

#include <glib.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>

#include "render/text/internal/font_context.h"
#include "render/text/internal/text_drawing.h"

namespace smmhub::render {
namespace {

constexpr int kMaxBoxSide = 16384;
constexpr double kSizeStepPx = 0.5;

struct GObjectDeleter {
  void operator()(gpointer object) const { g_object_unref(object); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectDeleter>;

// How the layout is laid out while searching for a size.
enum class LayoutMode {
  kOneLine,   // no wrapping; only the text's own line breaks
  kWrapped,   // wrapped at word boundaries to the box width
  kOverflow,  // wrapped, breaking inside words if needed, last line ellipsized
};

// The box minus the room the stroke takes on each side, in Pango units.
struct TextArea {
  double padding_px = 0;
  int width = 0;
  int height = 0;
};

Status validate(std::string_view utf8, const TextStyle& style, int box_width, int box_height) {
  if (!g_utf8_validate(utf8.data(), static_cast<gssize>(utf8.size()), nullptr)) {
    return Status::invalidArgument("text is not valid UTF-8; re-save the data as UTF-8");
  }
  if (box_width <= 0 || box_height <= 0 || box_width > kMaxBoxSide || box_height > kMaxBoxSide) {
    return Status::invalidArgument("text box " + std::to_string(box_width) + "x" +
                                   std::to_string(box_height) +
                                   " is invalid; each side must be 1 to 16384 pixels");
  }
  if (!(style.size_px > 0 && style.size_px <= kMaxBoxSide)) {
    return Status::invalidArgument("font size " + std::to_string(style.size_px) +
                                   " px is invalid; use more than 0 and at most 16384");
  }
  if (style.min_size_px < 0 || style.min_size_px > style.size_px) {
    return Status::invalidArgument("minimum font size " + std::to_string(style.min_size_px) +
                                   " px is invalid; use 0 to the font size " +
                                   std::to_string(style.size_px));
  }
  if (style.max_lines < 0 || style.weight < 1 || style.weight > 1000) {
    return Status::invalidArgument("max_lines " + std::to_string(style.max_lines) + " or weight " +
                                   std::to_string(style.weight) +
                                   " is invalid; use max_lines >= 0 and weight 1 to 1000");
  }
  return okStatus();
}

// Turns "\r\n", "\r" and "\n" into one break each. With wrapping, breaks
// become U+2028 LINE SEPARATOR, so that the text is one Pango paragraph and
// the line limit and ellipsis apply to the whole text, not to each paragraph.
std::string normalizeBreaks(std::string_view utf8, bool wrap) {
  const std::string separator = wrap ? "\xE2\x80\xA8" : "\n";
  std::string text;
  text.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    if (utf8[i] == '\r' || utf8[i] == '\n') {
      text += separator;
      i += (utf8[i] == '\r' && i + 1 < utf8.size() && utf8[i + 1] == '\n') ? 1 : 0;
    } else {
      text += utf8[i];
    }
  }
  return text;
}

// Returns TEXT with each U+2028 LINE SEPARATOR from normalizeBreaks() turned
// into a space.
std::string breaksToSpaces(const std::string& text) {
  const std::string separator = "\xE2\x80\xA8";
  std::string out;
  size_t pos = 0;
  for (size_t found = text.find(separator); found != std::string::npos;
       found = text.find(separator, pos)) {
    out.append(text, pos, found - pos);
    out += ' ';
    pos = found + separator.size();
  }
  out.append(text, pos);
  return out;
}

// Maps a physical alignment to Pango's, which Pango mirrors for a
// right-to-left paragraph when the direction comes from the text.
PangoAlignment pangoAlignment(TextStyle::Align align, bool right_to_left) {
  switch (align) {
    case TextStyle::Align::kLeft:
      return right_to_left ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT;
    case TextStyle::Align::kRight:
      return right_to_left ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT;
    case TextStyle::Align::kCenter:
      return PANGO_ALIGN_CENTER;
  }
  return PANGO_ALIGN_CENTER;
}

// Returns whether the first paragraph's base direction, which Pango takes
// from its first strong character, is right to left.
bool isRightToLeft(PangoLayout* layout) {
  PangoLayoutLine* line = pango_layout_get_line_readonly(layout, 0);
  return line != nullptr && line->resolved_dir == PANGO_DIRECTION_RTL;
}

LayoutPtr createLayout(PangoContext* context, const std::string& text, const TextStyle& style) {
  LayoutPtr layout(pango_layout_new(context));
  pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
  bool right_to_left = isRightToLeft(layout.get());

  PangoAttrList* attributes = pango_attr_list_new();
  if (style.letter_spacing_px != 0) {
    pango_attr_list_insert(attributes, pango_attr_letter_spacing_new(static_cast<int>(
                                           std::lround(style.letter_spacing_px * PANGO_SCALE))));
  }
  pango_layout_set_attributes(layout.get(), attributes);
  pango_attr_list_unref(attributes);

  pango_layout_set_alignment(layout.get(), pangoAlignment(style.align, right_to_left));
  pango_layout_set_line_spacing(layout.get(), static_cast<float>(style.line_height));
  return layout;
}

void setFontSize(PangoLayout* layout, const TextStyle& style, double size_px) {
  PangoFontDescription* font = pango_font_description_new();
  pango_font_description_set_family(font, style.family.c_str());
  pango_font_description_set_weight(font, static_cast<PangoWeight>(style.weight));
  pango_font_description_set_style(font, style.italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
  pango_font_description_set_absolute_size(font, size_px * PANGO_SCALE);
  pango_layout_set_font_description(layout, font);
  pango_font_description_free(font);
}

// Lays the text out at SIZE_PX in MODE and returns whether it fits AREA.
bool layOut(PangoLayout* layout, const TextStyle& style, const TextArea& area, double size_px,
            LayoutMode mode) {
  setFontSize(layout, style, size_px);
  bool one_line = mode == LayoutMode::kOneLine;
  pango_layout_set_width(layout, one_line ? -1 : area.width);
  pango_layout_set_wrap(layout,
                        mode == LayoutMode::kOverflow ? PANGO_WRAP_WORD_CHAR : PANGO_WRAP_WORD);
  pango_layout_set_ellipsize(
      layout, mode == LayoutMode::kOverflow ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
  pango_layout_set_height(layout, -1);

  // In overflow mode the box height limits the lines first, then max_lines.
  if (mode == LayoutMode::kOverflow) {
    pango_layout_set_height(layout, area.height);
    if (style.max_lines > 0 && pango_layout_get_line_count(layout) > style.max_lines) {
      pango_layout_set_height(layout, -style.max_lines);
    }
  }

  // Glyphs may reach past the logical extents (overhangs, Arabic swashes),
  // so the union of ink and logical extents must fit, and nothing is clipped.
  PangoRectangle ink{};
  PangoRectangle logical{};
  pango_layout_get_extents(layout, &ink, &logical);
  pango_extents_to_pixels(&ink, nullptr);
  pango_extents_to_pixels(&logical, nullptr);
  int width = std::max(ink.x + ink.width, logical.x + logical.width) - std::min(ink.x, logical.x);
  int height =
      std::max(ink.y + ink.height, logical.y + logical.height) - std::min(ink.y, logical.y);
  bool lines_ok = style.max_lines == 0 || pango_layout_get_line_count(layout) <= style.max_lines;
  // In 64 bits: text over 2 million pixels wide overflows int in Pango units.
  return std::int64_t{width} * PANGO_SCALE <= area.width &&
         std::int64_t{height} * PANGO_SCALE <= area.height && lines_ok;
}

// Returns the largest size in [MIN_PX, MAX_PX], in 0.5 px steps from MIN_PX
// plus MAX_PX itself, at which the text fits in MODE, or 0 when none does.
// The search assumes that a text which fits at one size fits at any smaller.
double largestFittingSize(PangoLayout* layout, const TextStyle& style, const TextArea& area,
                          double min_px, double max_px, LayoutMode mode) {
  if (layOut(layout, style, area, max_px, mode)) {
    return max_px;
  }
  int steps = static_cast<int>(std::ceil((max_px - min_px) / kSizeStepPx));  // sizes below max
  int low = 0;
  int high = steps - 1;
  double best = 0;
  while (low <= high) {
    int middle = (low + high) / 2;
    double size = min_px + middle * kSizeStepPx;
    if (layOut(layout, style, area, size, mode)) {
      best = size;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

// Chooses the size and mode and leaves LAYOUT laid out with them.
void fitText(PangoLayout* layout, const TextStyle& style, const TextArea& area,
             TextReport& report) {
  double max_px = style.size_px;
  double min_px = style.min_size_px > 0 ? style.min_size_px : max_px;

  for (LayoutMode mode : {LayoutMode::kOneLine, LayoutMode::kWrapped}) {
    if (mode == LayoutMode::kWrapped && !style.wrap) {
      break;
    }
    double size = largestFittingSize(layout, style, area, min_px, max_px, mode);
    if (size > 0) {
      layOut(layout, style, area, size, mode);
      report.size_px = size;
      return;
    }
  }

  // Without wrapping, a height of -1 makes each line one ellipsized line.
  layOut(layout, style, area, min_px, LayoutMode::kOverflow);
  if (!style.wrap) {
    pango_layout_set_height(layout, -1);
  }
  report.size_px = min_px;
  report.overflows = true;
}

}  // namespace

Result<Raster> renderText(const FontLibrary& fonts, std::string_view utf8, const TextStyle& style,
                          int box_width, int box_height, TextReport* report) {
  SMMHUB_RETURN_IF_ERROR(validate(utf8, style, box_width, box_height));
  std::shared_lock lock(fonts.mutex());
  SMMHUB_ASSIGN_OR_RETURN(PangoContext * context, internal::threadContext(fonts));

  std::string text = normalizeBreaks(utf8, style.wrap);
  LayoutPtr layout = createLayout(context, text, style);
  double padding = style.stroke ? style.stroke->width_px / 2 : 0;
  TextArea area{padding, std::max(1, static_cast<int>((box_width - 2 * padding) * PANGO_SCALE)),
                std::max(1, static_cast<int>((box_height - 2 * padding) * PANGO_SCALE))};

  TextReport local_report;
  fitText(layout.get(), style, area, local_report);

  // Ellipsizing pulls the lines that do not fit into the last line, where
  // Pango draws each line separator as a visible symbol. So text that does
  // not fit with its own line breaks is laid out again with spaces.
  std::string joined = style.wrap ? breaksToSpaces(text) : text;
  if (local_report.overflows && joined != text) {
    text = std::move(joined);
    layout = createLayout(context, text, style);
    local_report = TextReport{};
    fitText(layout.get(), style, area, local_report);
  }
  local_report.shrunk = local_report.size_px < style.size_px;

  Raster raster(box_width, box_height);
  internal::drawLayout(layout.get(), style, area.padding_px, raster);
  // A generic family is drawn with the family fontconfig maps it to, which is
  // no fallback.
  std::string family =
      isGenericFamily(style.family) ? matchedFamily(fonts, style.family) : style.family;
  internal::describeLayout(layout.get(), text, family, local_report);
  if (report != nullptr) {
    *report = std::move(local_report);
  }
  return raster;
}

}  // namespace smmhub::render
