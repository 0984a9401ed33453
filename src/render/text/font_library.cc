// FontLibrary, its per-thread Pango font maps, and font file resolution.
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <pango/pangofc-fontmap.h>

#include "common/log.h"
#include "render/text/internal/font_context.h"
#include "render/text/text_renderer.h"

namespace smmhub::render {
namespace {

std::atomic<std::uint64_t> next_library_id{1};

// One Pango font map and context per thread and FontLibrary, because Pango
// font maps must not be shared between threads.
struct ThreadFonts {
  PangoFontMap* font_map = nullptr;
  PangoContext* context = nullptr;
  std::uint64_t generation = 0;

  ThreadFonts() = default;
  ThreadFonts(const ThreadFonts&) = delete;
  ThreadFonts& operator=(const ThreadFonts&) = delete;
  ~ThreadFonts() {
    if (context != nullptr) {
      g_object_unref(context);
    }
    if (font_map != nullptr) {
      // Shutting down releases the fonts, which cairo's font cache would
      // otherwise keep alive together with the map and its FcConfig.
      pango_fc_font_map_shutdown(PANGO_FC_FONT_MAP(font_map));
      g_object_unref(font_map);
    }
  }
};

thread_local std::unordered_map<std::uint64_t, ThreadFonts> thread_fonts;
thread_local std::uint64_t thread_seen_destroyed = 0;

// Ids of live libraries, so that each thread can drop the font maps of
// destroyed ones the next time it renders.
std::mutex live_mutex;
std::unordered_set<std::uint64_t> live_ids;
std::atomic<std::uint64_t> destroyed_count{0};

void dropDestroyedLibraries() {
  std::uint64_t destroyed = destroyed_count.load();
  if (destroyed == thread_seen_destroyed) {
    return;
  }
  std::lock_guard lock(live_mutex);
  std::erase_if(thread_fonts, [](const auto& entry) { return !live_ids.contains(entry.first); });
  thread_seen_destroyed = destroyed;
}

// Renders without hinting and with fractional glyph positions, so that text
// extents scale smoothly with the size, as shrink-to-fit's search expects.
void configureContext(PangoContext* context) {
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options(context, options);
  cairo_font_options_destroy(options);
  pango_context_set_round_glyph_positions(context, FALSE);
}

}  // namespace

Result<std::unique_ptr<FontLibrary>> FontLibrary::create() {
  FcConfig* config = FcInitLoadConfigAndFonts();
  if (config == nullptr) {
    return Status::internal(
        "fontconfig failed to load its configuration; check FONTCONFIG_FILE and /etc/fonts");
  }
  std::uint64_t id = next_library_id++;
  std::lock_guard lock(live_mutex);
  live_ids.insert(id);
  return std::unique_ptr<FontLibrary>(new FontLibrary(config, id));
}

FontLibrary::~FontLibrary() {
  {
    std::lock_guard lock(live_mutex);
    live_ids.erase(id_);
  }
  destroyed_count++;
  FcConfigDestroy(config_);
}

Status FontLibrary::addFontFile(const std::filesystem::path& path) {
  std::unique_lock lock(mutex_);
  const auto* file = reinterpret_cast<const FcChar8*>(path.c_str());
  if (FcConfigAppFontAddFile(config_, file) == FcFalse) {
    return Status::invalidArgument(path.string() +
                                   ": font file could not be read by fontconfig; check that it "
                                   "exists and is a TTF, OTF or TTC font");
  }
  generation_++;
  logger("render")->debug("font added path={} library={}", path.string(), id_);
  return okStatus();
}

namespace internal {

Result<PangoContext*> threadContext(const FontLibrary& fonts) {
  dropDestroyedLibraries();
  auto found = thread_fonts.find(fonts.id());
  if (found != thread_fonts.end() && found->second.generation == fonts.generation()) {
    return found->second.context;
  }

  // A font was added since this thread's font map was built: build a new one.
  if (found != thread_fonts.end()) {
    thread_fonts.erase(found);
  }
  ThreadFonts& entry = thread_fonts[fonts.id()];
  entry.generation = fonts.generation();
  entry.font_map = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
  if (entry.font_map == nullptr) {
    thread_fonts.erase(fonts.id());
    return Status::internal("Pango has no FreeType font map; the Pango build lacks FreeType");
  }
  pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(entry.font_map), fonts.config());
  entry.context = pango_font_map_create_context(entry.font_map);
  configureContext(entry.context);
  return entry.context;
}

}  // namespace internal

namespace {

// Returns fontconfig's best match for FAMILY, or null. The caller frees it.
FcPattern* matchFont(const FontLibrary& fonts, const std::string& family, int weight, bool italic) {
  std::shared_lock lock(fonts.mutex());
  FcPattern* pattern = FcPatternCreate();
  FcPatternAddString(pattern, FC_FAMILY, reinterpret_cast<const FcChar8*>(family.c_str()));
  FcPatternAddInteger(pattern, FC_WEIGHT, FcWeightFromOpenType(weight));
  FcPatternAddInteger(pattern, FC_SLANT, italic ? FC_SLANT_ITALIC : FC_SLANT_ROMAN);
  FcConfigSubstitute(fonts.config(), pattern, FcMatchPattern);
  FcDefaultSubstitute(pattern);
  FcResult result = FcResultNoMatch;
  FcPattern* match = FcFontMatch(fonts.config(), pattern, &result);
  FcPatternDestroy(pattern);
  return match;
}

}  // namespace

bool isGenericFamily(const std::string& family) {
  for (const char* generic : {"sans-serif", "sans", "serif", "monospace", "mono", "cursive",
                              "fantasy", "emoji", "math", "system-ui"}) {
    if (g_ascii_strcasecmp(family.c_str(), generic) == 0) {
      return true;
    }
  }
  return false;
}

std::string matchedFamily(const FontLibrary& fonts, const std::string& family) {
  FcPattern* match = matchFont(fonts, family, 400, false);
  if (match == nullptr) {
    return family;
  }
  FcChar8* matched = nullptr;
  std::string result = family;
  if (FcPatternGetString(match, FC_FAMILY, 0, &matched) == FcResultMatch) {
    result = reinterpret_cast<const char*>(matched);
  }
  FcPatternDestroy(match);
  return result;
}

Result<std::string> resolveFontFile(const FontLibrary& fonts, const std::string& family, int weight,
                                    bool italic) {
  FcPattern* match = matchFont(fonts, family, weight, italic);
  if (match == nullptr) {
    return Status::notFound("font family '" + family +
                            "' is not installed and fontconfig has "
                            "no font to use instead");
  }

  // A font may carry several family names (localised, or "Inter Display"
  // beside "Inter"); any of them counts as the requested family.
  bool installed = false;
  FcChar8* matched_family = nullptr;
  std::string first_family;
  for (int i = 0; FcPatternGetString(match, FC_FAMILY, i, &matched_family) == FcResultMatch; ++i) {
    first_family = i == 0 ? reinterpret_cast<const char*>(matched_family) : first_family;
    installed =
        installed ||
        FcStrCmpIgnoreCase(matched_family, reinterpret_cast<const FcChar8*>(family.c_str())) == 0;
  }
  FcChar8* file = nullptr;
  std::string path;
  if (FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch) {
    path = reinterpret_cast<const char*>(file);
  }
  FcPatternDestroy(match);

  if (!installed) {
    return Status::notFound("font family '" + family +
                            "' is not installed; fontconfig would use '" + first_family + "'");
  }
  return path;
}

}  // namespace smmhub::render
