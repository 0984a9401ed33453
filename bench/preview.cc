// bench/preview: how long a worker takes to render one preview frame with
// render::renderBatchFrame(), the function behind POST /api/v1/previews.
// It renders the frame of one row of the API's test card
// (tests/testdata/api/card.json with tests/testdata/golden/brand) N times in
// one process, as a worker's preview thread does, each call with its own
// inputs, fonts and engine, and writes the PNG. The Redis round trip of the
// preview queue is not included.
//
// Usage: preview [--runs N] [--out FILE] (run from the repository root)
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "render/batch.h"
#include "render/image/image_loader.h"

int main(int argc, char** argv) {
  int runs = 20;
  std::string out = (std::filesystem::temp_directory_path() / "smmhub-bench-preview.png").string();
  CLI::App app("bench/preview: the time of one preview frame, render and PNG");
  app.add_option("--runs", runs, "Frames to render")->capture_default_str();
  app.add_option("--out", out, "PNG file written by every run")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  smmhub::render::BatchRequest request;
  request.template_path = "tests/testdata/api/card.json";
  request.data_path = "tests/testdata/api/fixtures.csv";
  request.brand_dir = "tests/testdata/golden/brand";
  request.mapping.field_to_column = {{"home", "Home team"}, {"away", "Away team"}};
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    request.rows = {i % 3 + 1};
    auto start = std::chrono::steady_clock::now();
    auto frame = smmhub::render::renderBatchFrame(request, 0.2);
    if (!frame.ok()) {
      fmt::print(stderr, "preview: {}\n", frame.status().message());
      return 1;
    }
    smmhub::Status written = smmhub::render::writePng(frame->frame, out);
    if (!written.ok()) {
      fmt::print(stderr, "preview: {}\n", written.message());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }

  // The first frame also starts libvips and fontconfig, which a worker does
  // once, so it is reported apart.
  double first = ms.front();
  std::vector<double> rest(ms.begin() + 1, ms.end());
  std::sort(rest.begin(), rest.end());
  double median = rest.empty() ? first : rest[rest.size() / 2];
  double max = rest.empty() ? first : rest.back();
  fmt::print("first frame: {:.1f} ms\n", first);
  fmt::print("frames 2 to {}: median {:.1f} ms, max {:.1f} ms\n", runs, median, max);
  fmt::print("runs={} first_ms={:.1f} median_ms={:.1f} max_ms={:.1f}\n", runs, first, median, max);
  return 0;
}
