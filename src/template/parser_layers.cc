// Layers: geometry, timing, keyframes, animation presets and the properties
// of each kind.
#include <algorithm>
#include <map>
#include <sstream>

#include "template/parser_internal.h"

namespace smmhub::templates::internal {

const std::vector<EnumName<Easing>> kEasingNames = {
    {"linear", Easing::kLinear},
    {"quad-in", Easing::kQuadIn},
    {"quad-out", Easing::kQuadOut},
    {"quad-in-out", Easing::kQuadInOut},
    {"cubic-in", Easing::kCubicIn},
    {"cubic-out", Easing::kCubicOut},
    {"cubic-in-out", Easing::kCubicInOut},
    {"back-in", Easing::kBackIn},
    {"back-out", Easing::kBackOut},
    {"back-in-out", Easing::kBackInOut},
    {"elastic-in", Easing::kElasticIn},
    {"elastic-out", Easing::kElasticOut},
    {"elastic-in-out", Easing::kElasticInOut},
    {"step", Easing::kStep},
};

namespace {

// Coordinates beyond this are surely a typo; they also keep arithmetic finite.
constexpr double kMaxCoordinate = 100000;

const std::vector<EnumName<LayerKind>> kLayerKindNames = {
    {"image", LayerKind::kImage}, {"text", LayerKind::kText},   {"shape", LayerKind::kShape},
    {"video", LayerKind::kVideo}, {"audio", LayerKind::kAudio},
};

const std::vector<EnumName<Anchor>> kAnchorNames = {
    {"top-left", Anchor::kTopLeft},
    {"top", Anchor::kTop},
    {"top-right", Anchor::kTopRight},
    {"left", Anchor::kLeft},
    {"center", Anchor::kCenter},
    {"right", Anchor::kRight},
    {"bottom-left", Anchor::kBottomLeft},
    {"bottom", Anchor::kBottom},
    {"bottom-right", Anchor::kBottomRight},
};

const std::vector<EnumName<Fit>> kFitNames = {
    {"cover", Fit::kCover}, {"contain", Fit::kContain}, {"fill", Fit::kFill}};

const std::vector<EnumName<TextAlign>> kAlignNames = {
    {"left", TextAlign::kLeft}, {"center", TextAlign::kCenter}, {"right", TextAlign::kRight}};

const std::vector<EnumName<VerticalAlign>> kVerticalAlignNames = {
    {"top", VerticalAlign::kTop},
    {"middle", VerticalAlign::kMiddle},
    {"bottom", VerticalAlign::kBottom}};

const std::vector<EnumName<ShapeType>> kShapeNames = {{"rectangle", ShapeType::kRectangle},
                                                      {"ellipse", ShapeType::kEllipse},
                                                      {"line", ShapeType::kLine}};

const std::vector<EnumName<FillType>> kFillTypeNames = {
    {"solid", FillType::kSolid}, {"linear", FillType::kLinear}, {"radial", FillType::kRadial}};

const std::vector<EnumName<bool>> kFontStyleNames = {{"normal", false}, {"italic", true}};

const std::vector<EnumName<Property>> kPropertyNames = {
    {"x", Property::kX},
    {"y", Property::kY},
    {"scale", Property::kScale},
    {"rotation", Property::kRotation},
    {"opacity", Property::kOpacity},
};

enum class Preset {
  kFadeIn,
  kFadeOut,
  kSlideInLeft,
  kSlideInRight,
  kSlideInTop,
  kSlideInBottom,
  kSlideOutLeft,
  kSlideOutRight,
  kSlideOutTop,
  kSlideOutBottom,
  kPop,
};

const std::vector<EnumName<Preset>> kPresetNames = {
    {"fade-in", Preset::kFadeIn},
    {"fade-out", Preset::kFadeOut},
    {"slide-in-left", Preset::kSlideInLeft},
    {"slide-in-right", Preset::kSlideInRight},
    {"slide-in-top", Preset::kSlideInTop},
    {"slide-in-bottom", Preset::kSlideInBottom},
    {"slide-out-left", Preset::kSlideOutLeft},
    {"slide-out-right", Preset::kSlideOutRight},
    {"slide-out-top", Preset::kSlideOutTop},
    {"slide-out-bottom", Preset::kSlideOutBottom},
    {"pop", Preset::kPop},
};

std::string_view propertyName(Property property) {
  for (const auto& entry : kPropertyNames) {
    if (entry.value == property) {
      return entry.name;
    }
  }
  return "?";
}

std::string seconds(double value) {
  std::ostringstream text;
  text << value << " s";
  return text.str();
}

// Keyframes of one property with the place that set them.
struct TrackSource {
  std::string pointer;
  double start_s = 0;
  double end_s = 0;
  std::vector<Keyframe> keyframes;
};

struct LayerTiming {
  double scene_duration_s = 0;
  double start_s = 0;
  double end_s = 0;  // resolved: the scene's end when the layer has none
};

Geometry parseGeometry(ObjectReader& reader, const ParseContext& context) {
  Geometry geometry;
  geometry.x = reader.number("x", 0, -kMaxCoordinate, kMaxCoordinate);
  geometry.y = reader.number("y", 0, -kMaxCoordinate, kMaxCoordinate);
  geometry.width = reader.number("width", context.canvas_width, 0, kMaxCoordinate);
  geometry.height = reader.number("height", context.canvas_height, 0, kMaxCoordinate);
  geometry.anchor = reader.choice("anchor", kAnchorNames, Anchor::kTopLeft, "anchor");
  geometry.opacity = reader.number("opacity", 1, 0, 1);
  geometry.scale = reader.number("scale", 1, 0, 100);
  geometry.rotation_deg = reader.number("rotation", 0, -3600, 3600);
  return geometry;
}

LayerTiming parseTiming(ObjectReader& reader, double scene_duration_s, Layer* layer,
                        ParseContext* context) {
  layer->start_s = reader.number("start", 0, 0, kMaxDurationS);
  layer->end_s = reader.number("end", -1, 0, kMaxDurationS);
  if (layer->start_s >= scene_duration_s && reader.has("start")) {
    context->error(reader.at("start"), "layer starts at " + seconds(layer->start_s) +
                                           ", not before the end of its scene (" +
                                           seconds(scene_duration_s) + ")");
  }
  if (layer->end_s >= 0 && layer->end_s > scene_duration_s) {
    context->error(reader.at("end"), "layer ends at " + seconds(layer->end_s) +
                                         ", after the end of its scene (" +
                                         seconds(scene_duration_s) + ")");
  }
  if (layer->end_s >= 0 && layer->end_s <= layer->start_s) {
    context->error(reader.at("end"), "layer ends at " + seconds(layer->end_s) +
                                         ", not after its start (" + seconds(layer->start_s) + ")");
  }
  double end_s = layer->end_s < 0 ? scene_duration_s : layer->end_s;
  return LayerTiming{scene_duration_s, layer->start_s, end_s};
}

std::vector<Keyframe> parseKeyframeList(const nlohmann::json& json, const std::string& pointer,
                                        Property property, double scene_duration_s,
                                        ParseContext* context) {
  std::vector<Keyframe> keyframes;
  if (!json.is_array() || json.empty()) {
    context->error(pointer, "expected a non-empty array of keyframes {time, value, easing}");
    return keyframes;
  }
  for (size_t i = 0; i < json.size(); ++i) {
    ObjectReader reader(json[i], childPointer(pointer, i), context);
    Keyframe keyframe;
    keyframe.time_s = reader.number("time", 0, 0, kMaxDurationS);
    keyframe.value = reader.number("value", 0, -kMaxCoordinate, kMaxCoordinate);
    keyframe.easing = reader.choice("easing", kEasingNames, Easing::kLinear, "easing");
    if (!reader.has("time") || !reader.has("value")) {
      context->error(reader.pointer(), "a keyframe needs both 'time' and 'value'");
    }
    if (keyframe.time_s > scene_duration_s) {
      context->error(reader.at("time"), "keyframe at " + seconds(keyframe.time_s) +
                                            " is after the end of its scene (" +
                                            seconds(scene_duration_s) + ")");
    }
    if (!keyframes.empty() && keyframe.time_s < keyframes.back().time_s) {
      context->error(reader.at("time"), "keyframes must be in time order; " +
                                            seconds(keyframe.time_s) + " comes after " +
                                            seconds(keyframes.back().time_s));
    }
    if (property == Property::kOpacity && (keyframe.value < 0 || keyframe.value > 1)) {
      context->error(reader.at("value"), "opacity must be between 0 and 1");
    }
    reader.finish();
    keyframes.push_back(keyframe);
  }
  return keyframes;
}

void parseKeyframes(const nlohmann::json& json, const std::string& pointer, double scene_duration_s,
                    std::map<Property, std::vector<TrackSource>>* sources, ParseContext* context) {
  ObjectReader reader(json, pointer, context);
  for (const auto& [name, property] : kPropertyNames) {
    if (const nlohmann::json* list = reader.get(name)) {
      std::vector<Keyframe> keyframes =
          parseKeyframeList(*list, reader.at(name), property, scene_duration_s, context);
      if (!keyframes.empty()) {
        (*sources)[property].push_back(TrackSource{reader.at(name), keyframes.front().time_s,
                                                   keyframes.back().time_s, keyframes});
      }
    }
  }
  reader.finish();
}

Easing defaultEasing(Preset preset) {
  switch (preset) {
    case Preset::kFadeIn:
    case Preset::kFadeOut:
      return Easing::kLinear;
    case Preset::kPop:
      return Easing::kBackOut;
    case Preset::kSlideOutLeft:
    case Preset::kSlideOutRight:
    case Preset::kSlideOutTop:
    case Preset::kSlideOutBottom:
      return Easing::kCubicIn;
    default:
      return Easing::kCubicOut;
  }
}

bool isOutPreset(Preset preset) {
  return preset == Preset::kFadeOut || preset == Preset::kSlideOutLeft ||
         preset == Preset::kSlideOutRight || preset == Preset::kSlideOutTop ||
         preset == Preset::kSlideOutBottom;
}

// Fraction of the box's width and height that lies left of and above the
// anchor point.
std::pair<double, double> anchorFractions(Anchor anchor) {
  switch (anchor) {
    case Anchor::kTopLeft:
      return {0, 0};
    case Anchor::kTop:
      return {0.5, 0};
    case Anchor::kTopRight:
      return {1, 0};
    case Anchor::kLeft:
      return {0, 0.5};
    case Anchor::kCenter:
      return {0.5, 0.5};
    case Anchor::kRight:
      return {1, 0.5};
    case Anchor::kBottomLeft:
      return {0, 1};
    case Anchor::kBottom:
      return {0.5, 1};
    case Anchor::kBottomRight:
      return {1, 1};
  }
  return {0, 0};
}

struct PresetMotion {
  Property property = Property::kOpacity;
  double from = 0;
  double to = 0;
};

// Works out what PRESET moves and between which values. DISTANCE < 0 means
// "far enough that the box starts or ends fully off the canvas".
PresetMotion presetMotion(Preset preset, const Geometry& g, double distance,
                          const ParseContext& context) {
  auto [fx, fy] = anchorFractions(g.anchor);
  double left = g.x - fx * g.width * g.scale;
  double top = g.y - fy * g.height * g.scale;
  double off_left = distance >= 0 ? distance : left + g.width * g.scale;
  double off_right = distance >= 0 ? distance : context.canvas_width - left;
  double off_top = distance >= 0 ? distance : top + g.height * g.scale;
  double off_bottom = distance >= 0 ? distance : context.canvas_height - top;
  switch (preset) {
    case Preset::kFadeIn:
      return {Property::kOpacity, 0, 1};
    case Preset::kFadeOut:
      return {Property::kOpacity, 1, 0};
    case Preset::kPop:
      return {Property::kScale, 0, g.scale};
    case Preset::kSlideInLeft:
      return {Property::kX, g.x - off_left, g.x};
    case Preset::kSlideInRight:
      return {Property::kX, g.x + off_right, g.x};
    case Preset::kSlideInTop:
      return {Property::kY, g.y - off_top, g.y};
    case Preset::kSlideInBottom:
      return {Property::kY, g.y + off_bottom, g.y};
    case Preset::kSlideOutLeft:
      return {Property::kX, g.x, g.x - off_left};
    case Preset::kSlideOutRight:
      return {Property::kX, g.x, g.x + off_right};
    case Preset::kSlideOutTop:
      return {Property::kY, g.y, g.y - off_top};
    case Preset::kSlideOutBottom:
      return {Property::kY, g.y, g.y + off_bottom};
  }
  return {};
}

void parseAnimation(const nlohmann::json& json, const std::string& pointer,
                    const Geometry& geometry, const LayerTiming& timing,
                    std::map<Property, std::vector<TrackSource>>* sources, ParseContext* context) {
  ObjectReader reader(json, pointer, context);
  if (!reader.has("preset")) {
    context->error(reader.at("preset"),
                   "missing 'preset'; expected one of fade-in, fade-out, "
                   "slide-in-left, slide-out-left (and -right, -top, "
                   "-bottom), pop");
  }
  Preset preset = reader.choice("preset", kPresetNames, Preset::kFadeIn, "animation preset");
  double duration_s = reader.number("duration", 0.5, 0, kMaxDurationS);
  double default_start_s = isOutPreset(preset) ? timing.end_s - duration_s : timing.start_s;
  double start_s = reader.number("start", std::max(0.0, default_start_s), 0, kMaxDurationS);
  Easing easing = reader.choice("easing", kEasingNames, defaultEasing(preset), "easing");
  double distance = reader.number("distance", -1, 0, kMaxCoordinate);
  reader.finish();

  if (duration_s <= 0) {
    context->error(reader.at("duration"), "animation duration must be greater than 0 s");
    return;
  }
  if (start_s + duration_s > timing.scene_duration_s + 1e-9) {
    context->error(reader.pointer(), "animation ends at " + seconds(start_s + duration_s) +
                                         ", after the end of its scene (" +
                                         seconds(timing.scene_duration_s) + ")");
  }
  PresetMotion motion = presetMotion(preset, geometry, distance, *context);
  (*sources)[motion.property].push_back(
      TrackSource{pointer,
                  start_s,
                  start_s + duration_s,
                  {Keyframe{start_s, motion.from, Easing::kStep},
                   Keyframe{start_s + duration_s, motion.to, easing}}});
}

// Joins the keyframes set for each property into one track, rejecting
// sources that overlap in time.
std::vector<Track> mergeTracks(std::map<Property, std::vector<TrackSource>>& sources,
                               ParseContext* context) {
  std::vector<Track> tracks;
  for (auto& [property, list] : sources) {
    std::stable_sort(list.begin(), list.end(), [](const TrackSource& a, const TrackSource& b) {
      return a.start_s < b.start_s;
    });
    Track track;
    track.property = property;
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0 && list[i].start_s < list[i - 1].end_s) {
        context->error(list[i].pointer, "animates " + std::string(propertyName(property)) +
                                            " while " + list[i - 1].pointer +
                                            " also does; make their times not overlap");
      }
      track.keyframes.insert(track.keyframes.end(), list[i].keyframes.begin(),
                             list[i].keyframes.end());
    }
    tracks.push_back(std::move(track));
  }
  return tracks;
}

std::optional<Stroke> parseStroke(ObjectReader& parent, ParseContext* context) {
  const nlohmann::json* json = parent.get("stroke");
  if (json == nullptr) {
    return std::nullopt;
  }
  ObjectReader reader(*json, parent.at("stroke"), context);
  Stroke stroke;
  stroke.color = reader.color("color", "");
  stroke.width = reader.number("width", 1, 0, 1000);
  if (!reader.has("color")) {
    context->error(reader.at("color"), "a stroke needs a 'color'");
  }
  reader.finish();
  return stroke;
}

std::optional<Shadow> parseShadow(ObjectReader& parent, ParseContext* context) {
  const nlohmann::json* json = parent.get("shadow");
  if (json == nullptr) {
    return std::nullopt;
  }
  ObjectReader reader(*json, parent.at("shadow"), context);
  Shadow shadow;
  shadow.color = reader.color("color", "#00000080");
  shadow.dx = reader.number("dx", 0, -1000, 1000);
  shadow.dy = reader.number("dy", 0, -1000, 1000);
  shadow.blur = reader.number("blur", 0, 0, 1000);
  reader.finish();
  return shadow;
}

std::string requiredText(ObjectReader& reader, std::string_view key, std::string_view hint,
                         ParseContext* context) {
  if (!reader.has(key)) {
    context->error(reader.at(key), "missing '" + std::string(key) + "'; " + std::string(hint));
  }
  return reader.text(key, "");
}

ImageProps parseImage(ObjectReader& reader, ParseContext* context) {
  ImageProps image;
  image.src =
      requiredText(reader, "src", "give a file path or a field such as {{brand.logo}}", context);
  image.fit = reader.choice("fit", kFitNames, Fit::kContain, "fit");
  image.corner_radius = reader.number("cornerRadius", 0, 0, kMaxCoordinate);
  return image;
}

void parseFont(ObjectReader& parent, TextProps* text, ParseContext* context) {
  const nlohmann::json* json = parent.get("font");
  if (json == nullptr) {
    return;
  }
  ObjectReader reader(*json, parent.at("font"), context);
  text->font_family = reader.text("family", text->font_family);
  if (const nlohmann::json* weight = reader.get("weight")) {
    if (weight->is_number_integer() && weight->get<int>() >= 100 && weight->get<int>() <= 900) {
      text->weight = weight->get<int>();
    } else if (weight->is_string() && (*weight == "normal" || *weight == "bold")) {
      text->weight = *weight == "bold" ? 700 : 400;
    } else {
      context->error(reader.at("weight"),
                     "invalid font weight " + weight->dump() + "; use 100 to 900, normal or bold");
    }
  }
  text->italic = reader.choice("style", kFontStyleNames, false, "font style");
  text->size = reader.number("size", text->size, 1, 2000);
  text->min_size = reader.number("minSize", 0, 0, 2000);
  if (text->min_size > text->size) {
    context->error(reader.at("minSize"), "minSize is larger than size; it must be at most size");
  }
  reader.finish();
}

TextProps parseText(ObjectReader& reader, ParseContext* context) {
  TextProps text;
  text.font_family = "sans-serif";
  text.content = requiredText(reader, "content", "give the text to show", context);
  parseFont(reader, &text, context);
  text.color = reader.color("color", text.color);
  text.align = reader.choice("align", kAlignNames, TextAlign::kCenter, "text align");
  text.valign =
      reader.choice("verticalAlign", kVerticalAlignNames, VerticalAlign::kMiddle, "vertical align");
  text.line_height = reader.number("lineHeight", 0, 0, 10);
  text.letter_spacing = reader.number("letterSpacing", 0, -1000, 1000);
  text.max_lines = reader.integer("maxLines", 0, 0, 1000);
  text.stroke = parseStroke(reader, context);
  text.shadow = parseShadow(reader, context);
  return text;
}

std::vector<GradientStop> parseStops(ObjectReader& reader, ParseContext* context) {
  std::vector<GradientStop> stops;
  const nlohmann::json* json = reader.get("stops");
  if (json == nullptr || !json->is_array() || json->size() < 2) {
    context->error(reader.at("stops"), "a gradient needs 'stops': at least two {offset, color}");
    return stops;
  }
  for (size_t i = 0; i < json->size(); ++i) {
    ObjectReader stop_reader((*json)[i], childPointer(reader.at("stops"), i), context);
    GradientStop stop;
    stop.offset = stop_reader.number("offset", 0, 0, 1);
    stop.color = stop_reader.color("color", "");
    if (!stop_reader.has("color")) {
      context->error(stop_reader.at("color"), "a gradient stop needs a 'color'");
    }
    if (!stops.empty() && stop.offset < stops.back().offset) {
      context->error(stop_reader.at("offset"), "gradient stops must be in offset order");
    }
    stop_reader.finish();
    stops.push_back(stop);
  }
  return stops;
}

Fill parseFill(const nlohmann::json& json, const std::string& pointer, ParseContext* context) {
  Fill fill;
  if (json.is_string()) {
    if (json == "none") {
      fill.type = FillType::kNone;
      return fill;
    }
    fill.color = checkColor(json.get<std::string>(), pointer, context);
    return fill;
  }
  ObjectReader reader(json, pointer, context);
  fill.type = reader.choice("type", kFillTypeNames, FillType::kSolid, "fill type");
  if (fill.type == FillType::kSolid) {
    fill.color = reader.color("color", "#FFFFFFFF");
  } else {
    fill.stops = parseStops(reader, context);
    fill.angle_deg = reader.number("angle", 180, -3600, 3600);
  }
  reader.finish();
  return fill;
}

ShapeProps parseShape(ObjectReader& reader, const Geometry& geometry, ParseContext* context) {
  ShapeProps shape;
  shape.shape = reader.choice("shape", kShapeNames, ShapeType::kRectangle, "shape");
  shape.corner_radius = reader.number("cornerRadius", 0, 0, kMaxCoordinate);
  shape.stroke = parseStroke(reader, context);
  if (const nlohmann::json* fill = reader.get("fill")) {
    shape.fill = parseFill(*fill, reader.at("fill"), context);
  } else {
    // Without a fill, a shape with a stroke is an outline and one without is white.
    shape.fill.type =
        shape.stroke || shape.shape == ShapeType::kLine ? FillType::kNone : FillType::kSolid;
    shape.fill.color = "#FFFFFFFF";
  }
  shape.x1 = reader.number("x1", 0, -kMaxCoordinate, kMaxCoordinate);
  shape.y1 = reader.number("y1", 0, -kMaxCoordinate, kMaxCoordinate);
  shape.x2 = reader.number("x2", geometry.width, -kMaxCoordinate, kMaxCoordinate);
  shape.y2 = reader.number("y2", geometry.height, -kMaxCoordinate, kMaxCoordinate);
  if (shape.shape == ShapeType::kLine && !shape.stroke) {
    context->error(reader.at("stroke"), "a line needs a 'stroke' {color, width}");
  }
  return shape;
}

VideoProps parseVideo(ObjectReader& reader, ParseContext* context) {
  VideoProps video;
  video.src = requiredText(reader, "src", "give a file path or a field", context);
  video.fit = reader.choice("fit", kFitNames, Fit::kCover, "fit");
  video.trim_start_s = reader.number("trimStart", 0, 0, 86400);
  video.trim_end_s = reader.number("trimEnd", 0, 0, 86400);
  video.loop = reader.boolean("loop", false);
  video.mute = reader.boolean("mute", true);
  video.volume = reader.number("volume", 1, 0, 4);
  if (video.trim_end_s > 0 && video.trim_end_s <= video.trim_start_s) {
    context->error(reader.at("trimEnd"), "trimEnd must be after trimStart");
  }
  return video;
}

AudioProps parseAudio(ObjectReader& reader, ParseContext* context) {
  AudioProps audio;
  audio.src =
      requiredText(reader, "src", "give a file path or a field such as {{brand.music}}", context);
  audio.trim_start_s = reader.number("trimStart", 0, 0, 86400);
  audio.trim_end_s = reader.number("trimEnd", 0, 0, 86400);
  audio.volume = reader.number("volume", 1, 0, 4);
  audio.fade_in_s = reader.number("fadeIn", 0, 0, kMaxDurationS);
  audio.fade_out_s = reader.number("fadeOut", 0, 0, kMaxDurationS);
  audio.loop = reader.boolean("loop", false);
  if (audio.trim_end_s > 0 && audio.trim_end_s <= audio.trim_start_s) {
    context->error(reader.at("trimEnd"), "trimEnd must be after trimStart");
  }
  return audio;
}

// Reads keyframes and animations into tracks.
void parseMotion(ObjectReader& reader, const LayerTiming& timing, Layer* layer,
                 ParseContext* context) {
  std::map<Property, std::vector<TrackSource>> sources;
  if (const nlohmann::json* keyframes = reader.get("keyframes")) {
    parseKeyframes(*keyframes, reader.at("keyframes"), timing.scene_duration_s, &sources, context);
  }
  if (const nlohmann::json* animations = reader.get("animations")) {
    if (!animations->is_array()) {
      context->error(reader.at("animations"), "expected an array of animations");
    } else {
      for (size_t i = 0; i < animations->size(); ++i) {
        parseAnimation((*animations)[i], childPointer(reader.at("animations"), i), layer->geometry,
                       timing, &sources, context);
      }
    }
  }
  layer->tracks = mergeTracks(sources, context);
}

}  // namespace

std::optional<Layer> parseLayer(const nlohmann::json& json, const std::string& pointer,
                                double scene_duration_s, ParseContext* context) {
  if (!json.is_object()) {
    context->error(pointer, "expected a layer object, got " + std::string(json.type_name()));
    return std::nullopt;
  }
  ObjectReader reader(json, pointer, context);
  if (!reader.has("kind")) {
    context->error(reader.at("kind"),
                   "missing layer 'kind'; expected one of image, text, shape, video, audio");
    return std::nullopt;
  }
  std::optional<LayerKind> kind;
  for (const auto& [name, value] : kLayerKindNames) {
    if (json["kind"] == name) {
      kind = value;
    }
  }
  if (!kind) {
    // Without a kind the other members cannot be checked, so stop here.
    reader.choice("kind", kLayerKindNames, LayerKind::kShape, "layer kind");
    return std::nullopt;
  }
  reader.get("kind");

  Layer layer;
  layer.kind = *kind;
  layer.pointer = pointer;
  layer.id = reader.string("id", "");
  if (layer.kind != LayerKind::kAudio) {
    layer.geometry = parseGeometry(reader, *context);
  }
  LayerTiming timing = parseTiming(reader, scene_duration_s, &layer, context);

  switch (layer.kind) {
    case LayerKind::kImage:
      layer.props = parseImage(reader, context);
      break;
    case LayerKind::kText:
      layer.props = parseText(reader, context);
      break;
    case LayerKind::kShape:
      layer.props = parseShape(reader, layer.geometry, context);
      break;
    case LayerKind::kVideo:
      layer.props = parseVideo(reader, context);
      break;
    case LayerKind::kAudio:
      layer.props = parseAudio(reader, context);
      break;
  }
  if (layer.kind != LayerKind::kAudio) {
    parseMotion(reader, timing, &layer, context);
  }
  reader.finish();
  return layer;
}

}  // namespace smmhub::templates::internal
