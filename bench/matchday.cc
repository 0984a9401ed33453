// bench/matchday: renders the Match Day batch (examples/matchday, 50 videos)
// with and without in-memory reuse of rasterized layers and plates, and prints
// wall seconds, CPU seconds, peak RSS and videos per minute for each.
//
// Each mode runs in its own child process, so that peak RSS and CPU time are
// that mode's alone. The last line holds every figure as key=value.
//
// Usage: matchday [--rows 1-50] [--jobs N] [--out DIR]   (run from the repo root)
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "render/batch.h"

extern char** environ;

namespace {

struct Figures {
  double wall_s = 0;
  double cpu_s = 0;
  double peak_rss_mb = 0;
  int videos = 0;
  int failed = 0;
};

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// Renders the batch in this process and prints one line of figures.
int runChild(const std::string& rows, int jobs, const std::string& out, bool reuse) {
  smmhub::render::BatchRequest request;
  request.template_path = "examples/matchday/template.json";
  request.data_path = "examples/matchday/fixtures.csv";
  request.brand_dir = "examples/matchday/brand";
  request.out_dir = out;
  request.jobs = jobs;
  request.reuse = reuse;
  if (!rows.empty()) {
    size_t dash = rows.find('-');
    int first = std::stoi(rows.substr(0, dash));
    int last = dash == std::string::npos ? first : std::stoi(rows.substr(dash + 1));
    for (int row = first; row <= last; ++row) {
      request.rows.push_back(row);
    }
  }

  auto report = smmhub::render::runBatch(request, nullptr);
  if (!report.ok()) {
    fmt::print(stderr, "matchday: {}\n", report.status().message());
    return 2;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("wall_s={:.2f} cpu_s={:.2f} peak_rss_mb={:.1f} videos={} failed={}\n", report->wall_s,
             seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_maxrss / 1024.0,
             report->succeeded(), report->failed());
  return report->failed() == 0 ? 0 : 1;
}

// Runs this executable as a child in MODE and parses its figures line.
Figures runMode(const std::string& mode, const std::string& rows, int jobs,
                const std::string& out) {
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> args = {self,    "--child",       mode, "--jobs", std::to_string(jobs),
                                   "--out", out + "/" + mode};
  if (!rows.empty()) {
    args.insert(args.end(), {"--rows", rows});
  }
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    return {};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  pid_t pid = 0;
  posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);

  std::string output;
  std::array<char, 512> buffer{};
  for (ssize_t n; (n = read(pipe_fds[0], buffer.data(), buffer.size())) > 0;) {
    output.append(buffer.data(), static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);

  Figures figures;
  std::sscanf(output.c_str(), "wall_s=%lf cpu_s=%lf peak_rss_mb=%lf videos=%d failed=%d",
              &figures.wall_s, &figures.cpu_s, &figures.peak_rss_mb, &figures.videos,
              &figures.failed);
  return figures;
}

double perMinute(const Figures& f) {
  return f.wall_s > 0 ? f.videos * 60.0 / f.wall_s : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Match Day batch benchmark"};
  std::string child;
  std::string rows;
  std::string out = "/tmp/smmhub-bench-matchday";
  int jobs = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  app.add_option("--child", child, "Internal: run one mode (reuse or no-reuse) in this process");
  app.add_option("--rows", rows, "Rows to render, FIRST-LAST (default: all 50)");
  app.add_option("--jobs", jobs, "Videos rendered at once")->capture_default_str();
  app.add_option("--out", out, "Output folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!child.empty()) {
    return runChild(rows, jobs, out, child == "reuse");
  }

  std::filesystem::remove_all(out);
  Figures reuse = runMode("reuse", rows, jobs, out);
  Figures fresh = runMode("no-reuse", rows, jobs, out);
  fmt::print("{:<10} {:>8} {:>8} {:>10} {:>8} {:>12}\n", "mode", "wall_s", "cpu_s", "peak_rss_mb",
             "videos", "videos/min");
  for (const auto& [name, f] :
       std::map<std::string, Figures>{{"reuse", reuse}, {"no-reuse", fresh}}) {
    fmt::print("{:<10} {:>8.2f} {:>8.2f} {:>10.1f} {:>8} {:>12.1f}\n", name, f.wall_s, f.cpu_s,
               f.peak_rss_mb, f.videos, perMinute(f));
  }
  fmt::print(
      "jobs={} videos={} failed={} wall_s={:.2f} cpu_s={:.2f} peak_rss_mb={:.1f} "
      "videos_per_min={:.1f} noreuse_wall_s={:.2f} noreuse_cpu_s={:.2f} noreuse_peak_rss_mb={:.1f} "
      "noreuse_videos_per_min={:.1f}\n",
      jobs, reuse.videos, reuse.failed + fresh.failed, reuse.wall_s, reuse.cpu_s, reuse.peak_rss_mb,
      perMinute(reuse), fresh.wall_s, fresh.cpu_s, fresh.peak_rss_mb, perMinute(fresh));
  return reuse.failed + fresh.failed == 0 ? 0 : 1;
}
