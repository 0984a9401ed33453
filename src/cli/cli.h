// The smmhub command: render, validate and frame videos; manage the render
// buffer, credits and queued jobs.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace smmhub::cli {

// Exit statuses of the smmhub command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRowsFailed = 1;    // some rows failed, the others rendered
inline constexpr int kExitUsage = 2;         // invalid usage, template, brand kit or data
inline constexpr int kExitCreditsShort = 3;  // render: too few credits; nothing rendered
// A render stopped by SIGINT or SIGTERM exits with this plus the signal
// number (130 or 143), as a shell reports a process that the signal ended.
inline constexpr int kExitSignalBase = 128;

// Parses a --rows list such as "3,7-9" into {3, 7, 8, 9}. A row listed more
// than once is kept where it is first listed: "2,1-3" gives {2, 1, 3}.
// Errors: invalidArgument for a malformed list or a row past kMaxDataRows.
Result<std::vector<int>> parseRowList(const std::string& text);

// Runs the command line ARGV and returns the process exit status.
int run(int argc, char** argv);

}  // namespace smmhub::cli
