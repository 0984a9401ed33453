#include "cli/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <string_view>

namespace smmhub::cli {
namespace {

// Only lock-free atomics may be touched in a signal handler.
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

std::atomic<bool> stop_requested{false};
std::atomic<int> first_signal{0};
struct sigaction previous_int {};
struct sigaction previous_term {};

void restoreDefaultActions() {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGINT, &default_action, nullptr);
  sigaction(SIGTERM, &default_action, nullptr);
}

// Runs as a signal handler, so it calls only async-signal-safe functions.
void onStopSignal(int signal_number) {
  int none = 0;
  first_signal.compare_exchange_strong(none, signal_number);
  stop_requested.store(true);
  constexpr std::string_view kMessage =
      "\nsmmhub: stopping; the videos in progress finish first (interrupt again to stop at "
      "once)\n";
  ssize_t written = ::write(STDERR_FILENO, kMessage.data(), kMessage.size());
  (void)written;
  restoreDefaultActions();
}

}  // namespace

InterruptScope::InterruptScope() {
  stop_requested.store(false);
  first_signal.store(0);
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  // Restart interrupted system calls, so that file writes and locks in the
  // batch do not fail with EINTR.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

const std::atomic<bool>& InterruptScope::requested() const {
  return stop_requested;
}

int InterruptScope::signalNumber() const {
  return first_signal.load();
}

}  // namespace smmhub::cli
