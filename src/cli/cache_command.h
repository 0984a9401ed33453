// `smmhub cache stats` and `smmhub cache clear`: what the render buffer's
// Redis tier holds for a tenant, and removing it.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace smmhub::cli {

struct CacheArgs {
  std::string redis_url;
  std::string tenant = "local";
  CLI::App* stats = nullptr;
  CLI::App* clear = nullptr;
};

// Declares `cache` with its two subcommands; ARGS must outlive parsing.
CLI::App* addCacheCommand(CLI::App& app, CacheArgs& args);

// Runs the parsed cache subcommand and returns the exit status.
int runCache(const CacheArgs& args);

}  // namespace smmhub::cli
