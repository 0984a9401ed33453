// `smmhub jobs ...`: puts a batch of render jobs on the broker, holding one
// credit per job, lists, retries or cancels a batch's jobs, follows a batch
// live, and lists the live workers.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace smmhub::cli {

// Exit statuses of `smmhub jobs` besides kExitOk, kExitUsage and
// kExitCreditsShort.
inline constexpr int kExitJobsFailed = 1;  // Redis or the database failed
// `jobs watch`: the batch ended with a job failed or cancelled. It shares
// the value 1 with kExitJobsFailed, which watch returns when the database
// fails. The message on stderr names the cause.
inline constexpr int kExitBatchNotCompleted = 1;

struct JobsArgs {
  std::string redis_url;
  std::string db_url;
  std::string template_path;
  std::string data_path;
  std::string brand_dir;
  std::string tenant;
  std::string storage_dir;
  std::string rows;
  std::string priority = "normal";
  std::string key;
  std::string batch_id;
  bool json = false;               // watch, workers: JSON lines
  std::int64_t stale_ms = 15'000;  // workers: max age of a live worker's last beat
  CLI::App* command = nullptr;
  CLI::App* enqueue = nullptr;
  CLI::App* list = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* retry = nullptr;
  CLI::App* watch = nullptr;
  CLI::App* workers = nullptr;
};

// Declares `jobs` and its subcommands; ARGS must outlive parsing.
CLI::App* addJobsCommand(CLI::App& app, JobsArgs& args);

// Runs the parsed jobs subcommand and returns the exit status.
int runJobs(JobsArgs& args);

}  // namespace smmhub::cli
