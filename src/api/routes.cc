#include "api/routes.h"

#include <soci/soci.h>

#include <string>
#include <vector>

#include "common/log.h"

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
}

}  // namespace smmhub::api
