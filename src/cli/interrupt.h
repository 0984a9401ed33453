// Turns SIGINT and SIGTERM into a request to stop a batch.
//
// While an InterruptScope lives, the first SIGINT or SIGTERM sets a flag that
// the batch reads before it starts each row, so the videos in progress finish
// and no new one starts. The handler then restores the default action of both
// signals, so that a second signal ends the process at once. The hidden
// partial files that such an exit leaves are removed by the next batch that
// renders into the same folder.
#pragma once

#include <atomic>

namespace smmhub::cli {

class InterruptScope {
 public:
  // Installs the handlers. REQUIRES: no other InterruptScope is alive.
  InterruptScope();
  // Restores the handlers that were installed before.
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // The flag that the first signal sets. A batch reads it through
  // BatchRequest::stop.
  const std::atomic<bool>& requested() const;

  // The number of the first signal received, or 0 when none was.
  int signalNumber() const;
};

}  // namespace smmhub::cli
