// `smmhub jobs ...`: puts a batch of render jobs on the broker, holding one
// credit per job, and lists or cancels a batch's jobs.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace smmhub::cli {

// Exit statuses of `smmhub jobs` besides kExitOk, kExitUsage and
// kExitCreditsShort.
inline constexpr int kExitJobsFailed = 1;  // Redis or the database failed

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
  CLI::App* command = nullptr;
  CLI::App* enqueue = nullptr;
  CLI::App* list = nullptr;
  CLI::App* cancel = nullptr;
};

// Declares `jobs` and its subcommands; ARGS must outlive parsing.
CLI::App* addJobsCommand(CLI::App& app, JobsArgs& args);

// Runs the parsed jobs subcommand and returns the exit status.
int runJobs(JobsArgs& args);

}  // namespace smmhub::cli
