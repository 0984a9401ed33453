// bench/segment_encode: what libx264 costs per 1080x1920 frame of a segment
// at the engine's defaults (preset veryfast, CRF 23). It measures changing
// frames, identical frames encoded by libx264 or skipped, and a Match Day-like
// segment whose picture is held after 13 changing frames. It also times a
// 240-frame video made with VideoWriter, with SegmentEncoder and
// SegmentMuxer, and with SegmentMuxer alone from serialized segments, as on a
// render buffer hit.
//
// Each mode runs --repeat times and reports its fastest run: wall and CPU
// milliseconds (all threads of the process). Frames are drawn before the
// clock starts. The last line holds every figure as key=value.
//
// Usage: segment_encode [--frames 150] [--threads 0] [--repeat 3]
//                       [--out /tmp/smmhub-bench-segment]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "render/video/audio_encoder.h"
#include "render/video/segment_encoder.h"
#include "render/video/segment_muxer.h"
#include "render/video/segment_test_util.h"
#include "render/video/video_writer.h"

namespace {

using smmhub::Result;
using smmhub::Status;
using smmhub::render::EncodedAudio;
using smmhub::render::EncodedSegment;
using smmhub::render::EncodeSettings;
using smmhub::render::Raster;
using smmhub::render::SegmentEncoder;
using smmhub::render::SegmentMuxer;
using smmhub::render::VideoWriter;

// Distinct pictures per scene. Frames cycle through them, so that each frame
// differs from the one before without holding hundreds of 8 MB rasters.
constexpr int kPoolFrames = 10;
constexpr int kVideoFrames = 240;
// Changing frames before the held picture in the held mode: the slide-in of
// the Match Day fixture scene.
constexpr int kSlideFrames = 13;

struct Timing {
  double wall_ms = std::numeric_limits<double>::infinity();
  double cpu_ms = std::numeric_limits<double>::infinity();
};

// The figures of one per-frame mode.
struct PerFrame {
  Timing timing;
  size_t bytes = 0;
  double psnr_db = 0;
};

// The figures of the 240-frame video.
struct VideoFigures {
  Timing writer;
  Timing stitched;
  Timing stored;
  std::uintmax_t writer_bytes = 0;
  std::uintmax_t stitched_bytes = 0;
  bool same_bytes = false;
  bool deterministic = false;
};

double cpuMs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// Runs WORK REPEAT times and returns the fastest wall and CPU times.
Result<Timing> measure(int repeat, const std::function<Status()>& work) {
  Timing best;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpuMs();
    SMMHUB_RETURN_IF_ERROR(work());
    const double cpu = cpuMs() - cpu_start;
    const double wall =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    best.wall_ms = std::min(best.wall_ms, wall);
    best.cpu_ms = std::min(best.cpu_ms, cpu);
  }
  return best;
}

// One scene of the video: a pool of pictures and the frames at its end that
// repeat the last one.
struct Scene {
  std::vector<Raster> pool;
  int frames = 0;
  int static_frames = 0;

  int animatedFrames() const { return frames - static_frames; }
  const Raster& picture(int i) const {
    return pool[static_cast<size_t>(std::min(i, animatedFrames() - 1) % kPoolFrames)];
  }
};

// A picture with the detail of a photo behind a moving box: a gradient,
// waves and fixed noise, so that the encoder spends realistic bits on it.
Raster texturedFrame(int width, int height, int index, std::uint8_t red) {
  Raster frame(width, height);
  const int box_x = (index * 24) % width;
  const int box_y = height / 3 + (index * 16) % (height / 3);
  for (int y = 0; y < height; ++y) {
    std::uint8_t* row = frame.row(y);
    for (int x = 0; x < width; ++x) {
      const bool box = std::abs(x - box_x) < width / 8 && std::abs(y - box_y) < width / 8;
      const std::uint32_t hash =
          (static_cast<std::uint32_t>(x) * 73856093u) ^ (static_cast<std::uint32_t>(y) * 19349663u);
      const double noise = static_cast<double>(hash % 21) - 10;
      const double wave = 24 * std::sin(x * 0.07) * std::cos(y * 0.05);
      auto channel = [&](double base) {
        return static_cast<std::uint8_t>(std::clamp(base + wave + noise, 0.0, 255.0));
      };
      std::uint8_t* pixel = row + 4 * static_cast<size_t>(x);
      pixel[0] = box ? 40 : channel(255.0 * y / height);
      pixel[1] = box ? 160 : channel(255.0 * x / width);
      pixel[2] = box ? red : channel(110);
      pixel[3] = 255;
    }
  }
  return frame;
}

Scene makeScene(const EncodeSettings& settings, int frames, int static_frames, std::uint8_t red) {
  Scene scene;
  scene.frames = frames;
  scene.static_frames = static_frames;
  for (int i = 0; i < kPoolFrames; ++i) {
    scene.pool.push_back(texturedFrame(settings.width, settings.height, i, red));
  }
  return scene;
}

Result<EncodedSegment> encodeScene(const Scene& scene, const EncodeSettings& settings) {
  SMMHUB_ASSIGN_OR_RETURN(auto encoder, SegmentEncoder::open(settings));
  for (int i = 0; i < scene.frames; ++i) {
    Status status =
        i < scene.animatedFrames() ? encoder->writeFrame(scene.picture(i)) : encoder->repeatFrame();
    SMMHUB_RETURN_IF_ERROR(status);
  }
  return encoder->finish();
}

// Encodes FRAMES - 2 repeats of PICTURE between two written frames, so that
// libx264 encodes every repeat and none is skipped.
Result<EncodedSegment> encodeRepeats(const Raster& picture, const Raster& last, int frames,
                                     const EncodeSettings& settings) {
  SMMHUB_ASSIGN_OR_RETURN(auto encoder, SegmentEncoder::open(settings));
  SMMHUB_RETURN_IF_ERROR(encoder->writeFrame(picture));
  for (int i = 1; i < frames - 1; ++i) {
    SMMHUB_RETURN_IF_ERROR(encoder->repeatFrame());
  }
  SMMHUB_RETURN_IF_ERROR(encoder->writeFrame(last));
  return encoder->finish();
}

// The frames of a segment whose PSNR against one source picture is measured.
struct PsnrFrames {
  int first = 0;
  int count = 0;
};

// Returns the mean luma PSNR in dB of FRAMES of SEGMENT against SOURCE.
Result<double> meanPsnr(const EncodedSegment& segment, const Raster& source, PsnrFrames frames) {
  SMMHUB_ASSIGN_OR_RETURN(auto pictures, smmhub::render::testing::decodeSegment(segment));
  SMMHUB_ASSIGN_OR_RETURN(std::string expected, smmhub::render::testing::sourcePlanes(source));
  double sum = 0;
  for (int i = frames.first; i < frames.first + frames.count; ++i) {
    sum += smmhub::render::testing::lumaPsnr(pictures[static_cast<size_t>(i)], expected,
                                             source.width, source.height);
  }
  return sum / frames.count;
}

size_t segmentBytes(const EncodedSegment& segment) {
  size_t bytes = 0;
  for (const auto& packet : segment.packets) {
    bytes += packet.data.size();
  }
  return bytes;
}

std::string readFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// Runs ENCODE REPEAT times and returns its per-frame figures, with the PSNR of
// PSNR_FRAMES against SOURCE.
Result<PerFrame> perFrameMode(int repeat, int frames, const Raster& source, PsnrFrames psnr_frames,
                              const std::function<Result<EncodedSegment>()>& encode) {
  EncodedSegment segment;
  SMMHUB_ASSIGN_OR_RETURN(Timing total, measure(repeat, [&]() -> Status {
                            SMMHUB_ASSIGN_OR_RETURN(segment, encode());
                            return smmhub::okStatus();
                          }));
  PerFrame figures;
  figures.timing.wall_ms = total.wall_ms / frames;
  figures.timing.cpu_ms = total.cpu_ms / frames;
  figures.bytes = segmentBytes(segment);
  if (psnr_frames.count > 0) {
    SMMHUB_ASSIGN_OR_RETURN(figures.psnr_db, meanPsnr(segment, source, psnr_frames));
  }
  return figures;
}

// An 8 s 440 Hz tone, interleaved stereo at 48 kHz.
std::vector<float> tone() {
  std::vector<float> samples(size_t{2} * 8 * 48000);
  for (size_t i = 0; i < samples.size() / 2; ++i) {
    const auto value = static_cast<float>(0.25 * std::sin(static_cast<double>(i) * 0.0576));
    samples[2 * i] = value;
    samples[2 * i + 1] = value;
  }
  return samples;
}

Status writeScene(VideoWriter& video, const Scene& scene) {
  for (int i = 0; i < scene.frames; ++i) {
    Status status =
        i < scene.animatedFrames() ? video.writeFrame(scene.picture(i)) : video.repeatFrame();
    SMMHUB_RETURN_IF_ERROR(status);
  }
  return smmhub::okStatus();
}

Status writeWithVideoWriter(const std::string& path, const std::vector<Scene>& scenes,
                            const std::vector<float>& audio, const EncodeSettings& settings) {
  SMMHUB_ASSIGN_OR_RETURN(auto video, VideoWriter::open(path, settings));
  SMMHUB_RETURN_IF_ERROR(video->writeAudio(audio.data(), audio.size() / 2));
  for (const Scene& scene : scenes) {
    SMMHUB_RETURN_IF_ERROR(writeScene(*video, scene));
  }
  return video->finish();
}

// Encodes the scenes and the sound track and stitches them into PATH, and
// keeps their serialized forms in STORED_SEGMENTS and STORED_AUDIO.
Status writeStitched(const std::string& path, const std::vector<Scene>& scenes,
                     const std::vector<float>& samples, const EncodeSettings& settings,
                     std::vector<std::string>& stored_segments, std::string& stored_audio) {
  SMMHUB_ASSIGN_OR_RETURN(
      EncodedAudio audio,
      smmhub::render::encodeAudio(samples.data(), samples.size() / 2, kVideoFrames, settings));
  stored_audio = smmhub::render::serializeAudio(audio);
  SMMHUB_ASSIGN_OR_RETURN(auto muxer, SegmentMuxer::open(path, settings, std::move(audio)));
  stored_segments.clear();
  for (const Scene& scene : scenes) {
    SMMHUB_ASSIGN_OR_RETURN(EncodedSegment segment, encodeScene(scene, settings));
    SMMHUB_RETURN_IF_ERROR(muxer->writeSegment(segment));
    stored_segments.push_back(smmhub::render::serializeSegment(segment));
  }
  return muxer->finish();
}

Status writeFromStored(const std::string& path, const std::vector<std::string>& stored_segments,
                       const std::string& stored_audio, const EncodeSettings& settings) {
  SMMHUB_ASSIGN_OR_RETURN(EncodedAudio audio, smmhub::render::parseAudio(stored_audio));
  SMMHUB_ASSIGN_OR_RETURN(auto muxer, SegmentMuxer::open(path, settings, std::move(audio)));
  for (const std::string& stored : stored_segments) {
    SMMHUB_ASSIGN_OR_RETURN(EncodedSegment segment, smmhub::render::parseSegment(stored));
    SMMHUB_RETURN_IF_ERROR(muxer->writeSegment(segment));
  }
  return muxer->finish();
}

// Makes the 240-frame video (an intro, a scene whose animation stops after 90
// of 150 frames, an outro; 8 s of tone) the three ways.
Result<VideoFigures> measureVideo(int repeat, const std::string& out,
                                  const EncodeSettings& settings) {
  const std::vector<Scene> scenes = {makeScene(settings, 60, 0, 255),
                                     makeScene(settings, 150, 60, 30),
                                     makeScene(settings, 30, 0, 120)};
  const std::vector<float> samples = tone();
  std::vector<std::string> stored_segments;
  std::string stored_audio;

  VideoFigures figures;
  SMMHUB_ASSIGN_OR_RETURN(figures.writer, measure(repeat, [&] {
                            return writeWithVideoWriter(out + "/writer.mp4", scenes, samples,
                                                        settings);
                          }));
  SMMHUB_ASSIGN_OR_RETURN(figures.stitched, measure(repeat, [&] {
                            return writeStitched(out + "/stitched.mp4", scenes, samples, settings,
                                                 stored_segments, stored_audio);
                          }));
  SMMHUB_ASSIGN_OR_RETURN(figures.stored, measure(repeat, [&] {
                            return writeFromStored(out + "/stored.mp4", stored_segments,
                                                   stored_audio, settings);
                          }));
  figures.writer_bytes = std::filesystem::file_size(out + "/writer.mp4");
  figures.stitched_bytes = std::filesystem::file_size(out + "/stitched.mp4");
  figures.same_bytes = readFile(out + "/stitched.mp4") == readFile(out + "/stored.mp4");

  // The same scenes again, after every other encode has left its contents in
  // the heap: the segments must come out byte for byte the same.
  figures.deterministic = true;
  for (size_t i = 0; i < scenes.size(); ++i) {
    SMMHUB_ASSIGN_OR_RETURN(EncodedSegment again, encodeScene(scenes[i], settings));
    figures.deterministic =
        figures.deterministic && smmhub::render::serializeSegment(again) == stored_segments[i];
  }
  return figures;
}

int run(int frames, int threads, int repeat, const std::string& out) {
  std::filesystem::create_directories(out);
  EncodeSettings settings;
  settings.threads = threads;
  const Scene changing = makeScene(settings, frames, 0, 220);
  const Raster& still = changing.pool[0];

  auto changing_figures =
      perFrameMode(repeat, frames, still, {}, [&] { return encodeScene(changing, settings); });
  auto encoded_figures = perFrameMode(repeat, frames, still, {0, frames - 1}, [&] {
    return encodeRepeats(still, changing.pool[1], frames, settings);
  });
  const Scene identical = makeScene(settings, frames, frames - 1, 220);
  auto skipped_figures = perFrameMode(repeat, frames, still, {0, frames},
                                      [&] { return encodeScene(identical, settings); });
  // The Match Day fixture scene: a slide-in over 13 frames, then its last
  // picture held to the end.
  const int slide_frames = std::min(kSlideFrames, frames - 1);
  const Scene held = makeScene(settings, frames, frames - slide_frames, 220);
  auto held_figures = perFrameMode(repeat, frames, held.picture(slide_frames - 1),
                                   {slide_frames - 1, frames - slide_frames + 1},
                                   [&] { return encodeScene(held, settings); });
  auto video = measureVideo(repeat, out, settings);
  for (const Status& status :
       {smmhub::internal::toStatus(changing_figures), smmhub::internal::toStatus(encoded_figures),
        smmhub::internal::toStatus(skipped_figures), smmhub::internal::toStatus(held_figures),
        smmhub::internal::toStatus(video)}) {
    if (!status.ok()) {
      fmt::print(stderr, "segment_encode: {}\n", status.toString());
      return 2;
    }
  }

  fmt::print("per frame, {}x{} preset={} crf={} gop={} threads={}, {} frames per segment\n",
             settings.width, settings.height, settings.preset, settings.crf, settings.gop_frames,
             threads, frames);
  fmt::print("{:<20} {:>9} {:>9} {:>10} {:>9}\n", "mode", "wall_ms", "cpu_ms", "bytes", "psnr_db");
  const std::vector<std::pair<std::string, PerFrame>> rows = {
      {"changing", *changing_figures},
      {"identical encoded", *encoded_figures},
      {"identical skipped", *skipped_figures},
      {fmt::format("held after {}", slide_frames), *held_figures}};
  for (const auto& [name, figures] : rows) {
    fmt::print("{:<20} {:>9.2f} {:>9.2f} {:>10} {:>9.2f}\n", name, figures.timing.wall_ms,
               figures.timing.cpu_ms, figures.bytes, figures.psnr_db);
  }

  fmt::print("\n{}-frame video: 3 scenes, 60 trailing repeats in the second\n", kVideoFrames);
  fmt::print("{:<20} {:>9} {:>9} {:>10}\n", "mode", "wall_ms", "cpu_ms", "bytes");
  fmt::print("{:<20} {:>9.0f} {:>9.0f} {:>10}\n", "VideoWriter", video->writer.wall_ms,
             video->writer.cpu_ms, video->writer_bytes);
  fmt::print("{:<20} {:>9.0f} {:>9.0f} {:>10}\n", "segments + muxer", video->stitched.wall_ms,
             video->stitched.cpu_ms, video->stitched_bytes);
  fmt::print("{:<20} {:>9.0f} {:>9.0f} {:>10}\n", "muxer from stored", video->stored.wall_ms,
             video->stored.cpu_ms, video->stitched_bytes);

  fmt::print(
      "frames={} threads={} changing_wall_ms={:.2f} changing_cpu_ms={:.2f} "
      "identical_encoded_wall_ms={:.2f} identical_encoded_cpu_ms={:.2f} "
      "identical_encoded_psnr_db={:.2f} identical_skipped_wall_ms={:.3f} "
      "identical_skipped_cpu_ms={:.3f} identical_skipped_psnr_db={:.2f} held_wall_ms={:.3f} "
      "held_cpu_ms={:.3f} held_bytes={} held_psnr_db={:.2f} video_writer_wall_ms={:.0f} "
      "video_writer_cpu_ms={:.0f} stitched_wall_ms={:.0f} "
      "stitched_cpu_ms={:.0f} stored_wall_ms={:.0f} stored_cpu_ms={:.0f} same_bytes={} "
      "deterministic={}\n",
      frames, threads, changing_figures->timing.wall_ms, changing_figures->timing.cpu_ms,
      encoded_figures->timing.wall_ms, encoded_figures->timing.cpu_ms, encoded_figures->psnr_db,
      skipped_figures->timing.wall_ms, skipped_figures->timing.cpu_ms, skipped_figures->psnr_db,
      held_figures->timing.wall_ms, held_figures->timing.cpu_ms, held_figures->bytes,
      held_figures->psnr_db, video->writer.wall_ms, video->writer.cpu_ms, video->stitched.wall_ms,
      video->stitched.cpu_ms, video->stored.wall_ms, video->stored.cpu_ms,
      video->same_bytes ? 1 : 0, video->deterministic ? 1 : 0);
  return video->same_bytes && video->deterministic ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{"Segment encoding benchmark"};
    int frames = 150;
    int threads = 0;
    int repeat = 3;
    std::string out = "/tmp/smmhub-bench-segment";
    app.add_option("--frames", frames, "Frames per segment in the per-frame modes")
        ->check(CLI::Range(3, 100000))
        ->capture_default_str();
    app.add_option("--threads", threads, "x264 threads, 0 to let x264 choose")
        ->capture_default_str();
    app.add_option("--repeat", repeat, "Runs per mode; the fastest counts")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--out", out, "Folder for the videos")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    return run(frames, threads, repeat, out);
  } catch (const std::exception& error) {
    fmt::print(stderr, "segment_encode: {}\n", error.what());
    return 2;
  }
}
