// Moves credit events from the tenants' Redis streams into the SQL ledger.
//
// Every writer reads through one consumer group, so that several writers
// (one per process that changes credits) share the work. An event is inserted with
// its key, which is unique per tenant in the ledger, and only then
// acknowledged and deleted from the stream. A writer that dies between the
// two leaves the event pending; the next drain by any writer claims it after
// claim_idle and inserts nothing twice.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "common/status.h"
#include "credits/credits.h"

namespace smmhub::credits {

struct LedgerWriterOptions {
  // This writer's name in the consumer group; unique per process.
  std::string consumer;
  // Events another consumer has held unacknowledged this long are taken over.
  std::chrono::milliseconds claim_idle{30'000};
  std::size_t batch = 500;
};

struct DrainStats {
  std::size_t inserted = 0;      // new ledger entries
  std::size_t acknowledged = 0;  // events removed from the streams
  std::size_t duplicates = 0;    // keys Redis applied twice; see InsertOutcome
};

class LedgerWriter {
 public:
  LedgerWriter(Credits& credits, LedgerWriterOptions options);

  // Moves every event of TENANT's stream into the ledger.
  Result<DrainStats> drainTenant(const std::string& tenant);

  // Drains every tenant with counters. The first call also scans Redis for
  // streams of tenants missing from the tenant set. A tenant that fails does
  // not stop the others; the error then gives how many failed and the first
  // error.
  Result<DrainStats> drainAll();

  // Removes this writer from TENANT's consumer group when it has no pending
  // events, so that short-lived writers (one per command-line call) do not
  // pile up in the group. A writer with pending events stays, because
  // removing it would strand them. Returns whether it was removed.
  Result<bool> leave(const std::string& tenant);

  // Drains every INTERVAL until STOP is true. Failures are logged and tried
  // again at the next interval.
  void run(const std::atomic<bool>& stop, std::chrono::milliseconds interval);

 private:
  Credits& credits_;
  LedgerWriterOptions options_;
  bool scanned_ = false;
};

// Returns "HOST-PID", a consumer name unique to this process.
std::string defaultConsumerName();

}  // namespace smmhub::credits
