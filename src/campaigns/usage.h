// Usage figures per day for a tenant's charts: videos made, credits charged,
// render time, render cache hit rate and failures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace smmhub::campaigns {

struct DayUsage {
  std::string date;           // UTC, YYYY-MM-DD
  std::int64_t videos = 0;    // jobs that completed that day
  std::int64_t failures = 0;  // jobs that failed for good that day
  std::int64_t credits = 0;   // credits charged that day
  double render_seconds = 0;  // render time of the videos completed that day
  // Frames found in the render cache over frames looked up, for the videos
  // completed that day; 0 when none were looked up.
  double cache_hit_rate = 0;
};

// Returns TENANT's usage for the DAYS UTC days that end with the one
// holding NOW_MS, oldest first, one entry per day (days without activity
// hold zeros). Errors: invalidArgument unless 1 <= DAYS <= 366.
Result<std::vector<DayUsage>> usageByDay(store::Database& db, const std::string& tenant, int days,
                                         std::int64_t now_ms);

}  // namespace smmhub::campaigns
