// The template model, format v1 (see docs/templates.md).
//
// A Template is parsed from JSON once per batch. Strings may contain fields
// ("{{home}}", "{{kickoff|time:HH:mm}}", "{{brand.primary}}"); bindTemplate()
// (binding.h) expands them for one data row and resolves every asset to a
// file, giving a bound Template that the render engine consumes. The engine
// never sees an unexpanded field.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace smmhub::templates {

// Documented limits, enforced by the parser and the binder.
inline constexpr int kMaxCanvasSide = 4096;
inline constexpr double kMaxDurationS = 600;
inline constexpr int kMaxLayers = 200;
inline constexpr int kMaxFields = 100;
inline constexpr int kMaxFps = 60;
// A text layer's content with its fields expanded. Layout time and memory
// grow with the text; a caption longer than this is a data mistake.
inline constexpr size_t kMaxTextChars = 4000;
inline constexpr size_t kMaxTextLines = 200;

enum class Anchor {
  kTopLeft,
  kTop,
  kTopRight,
  kLeft,
  kCenter,
  kRight,
  kBottomLeft,
  kBottom,
  kBottomRight,
};

enum class Easing {
  kLinear,
  kQuadIn,
  kQuadOut,
  kQuadInOut,
  kCubicIn,
  kCubicOut,
  kCubicInOut,
  kBackIn,
  kBackOut,
  kBackInOut,
  kElasticIn,
  kElasticOut,
  kElasticInOut,
  kStep,  // keeps the previous value until the keyframe
};

enum class Property {
  kX,
  kY,
  kScale,
  kRotation,  // degrees, clockwise
  kOpacity,   // 0..1, multiplies the layer's opacity
};

// One keyframe; `easing` shapes the segment that ends at this keyframe.
struct Keyframe {
  double time_s = 0;  // from the start of the scene
  double value = 0;
  Easing easing = Easing::kLinear;
};

// Keyframes of one property, sorted by time. Before the first keyframe the
// first value holds; after the last, the last value holds.
struct Track {
  Property property = Property::kX;
  std::vector<Keyframe> keyframes;
};

// Position and size of a layer box on the canvas, in pixels. (x, y) is where
// the anchor point of the box sits; scale and rotation turn about the anchor.
struct Geometry {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
  Anchor anchor = Anchor::kTopLeft;
  double opacity = 1;
  double scale = 1;
  double rotation_deg = 0;
};

enum class Fit {
  kCover,
  kContain,
  kFill,
};

struct ImageProps {
  std::string src;  // bound: an absolute file path
  Fit fit = Fit::kContain;
  double corner_radius = 0;
};

enum class TextAlign {
  kLeft,
  kCenter,
  kRight,
};

enum class VerticalAlign {
  kTop,
  kMiddle,
  kBottom,
};

struct Stroke {
  std::string color;  // bound: "#RRGGBBAA"
  double width = 0;
};

struct Shadow {
  std::string color;
  double dx = 0;
  double dy = 0;
  double blur = 0;
};

struct TextProps {
  std::string content;
  std::string font_family;  // bound: a family name that fontconfig resolves
  int weight = 400;
  bool italic = false;
  double size = 48;
  double min_size = 0;  // 0: no shrinking; otherwise shrink-to-fit down to this size
  std::string color = "#FFFFFFFF";
  TextAlign align = TextAlign::kCenter;
  VerticalAlign valign = VerticalAlign::kMiddle;
  double line_height = 0;  // multiplier; 0: the font's own
  double letter_spacing = 0;
  int max_lines = 0;  // 0: as many as the box height allows
  std::optional<Stroke> stroke;
  std::optional<Shadow> shadow;
};

enum class ShapeType {
  kRectangle,
  kEllipse,
  kLine,
};

struct GradientStop {
  double offset = 0;  // 0..1
  std::string color;
};

enum class FillType {
  kNone,
  kSolid,
  kLinear,
  kRadial,
};

struct Fill {
  FillType type = FillType::kSolid;
  std::string color;                // kSolid
  std::vector<GradientStop> stops;  // kLinear, kRadial
  double angle_deg = 180;           // kLinear: 180 runs top to bottom, 90 left to right (CSS)
};

struct ShapeProps {
  ShapeType shape = ShapeType::kRectangle;
  double corner_radius = 0;  // kRectangle: a rounded rectangle when > 0
  Fill fill;
  std::optional<Stroke> stroke;
  // kLine: end points relative to the layer box's top-left corner.
  double x1 = 0;
  double y1 = 0;
  double x2 = 0;
  double y2 = 0;
};

struct VideoProps {
  std::string src;
  Fit fit = Fit::kCover;
  double trim_start_s = 0;
  double trim_end_s = 0;  // 0: to the clip's end
  bool loop = false;
  bool mute = true;
  double volume = 1;
};

struct AudioProps {
  std::string src;
  double trim_start_s = 0;
  double trim_end_s = 0;  // 0: to the file's end
  double volume = 1;
  double fade_in_s = 0;
  double fade_out_s = 0;
  bool loop = false;
};

enum class LayerKind {
  kImage,
  kText,
  kShape,
  kVideo,
  kAudio,
};

struct Layer {
  std::string id;
  LayerKind kind = LayerKind::kShape;
  std::string pointer;  // JSON pointer of the layer, for messages
  // "column crest" when the layer's file name came from that data column;
  // set by binding, for messages.
  std::string source_column;
  Geometry geometry;
  double start_s = 0;         // visible from this time in its scene
  double end_s = -1;          // up to this time; -1: to the scene's end
  std::vector<Track> tracks;  // presets are expanded into tracks by the parser
  std::variant<ImageProps, TextProps, ShapeProps, VideoProps, AudioProps> props;

  // The pointer, followed by " (column C)" when source_column is set.
  std::string place() const;
};

enum class TransitionType {
  kCut,
  kCrossfade,
};

// How a scene begins. A crossfade blends the previous scene's last frame into
// this scene over duration_s; the total duration does not change.
struct Transition {
  TransitionType type = TransitionType::kCut;
  double duration_s = 0;
};

struct Scene {
  std::string id;
  std::string pointer;
  double duration_s = 0;
  std::string background;  // a colour; empty: the canvas background
  Transition transition;
  std::vector<Layer> layers;  // bottom to top
};

struct Canvas {
  int width = 1080;
  int height = 1920;
  int fps = 30;
  std::string background = "#000000FF";
};

enum class FieldType {
  kText,
  kImage,
  kColor,
  kNumber,
  kDate,
  kTime,
};

struct Field {
  std::string name;
  FieldType type = FieldType::kText;
  bool required = false;
  std::optional<std::string> default_value;
  std::string description;
};

struct Template {
  int version = 1;
  std::string name;
  Canvas canvas;
  std::vector<Field> fields;
  std::vector<Scene> scenes;
  std::vector<Layer> audio;   // template-wide audio layers (a music bed), timed from 0
  double poster_time_s = -1;  // time of the poster frame; -1: the middle of the video

  double durationS() const;
  int frameCount() const;
  const Field* findField(const std::string& name) const;
};

}  // namespace smmhub::templates
