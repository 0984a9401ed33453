// Compares each tenant's counters on Redis with the values that the ledger
// and the unacknowledged events give, and on request makes Redis agree.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "credits/credits.h"

namespace smmhub::credits {

struct Difference {
  std::string tenant;
  bool missing = false;  // Redis has no counters for the tenant
  Balance redis;
  Balance expected;
  bool repaired = false;
};

struct ReconcileReport {
  std::size_t tenants = 0;
  std::vector<Difference> differences;
  std::vector<std::string> errors;  // one per tenant that could not be checked
};

// Checks every tenant of the ledger and of Redis. With REPAIR, sets the
// counters of each differing tenant to the expected ones. A tenant whose
// stream gets a new event during the check is read again, up to 5 times.
Result<ReconcileReport> reconcile(Credits& credits, bool repair);

// "available 90 held 10 (batch-7 10)".
std::string describe(const Balance& balance);

}  // namespace smmhub::credits
