// Webhook routes: an owner registers the URLs that receive a signed POST
// when the tenant's videos and batches finish, and reads how the deliveries
// went. src/webhooks sends them.
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/body.h"
#include "api/route_bodies.h"
#include "api/routes.h"
#include "webhooks/webhook_store.h"

namespace smmhub::api {
namespace {

using nlohmann::json;

json webhookJson(const webhooks::Webhook& webhook) {
  json out = {{"id", webhook.id},
              {"url", webhook.url},
              {"events", webhook.events},
              {"created_at_ms", webhook.created_at_ms}};
  if (!webhook.secret.empty()) {
    out["secret"] = webhook.secret;
  }
  return out;
}

json deliveryJson(const webhooks::Delivery& delivery) {
  return {{"id", delivery.id},
          {"event_id", delivery.event_id},
          {"event_type", delivery.event_type},
          {"state", delivery.state},
          {"attempts", delivery.attempts},
          {"last_status", delivery.last_status},
          {"last_error", delivery.last_error},
          {"next_try_at_ms", delivery.next_try_at_ms},
          {"created_at_ms", delivery.created_at_ms},
          {"delivered_at_ms", delivery.delivered_at_ms}};
}

Response createWebhook(const Services& services, const Request& request,
                       const Principal& principal) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return *body.error;
  }
  Result<std::optional<std::string>> url = stringField(body.fields, "url", true);
  if (!url.ok()) {
    return statusResponse(url.status(), request.request_id);
  }
  Result<std::vector<std::string>> events = eventsField(body.fields);
  if (!events.ok()) {
    return statusResponse(events.status(), request.request_id);
  }
  Result<webhooks::Webhook> created = services.webhooks->create(principal.tenant, **url, *events);
  if (!created.ok()) {
    return statusResponse(created.status(), request.request_id);
  }
  return jsonResponse(201, webhookJson(*created));
}

Response listWebhooks(const Services& services, const Request& request,
                      const Principal& principal) {
  Result<std::vector<webhooks::Webhook>> list = services.webhooks->list(principal.tenant);
  if (!list.ok()) {
    return statusResponse(list.status(), request.request_id);
  }
  json out = json::array();
  for (const webhooks::Webhook& webhook : *list) {
    out.push_back(webhookJson(webhook));
  }
  return jsonResponse(200, {{"webhooks", std::move(out)}});
}

Response deleteWebhook(const Services& services, const Request& request,
                       const Principal& principal) {
  Status removed = services.webhooks->remove(principal.tenant, request.params.at("id"));
  if (!removed.ok()) {
    return statusResponse(removed, request.request_id);
  }
  return Response{.status = 204, .content_type = "text/plain"};
}

Response listDeliveries(const Services& services, const Request& request,
                        const Principal& principal) {
  Result<std::int64_t> limit = integerQuery(request, "limit", 50, 1, 500);
  if (!limit.ok()) {
    return statusResponse(limit.status(), request.request_id);
  }
  Result<std::vector<webhooks::Delivery>> list = services.webhooks->deliveries(
      principal.tenant, request.params.at("id"), static_cast<int>(*limit));
  if (!list.ok()) {
    return statusResponse(list.status(), request.request_id);
  }
  json out = json::array();
  for (const webhooks::Delivery& delivery : *list) {
    out.push_back(deliveryJson(delivery));
  }
  return jsonResponse(200, {{"deliveries", std::move(out)}});
}

Response testWebhook(const Services& services, const Request& request, const Principal& principal) {
  Result<webhooks::Delivery> queued =
      services.webhooks->queuePing(principal.tenant, request.params.at("id"));
  if (!queued.ok()) {
    return statusResponse(queued.status(), request.request_id);
  }
  return jsonResponse(202, deliveryJson(*queued));
}

}  // namespace

void addWebhookRoutes(Router& router, const Services& services) {
  auto route = [&](const char* method, const char* pattern,
                   Response (*handler)(const Services&, const Request&, const Principal&)) {
    router.add(method, pattern,
               tenantRoute(services.auth, Role::kOwner,
                           [services, handler](const Request& request, const Principal& principal) {
                             return handler(services, request, principal);
                           }));
  };
  route("GET", "/api/v1/webhooks", listWebhooks);
  route("POST", "/api/v1/webhooks", createWebhook);
  route("DELETE", "/api/v1/webhooks/{id}", deleteWebhook);
  route("GET", "/api/v1/webhooks/{id}/deliveries", listDeliveries);
  route("POST", "/api/v1/webhooks/{id}/test", testWebhook);
}

}  // namespace smmhub::api
