// Batch progress on the terminal: a redrawn bar with an ETA when standard
// error is a terminal, one plain line per finished row otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>

#include "render/batch.h"

namespace smmhub::cli {

class ProgressDisplay final : public render::BatchObserver {
 public:
  // Writes to OUT; draws a bar when INTERACTIVE.
  ProgressDisplay(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}

  void batchStarted(int rows, int frames_per_video) override;
  void framesDone(int row, int done, int total) override;
  void rowFinished(const render::RowOutcome& outcome) override;

  // Ends the bar's line, so that later output starts on a fresh line.
  void close();

 private:
  void drawBar();

  std::FILE* out_;
  bool interactive_;
  int rows_ = 0;
  int frames_per_video_ = 0;
  int finished_ = 0;
  int failed_ = 0;
  std::map<int, int> frames_in_flight_;  // row -> frames done
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace smmhub::cli
