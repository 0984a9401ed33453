#include "campaigns/usage.h"

#include <soci/soci.h>

#include <ctime>
#include <map>

#include <fmt/format.h>

#include "store/statement.h"

namespace smmhub::campaigns {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::string dateOf(std::int64_t day) {
  std::time_t seconds = static_cast<std::time_t>(day * (kDayMs / 1000));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
}

}  // namespace

Result<std::vector<DayUsage>> usageByDay(store::Database& db, const std::string& tenant, int days,
                                         std::int64_t now_ms) {
  if (days < 1 || days > 366) {
    return Status::invalidArgument(fmt::format("days: must be 1 to 366, got {}", days));
  }
  std::int64_t last_day = now_ms / kDayMs;
  std::int64_t first_day = last_day - days + 1;
  std::int64_t since_ms = first_day * kDayMs;

  std::map<std::int64_t, DayUsage> by_day;
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> cache;  // hits, lookups
  SMMHUB_RETURN_IF_ERROR(db.read([&](soci::session& sql) -> Status {
    std::int64_t day = 0;
    std::int64_t count = 0;
    std::string state;
    // Completions and final failures, from the state changes.
    soci::statement events =
        store::runOnce(sql,
                       "SELECT at_ms / 86400000, to_state, COUNT(*) FROM job_events WHERE "
                       "tenant = :tenant AND at_ms >= :since AND to_state IN ('completed', "
                       "'failed') GROUP BY at_ms / 86400000, to_state",
                       soci::into(day), soci::into(state), soci::into(count), soci::use(tenant),
                       soci::use(since_ms));
    events.execute();
    while (events.fetch()) {
      (state == "completed" ? by_day[day].videos : by_day[day].failures) += count;
    }

    std::int64_t render_ms = 0;
    std::int64_t hits = 0;
    std::int64_t lookups = 0;
    soci::statement jobs =
        store::runOnce(sql,
                       "SELECT updated_at_ms / 86400000, SUM(render_ms), SUM(cache_hits), "
                       "SUM(cache_lookups) FROM jobs WHERE tenant = :tenant AND state = "
                       "'completed' AND updated_at_ms >= :since GROUP BY updated_at_ms / "
                       "86400000",
                       soci::into(day), soci::into(render_ms), soci::into(hits),
                       soci::into(lookups), soci::use(tenant), soci::use(since_ms));
    jobs.execute();
    while (jobs.fetch()) {
      by_day[day].render_seconds = static_cast<double>(render_ms) / 1000.0;
      cache[day] = {hits, lookups};
    }

    // Charges move credits out of a hold: their amount is what was spent.
    std::int64_t credits = 0;
    soci::statement charges = store::runOnce(
        sql,
        "SELECT created_at_ms / 86400000, SUM(amount) FROM ledger_entries WHERE "
        "tenant = :tenant AND kind = 'charge' AND created_at_ms >= :since GROUP "
        "BY created_at_ms / 86400000",
        soci::into(day), soci::into(credits), soci::use(tenant), soci::use(since_ms));
    charges.execute();
    while (charges.fetch()) {
      by_day[day].credits = credits;
    }
    return okStatus();
  }));

  std::vector<DayUsage> usage;
  for (std::int64_t day = first_day; day <= last_day; ++day) {
    DayUsage entry = by_day[day];
    entry.date = dateOf(day);
    auto [hits, lookups] = cache[day];
    entry.cache_hit_rate = lookups > 0 ? static_cast<double>(hits) / lookups : 0;
    usage.push_back(entry);
  }
  return usage;
}

}  // namespace smmhub::campaigns
