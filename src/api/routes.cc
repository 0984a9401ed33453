#include "api/routes.h"

#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "broker/workers.h"
#include "common/log.h"
#include "jobs/job_store.h"

namespace smmhub::api {

namespace {

// Runs a trivial read on the database. On SQLite it takes a pooled session,
// and on PostgreSQL it makes a round trip to the server.
Status checkDatabase(store::Database& db) {
  return db.read([](soci::session& sql) {
    int selected = 0;
    sql << "SELECT 1", soci::into(selected);
    return selected == 1 ? okStatus()
                         : Status::internal("SELECT 1 returned " + std::to_string(selected));
  });
}

// Sends PING through the pool, whose connections time out after the pool's
// timeout, and expects PONG.
Status checkRedis(redis::Pool& pool) {
  SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, pool.acquire());
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply, connection->command({"PING"}));
  if (redis::replyText(reply.get()) != "PONG") {
    return Status::unavailable("PING returned '" + std::string(redis::replyText(reply.get())) +
                               "'");
  }
  return okStatus();
}

// NOTE: the database check has no timeout of its own. It waits as long as
// the store does for a pooled session or a PostgreSQL reply, and it blocks
// one of the server's threads meanwhile, as a hung Redis does for up to the
// pool's timeout.
Response healthz(const Services& services, const Request& request) {
  std::vector<std::string> problems;
  Status db = checkDatabase(*services.db);
  if (!db.ok()) {
    problems.push_back("database: " + db.message());
  }
  Status redis = checkRedis(*services.redis);
  if (!redis.ok()) {
    problems.push_back("redis: " + redis.message());
  }
  if (problems.empty()) {
    return jsonResponse(200, {{"status", "ok"}});
  }

  // Logged at warn because the server keeps serving while a dependency is down.
  logger("api")->warn("health check failed id={} problems={}", request.request_id,
                      nlohmann::json(problems).dump());
  return jsonResponse(503, {{"status", "unavailable"}, {"problems", problems}});
}

// How long after its last beat a worker counts as alive: the default stale
// period of the worker registry (WorkerRegistryOptions::stale_after).
constexpr std::chrono::milliseconds kWorkerStaleAfter{15'000};

// GET /api/v1/status. Each count reads a few Redis keys of the worker
// registry and the broker, or the index jobs_by_tenant_state, so that a
// dashboard may poll it every few seconds.
Response status(const Services& services, const Request& request, const Principal& principal) {
  std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  Result<std::vector<broker::WorkerInfo>> workers =
      services.workers->live(now_ms, kWorkerStaleAfter);
  if (!workers.ok()) {
    return statusResponse(workers.status(), request.request_id);
  }
  auto busy = std::count_if(workers->begin(), workers->end(), [](const broker::WorkerInfo& worker) {
    return !worker.active.empty();
  });
  Result<broker::QueueStats> queue = services.broker->queueStats();
  if (!queue.ok()) {
    return statusResponse(queue.status(), request.request_id);
  }
  Result<jobs::TenantJobCounts> tenant = services.jobs->tenantCounts(principal.tenant);
  if (!tenant.ok()) {
    return statusResponse(tenant.status(), request.request_id);
  }

  // Waiting jobs are those ready to claim and the retries whose time has
  // not come.
  return jsonResponse(
      200, {{"workers", {{"alive", workers->size()}, {"busy", busy}}},
            {"queue", {{"waiting", queue->ready + queue->delayed}, {"running", queue->active}}},
            {"tenant", {{"queued", tenant->queued}, {"active", tenant->active}}}});
}

}  // namespace

std::string_view version() {
  return SMMHUB_VERSION;
}

void addRoutes(Router& router, const Services& services) {
  router.add("GET", "/healthz",
             [services](const Request& request) { return healthz(services, request); });
  router.add("GET", "/metrics", [services](const Request&) {
    return Response{.content_type = "text/plain; version=0.0.4; charset=utf-8",
                    .body = services.registry->render()};
  });
  router.add("GET", "/api/v1/version", [](const Request&) {
    return jsonResponse(200, {{"version", version()}});
  });
  addAccountRoutes(router, services);
  addWebhookRoutes(router, services);
  addCampaignRoutes(router, services);
  addContentRoutes(router, services);
  addCreditRoutes(router, services);
  addPreviewRoutes(router, services);
  router.add("GET", "/api/v1/status",
             tenantRoute(services.auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           return status(services, request, principal);
                         }));
}

}  // namespace smmhub::api
