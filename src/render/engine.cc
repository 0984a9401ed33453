#include "render/engine.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "common/check.h"
#include "common/hash.h"
#include "common/log.h"
#include "render/animation.h"
#include "render/canvas.h"
#include "render/video/audio_track.h"
#include "render/video/probe.h"
#include "render/video/video_clip.h"

namespace smmhub::render {
namespace {

using templates::Layer;
using templates::LayerKind;
using templates::Scene;

// One entry of a scene's draw list, bottom to top: either a plate (static
// layers flattened onto one canvas-sized raster) or one animated layer.
struct DrawStep {
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

  // Draws frame INDEX into FRAME unless it equals the frame drawn last, in
  // which case it returns false and leaves FRAME as it was.
  Result<bool> drawFrame(int index, Raster& frame) {
    size_t scene_index = sceneOf(index);
    ScenePlan& plan = plans_[scene_index];
    double t = frameTime(index - plan.first_frame, bound_.canvas.fps);

    FrameSignature signature = signatureAt(scene_index, t);
    bool repeat = last_signature_ && signature == *last_signature_ && !signature.has_video;
    if (!repeat) {
      SMMHUB_RETURN_IF_ERROR(composite(plan, t, frame));
      auto previous = scene_last_frames_.find(scene_index - 1);
      if (signature.crossfade < 1 && scene_index > 0) {
        // The parser rejects scenes shorter than one frame, so the previous
        // scene always left its last picture.
        SMMHUB_BUG(previous != scene_last_frames_.end());
        if (previous != scene_last_frames_.end()) {
          blendOver(frame, *previous->second, 1 - signature.crossfade);
        }
      }
      last_signature_ = std::move(signature);
    }

    // A crossfade into the next scene starts from this scene's last picture,
    // drawn or repeated.
    if (index == plan.first_frame + plan.frame_count - 1 && needsLastFrame(scene_index)) {
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

  bool needsLastFrame(size_t scene_index) const {
    return scene_index + 1 < plans_.size() &&
           plans_[scene_index + 1].scene->transition.type == templates::TransitionType::kCrossfade;
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
      signature.has_video = signature.has_video || (step.clip && state.visible);
      signature.states.push_back(state);
    }
    const auto& transition = plan.scene->transition;
    if (transition.type == templates::TransitionType::kCrossfade && transition.duration_s > 0 &&
        scene_index > 0) {
      signature.crossfade = std::min(1.0, t / transition.duration_s);
    }
    return signature;
  }

  Status composite(ScenePlan& plan, double t, Raster& frame) {
    for (DrawStep& step : plan.steps) {
      if (step.plate) {
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
      SMMHUB_RETURN_IF_ERROR(addAnimated(plan, layer));
    }
    if (bottom || !group.empty()) {
      SMMHUB_RETURN_IF_ERROR(addPlate(plan, group, bottom));
    }
    return okStatus();
  }

  Status addAnimated(ScenePlan& plan, const Layer& layer) {
    DrawStep step;
    step.layer = &layer;
    if (layer.kind == LayerKind::kVideo) {
      const auto& video = std::get<templates::VideoProps>(layer.props);
      auto clip = VideoClip::open(video.src);
      if (!clip.ok()) {
        return clip.status().withContext(layer.place());
      }
      step.clip = std::move(clip).value();
    } else {
      SMMHUB_ASSIGN_OR_RETURN(step.raster, engine_->rasterizeLayer(layer, warnings_));
    }
    plan.steps.push_back(std::move(step));
    return okStatus();
  }

  // Flattens GROUP (static layers, bottom to top) into one canvas-sized plate.
  // The bottom plate starts from the scene's background colour.
  Status addPlate(ScenePlan& plan, const std::vector<const Layer*>& group, bool bottom) {
    const auto& canvas = bound_.canvas;
    std::string background = bottom ? sceneBackground(bound_, *plan.scene) : "";
    Hasher key;
    key.add(kEngineVersion).add(engine_->options_.tenant).add(std::string_view("plate"));
    key.add(std::int64_t{canvas.width}).add(std::int64_t{canvas.height}).add(background);
    std::vector<RasterPtr> rasters;
    for (const Layer* layer : group) {
      SMMHUB_ASSIGN_OR_RETURN(RasterPtr raster, engine_->rasterizeLayer(*layer, warnings_));
      SMMHUB_ASSIGN_OR_RETURN(std::string layer_key, engine_->layerKey(*layer));
      const auto& g = layer->geometry;
      key.add(layer_key).add(g.x).add(g.y).add(g.scale).add(g.rotation_deg).add(g.opacity);
      key.add(static_cast<std::int64_t>(g.anchor));
      rasters.push_back(std::move(raster));
    }

    auto make = [&]() -> Result<RasterPtr> {
      auto plate = std::make_shared<Raster>(canvas.width, canvas.height);
      if (!background.empty()) {
        SMMHUB_ASSIGN_OR_RETURN(Color color, parseColor(background));
        fillRaster(*plate, color);
      }
      for (size_t i = 0; i < group.size(); ++i) {
        LayerState state = sampleLayer(*group[i], 0, plan.scene->duration_s);
        compositeLayer(*plate, *rasters[i], group[i]->geometry, state);
      }
      return RasterPtr(plate);
    };
    DrawStep step;
    SMMHUB_ASSIGN_OR_RETURN(
        step.plate, engine_->memo_.getOrMake(key.hexDigest(), make, /*admit_on_repeat=*/true));
    plan.steps.push_back(std::move(step));
    return okStatus();
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

  // A crossfade needs the previous scene's last frame, so draw from there.
  Raster frame(bound.canvas.width, bound.canvas.height);
  int start = index;
  double scene_start = 0;
  for (const Scene& scene : bound.scenes) {
    int first = static_cast<int>(std::lround(scene_start * bound.canvas.fps));
    int count = static_cast<int>(std::lround(scene.duration_s * bound.canvas.fps));
    if (index >= first && index < first + count &&
        scene.transition.type == templates::TransitionType::kCrossfade && first > 0) {
      start = first - 1;
    }
    scene_start += scene.duration_s;
  }
  for (int i = start; i <= index; ++i) {
    SMMHUB_ASSIGN_OR_RETURN(bool drawn, scenes.drawFrame(i, frame));
    (void)drawn;
  }
  return frame;
}

Result<VideoOutput> Engine::renderVideo(const templates::Template& bound,
                                        const std::filesystem::path& video_path,
                                        const std::filesystem::path& poster_path,
                                        Diagnostics* warnings, const FrameProgress& progress) {
  SceneRenderer scenes(this, bound, warnings);
  SMMHUB_RETURN_IF_ERROR(scenes.planAll());
  int total = scenes.frameCount();
  SMMHUB_ASSIGN_OR_RETURN(AudioBuffer audio, mixAudio(bound));

  // Encode under a temporary name, so that a crash never leaves a file that
  // looks finished.
  EncodeSettings settings = options_.encode;
  settings.width = bound.canvas.width;
  settings.height = bound.canvas.height;
  settings.fps = bound.canvas.fps;
  std::filesystem::path partial_video = partialPath(video_path);
  std::filesystem::path partial_poster = partialPath(poster_path);
  PartialFiles partials({partial_video, partial_poster});
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<VideoWriter> writer,
                          VideoWriter::open(partial_video, settings));
  SMMHUB_RETURN_IF_ERROR(writer->writeAudio(audio.samples.data(), audio.frames()));

  Raster frame(bound.canvas.width, bound.canvas.height);
  Raster poster;
  int poster_index = posterFrame(bound, total);
  int composited = 0;
  for (int i = 0; i < total; ++i) {
    SMMHUB_ASSIGN_OR_RETURN(bool drawn, scenes.drawFrame(i, frame));
    if (drawn) {
      composited++;
      SMMHUB_RETURN_IF_ERROR(writer->writeFrame(frame));
    } else {
      SMMHUB_RETURN_IF_ERROR(writer->repeatFrame());
    }
    if (i == poster_index) {
      poster = frame;
    }
    if (progress) {
      progress(i + 1, total);
    }
  }
  SMMHUB_RETURN_IF_ERROR(writer->finish());
  writer.reset();

  // Read the file back before it counts as done.
  SMMHUB_RETURN_IF_ERROR(verifyOutput(partial_video, bound, total));
  SMMHUB_RETURN_IF_ERROR(writePosterJpeg(poster, partial_poster));
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
