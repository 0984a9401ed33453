// Text adapter: shapes plain UTF-8 text with Pango (HarfBuzz shaping, bidi,
// fontconfig fallback) and draws it with cairo into a box-sized Raster.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto fonts, FontLibrary::create());
//   SMMHUB_RETURN_IF_ERROR(fonts->addFontFile("brand/Club-Bold.otf"));
//   TextStyle style{.family = "Club", .weight = 700, .size_px = 72, .min_size_px = 40};
//   TextReport report;
//   SMMHUB_ASSIGN_OR_RETURN(Raster name, renderText(*fonts, "Brighton & Hove", style, 460, 120,
//                                                   &report));
//
// Text is never parsed as markup, so '&' and '<b>' are drawn as typed.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "render/raster.h"

using FcConfig = struct _FcConfig;

namespace smmhub::render {

// A fontconfig configuration: the system's fonts plus brand font files. Pango
// font maps are not thread-safe, so renderText() keeps one font map per thread
// per FontLibrary. All methods are thread-safe.
class FontLibrary {
 public:
  // Loads the system fontconfig configuration (FcInitLoadConfigAndFonts).
  static Result<std::unique_ptr<FontLibrary>> create();

  ~FontLibrary();
  FontLibrary(const FontLibrary&) = delete;
  FontLibrary& operator=(const FontLibrary&) = delete;

  // Adds a font file (TTF, OTF, TTC) for this library only. Returns
  // invalidArgument naming the file when fontconfig cannot read it. Renders
  // on other threads wait while the font is added.
  Status addFontFile(const std::filesystem::path& path);

  FcConfig* config() const { return config_; }
  // Process-unique id, so that per-thread caches never confuse two libraries.
  std::uint64_t id() const { return id_; }
  // Number of addFontFile() calls so far; per-thread font maps are rebuilt
  // when it changes.
  std::uint64_t generation() const { return generation_.load(); }
  std::shared_mutex& mutex() const { return mutex_; }

 private:
  FontLibrary(FcConfig* config, std::uint64_t id) : config_(config), id_(id) {}

  FcConfig* config_;
  std::uint64_t id_;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::shared_mutex mutex_;
};

struct Stroke {
  Color color;
  double width_px = 0;
};

struct Shadow {
  Color color;
  double dx = 0;
  double dy = 0;
  double blur_px = 0;
};

struct TextStyle {
  std::string family = "Inter";
  int weight = 400;  // CSS weight, 100 to 900
  bool italic = false;
  double size_px = 48;
  // Smallest size shrink-to-fit may use; 0 means size_px, so no shrinking.
  double min_size_px = 0;
  Color color;
  enum class Align {
    kLeft,
    kCenter,
    kRight,
  } align = Align::kCenter;
  enum class VAlign {
    kTop,
    kMiddle,
    kBottom,
  } valign = VAlign::kMiddle;
  // Multiplier of the font's line height; 0 keeps the font's default.
  double line_height = 0;
  double letter_spacing_px = 0;
  int max_lines = 0;  // 0 = no limit beyond the box height
  bool wrap = true;
  std::optional<Stroke> stroke;
  std::optional<Shadow> shadow;
};

// A run of text drawn with a font other than TextStyle::family.
struct FontFallback {
  std::string text;
  std::string font_family;
};

// Outcome of one renderText() call: the size used, line count and fonts.
struct TextReport {
  double size_px = 0;
  int line_count = 0;
  bool shrunk = false;
  // The text did not fit even at the minimum size, so it was wrapped and
  // ellipsized.
  bool overflows = false;
  bool ellipsized = false;
  bool right_to_left = false;
  int unknown_glyphs = 0;
  std::vector<FontFallback> fallbacks;
  // Characters no installed font has, drawn as boxes, in text order.
  std::string missing_characters;
};

// Draws UTF8 as plain text in a BOX_WIDTH x BOX_HEIGHT Raster, aligned per
// STYLE. When style.min_size_px < style.size_px, uses the largest size in
// steps of 0.5 px at which the text fits: on one line if possible, else
// wrapped at word boundaries within max_lines. Text that does not fit at the
// minimum size is wrapped (breaking inside words if needed) and its last line
// ellipsized. "\n", "\r\n" and "\r" are line breaks, unless the text does not
// fit its box at the minimum size with them: then, when wrapping, they become
// spaces and the text is fitted again. Fills REPORT when not null. Returns
// invalidArgument for invalid UTF-8 or an invalid style or box.
//
// NOTE: kLeft and kRight are physical sides, also for right-to-left text.
Result<Raster> renderText(const FontLibrary& fonts, std::string_view utf8, const TextStyle& style,
                          int box_width, int box_height, TextReport* report);

// Returns the font file fontconfig picks for FAMILY at WEIGHT (CSS, 100 to
// 900) and style. Returns notFound "font family 'X' is not installed;
// fontconfig would use 'Y'" when fontconfig substitutes another family, so
// that the caller can warn and go on.
Result<std::string> resolveFontFile(const FontLibrary& fonts, const std::string& family, int weight,
                                    bool italic);

// Returns whether FAMILY is a CSS generic family ("sans-serif", "serif",
// "monospace", ...), which fontconfig maps to an installed family.
bool isGenericFamily(const std::string& family);

// Returns the family fontconfig draws FAMILY with: FAMILY itself when it is
// installed, or the family a generic name or a missing one maps to.
std::string matchedFamily(const FontLibrary& fonts, const std::string& family);

}  // namespace smmhub::render
