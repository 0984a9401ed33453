// The smmhub command: render, validate and frame videos; manage the render
// buffer and credits.
#pragma once

namespace smmhub::cli {

// Exit statuses of the smmhub command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRowsFailed = 1;  // some rows failed, the others rendered
inline constexpr int kExitUsage = 2;       // invalid usage, template, brand kit or data
inline constexpr int kExitCreditsShort = 3;  // render: too few credits; nothing rendered
// A render stopped by SIGINT or SIGTERM exits with this plus the signal
// number (130 or 143), as a shell reports a process that the signal ended.
inline constexpr int kExitSignalBase = 128;

// Runs the command line ARGV and returns the process exit status.
int run(int argc, char** argv);

}  // namespace smmhub::cli
