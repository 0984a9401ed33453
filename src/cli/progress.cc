#include "cli/progress.h"

#include <algorithm>

#include <fmt/format.h>

namespace smmhub::cli {
namespace {

std::string formatDuration(double seconds) {
  int total = static_cast<int>(seconds + 0.5);
  if (total >= 3600) {
    return fmt::format("{}h{:02}m", total / 3600, total / 60 % 60);
  }
  if (total >= 60) {
    return fmt::format("{}m{:02}s", total / 60, total % 60);
  }
  return fmt::format("{}s", total);
}

}  // namespace

void ProgressDisplay::batchStarted(int rows, int frames_per_video) {
  rows_ = rows;
  frames_per_video_ = frames_per_video;
  start_ = std::chrono::steady_clock::now();
  if (!interactive_) {
    fmt::print(out_, "rendering {} videos of {} frames\n", rows, frames_per_video);
    std::fflush(out_);
  }
}

void ProgressDisplay::framesDone(int row, int done, int total) {
  frames_in_flight_[row] = done;
  auto now = std::chrono::steady_clock::now();
  if (interactive_ && (done == total || now - last_draw_ > std::chrono::milliseconds(100))) {
    last_draw_ = now;
    drawBar();
  }
}

void ProgressDisplay::rowFinished(const render::RowOutcome& outcome) {
  frames_in_flight_.erase(outcome.row);
  finished_++;
  failed_ += outcome.ok ? 0 : 1;
  if (interactive_) {
    if (!outcome.ok) {
      fmt::print(out_, "\r\033[Krow {} failed: {}\n", outcome.row, outcome.error);
    }
    drawBar();
    return;
  }
  if (outcome.ok) {
    fmt::print(out_, "[{}/{}] row {} done: {} ({:.1f} s)\n", finished_, rows_, outcome.row,
               outcome.video.string(), outcome.seconds);
  } else {
    fmt::print(out_, "[{}/{}] row {} failed: {}\n", finished_, rows_, outcome.row, outcome.error);
  }
  std::fflush(out_);
}

void ProgressDisplay::drawBar() {
  double frames_total = static_cast<double>(rows_) * std::max(1, frames_per_video_);
  double frames_done = static_cast<double>(finished_) * frames_per_video_;
  for (const auto& [row, done] : frames_in_flight_) {
    frames_done += done;
  }
  double fraction = frames_total > 0 ? std::min(1.0, frames_done / frames_total) : 1;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string eta = fraction > 0.02 ? formatDuration(elapsed / fraction - elapsed) : "--";

  constexpr int kWidth = 30;
  int filled = static_cast<int>(fraction * kWidth);
  fmt::print(out_, "\r\033[K[{}{}] {:3.0f}%  {}/{} videos  {} failed  elapsed {}  eta {}",
             std::string(static_cast<size_t>(filled), '#'),
             std::string(static_cast<size_t>(kWidth - filled), '-'), fraction * 100, finished_,
             rows_, failed_, formatDuration(elapsed), eta);
  std::fflush(out_);
}

void ProgressDisplay::close() {
  if (interactive_) {
    fmt::print(out_, "\n");
    std::fflush(out_);
  }
}

}  // namespace smmhub::cli
