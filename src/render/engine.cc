#include "render/engine.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "common/bytes.h"
#include "common/check.h"
#include "common/hash.h"
#include "common/log.h"
#include "render/animation.h"
#include "render/canvas.h"
#include "render/video/audio_encoder.h"
#include "render/video/audio_track.h"
#include "render/video/probe.h"
#include "render/video/segment_encoder.h"
#include "render/video/segment_muxer.h"
#include "render/video/video_clip.h"

namespace smmhub::render {
namespace {

using templates::Layer;
using templates::LayerKind;
using templates::Scene;

// One entry of a scene's draw list, bottom to top: either a plate (static
// layers flattened onto one canvas-sized raster) or one animated layer.
// Planning fills in the keys; the pixels come when the scene is drawn.
struct DrawStep {
  std::string key;  // the plate's or the layer's content key
  bool is_plate = false;
  bool bottom = false;                     // the plate starts from the background
  std::vector<const Layer*> plate_layers;  // a plate's static layers
  RasterPtr plate;
  const Layer* layer = nullptr;
  RasterPtr raster;                 // image, text and shape layers
  std::unique_ptr<VideoClip> clip;  // video layers, decoded frame by frame
};

struct ScenePlan {
  const Scene* scene = nullptr;
  int first_frame = 0;
  int frame_count = 0;
  std::vector<DrawStep> steps;
  bool materialized = false;  // rasters and clips are loaded
};

// What decides a frame's pixels besides the plan; equal signatures on
// consecutive frames mean equal pictures.
struct FrameSignature {
  int scene = -1;
  std::vector<LayerState> states;
  bool has_video = false;
  double crossfade = 1;

  bool operator==(const FrameSignature&) const = default;
};

bool isStatic(const Layer& layer, double scene_duration_s) {
  if (layer.kind == LayerKind::kVideo || layer.kind == LayerKind::kAudio) {
    return false;
  }
  bool whole_scene = layer.start_s <= 0 && (layer.end_s < 0 || layer.end_s >= scene_duration_s);
  return layer.tracks.empty() && whole_scene;
}

Fit toImageFit(templates::Fit fit) {
  switch (fit) {
    case templates::Fit::kCover:
      return Fit::kCover;
    case templates::Fit::kFill:
      return Fit::kFill;
    case templates::Fit::kContain:
      return Fit::kContain;
  }
  return Fit::kContain;
}

Result<TextStyle> textStyle(const templates::TextProps& text) {
  TextStyle style;
  style.family = text.font_family;
  style.weight = text.weight;
  style.italic = text.italic;
  style.size_px = text.size;
  style.min_size_px = text.min_size;
  SMMHUB_ASSIGN_OR_RETURN(style.color, parseColor(text.color));
  style.align = text.align == templates::TextAlign::kLeft    ? TextStyle::Align::kLeft
                : text.align == templates::TextAlign::kRight ? TextStyle::Align::kRight
                                                             : TextStyle::Align::kCenter;
  style.valign = text.valign == templates::VerticalAlign::kTop      ? TextStyle::VAlign::kTop
                 : text.valign == templates::VerticalAlign::kBottom ? TextStyle::VAlign::kBottom
                                                                    : TextStyle::VAlign::kMiddle;
  style.line_height = text.line_height;
  style.letter_spacing_px = text.letter_spacing;
  style.max_lines = text.max_lines;
  if (text.stroke) {
    SMMHUB_ASSIGN_OR_RETURN(Color color, parseColor(text.stroke->color));
    style.stroke = Stroke{color, text.stroke->width};
  }
  if (text.shadow) {
    SMMHUB_ASSIGN_OR_RETURN(Color color, parseColor(text.shadow->color));
    style.shadow = Shadow{color, text.shadow->dx, text.shadow->dy, text.shadow->blur};
  }
  return style;
}

int boxSide(double side) {
  return std::max(1, static_cast<int>(std::lround(side)));
}

std::string sceneBackground(const templates::Template& bound, const Scene& scene) {
  return scene.background.empty() ? bound.canvas.background : scene.background;
}

// Returns the time of frame INDEX (0-based) in seconds.
double frameTime(int index, int fps) {
  return static_cast<double>(index) / fps;
}

// Draws a clip's frame at CLIP_TIME_S into a box-sized raster per its fit.
Result<RasterPtr> drawClipFrame(VideoClip& clip, const templates::VideoProps& video, int box_w,
                                int box_h, double clip_time_s) {
  double sx = static_cast<double>(box_w) / clip.displayWidth();
  double sy = static_cast<double>(box_h) / clip.displayHeight();
  double scale = video.fit == templates::Fit::kCover ? std::max(sx, sy) : std::min(sx, sy);
  int w = video.fit == templates::Fit::kFill ? box_w : boxSide(clip.displayWidth() * scale);
  int h = video.fit == templates::Fit::kFill ? box_h : boxSide(clip.displayHeight() * scale);
  SMMHUB_ASSIGN_OR_RETURN(RasterPtr frame, clip.frameAt(clip_time_s, w, h));
  if (w == box_w && h == box_h) {
    return frame;
  }

  auto box = std::make_shared<Raster>(box_w, box_h);
  templates::Geometry centre{box_w / 2.0, box_h / 2.0, 0, 0, templates::Anchor::kCenter};
  LayerState state{true, centre.x, centre.y, 1, 0, 1};
  compositeLayer(*box, *frame, centre, state);
  return RasterPtr(box);
}

// Maps a time in the layer's scene to a time in its clip, with trim and loop.
double clipTime(const templates::VideoProps& video, const Layer& layer, double scene_time_s,
                double clip_duration_s) {
  double end = video.trim_end_s > 0 ? std::min(video.trim_end_s, clip_duration_s) : clip_duration_s;
  double span = std::max(0.0, end - video.trim_start_s);
  double local = std::max(0.0, scene_time_s - layer.start_s);
  if (video.loop && span > 0) {
    local = std::fmod(local, span);
  }
  return video.trim_start_s + std::min(local, span);
}

}  // namespace

// Plans and draws the frames of one bound template. One instance per video.
//
// planAll() computes every scene's content keys without drawing anything, so
// that a scene whose encoded segment is in the render buffer never loads its
// layers. A scene's layers are rasterized when its first frame is drawn.
class SceneRenderer {
 public:
  SceneRenderer(Engine* engine, const templates::Template& bound, Diagnostics* warnings)
      : engine_(engine), bound_(bound), warnings_(warnings) {}

  Status planAll() {
    // Scene boundaries are rounded from the running start time, so that the
    // frame count matches Template::frameCount() however many scenes there are.
    double start_s = 0;
    for (const Scene& scene : bound_.scenes) {
      ScenePlan plan;
      plan.scene = &scene;
      plan.first_frame = static_cast<int>(std::lround(start_s * bound_.canvas.fps));
      start_s += scene.duration_s;
      plan.frame_count =
          static_cast<int>(std::lround(start_s * bound_.canvas.fps)) - plan.first_frame;
      SMMHUB_RETURN_IF_ERROR(planScene(plan));
      plans_.push_back(std::move(plan));
    }
    return okStatus();
  }

  int frameCount() const {
    return plans_.empty() ? 0 : plans_.back().first_frame + plans_.back().frame_count;
  }
  size_t sceneCount() const { return plans_.size(); }
  const ScenePlan& plan(size_t scene_index) const { return plans_[scene_index]; }

  // Returns the key of scene SCENE_INDEX's encoded segment: everything that
  // decides its frames, and SETTINGS. A crossfade starts from the previous
  // scene's last frame, so its key includes the previous scene's key.
  std::string segmentKey(size_t scene_index, const SegmentSettings& settings) const {
    const ScenePlan& plan = plans_[scene_index];
    const Scene& scene = *plan.scene;
    Hasher key;
    key.add(kEngineVersion).add(engine_->options_.tenant).add(std::string_view("segment"));
    key.add(std::int64_t{settings.width}).add(std::int64_t{settings.height});
    key.add(std::int64_t{settings.fps}).add(std::int64_t{settings.crf}).add(settings.preset);
    key.add(std::int64_t{settings.gop_frames}).add(std::int64_t{settings.threads});
    key.add(std::int64_t{plan.frame_count}).add(scene.duration_s);
    key.add(static_cast<std::int64_t>(scene.transition.type)).add(scene.transition.duration_s);
    for (const DrawStep& step : plan.steps) {
      key.add(step.key);
      if (step.layer != nullptr) {
        addMotion(key, *step.layer);
      }
    }
    if (crossfades(scene_index)) {
      key.add(segmentKey(scene_index - 1, settings));
    }
    return key.hexDigest();
  }

  // Forgets the frame drawn last, so that the next frame is drawn in full.
  void startSegment() { last_signature_.reset(); }

  // Draws frame INDEX into FRAME unless it equals the frame drawn last, in
  // which case it returns false and leaves FRAME as it was.
  Result<bool> drawFrame(int index, Raster& frame) {
    size_t scene_index = sceneOf(index);
    ScenePlan& plan = plans_[scene_index];
    SMMHUB_RETURN_IF_ERROR(materialize(plan));
    double t = frameTime(index - plan.first_frame, bound_.canvas.fps);

    FrameSignature signature = signatureAt(scene_index, t);
    bool repeat = last_signature_ && signature == *last_signature_ && !signature.has_video;
    if (!repeat) {
      SMMHUB_RETURN_IF_ERROR(composite(plan, t, frame));
      if (signature.crossfade < 1) {
        SMMHUB_ASSIGN_OR_RETURN(std::shared_ptr<Raster> previous, lastFrameOf(scene_index - 1));
        blendOver(frame, *previous, 1 - signature.crossfade);
      }
      last_signature_ = std::move(signature);
    }

    // A crossfade into the next scene starts from this scene's last picture,
    // drawn or repeated.
    if (index == plan.first_frame + plan.frame_count - 1 && crossfades(scene_index + 1)) {
      scene_last_frames_[scene_index] = std::make_shared<Raster>(frame);
    }
    return !repeat;
  }

 private:
  size_t sceneOf(int index) const {
    for (size_t i = 0; i < plans_.size(); ++i) {
      if (index < plans_[i].first_frame + plans_[i].frame_count) {
        return i;
      }
    }
    return plans_.size() - 1;
  }

  // Returns whether scene SCENE_INDEX begins with a crossfade from the one
  // before it.
  bool crossfades(size_t scene_index) const {
    return scene_index > 0 && scene_index < plans_.size() &&
           plans_[scene_index].scene->transition.type == templates::TransitionType::kCrossfade &&
           plans_[scene_index].scene->transition.duration_s > 0;
  }

  // Returns scene SCENE_INDEX's last picture, drawing it when the scene was
  // not drawn (its segment came from the render buffer).
  Result<std::shared_ptr<Raster>> lastFrameOf(size_t scene_index) {
    if (auto found = scene_last_frames_.find(scene_index); found != scene_last_frames_.end()) {
      return found->second;
    }
    const ScenePlan& plan = plans_[scene_index];
    std::optional<FrameSignature> saved = std::move(last_signature_);
    last_signature_.reset();
    Raster last(bound_.canvas.width, bound_.canvas.height);
    SMMHUB_ASSIGN_OR_RETURN(bool drawn, drawFrame(plan.first_frame + plan.frame_count - 1, last));
    (void)drawn;
    last_signature_ = std::move(saved);
    return scene_last_frames_.at(scene_index);
  }

  FrameSignature signatureAt(size_t scene_index, double t) const {
    const ScenePlan& plan = plans_[scene_index];
    FrameSignature signature;
    signature.scene = static_cast<int>(scene_index);
    for (const DrawStep& step : plan.steps) {
      if (step.layer == nullptr) {
        continue;
      }
      LayerState state = sampleLayer(*step.layer, t, plan.scene->duration_s);
      signature.has_video =
          signature.has_video || (step.layer->kind == LayerKind::kVideo && state.visible);
      signature.states.push_back(state);
    }
    const auto& transition = plan.scene->transition;
    if (crossfades(scene_index)) {
      signature.crossfade = std::min(1.0, t / transition.duration_s);
    }
    return signature;
  }

  Status composite(ScenePlan& plan, double t, Raster& frame) {
    for (DrawStep& step : plan.steps) {
      if (step.is_plate) {
        if (&step == &plan.steps.front()) {
          frame.pixels = step.plate->pixels;
        } else {
          compositeLayer(frame, *step.plate, templates::Geometry{}, LayerState{});
        }
        continue;
      }
      const Layer& layer = *step.layer;
      LayerState state = sampleLayer(layer, t, plan.scene->duration_s);
      if (!state.visible) {
        continue;
      }
      RasterPtr pixels = step.raster;
      if (step.clip) {
        const auto& video = std::get<templates::VideoProps>(layer.props);
        double clip_t = clipTime(video, layer, t, step.clip->duration());
        Result<RasterPtr> clip_frame =
            drawClipFrame(*step.clip, video, boxSide(layer.geometry.width),
                          boxSide(layer.geometry.height), clip_t);
        if (!clip_frame.ok()) {
          return clip_frame.status().withContext(layer.place());
        }
        pixels = std::move(clip_frame).value();
      }
      compositeLayer(frame, *pixels, layer.geometry, state);
    }
    return okStatus();
  }

  // Adds what moves LAYER over its scene to KEY: geometry, timing and tracks.
  static void addMotion(Hasher& key, const Layer& layer) {
    const auto& g = layer.geometry;
    key.add(static_cast<std::int64_t>(layer.kind)).add(g.x).add(g.y).add(g.width).add(g.height);
    key.add(static_cast<std::int64_t>(g.anchor)).add(g.opacity).add(g.scale).add(g.rotation_deg);
    key.add(layer.start_s).add(layer.end_s);
    for (const templates::Track& track : layer.tracks) {
      key.add(static_cast<std::int64_t>(track.property));
      for (const templates::Keyframe& frame : track.keyframes) {
        key.add(frame.time_s).add(frame.value).add(static_cast<std::int64_t>(frame.easing));
      }
    }
  }

  Status planScene(ScenePlan& plan) {
    const Scene& scene = *plan.scene;
    std::vector<const Layer*> group;
    bool bottom = true;
    for (const Layer& layer : scene.layers) {
      if (layer.kind == LayerKind::kAudio) {
        continue;
      }
      if (isStatic(layer, scene.duration_s)) {
        group.push_back(&layer);
        continue;
      }
      if (bottom || !group.empty()) {
        SMMHUB_RETURN_IF_ERROR(addPlate(plan, group, bottom));
        group.clear();
        bottom = false;
      }
      DrawStep step;
      step.layer = &layer;
      SMMHUB_ASSIGN_OR_RETURN(step.key, engine_->layerKey(layer));
      plan.steps.push_back(std::move(step));
    }
    if (bottom || !group.empty()) {
      SMMHUB_RETURN_IF_ERROR(addPlate(plan, group, bottom));
    }
    return okStatus();
  }

  // Plans GROUP (static layers, bottom to top) as one canvas-sized plate.
  // The bottom plate starts from the scene's background colour.
  Status addPlate(ScenePlan& plan, const std::vector<const Layer*>& group, bool bottom) {
    const auto& canvas = bound_.canvas;
    DrawStep step;
    step.is_plate = true;
    step.bottom = bottom;
    step.plate_layers = group;
    std::string background = bottom ? sceneBackground(bound_, *plan.scene) : "";
    Hasher key;
    key.add(kEngineVersion).add(engine_->options_.tenant).add(std::string_view("plate"));
    key.add(std::int64_t{canvas.width}).add(std::int64_t{canvas.height}).add(background);
    for (const Layer* layer : group) {
      SMMHUB_ASSIGN_OR_RETURN(std::string layer_key, engine_->layerKey(*layer));
      const auto& g = layer->geometry;
      key.add(layer_key).add(g.x).add(g.y).add(g.scale).add(g.rotation_deg).add(g.opacity);
      key.add(static_cast<std::int64_t>(g.anchor));
    }
    step.key = key.hexDigest();
    plan.steps.push_back(std::move(step));
    return okStatus();
  }

  // Loads what PLAN draws: rasters through the cache, and video clips.
  Status materialize(ScenePlan& plan) {
    if (plan.materialized) {
      return okStatus();
    }
    for (DrawStep& step : plan.steps) {
      if (step.is_plate) {
        SMMHUB_ASSIGN_OR_RETURN(step.plate, makePlate(plan, step));
      } else if (step.layer->kind == LayerKind::kVideo) {
        const auto& video = std::get<templates::VideoProps>(step.layer->props);
        auto clip = VideoClip::open(video.src);
        if (!clip.ok()) {
          return clip.status().withContext(step.layer->place());
        }
        step.clip = std::move(clip).value();
      } else {
        SMMHUB_ASSIGN_OR_RETURN(step.raster, engine_->rasterizeLayer(*step.layer, warnings_));
      }
    }
    plan.materialized = true;
    return okStatus();
  }

  Result<RasterPtr> makePlate(const ScenePlan& plan, const DrawStep& step) {
    const auto& canvas = bound_.canvas;
    std::vector<RasterPtr> rasters;
    for (const Layer* layer : step.plate_layers) {
      SMMHUB_ASSIGN_OR_RETURN(RasterPtr raster, engine_->rasterizeLayer(*layer, warnings_));
      rasters.push_back(std::move(raster));
    }
    std::string background = step.bottom ? sceneBackground(bound_, *plan.scene) : "";
    auto make = [&]() -> Result<RasterPtr> {
      auto plate = std::make_shared<Raster>(canvas.width, canvas.height);
      if (!background.empty()) {
        SMMHUB_ASSIGN_OR_RETURN(Color color, parseColor(background));
        fillRaster(*plate, color);
      }
      for (size_t i = 0; i < step.plate_layers.size(); ++i) {
        LayerState state = sampleLayer(*step.plate_layers[i], 0, plan.scene->duration_s);
        compositeLayer(*plate, *rasters[i], step.plate_layers[i]->geometry, state);
      }
      return RasterPtr(plate);
    };
    return engine_->memo_.getOrMake(step.key, make, /*admit_on_repeat=*/true);
  }

  Engine* engine_;
  const templates::Template& bound_;
  Diagnostics* warnings_;
  std::vector<ScenePlan> plans_;
  std::optional<FrameSignature> last_signature_;
  std::map<size_t, std::shared_ptr<Raster>> scene_last_frames_;
};

namespace {

// Mixes every audio source of BOUND into one 48 kHz stereo buffer of the
// video's length: template-wide layers, scene audio layers and unmuted clips.
Result<AudioBuffer> mixAudio(const templates::Template& bound) {
  double total_s = bound.durationS();
  AudioMix mix(total_s);
  auto add = [&](const std::string& src, double at_s, double trim_start, double trim_end,
                 double volume, double fade_in, double fade_out, bool loop) -> Status {
    double length = trim_end > 0 ? trim_end - trim_start : 0;
    SMMHUB_ASSIGN_OR_RETURN(AudioBuffer buffer, decodeAudio(src, trim_start, length));
    mix.add(buffer, at_s, volume, fade_in, fade_out, loop);
    return okStatus();
  };

  for (const Layer& layer : bound.audio) {
    const auto& a = std::get<templates::AudioProps>(layer.props);
    SMMHUB_RETURN_IF_ERROR(add(a.src, layer.start_s, a.trim_start_s, a.trim_end_s, a.volume,
                               a.fade_in_s, a.fade_out_s, a.loop)
                               .withContext(layer.place()));
  }
  double scene_start = 0;
  for (const Scene& scene : bound.scenes) {
    for (const Layer& layer : scene.layers) {
      double at = scene_start + layer.start_s;
      if (const auto* a = std::get_if<templates::AudioProps>(&layer.props)) {
        SMMHUB_RETURN_IF_ERROR(add(a->src, at, a->trim_start_s, a->trim_end_s, a->volume,
                                   a->fade_in_s, a->fade_out_s, a->loop)
                                   .withContext(layer.place()));
      } else if (const auto* v = std::get_if<templates::VideoProps>(&layer.props); v && !v->mute) {
        SMMHUB_RETURN_IF_ERROR(
            add(v->src, at, v->trim_start_s, v->trim_end_s, v->volume, 0, 0, v->loop)
                .withContext(layer.place()));
      }
    }
    scene_start += scene.duration_s;
  }
  return mix.buffer();
}

int posterFrame(const templates::Template& bound, int frame_count) {
  double t = bound.poster_time_s >= 0 ? bound.poster_time_s : bound.durationS() / 2;
  int index = static_cast<int>(std::lround(t * bound.canvas.fps));
  return std::clamp(index, 0, std::max(0, frame_count - 1));
}

// Checks a written file, read back through libavformat, against what was
// meant to be written.
Status verifyOutput(const std::filesystem::path& path, const templates::Template& bound,
                    int frame_count) {
  SMMHUB_ASSIGN_OR_RETURN(MediaInfo info, probeMedia(path));
  if (!info.video) {
    return Status::dataLoss(path.string() + ": written file has no video stream");
  }
  if (info.video->frame_count != frame_count) {
    return Status::dataLoss(fmt::format("{}: written file has {} video frames, expected {}",
                                        path.string(), info.video->frame_count, frame_count));
  }
  if (info.video->width != bound.canvas.width || info.video->height != bound.canvas.height) {
    return Status::dataLoss(fmt::format("{}: written file is {}x{}, expected {}x{}", path.string(),
                                        info.video->width, info.video->height, bound.canvas.width,
                                        bound.canvas.height));
  }
  if (!info.audio) {
    return Status::dataLoss(path.string() + ": written file has no audio stream");
  }
  if (!info.moov_before_mdat) {
    return Status::dataLoss(path.string() + ": moov box is not before mdat (no fast start)");
  }
  return okStatus();
}

// Removes the listed files when it goes out of scope, unless they were
// renamed into place first: a failed render leaves no partial file behind.
struct PartialFiles {
  std::vector<std::filesystem::path> paths;
  explicit PartialFiles(std::vector<std::filesystem::path> files) : paths(std::move(files)) {}
  PartialFiles(const PartialFiles&) = delete;
  PartialFiles& operator=(const PartialFiles&) = delete;
  ~PartialFiles() {
    for (const auto& path : paths) {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  }
};

// Returns the bytes of the file at PATH.
Result<std::string> readWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Status::unavailable(path.string() + ": cannot read the file back");
  }
  return bytes;
}

// Packs a video and its poster into one stored value: "OUT1", the video's
// length as 8 bytes little-endian, the video, then the poster.
std::string packFiles(const std::string& video, const std::string& poster) {
  std::string packed = "OUT1";
  appendLittle(packed, video.size(), 8);
  packed += video;
  packed += poster;
  return packed;
}

// Writes the video and poster that packFiles() packed into VIDEO and POSTER.
Status unpackFiles(std::string_view packed, const std::filesystem::path& video,
                   const std::filesystem::path& poster) {
  constexpr size_t kHeader = 12;
  if (packed.size() < kHeader || packed.substr(0, 4) != "OUT1") {
    return Status::dataLoss("stored output has no OUT1 header");
  }
  std::uint64_t video_bytes = readLittle(packed, 4, 8);
  if (video_bytes > packed.size() - kHeader) {
    return Status::dataLoss("stored output is shorter than its video");
  }
  for (auto [path, bytes] : {std::pair{video, packed.substr(kHeader, video_bytes)},
                             std::pair{poster, packed.substr(kHeader + video_bytes)}}) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      return Status::unavailable(path.string() + ": cannot write the stored output");
    }
  }
  return okStatus();
}

}  // namespace

std::filesystem::path partialPath(const std::filesystem::path& path) {
  // A hidden name that does not end in .mp4 or .jpg, so that a glob for
  // finished videos never picks up a file a killed process left behind.
  return path.parent_path() / ("." + path.filename().string() + ".partial");
}

void addTextWarnings(const TextReport& report, const templates::TextProps& text,
                     const std::string& place, Diagnostics& warnings) {
  for (const auto& fallback : report.fallbacks) {
    warnings.warning(place, fmt::format("'{}' is not in font '{}'; drawn with '{}'", fallback.text,
                                        text.font_family, fallback.font_family));
  }
  if (!report.missing_characters.empty()) {
    warnings.warning(
        place, fmt::format("no installed font has the characters '{}'", report.missing_characters));
  }
  if (report.overflows) {
    warnings.warning(place, fmt::format("text does not fit its box even at {:.1f} px; it was cut "
                                        "with an ellipsis",
                                        report.size_px));
  }
}

Engine::Engine(const FontLibrary* fonts, RasterCache* cache, EngineOptions options)
    : fonts_(fonts), memo_(cache, options.buffer), options_(std::move(options)) {}

Result<std::string> Engine::fileHash(const std::filesystem::path& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  if (error) {
    return Status::notFound(path.string() + ": cannot read file: " + error.message());
  }
  auto mtime = std::filesystem::last_write_time(path, error).time_since_epoch().count();
  std::string stamp = fmt::format("{}:{}", size, mtime);
  {
    std::lock_guard lock(file_hash_mutex_);
    auto it = file_hashes_.find(path.string());
    if (it != file_hashes_.end() && it->second.first == stamp) {
      return it->second.second;
    }
  }

  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Status::notFound(path.string() + ": cannot read file");
  }
  std::string digest = hashBytes(bytes);
  std::lock_guard lock(file_hash_mutex_);
  file_hashes_[path.string()] = {stamp, digest};
  return digest;
}

Result<std::string> Engine::layerKey(const Layer& layer) {
  Hasher key;
  key.add(kEngineVersion).add(options_.tenant).add(static_cast<std::int64_t>(layer.kind));
  key.add(std::int64_t{boxSide(layer.geometry.width)})
      .add(std::int64_t{boxSide(layer.geometry.height)});
  if (const auto* image = std::get_if<templates::ImageProps>(&layer.props)) {
    SMMHUB_ASSIGN_OR_RETURN(std::string content, fileHash(image->src));
    key.add(content).add(static_cast<std::int64_t>(image->fit)).add(image->corner_radius);
  } else if (const auto* text = std::get_if<templates::TextProps>(&layer.props)) {
    key.add(text->content).add(text->font_family).add(std::int64_t{text->weight});
    key.add(std::int64_t{text->italic}).add(text->size).add(text->min_size).add(text->color);
    key.add(static_cast<std::int64_t>(text->align)).add(static_cast<std::int64_t>(text->valign));
    key.add(text->line_height).add(text->letter_spacing).add(std::int64_t{text->max_lines});
    if (text->stroke) {
      key.add(text->stroke->color).add(text->stroke->width);
    }
    if (text->shadow) {
      key.add(text->shadow->color).add(text->shadow->dx).add(text->shadow->dy);
      key.add(text->shadow->blur);
    }
    key.add(options_.font_set_key);
  } else if (const auto* shape = std::get_if<templates::ShapeProps>(&layer.props)) {
    key.add(static_cast<std::int64_t>(shape->shape)).add(shape->corner_radius);
    key.add(static_cast<std::int64_t>(shape->fill.type)).add(shape->fill.color);
    key.add(shape->fill.angle_deg);
    for (const auto& stop : shape->fill.stops) {
      key.add(stop.offset).add(stop.color);
    }
    if (shape->stroke) {
      key.add(shape->stroke->color).add(shape->stroke->width);
    }
    key.add(shape->x1).add(shape->y1).add(shape->x2).add(shape->y2);
  } else if (const auto* video = std::get_if<templates::VideoProps>(&layer.props)) {
    SMMHUB_ASSIGN_OR_RETURN(std::string content, fileHash(video->src));
    key.add(content).add(static_cast<std::int64_t>(video->fit)).add(video->trim_start_s);
    key.add(video->trim_end_s).add(std::int64_t{video->loop});
  }
  return key.hexDigest();
}

Result<RasterPtr> Engine::rasterizeLayer(const Layer& layer, Diagnostics* warnings,
                                         TextReport* report) {
  // A text report is only filled by a real render, so bypass the cache.
  if (report != nullptr) {
    return drawLayer(layer, warnings, report);
  }
  SMMHUB_ASSIGN_OR_RETURN(std::string key, layerKey(layer));
  return memo_.getOrMake(key, [&] { return drawLayer(layer, warnings, nullptr); });
}

Result<RasterPtr> Engine::drawLayer(const Layer& layer, Diagnostics* warnings, TextReport* report) {
  int w = boxSide(layer.geometry.width);
  int h = boxSide(layer.geometry.height);
  if (const auto* image = std::get_if<templates::ImageProps>(&layer.props)) {
    ImageRequest request{image->src, w, h, toImageFit(image->fit), image->corner_radius};
    Result<Raster> raster = loadImage(request, options_.image_limits, warnings);
    if (!raster.ok()) {
      return raster.status().withContext(layer.place());
    }
    return std::make_shared<const Raster>(std::move(raster).value());
  }
  if (const auto* text = std::get_if<templates::TextProps>(&layer.props)) {
    SMMHUB_ASSIGN_OR_RETURN(TextStyle style, textStyle(*text));
    TextReport local_report;
    Result<Raster> raster =
        renderText(*fonts_, text->content, style, w, h, report != nullptr ? report : &local_report);
    if (!raster.ok()) {
      return raster.status().withContext(layer.pointer);
    }
    if (report == nullptr && warnings != nullptr) {
      addTextWarnings(local_report, *text, layer.pointer, *warnings);
    }
    return std::make_shared<const Raster>(std::move(raster).value());
  }
  if (const auto* shape = std::get_if<templates::ShapeProps>(&layer.props)) {
    Result<Raster> raster = drawShape(*shape, w, h);
    if (!raster.ok()) {
      return raster.status().withContext(layer.pointer);
    }
    return std::make_shared<const Raster>(std::move(raster).value());
  }
  return Status::internal(layer.pointer + ": layer kind has no raster");
}

Result<Raster> Engine::renderFrame(const templates::Template& bound, double time_s,
                                   Diagnostics* warnings) {
  SceneRenderer scenes(this, bound, warnings);
  SMMHUB_RETURN_IF_ERROR(scenes.planAll());
  int total = scenes.frameCount();
  int index = std::clamp(static_cast<int>(std::floor(time_s * bound.canvas.fps + 1e-9)), 0,
                         std::max(0, total - 1));
  Raster frame(bound.canvas.width, bound.canvas.height);
  SMMHUB_ASSIGN_OR_RETURN(bool drawn, scenes.drawFrame(index, frame));
  (void)drawn;
  return frame;
}

Result<std::string> Engine::audioKey(const templates::Template& bound, int frame_count,
                                     const EncodeSettings& settings) {
  Hasher key;
  key.add(kEngineVersion).add(options_.tenant).add(std::string_view("audio"));
  key.add(std::int64_t{settings.audio_bitrate}).add(std::int64_t{settings.fps});
  key.add(std::int64_t{frame_count});
  auto add = [&](const Layer& layer, double at_s, const std::string& src, double trim_start,
                 double trim_end, double volume, double fade_in, double fade_out,
                 bool loop) -> Status {
    SMMHUB_ASSIGN_OR_RETURN(std::string content, fileHash(src));
    key.add(layer.pointer).add(content).add(at_s).add(trim_start).add(trim_end).add(volume);
    key.add(fade_in).add(fade_out).add(std::int64_t{loop});
    return okStatus();
  };
  for (const Layer& layer : bound.audio) {
    const auto& a = std::get<templates::AudioProps>(layer.props);
    SMMHUB_RETURN_IF_ERROR(add(layer, layer.start_s, a.src, a.trim_start_s, a.trim_end_s, a.volume,
                               a.fade_in_s, a.fade_out_s, a.loop));
  }
  double scene_start = 0;
  for (const Scene& scene : bound.scenes) {
    key.add(scene.duration_s);
    for (const Layer& layer : scene.layers) {
      double at = scene_start + layer.start_s;
      if (const auto* a = std::get_if<templates::AudioProps>(&layer.props)) {
        SMMHUB_RETURN_IF_ERROR(add(layer, at, a->src, a->trim_start_s, a->trim_end_s, a->volume,
                                   a->fade_in_s, a->fade_out_s, a->loop));
      } else if (const auto* v = std::get_if<templates::VideoProps>(&layer.props); v && !v->mute) {
        SMMHUB_RETURN_IF_ERROR(
            add(layer, at, v->src, v->trim_start_s, v->trim_end_s, v->volume, 0, 0, v->loop));
      }
    }
    scene_start += scene.duration_s;
  }
  return key.hexDigest();
}

Result<EncodedAudio> Engine::soundTrack(const templates::Template& bound, int frame_count,
                                        const EncodeSettings& settings) {
  auto encode = [&]() -> Result<EncodedAudio> {
    SMMHUB_ASSIGN_OR_RETURN(AudioBuffer mix, mixAudio(bound));
    return encodeAudio(mix.samples.data(), mix.frames(), frame_count, settings);
  };
  if (options_.buffer == nullptr) {
    return encode();
  }
  SMMHUB_ASSIGN_OR_RETURN(std::string key, audioKey(bound, frame_count, settings));
  SMMHUB_ASSIGN_OR_RETURN(std::string bytes,
                          options_.buffer->getOrMake(options_.buffer->scopedKey("audio", key),
                                                     [&]() -> Result<std::string> {
                                                       SMMHUB_ASSIGN_OR_RETURN(EncodedAudio audio,
                                                                               encode());
                                                       return serializeAudio(audio);
                                                     }));
  return parseAudio(bytes);
}

Status Engine::writeVideo(SceneRenderer& scenes, const templates::Template& bound,
                          const EncodeSettings& settings, const std::filesystem::path& video,
                          const std::filesystem::path& poster_file, const FrameProgress& progress,
                          int* composited) {
  int total = scenes.frameCount();
  SMMHUB_ASSIGN_OR_RETURN(EncodedAudio audio, soundTrack(bound, total, settings));
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<SegmentMuxer> muxer,
                          SegmentMuxer::open(video, settings, std::move(audio)));

  // Every scene is encoded as a segment of its own, whether or not the
  // render buffer has it, so that the output never depends on the buffer.
  SegmentSettings segment_settings = segmentSettings(settings);
  int poster_index = posterFrame(bound, total);
  std::optional<Raster> poster;
  int done = 0;
  for (size_t i = 0; i < scenes.sceneCount(); ++i) {
    const ScenePlan& plan = scenes.plan(i);
    auto encode = [&]() -> Result<EncodedSegment> {
      SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<SegmentEncoder> encoder,
                              SegmentEncoder::open(settings));
      scenes.startSegment();
      Raster frame(bound.canvas.width, bound.canvas.height);
      for (int index = plan.first_frame; index < plan.first_frame + plan.frame_count; ++index) {
        SMMHUB_ASSIGN_OR_RETURN(bool drawn, scenes.drawFrame(index, frame));
        if (drawn) {
          (*composited)++;
          SMMHUB_RETURN_IF_ERROR(encoder->writeFrame(frame));
        } else {
          SMMHUB_RETURN_IF_ERROR(encoder->repeatFrame());
        }
        if (index == poster_index) {
          poster = frame;
        }
        ++done;
        if (progress && !progress(done, total)) {
          return Status::cancelled(fmt::format("stopped at frame {} of {}", done, total));
        }
      }
      return encoder->finish();
    };

    EncodedSegment segment;
    if (options_.buffer != nullptr) {
      std::string key =
          options_.buffer->scopedKey("segment", scenes.segmentKey(i, segment_settings));
      bool encoded_here = false;
      SMMHUB_ASSIGN_OR_RETURN(std::string bytes,
                              options_.buffer->getOrMake(key, [&]() -> Result<std::string> {
                                SMMHUB_ASSIGN_OR_RETURN(segment, encode());
                                encoded_here = true;
                                return serializeSegment(segment);
                              }));
      // A segment encoded here is used as it is, not parsed back from its bytes.
      if (!encoded_here) {
        SMMHUB_ASSIGN_OR_RETURN(segment, parseSegment(bytes));
      }
    } else {
      SMMHUB_ASSIGN_OR_RETURN(segment, encode());
    }
    SMMHUB_RETURN_IF_ERROR(muxer->writeSegment(segment));
    if (progress && done < plan.first_frame + plan.frame_count) {
      done = plan.first_frame + plan.frame_count;
      if (!progress(done, total)) {
        return Status::cancelled(fmt::format("stopped at frame {} of {}", done, total));
      }
    }
  }
  SMMHUB_RETURN_IF_ERROR(muxer->finish());
  muxer.reset();

  // The poster's scene came from the buffer: draw that one frame.
  if (!poster) {
    scenes.startSegment();
    Raster frame(bound.canvas.width, bound.canvas.height);
    SMMHUB_ASSIGN_OR_RETURN(bool drawn, scenes.drawFrame(poster_index, frame));
    (void)drawn;
    poster = std::move(frame);
  }
  return writePosterJpeg(*poster, poster_file);
}

Result<std::string> Engine::outputKey(const SceneRenderer& scenes, const templates::Template& bound,
                                      const EncodeSettings& settings) {
  int total = scenes.frameCount();
  Hasher key;
  key.add(kEngineVersion).add(options_.tenant).add(std::string_view("output"));
  SegmentSettings segment_settings = segmentSettings(settings);
  for (size_t i = 0; i < scenes.sceneCount(); ++i) {
    key.add(scenes.segmentKey(i, segment_settings));
  }
  SMMHUB_ASSIGN_OR_RETURN(std::string audio, audioKey(bound, total, settings));
  key.add(audio).add(std::int64_t{posterFrame(bound, total)});
  return key.hexDigest();
}

Result<VideoOutput> Engine::renderVideo(const templates::Template& bound,
                                        const std::filesystem::path& video_path,
                                        const std::filesystem::path& poster_path,
                                        Diagnostics* warnings, const FrameProgress& progress) {
  SceneRenderer scenes(this, bound, warnings);
  SMMHUB_RETURN_IF_ERROR(scenes.planAll());
  int total = scenes.frameCount();
  EncodeSettings settings = options_.encode;
  settings.width = bound.canvas.width;
  settings.height = bound.canvas.height;
  settings.fps = bound.canvas.fps;

  // Write under temporary names, so that a crash never leaves a file that
  // looks finished.
  std::filesystem::path partial_video = partialPath(video_path);
  std::filesystem::path partial_poster = partialPath(poster_path);
  PartialFiles partials({partial_video, partial_poster});
  int composited = 0;
  auto write = [&] {
    return writeVideo(scenes, bound, settings, partial_video, partial_poster, progress,
                      &composited);
  };
  if (options_.buffer == nullptr || !options_.buffer->hasSharedTier()) {
    SMMHUB_RETURN_IF_ERROR(write());
  } else {
    // An identical job returns the stored files. Only the shared tier keeps
    // them: in one process, the same video is rarely asked for twice.
    SMMHUB_ASSIGN_OR_RETURN(std::string key, outputKey(scenes, bound, settings));
    bool written_here = false;
    SMMHUB_ASSIGN_OR_RETURN(
        std::string stored,
        options_.buffer->getOrMake(
            options_.buffer->scopedKey("output", key),
            [&]() -> Result<std::string> {
              SMMHUB_RETURN_IF_ERROR(write());
              written_here = true;
              SMMHUB_ASSIGN_OR_RETURN(std::string video, readWholeFile(partial_video));
              SMMHUB_ASSIGN_OR_RETURN(std::string poster, readWholeFile(partial_poster));
              return packFiles(video, poster);
            },
            /*in_memory=*/false));
    if (!written_here) {
      SMMHUB_RETURN_IF_ERROR(unpackFiles(stored, partial_video, partial_poster));
      if (progress && !progress(total, total)) {
        return Status::cancelled(fmt::format("stopped at frame {} of {}", total, total));
      }
    }
  }

  // Read the file back before it counts as done.
  SMMHUB_RETURN_IF_ERROR(verifyOutput(partial_video, bound, total));
  std::error_code error;
  std::filesystem::rename(partial_video, video_path, error);
  if (!error) {
    std::filesystem::rename(partial_poster, poster_path, error);
  }
  if (error) {
    return Status::unavailable(video_path.string() +
                               ": cannot move the finished file into place: " + error.message());
  }

  VideoOutput output;
  output.video = video_path;
  output.poster = poster_path;
  output.frames = total;
  output.bytes = static_cast<std::int64_t>(std::filesystem::file_size(video_path, error));
  output.duration_s = bound.durationS();
  output.composited_frames = composited;
  return output;
}

}  // namespace smmhub::render
