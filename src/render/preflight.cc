#include "render/preflight.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "render/batch.h"
#include "render/canvas.h"
#include "render/engine.h"
#include "render/image/image_loader.h"
#include "render/video/audio_track.h"
#include "render/video/video_clip.h"
#include "template/data_table.h"
#include "template/parser.h"

namespace smmhub::render {
namespace {

// Instagram's publishing API rejects shorter videos.
constexpr double kMinPlatformDurationS = 3;

// Thumbnail size of one row on the proof sheet.
constexpr int kProofThumbWidth = 216;
constexpr int kProofColumns = 10;

std::string rowPlace(int row, const std::string& pointer) {
  return pointer.empty() ? fmt::format("row {}", row) : fmt::format("row {}: {}", row, pointer);
}

void reportText(const TextReport& text, const templates::Layer& layer, int row, Diagnostics& out) {
  std::string place = rowPlace(row, layer.pointer);
  addTextWarnings(text, std::get<templates::TextProps>(layer.props), place, out);
  if (text.right_to_left) {
    out.info(place, "text is right to left");
  }
}

// Checks the layers of BOUND that draw pixels or play sound: each must load.
void checkLayers(Engine& engine, const templates::Template& bound, int row, Diagnostics& out) {
  auto check = [&](const templates::Layer& layer) {
    Diagnostics warnings;
    Status status;
    if (layer.kind == templates::LayerKind::kText) {
      TextReport text;
      status = smmhub::internal::toStatus(engine.rasterizeLayer(layer, &warnings, &text));
      if (status.ok()) {
        reportText(text, layer, row, out);
      }
    } else if (layer.kind == templates::LayerKind::kVideo) {
      status = smmhub::internal::toStatus(
          VideoClip::open(std::get<templates::VideoProps>(layer.props).src));
    } else if (layer.kind == templates::LayerKind::kAudio) {
      status = smmhub::internal::toStatus(
          decodeAudio(std::get<templates::AudioProps>(layer.props).src, 0, 0));
    } else {
      status = smmhub::internal::toStatus(engine.rasterizeLayer(layer, &warnings));
    }
    if (!status.ok()) {
      // Raster errors already start with the layer's place; the others get it here.
      bool placed = status.message().starts_with(layer.pointer);
      out.error(rowPlace(row, placed ? "" : layer.place()), status.message());
    }
    for (const auto& warning : warnings.items()) {
      out.add(warning.severity, rowPlace(row, layer.pointer),
              warning.place + ": " + warning.message);
    }
  };
  for (const auto& layer : bound.audio) {
    check(layer);
  }
  for (const auto& scene : bound.scenes) {
    for (const auto& layer : scene.layers) {
      check(layer);
    }
  }
}

Status writeProof(const std::vector<Raster>& frames, const std::filesystem::path& path) {
  if (frames.empty()) {
    return Status::failedPrecondition(path.string() + ": no row rendered, so there is no proof");
  }
  int thumb_w = kProofThumbWidth;
  int thumb_h = static_cast<int>(
      std::lround(static_cast<double>(frames[0].height) * thumb_w / frames[0].width));
  int columns = std::min<int>(kProofColumns, static_cast<int>(frames.size()));
  int rows = (static_cast<int>(frames.size()) + columns - 1) / columns;
  constexpr int kGap = 8;
  Raster sheet(columns * (thumb_w + kGap) + kGap, rows * (thumb_h + kGap) + kGap);
  fillRaster(sheet, Color{40, 40, 40, 255});
  for (size_t i = 0; i < frames.size(); ++i) {
    Raster thumb = scaleRaster(frames[i], thumb_w, thumb_h);
    int column = static_cast<int>(i) % columns;
    int line = static_cast<int>(i) / columns;
    templates::Geometry at;
    LayerState state;
    state.x = kGap + column * (thumb_w + kGap);
    state.y = kGap + line * (thumb_h + kGap);
    compositeLayer(sheet, thumb, at, state);
  }
  return writePng(sheet, path);
}

}  // namespace

Result<PreflightReport> preflight(const PreflightRequest& request) {
  PreflightReport report;
  Diagnostics problems;
  auto finish = [&] {
    report.problems = problems.items();
    return report;
  };

  Result<templates::Template> tmpl = templates::loadTemplate(request.template_path, &problems);
  if (!tmpl.ok()) {
    if (!problems.hasErrors()) {
      problems.error(request.template_path.string(), tmpl.status().message());
    }
    return finish();
  }
  report.template_valid = true;
  if (tmpl->durationS() < kMinPlatformDurationS) {
    problems.warning("/scenes", fmt::format("the video lasts {:g} s; Instagram's publishing API "
                                            "rejects videos shorter than {:g} s",
                                            tmpl->durationS(), kMinPlatformDurationS));
  }

  templates::BrandKit brand;
  if (request.brand_dir) {
    Result<templates::BrandKit> loaded = templates::loadBrandKit(*request.brand_dir, &problems);
    if (!loaded.ok()) {
      if (!problems.hasErrors()) {
        problems.error(request.brand_dir->string(), loaded.status().message());
      }
      return finish();
    }
    brand = std::move(loaded).value();
  }
  // Brand names are checked once for the template, so that rows repeat none
  // of these errors.
  Diagnostics brand_problems;
  templates::checkBrandReferences(*tmpl, brand, &brand_problems);
  std::vector<std::string> brand_messages;
  for (const auto& item : brand_problems.items()) {
    brand_messages.push_back(item.message);
  }
  if (!request.brand_dir && brand_problems.hasErrors()) {
    problems.error("/", fmt::format("the template uses the brand kit in {} places and no brand "
                                    "kit was given; name its folder with --brand",
                                    brand_problems.items().size()));
  } else {
    for (const auto& item : brand_problems.items()) {
      problems.add(item.severity, item.place, item.message);
    }
  }
  auto repeatsBrandProblem = [&](const std::string& message) {
    return std::any_of(
        brand_messages.begin(), brand_messages.end(),
        [&](const std::string& brand_message) { return message.ends_with(brand_message); });
  };
  if (!request.data_path) {
    return finish();
  }
  Result<templates::DataTable> table = templates::readRows(*request.data_path);
  if (!table.ok()) {
    problems.error(request.data_path->string(), table.status().message());
    return finish();
  }
  table->source_roots = request.source_roots;

  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<FontLibrary> fonts, FontLibrary::create());
  EngineOptions options;
  SMMHUB_ASSIGN_OR_RETURN(options.font_set_key, registerBrandFonts(brand, *fonts));
  MemoryRasterCache cache(std::uint64_t{512} << 20);
  Engine engine(fonts.get(), &cache, options);
  std::vector<Raster> proofs;
  for (const auto& row : table->rows) {
    report.rows++;
    size_t errors_before = problems.count(Severity::kError);
    Diagnostics row_problems;
    auto bound = templates::bindTemplate(*tmpl, brand, *table, row, request.mapping,
                                         request.template_path.parent_path(), &row_problems);
    bool row_failed = false;
    for (const auto& item : row_problems.items()) {
      row_failed = row_failed || item.severity == Severity::kError;
      if (repeatsBrandProblem(item.message)) {
        continue;
      }
      // Binding places data errors at "row N, column C" and the others at a
      // JSON pointer, which gets the row here.
      bool has_row = item.place.starts_with("row ");
      problems.add(item.severity, has_row ? item.place : rowPlace(row.number, item.place),
                   item.message);
    }
    if (!bound.ok()) {
      if (!row_problems.hasErrors()) {
        problems.error(rowPlace(row.number, ""), bound.status().message());
      }
    } else {
      checkLayers(engine, *bound, row.number, problems);
    }
    row_failed = row_failed || problems.count(Severity::kError) > errors_before;
    report.rows_with_errors += row_failed ? 1 : 0;
    if (request.proof_path && bound.ok() && !row_failed) {
      double t = bound->poster_time_s >= 0 ? bound->poster_time_s : bound->durationS() / 2;
      Diagnostics ignored;
      Result<Raster> frame = engine.renderFrame(*bound, t, &ignored);
      if (frame.ok()) {
        proofs.push_back(std::move(frame).value());
      }
    }
  }
  if (request.proof_path) {
    SMMHUB_RETURN_IF_ERROR(writeProof(proofs, *request.proof_path));
  }
  return finish();
}

}  // namespace smmhub::render
