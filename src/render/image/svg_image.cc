// The librsvg half of the image adapter. SVG files are parsed from memory with
// no base file, so librsvg resolves no relative or remote reference, and they
// are rendered as vectors straight at the placed size.
#include <librsvg/rsvg.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/log.h"
#include "render/image/image_loader.h"
#include "render/image/internal/image_internal.h"

namespace smmhub::render::internal {
namespace {

struct GObjectDeleter {
  void operator()(gpointer object) const { g_object_unref(object); }
};

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == ':';
}

bool isLocalReference(std::string_view reference) {
  std::string lower(reference.substr(0, 5));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return reference.empty() || reference.front() == '#' || lower == "data:";
}

std::string_view trimReference(std::string_view value) {
  while (!value.empty() && (std::isspace(static_cast<unsigned char>(value.front())) != 0 ||
                            value.front() == '"' || value.front() == '\'')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (std::isspace(static_cast<unsigned char>(value.back())) != 0 ||
                            value.back() == '"' || value.back() == '\'')) {
    value.remove_suffix(1);
  }
  return value;
}

// Collects the values of href and xlink:href attributes (any prefix).
void findHrefAttributes(std::string_view text, std::set<std::string>& references) {
  for (std::size_t at = text.find("href"); at != std::string_view::npos;
       at = text.find("href", at + 4)) {
    bool starts_name = at == 0 || !isNameChar(text[at - 1]) || text[at - 1] == ':';
    std::size_t i = at + 4;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    if (!starts_name || i >= text.size() || text[i] != '=') {
      continue;
    }
    std::size_t open = text.find_first_of("\"'", i + 1);
    std::size_t close = open == std::string_view::npos ? open : text.find(text[open], open + 1);
    if (close == std::string_view::npos) {
      return;
    }
    references.insert(std::string(trimReference(text.substr(open + 1, close - open - 1))));
  }
}

// Collects the arguments of CSS url(...) in style attributes and elements.
void findCssUrls(std::string_view text, std::set<std::string>& references) {
  for (std::size_t at = text.find("url("); at != std::string_view::npos;
       at = text.find("url(", at + 4)) {
    std::size_t close = text.find(')', at + 4);
    if (close == std::string_view::npos) {
      return;
    }
    references.insert(std::string(trimReference(text.substr(at + 4, close - at - 4))));
  }
}

// Warns once per distinct reference that points outside the file.
void warnExternalReferences(std::string_view text, const std::filesystem::path& path,
                            Diagnostics* warnings) {
  std::set<std::string> references;
  findHrefAttributes(text, references);
  findCssUrls(text, references);
  for (const std::string& reference : references) {
    if (isLocalReference(reference) || warnings == nullptr) {
      continue;
    }
    warnings->warning(path.string(), "external reference '" + reference +
                                         "' was not fetched; embed it as a data: URL");
  }
}

// Returns the size of the SVG's coordinate system: the viewBox, else the
// absolute width and height, else the box (the image then fills the box).
std::pair<double, double> documentSize(RsvgHandle* handle, int box_width, int box_height) {
  gboolean has_width = FALSE;
  gboolean has_height = FALSE;
  gboolean has_viewbox = FALSE;
  RsvgLength width{};
  RsvgLength height{};
  RsvgRectangle viewbox{};
  rsvg_handle_get_intrinsic_dimensions(handle, &has_width, &width, &has_height, &height,
                                       &has_viewbox, &viewbox);
  if (has_viewbox && viewbox.width > 0 && viewbox.height > 0) {
    return {viewbox.width, viewbox.height};
  }

  double pixel_width = 0;
  double pixel_height = 0;
  if (rsvg_handle_get_intrinsic_size_in_pixels(handle, &pixel_width, &pixel_height) &&
      pixel_width > 0 && pixel_height > 0) {
    return {pixel_width, pixel_height};
  }
  return {static_cast<double>(box_width), static_cast<double>(box_height)};
}

Status renderSvg(RsvgHandle* handle, const ImageRequest& request, Raster& box) {
  auto [doc_width, doc_height] = documentSize(handle, request.box_width, request.box_height);
  PlacedRect rect =
      placeInBox(doc_width, doc_height, request.box_width, request.box_height, request.fit);

  // The document is laid out in its own units, then scaled to the placed
  // rectangle, so that a huge declared canvas never allocates its pixels.
  cairo_surface_t* surface = wrapRaster(box);
  cairo_t* context = cairo_create(surface);
  clipRoundedRect(context, rect, request.corner_radius);
  cairo_translate(context, rect.x, rect.y);
  cairo_scale(context, rect.width / doc_width, rect.height / doc_height);
  RsvgRectangle viewport{0, 0, doc_width, doc_height};
  GError* error = nullptr;
  gboolean rendered = rsvg_handle_render_document(handle, context, &viewport, &error);
  cairo_destroy(context);
  cairo_surface_flush(surface);
  cairo_surface_destroy(surface);

  if (!rendered) {
    std::string message = error != nullptr ? error->message : "unknown error";
    g_clear_error(&error);
    return Status::invalidArgument(request.path.string() + ": SVG rendering failed: " + message);
  }
  logger("render")->debug("svg rendered path={} document={}x{} box={}x{}", request.path.string(),
                          doc_width, doc_height, request.box_width, request.box_height);
  return okStatus();
}

}  // namespace

Result<Raster> loadSvgImage(const ImageRequest& request, const ImageLimits& limits,
                            Diagnostics* warnings) {
  SMMHUB_ASSIGN_OR_RETURN(std::string text, readFileBytes(request.path, limits.max_file_bytes));
  warnExternalReferences(text, request.path, warnings);

  // From memory, with no base file: librsvg cannot resolve any href, and its
  // libxml2 parser loads no external DTD.
  GError* error = nullptr;
  std::unique_ptr<RsvgHandle, GObjectDeleter> handle(
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(text.data()), text.size(), &error));
  if (!handle) {
    std::string message = error != nullptr ? error->message : "unknown error";
    g_clear_error(&error);
    return Status::invalidArgument(request.path.string() + ": invalid SVG: " + message);
  }

  Raster box(request.box_width, request.box_height);
  SMMHUB_RETURN_IF_ERROR(renderSvg(handle.get(), request, box));
  return box;
}

}  // namespace smmhub::render::internal
