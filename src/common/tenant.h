// Tenant names: they scope render buffer keys, credit counters and ledger
// rows, so one rule decides which names are valid everywhere.
#pragma once

#include <string_view>

#include "common/status.h"

namespace smmhub {

// Checks that NAME can scope keys: 1 to 64 letters, digits, '-' or '_'.
// Errors: invalidArgument naming the tenant and what is wrong.
Status checkTenantName(std::string_view name);

}  // namespace smmhub
