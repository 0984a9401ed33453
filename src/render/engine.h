// The render engine: one bound template in, one MP4 and one poster out.
//
// Rendering runs in the stages bind (done before, by the template library),
// plan, rasterize, composite and encode:
//   plan        split each scene's layers into static ones, flattened into
//               plates, and animated or dynamic ones drawn every frame;
//   rasterize   draw each layer once at its box size through the adapters
//               (libvips, librsvg, Pango), through the raster cache, so that a
//               layer shared by many videos is drawn once per batch;
//   composite   per frame, the plate plus the animated layers; a frame equal
//               to the previous one is neither composited nor converted again;
//   encode      H.264 and AAC into an MP4 written under a temporary name, read
//               back through libavformat, and only then renamed into place.
//
// An Engine is shared by the threads of a batch; each call is independent.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "common/diagnostics.h"
#include "common/engine_version.h"
#include "common/status.h"
#include "render/image/image_loader.h"
#include "render/raster.h"
#include "render/raster_cache.h"
#include "render/text/text_renderer.h"
#include "render/video/encoded_media.h"
#include "render/video/video_writer.h"
#include "template/template.h"

namespace smmhub::render {

// Changes whenever the engine's output for the same inputs can change; part of
// every cache key. The value lives in common/engine_version.h, which the
// admin API reads for its preview cache without linking the engine.
inline constexpr std::string_view kEngineVersion = kRenderEngineVersion;

struct EngineOptions {
  EncodeSettings encode;
  ImageLimits image_limits;
  // Identifies the set of font files text is drawn with (a hash of the brand
  // kit's fonts); part of every text layer's cache key.
  std::string font_set_key;
  // Scopes every cache key, so that no tenant can learn from a hit what
  // another tenant rendered.
  std::string tenant = "local";
  // The render buffer's shared tier, or null. It must outlive the engine.
  buffer::RenderBuffer* buffer = nullptr;
};

// What one rendered video came to, read back from the written file.
struct VideoOutput {
  std::filesystem::path video;
  std::filesystem::path poster;
  int frames = 0;
  std::int64_t bytes = 0;
  double duration_s = 0;
  int composited_frames = 0;  // frames drawn; the rest repeated the previous picture
};

// Returns the name Engine::renderVideo writes PATH under until the file is
// complete and checked: ".NAME.partial" in the same folder.
std::filesystem::path partialPath(const std::filesystem::path& path);

// Adds to WARNINGS, at PLACE, one warning per font fallback in REPORT, one
// for characters no font has, and one for text that overflows its box.
void addTextWarnings(const TextReport& report, const templates::TextProps& text,
                     const std::string& place, Diagnostics& warnings);

// Called after each encoded frame with the frame count so far and the total.
// Returning false stops the video at that frame: renderVideo then fails with
// cancelled and leaves no file.
using FrameProgress = std::function<bool(int done, int total)>;

class SceneRenderer;

class Engine {
 public:
  // FONTS must outlive the engine; CACHE may be null (no reuse).
  Engine(const FontLibrary* fonts, RasterCache* cache, EngineOptions options);

  // Renders BOUND (a template bound to one row) into VIDEO_PATH and
  // POSTER_PATH. Problems that do not stop the video (a font fallback, an SVG
  // reference not fetched) go to WARNINGS.
  Result<VideoOutput> renderVideo(const templates::Template& bound,
                                  const std::filesystem::path& video_path,
                                  const std::filesystem::path& poster_path, Diagnostics* warnings,
                                  const FrameProgress& progress = nullptr);

  // Renders the single frame of BOUND at TIME_S seconds.
  Result<Raster> renderFrame(const templates::Template& bound, double time_s,
                             Diagnostics* warnings);

  // Rasterizes LAYER at its box size, through the cache. Text layers report
  // what the text renderer saw (fallback fonts, overflow) in REPORT, which may
  // be null.
  Result<RasterPtr> rasterizeLayer(const templates::Layer& layer, Diagnostics* warnings,
                                   TextReport* report = nullptr);

  const EngineOptions& options() const { return options_; }

 private:
  friend class SceneRenderer;

  // Returns a content hash of the file at PATH, memoised by path, size and
  // modification time.
  Result<std::string> fileHash(const std::filesystem::path& path);
  Result<std::string> layerKey(const templates::Layer& layer);
  // Returns the key of BOUND's encoded sound track: every audio source's
  // content and placement, and the settings.
  Result<std::string> audioKey(const templates::Template& bound, int frame_count,
                               const EncodeSettings& settings);
  // Returns the key of the whole output of SCENES: the keys of its
  // segments, of its sound track and of its poster.
  Result<std::string> outputKey(const SceneRenderer& scenes, const templates::Template& bound,
                                const EncodeSettings& settings);
  // Encodes or takes from the buffer each scene's segment, stitches them with
  // the sound track into VIDEO and writes the poster JPEG to POSTER_FILE.
  Status writeVideo(SceneRenderer& scenes, const templates::Template& bound,
                    const EncodeSettings& settings, const std::filesystem::path& video,
                    const std::filesystem::path& poster_file, const FrameProgress& progress,
                    int* composited);
  // Returns BOUND's encoded sound track, through the render buffer.
  Result<EncodedAudio> soundTrack(const templates::Template& bound, int frame_count,
                                  const EncodeSettings& settings);
  Result<RasterPtr> drawLayer(const templates::Layer& layer, Diagnostics* warnings,
                              TextReport* report);

  const FontLibrary* fonts_;
  RasterMemo memo_;
  EngineOptions options_;

  std::mutex file_hash_mutex_;
  std::map<std::string, std::pair<std::string, std::string>> file_hashes_;  // path -> (stamp, hash)
};

}  // namespace smmhub::render
