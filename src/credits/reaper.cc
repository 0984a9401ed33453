#include "credits/reaper.h"

#include "common/log.h"

namespace smmhub::credits {

Result<ReapReport> reapHolds(Credits& credits, JobDirectory& jobs) {
  ReapReport report;
  SMMHUB_ASSIGN_OR_RETURN(std::vector<std::string> tenants, credits.tenants());
  for (const std::string& tenant : tenants) {
    SMMHUB_ASSIGN_OR_RETURN(Balance balance, credits.balance(tenant));
    for (const auto& [job, held] : balance.holds) {
      if (job.empty()) {
        continue;
      }
      report.holds_checked++;
      Result<JobState> state = jobs.state(tenant, job);
      if (!state.ok()) {
        report.unknown.push_back(tenant + "/" + job + ": " + state.status().message());
        continue;
      }
      if (*state == JobState::kActive) {
        continue;
      }
      Request request{
          .tenant = tenant, .key = "reap:" + job, .job = job, .actor = "reaper", .all = true};
      SMMHUB_ASSIGN_OR_RETURN(Receipt receipt, credits.release(request));
      if (receipt.moved > 0) {
        report.holds_released++;
        report.credits_released += receipt.moved;
        logger("credits")->info("released the hold of a gone job tenant={} job={} credits={}",
                                tenant, job, receipt.moved);
      }
    }
  }
  return report;
}

}  // namespace smmhub::credits
