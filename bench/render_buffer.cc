// bench/render_buffer: what the render buffer saves on the Match Day batch
// (examples/matchday, 50 videos).
//
//   1. per video: the batch renders one video at a time with a cold Redis
//      tier; the CPU time of the first video and the median of videos 2 to
//      50 (same design, new data);
//   2. identical re-render: the same batch again against the same Redis; its
//      CPU time and hit rates;
//   3. cold batch: all videos, one per core, with the default memory tier,
//      wall and CPU time; and, with --node-baseline, the Node.js pipeline
//      (satori, resvg and FFmpeg) on the same batch right after it.
//
// Redis runs as a child process on a free loopback port. The last line holds
// every figure as key=value.
//
// Usage: render_buffer [--jobs N] [--out DIR] [--node-baseline PATH/render.mjs]
//        (run from the repository root)
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "render/batch.h"
#include "testing/local_redis.h"

extern char** environ;

namespace {

using smmhub::render::BatchReport;
using smmhub::render::BatchRequest;
using smmhub::render::RowOutcome;

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double processCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

BatchRequest matchDay(const std::filesystem::path& out, int jobs) {
  BatchRequest request;
  request.template_path = "examples/matchday/template.json";
  request.data_path = "examples/matchday/fixtures.csv";
  request.brand_dir = "examples/matchday/brand";
  request.out_dir = out;
  request.jobs = jobs;
  return request;
}

// Records the process CPU time each row took; rows must render one at a time.
class RowCpu final : public smmhub::render::BatchObserver {
 public:
  void batchStarted(int /*rows*/, int /*frames*/) override { last_ = processCpuSeconds(); }
  void rowFinished(const RowOutcome& /*outcome*/) override {
    double now = processCpuSeconds();
    cpu_s.push_back(now - last_);
    last_ = now;
  }

  std::vector<double> cpu_s;

 private:
  double last_ = 0;
};

double median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double hitRate(std::uint64_t hits, std::uint64_t misses) {
  return hits + misses > 0 ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
}

struct NodeFigures {
  double wall_s = 0;
  double cpu_s = 0;
  int status = -1;
};

// Runs the Node.js pipeline and returns its wall time and the CPU time of it
// and its child processes (FFmpeg).
NodeFigures runNode(const std::string& script, const std::filesystem::path& out, int jobs) {
  std::vector<std::string> args = {"node",       script,   "--out",
                                   out.string(), "--jobs", std::to_string(jobs)};
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  NodeFigures figures;
  auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, "node", nullptr, nullptr, argv.data(), environ) != 0) {
    return figures;
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  figures.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // wait4 counts the process and the children it waited for.
  figures.cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  figures.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Render buffer benchmark on the Match Day batch"};
  std::string out = "/tmp/smmhub-bench-render-buffer";
  std::string node_baseline;
  int jobs = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  app.add_option("--jobs", jobs, "Videos rendered at once in the cold batch")
      ->capture_default_str();
  app.add_option("--out", out, "Output folder")->capture_default_str();
  app.add_option("--node-baseline", node_baseline,
                 "render.mjs of the Node.js pipeline, with its node_modules installed");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::remove_all(out);

  smmhub::testing::LocalRedis redis;
  if (std::string error = redis.start(); !error.empty()) {
    fmt::print(stderr, "render_buffer: {}\n", error);
    return 2;
  }

  // 1. One video at a time against a cold Redis tier.
  RowCpu rows;
  BatchRequest first_run = matchDay(std::filesystem::path(out) / "first", 1);
  first_run.cache_redis = redis.url();
  auto first = smmhub::render::runBatch(first_run, &rows);
  if (!first.ok() || rows.cpu_s.size() < 2) {
    fmt::print(stderr, "render_buffer: {}\n", first.status().message());
    return 2;
  }
  double first_video_s = rows.cpu_s.front();
  double later_median_s = median({rows.cpu_s.begin() + 1, rows.cpu_s.end()});

  // 2. The identical batch again, against the same Redis.
  BatchRequest again_run = matchDay(std::filesystem::path(out) / "again", 1);
  again_run.cache_redis = redis.url();
  double before_again = processCpuSeconds();
  auto again = smmhub::render::runBatch(again_run, nullptr);
  double again_cpu_s = processCpuSeconds() - before_again;
  if (!again.ok()) {
    fmt::print(stderr, "render_buffer: {}\n", again.status().message());
    return 2;
  }
  double first_cpu_s = 0;
  for (double s : rows.cpu_s) {
    first_cpu_s += s;
  }

  // 3. The cold batch as `smmhub render` runs it: memory tier only.
  double before_cold = processCpuSeconds();
  auto cold =
      smmhub::render::runBatch(matchDay(std::filesystem::path(out) / "cold", jobs), nullptr);
  double cold_cpu_s = processCpuSeconds() - before_cold;
  if (!cold.ok()) {
    fmt::print(stderr, "render_buffer: {}\n", cold.status().message());
    return 2;
  }
  NodeFigures node;
  if (!node_baseline.empty()) {
    node = runNode(node_baseline, std::filesystem::path(out) / "node", jobs);
  }

  const auto& f = first->buffer;
  const auto& a = again->buffer;
  int failed = first->failed() + again->failed() + cold->failed();
  fmt::print("first video            {:8.2f} CPU s\n", first_video_s);
  fmt::print("videos 2..50, median   {:8.2f} CPU s ({:.0f}% of the first)\n", later_median_s,
             100 * later_median_s / first_video_s);
  fmt::print("batch, cold Redis      {:8.2f} CPU s\n", first_cpu_s);
  fmt::print("identical re-render    {:8.2f} CPU s ({:.1f}% of the first run)\n", again_cpu_s,
             100 * again_cpu_s / first_cpu_s);
  fmt::print("hit rate, first run    memory {:.2f} redis {:.2f}\n",
             hitRate(f.memory.hits, f.memory.misses), hitRate(f.shared.hits, f.shared.misses));
  fmt::print("hit rate, re-render    memory {:.2f} redis {:.2f}\n",
             hitRate(a.memory.hits, a.memory.misses), hitRate(a.shared.hits, a.shared.misses));
  fmt::print("cold batch, {} at once  {:8.2f} wall s {:8.2f} CPU s\n", jobs, cold->wall_s,
             cold_cpu_s);
  if (!node_baseline.empty()) {
    fmt::print("Node.js pipeline       {:8.2f} wall s {:8.2f} CPU s (exit {}), {:.1f}x smmhub\n",
               node.wall_s, node.cpu_s, node.status, node.wall_s / cold->wall_s);
  }
  fmt::print(
      "videos={} failed={} jobs={} first_video_cpu_s={:.3f} later_median_cpu_s={:.3f} "
      "later_ratio={:.3f} first_run_cpu_s={:.2f} rerender_cpu_s={:.2f} rerender_ratio={:.4f} "
      "first_memory_hit_rate={:.3f} first_redis_hit_rate={:.3f} rerender_redis_hit_rate={:.3f} "
      "cold_wall_s={:.2f} cold_cpu_s={:.2f} node_wall_s={:.2f} node_cpu_s={:.2f} "
      "node_speedup={:.2f}\n",
      cold->succeeded(), failed, jobs, first_video_s, later_median_s,
      later_median_s / first_video_s, first_cpu_s, again_cpu_s, again_cpu_s / first_cpu_s,
      hitRate(f.memory.hits, f.memory.misses), hitRate(f.shared.hits, f.shared.misses),
      hitRate(a.shared.hits, a.shared.misses), cold->wall_s, cold_cpu_s, node.wall_s, node.cpu_s,
      node.wall_s > 0 ? node.wall_s / cold->wall_s : 0);
  return failed == 0 ? 0 : 1;
}
