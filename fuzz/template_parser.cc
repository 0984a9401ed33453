// Fuzzes parseTemplate() with any text as template.json, and binds what it
// accepts to an empty row of an empty brand kit.
//
// Invariants: a rejected template is invalidArgument naming template.json,
// with at least one error in the diagnostics; an accepted one has none, and
// keeps the documented limits (canvas, fps, duration, layers, fields), its
// keyframes in time order and its literal colours as "#RRGGBBAA".
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/diagnostics.h"
#include "fuzz_check.h"
#include "template/binding.h"
#include "template/field_expr.h"
#include "template/parser.h"

namespace {

using namespace smmhub;
using namespace smmhub::templates;

bool isNormalColor(const std::string& color) {
  if (color.size() != 9 || color[0] != '#') {
    return false;
  }
  for (size_t i = 1; i < color.size(); ++i) {
    char c = color[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

void checkColor(const std::string& color, const std::string& where) {
  SMMHUB_FUZZ_CHECK(color.empty() || hasFields(color) || isNormalColor(color),
                    where + ": colour '" + color + "'");
}

void checkLayer(const Layer& layer, double scene_duration_s) {
  SMMHUB_FUZZ_CHECK(!layer.pointer.empty(), "layer " + layer.id + " has no pointer");
  SMMHUB_FUZZ_CHECK(std::isfinite(layer.start_s) && layer.start_s >= 0, layer.pointer);
  for (const Track& track : layer.tracks) {
    for (size_t i = 0; i < track.keyframes.size(); ++i) {
      const Keyframe& keyframe = track.keyframes[i];
      SMMHUB_FUZZ_CHECK(std::isfinite(keyframe.time_s) && std::isfinite(keyframe.value),
                        layer.pointer);
      SMMHUB_FUZZ_CHECK(keyframe.time_s <= scene_duration_s + 1e-9, layer.pointer);
      SMMHUB_FUZZ_CHECK(i == 0 || track.keyframes[i - 1].time_s <= keyframe.time_s,
                        layer.pointer + ": keyframes out of time order");
    }
  }
  if (const auto* text = std::get_if<TextProps>(&layer.props)) {
    checkColor(text->color, layer.pointer);
  }
  if (const auto* shape = std::get_if<ShapeProps>(&layer.props)) {
    checkColor(shape->fill.color, layer.pointer);
    for (const GradientStop& stop : shape->fill.stops) {
      checkColor(stop.color, layer.pointer);
    }
  }
}

void checkAccepted(const Template& parsed, const Diagnostics& problems) {
  SMMHUB_FUZZ_CHECK(!problems.hasErrors(), "accepted with errors");
  const Canvas& canvas = parsed.canvas;
  SMMHUB_FUZZ_CHECK(canvas.width >= 16 && canvas.width <= kMaxCanvasSide && canvas.width % 2 == 0,
                    std::to_string(canvas.width));
  SMMHUB_FUZZ_CHECK(
      canvas.height >= 16 && canvas.height <= kMaxCanvasSide && canvas.height % 2 == 0,
      std::to_string(canvas.height));
  SMMHUB_FUZZ_CHECK(canvas.fps >= 1 && canvas.fps <= kMaxFps, std::to_string(canvas.fps));
  checkColor(canvas.background, "/canvas");
  SMMHUB_FUZZ_CHECK(!parsed.scenes.empty(), "no scenes");
  SMMHUB_FUZZ_CHECK(parsed.durationS() > 0 && parsed.durationS() <= kMaxDurationS,
                    std::to_string(parsed.durationS()));
  SMMHUB_FUZZ_CHECK(parsed.fields.size() <= static_cast<size_t>(kMaxFields), "too many fields");

  size_t layers = parsed.audio.size();
  for (const Scene& scene : parsed.scenes) {
    SMMHUB_FUZZ_CHECK(!scene.pointer.empty(), "scene " + scene.id + " has no pointer");
    SMMHUB_FUZZ_CHECK(scene.duration_s > 0, scene.pointer);
    checkColor(scene.background, scene.pointer);
    for (const Layer& layer : scene.layers) {
      checkLayer(layer, scene.duration_s);
    }
    layers += scene.layers.size();
  }
  SMMHUB_FUZZ_CHECK(layers <= static_cast<size_t>(kMaxLayers), std::to_string(layers));
  SMMHUB_FUZZ_CHECK(parsed.poster_time_s == -1 ||
                        (parsed.poster_time_s >= 0 && parsed.poster_time_s < parsed.durationS()),
                    std::to_string(parsed.poster_time_s));
}

// Binds PARSED to one row whose cells are all empty, with no brand kit, as
// `smmhub validate` does for a template without data. Whatever it reports
// must be a Status, not a crash.
void bindEmptyRow(const Template& parsed) {
  DataTable table;
  table.columns = referencedFields(parsed);
  DataRow row{.number = 1, .line = 2, .values = std::vector<std::string>(table.columns.size())};
  BrandKit brand;
  Diagnostics problems;
  checkBrandReferences(parsed, brand, &problems);
  Result<Template> bound = bindTemplate(parsed, brand, table, row, {}, "/nonexistent", &problems);
  if (!bound.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(bound.status());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Diagnostics problems;
  Result<Template> parsed = parseTemplate(text, "template.json", &problems);
  if (!parsed.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(parsed.status());
    SMMHUB_FUZZ_CHECK(parsed.status().message().starts_with("template.json"),
                      parsed.status().message());
    SMMHUB_FUZZ_CHECK(problems.hasErrors(), "rejected without a diagnostic");
    return 0;
  }
  checkAccepted(*parsed, problems);
  bindEmptyRow(*parsed);
  return 0;
}
