// bench/matchday: renders the Match Day batch (examples/matchday, 50 videos)
// with and without in-memory reuse of rasterized layers and plates, and prints
// wall seconds, CPU seconds, peak RSS and videos per minute for each.
//
// With --workers N it renders the batch in process (as `smmhub render` does)
// and then through the broker. The broker run uses a Redis with an
// append-only file, a SQLite job store and N smmhub-worker processes that
// share the render buffer on that Redis. It enqueues the batch with `smmhub
// jobs enqueue` and follows it with `smmhub jobs watch`. The broker's wall time runs from the
// enqueue to the last job's completion; its CPU time is the workers' total.
//
// Each mode runs in its own child process, so that peak RSS and CPU time are
// that mode's alone. The last line holds every figure as key=value.
//
// Usage: matchday [--rows 1-50] [--jobs N] [--out DIR] [--workers N]
//        (run from the repo root; --workers needs build/bin/smmhub and
//        build/bin/smmhub-worker next to build/bench)
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "process.h"
#include "render/batch.h"
#include "testing/local_redis.h"

namespace {

using smmhub::bench::runCommand;
using smmhub::bench::seconds;
using smmhub::bench::spawn;

struct Figures {
  double wall_s = 0;
  double cpu_s = 0;
  double peak_rss_mb = 0;
  int videos = 0;
  int failed = 0;
};

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
  std::string output = runCommand(args, -1).second;

  Figures figures;
  std::sscanf(output.c_str(), "wall_s=%lf cpu_s=%lf peak_rss_mb=%lf videos=%d failed=%d",
              &figures.wall_s, &figures.cpu_s, &figures.peak_rss_mb, &figures.videos,
              &figures.failed);
  return figures;
}

// Renders the batch through the broker with WORKERS worker processes.
Figures runBroker(const std::string& rows, int workers, const std::string& out) {
  namespace fs = std::filesystem;
  fs::path bin = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin";
  std::string smmhub = (bin / "smmhub").string();
  std::string worker = (bin / "smmhub-worker").string();
  Figures figures;
  if (!fs::exists(smmhub) || !fs::exists(worker)) {
    fmt::print(stderr, "matchday: {} or {} is missing; build them first\n", smmhub, worker);
    figures.failed = 1;
    return figures;
  }
  smmhub::testing::LocalRedis redis;
  redis.addOptions(
      {"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"});
  if (std::string error = redis.start(); !error.empty()) {
    fmt::print(stderr, "matchday: redis-server: {}\n", error);
    figures.failed = 1;
    return figures;
  }
  fs::path dir = fs::path(out) / "broker";
  fs::create_directories(dir);
  std::string db = "sqlite:" + (dir / "jobs.db").string();
  int log_fd = open((dir / "commands.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> connection = {"--redis", redis.url(), "--db", db};
  auto command = [&](std::vector<std::string> args) {
    args.insert(args.begin(), smmhub);
    args.insert(args.end(), connection.begin(), connection.end());
    return runCommand(args, log_fd);
  };

  if (command({"credits", "topup", "bench", "1000", "--key", "bench-topup"}).first != 0) {
    fmt::print(stderr, "matchday: credits topup failed; see {}\n", (dir / "commands.log").string());
    figures.failed = 1;
    return figures;
  }
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) {
    int fd =
        open((dir / fmt::format("worker-{}.log", i)).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pids.push_back(
        spawn({worker, "--redis", redis.url(), "--db", db, "--storage", (dir / "videos").string(),
               "--cache-redis", redis.url(), "--id", fmt::format("bench-{}", i)},
              -1, fd));
    close(fd);
  }
  // The workers start idle, as in production; the clock starts at the enqueue.
  std::this_thread::sleep_for(std::chrono::seconds(2));

  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> enqueue = {"jobs",
                                      "enqueue",
                                      "examples/matchday/template.json",
                                      "--data",
                                      "examples/matchday/fixtures.csv",
                                      "--brand",
                                      "examples/matchday/brand",
                                      "--tenant",
                                      "bench",
                                      "--storage",
                                      (dir / "videos").string()};
  if (!rows.empty()) {
    enqueue.insert(enqueue.end(), {"--rows", rows});
  }
  auto [enqueued, batch] = command(enqueue);
  batch.erase(batch.find_last_not_of('\n') + 1);
  int watched = enqueued == 0 ? command({"jobs", "watch", batch}).first : enqueued;
  figures.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (pid_t pid : pids) {
    kill(pid, SIGTERM);
  }
  for (pid_t pid : pids) {
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) == pid) {
      figures.cpu_s += seconds(usage.ru_utime) + seconds(usage.ru_stime);
      figures.peak_rss_mb = std::max(figures.peak_rss_mb, usage.ru_maxrss / 1024.0);
    }
  }
  close(log_fd);
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir / "videos" / "bench" / batch, ignored)) {
    figures.videos += entry.path().extension() == ".mp4" ? 1 : 0;
  }
  figures.failed = watched == 0 ? 0 : 1;
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
  int workers = 0;
  app.add_option("--workers", workers,
                 "Render through the broker with this many smmhub-worker processes as well");
  CLI11_PARSE(app, argc, argv);

  if (!child.empty()) {
    return runChild(rows, jobs, out, child == "reuse");
  }

  if (workers > 0) {
    std::filesystem::remove_all(out);
    Figures in_process = runMode("reuse", rows, jobs, out);
    Figures brokered = runBroker(rows, workers, out);
    fmt::print("{:<22} {:>8} {:>8} {:>10} {:>8} {:>12}\n", "mode", "wall_s", "cpu_s", "peak_rss_mb",
               "videos", "videos/min");
    fmt::print("{:<22} {:>8.2f} {:>8.2f} {:>10.1f} {:>8} {:>12.1f}\n",
               fmt::format("in-process, {} jobs", jobs), in_process.wall_s, in_process.cpu_s,
               in_process.peak_rss_mb, in_process.videos, perMinute(in_process));
    fmt::print("{:<22} {:>8.2f} {:>8.2f} {:>10.1f} {:>8} {:>12.1f}\n",
               fmt::format("broker, {} workers", workers), brokered.wall_s, brokered.cpu_s,
               brokered.peak_rss_mb, brokered.videos, perMinute(brokered));
    fmt::print(
        "jobs={} workers={} videos={} broker_videos={} failed={} wall_s={:.2f} cpu_s={:.2f} "
        "broker_wall_s={:.2f} broker_cpu_s={:.2f} broker_peak_rss_mb={:.1f} "
        "broker_vs_in_process={:.2f}\n",
        jobs, workers, in_process.videos, brokered.videos, in_process.failed + brokered.failed,
        in_process.wall_s, in_process.cpu_s, brokered.wall_s, brokered.cpu_s, brokered.peak_rss_mb,
        in_process.wall_s > 0 ? brokered.wall_s / in_process.wall_s : 0);
    return in_process.failed + brokered.failed == 0 ? 0 : 1;
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
