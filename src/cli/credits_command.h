// `smmhub credits ...`: balances, top-ups, holds and the ledger from the
// command line, through the same credits library as every other caller.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace smmhub::cli {

// Exit statuses of `smmhub credits` besides kExitOk and kExitUsage.
inline constexpr int kExitCreditsFailed = 1;  // Redis or the database failed
inline constexpr int kExitShort = 3;          // too few credits available
inline constexpr int kExitNotHeld = 4;        // the job holds fewer credits than requested
inline constexpr int kExitDifferences = 5;    // reconcile found differences it did not repair

struct CreditsArgs {
  std::string redis_url;
  std::string db_url;
  std::string tenant;
  std::string amount;
  std::string key;
  std::string job;
  std::string actor;
  bool partial = false;
  bool repair = false;
  bool follow = false;
  int limit = 50;
  std::int64_t price = 0;  // price --set: credits per video
  CLI::App* command = nullptr;
  CLI::App* balance = nullptr;
  CLI::App* topup = nullptr;
  CLI::App* reserve = nullptr;
  CLI::App* commit = nullptr;
  CLI::App* release = nullptr;
  CLI::App* adjust = nullptr;
  CLI::App* history = nullptr;
  CLI::App* reconcile = nullptr;
  CLI::App* sync = nullptr;
  CLI::App* price_command = nullptr;
};

// Declares `credits` and its subcommands; ARGS must outlive parsing.
CLI::App* addCreditsCommand(CLI::App& app, CreditsArgs& args);

// Runs the parsed credits subcommand and returns the exit status.
int runCredits(CreditsArgs& args);

}  // namespace smmhub::cli
