// Credit and usage routes: the balance, the ledger's history, top-ups by
// platform administrators, and usage per day for charts.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "api/auth.h"
#include "api/body.h"
#include "api/routes.h"
#include "campaigns/submit.h"
#include "campaigns/usage.h"
#include "credits/credits.h"
#include "credits/internal.h"
#include "credits/prices.h"

namespace smmhub::api {
namespace {

using nlohmann::json;

// Top-ups are made by people, so a single one has a sanity limit.
constexpr std::int64_t kMaxTopup = 100'000'000;

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// GET /api/v1/credits for the caller's tenant, and
// GET /api/v1/admin/tenants/{id}/credits for any.
Response balance(const Services& services, const Request& request, const std::string& tenant) {
  Result<credits::Balance> balance = services.credits->balance(tenant);
  Result<std::int64_t> price = credits::videoPrice(*services.db, tenant);
  if (!balance.ok() || !price.ok()) {
    return statusResponse(!balance.ok() ? balance.status() : price.status(), request.request_id);
  }
  return jsonResponse(
      200, {{"available", balance->available}, {"held", balance->held}, {"video_price", *price}});
}

Response history(const Services& services, const Request& request, const Principal& principal) {
  Result<std::int64_t> limit = integerQuery(request, "limit", 50, 1, 1'000);
  if (!limit.ok()) {
    return statusResponse(limit.status(), request.request_id);
  }
  // Recent changes are still in Redis until a ledger writer moves them.
  campaigns::moveToLedger(*services.credits, principal.tenant);
  Result<std::vector<credits::Entry>> entries =
      credits::ledgerHistory(*services.db, principal.tenant, static_cast<int>(*limit));
  if (!entries.ok()) {
    return statusResponse(entries.status(), request.request_id);
  }
  json list = json::array();
  for (const credits::Entry& entry : *entries) {
    list.push_back({{"id", entry.id},
                    {"kind", entry.kind},
                    {"amount", entry.amount},
                    {"available_after", entry.available_after},
                    {"held_after", entry.held_after},
                    {"job_id", entry.job_id},
                    {"actor", entry.actor},
                    {"created_at_ms", entry.created_at_ms}});
  }
  return jsonResponse(200, {{"entries", std::move(list)}});
}

Response usage(const Services& services, const Request& request, const Principal& principal) {
  Result<std::int64_t> days = integerQuery(request, "days", 30, 1, 366);
  if (!days.ok()) {
    return statusResponse(days.status(), request.request_id);
  }
  Result<std::vector<campaigns::DayUsage>> usage =
      campaigns::usageByDay(*services.db, principal.tenant, static_cast<int>(*days), nowMillis());
  if (!usage.ok()) {
    return statusResponse(usage.status(), request.request_id);
  }
  json list = json::array();
  for (const campaigns::DayUsage& day : *usage) {
    list.push_back({{"date", day.date},
                    {"videos", day.videos},
                    {"failures", day.failures},
                    {"credits", day.credits},
                    {"render_seconds", day.render_seconds},
                    {"cache_hit_rate", day.cache_hit_rate}});
  }
  return jsonResponse(200, {{"days", std::move(list)}});
}

// POST /api/v1/admin/tenants/{id}/topups {"amount": N} with an
// Idempotency-Key header, so that a retried request adds once.
Response topup(const Services& services, const Request& request, const Principal& principal) {
  const std::string& tenant = request.params.at("id");
  std::string_view key = header(request, "idempotency-key");
  if (key.empty() || key.size() > 150) {
    return errorResponse(400, "bad_request",
                         "header Idempotency-Key is required: 1 to 150 visible ASCII characters",
                         request.request_id);
  }
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return *body.error;
  }
  Result<std::optional<std::int64_t>> amount =
      integerField(body.fields, "amount", true, 1, kMaxTopup);
  if (!amount.ok()) {
    return statusResponse(amount.status(), request.request_id);
  }
  if (Result<accounts::Tenant> known = services.accounts->tenant(tenant); !known.ok()) {
    return statusResponse(known.status(), request.request_id);
  }
  Result<credits::Receipt> receipt = services.credits->topup({.tenant = tenant,
                                                              .amount = **amount,
                                                              .key = "topup:" + std::string(key),
                                                              .actor = principal.actor()});
  if (!receipt.ok()) {
    return statusResponse(receipt.status(), request.request_id);
  }
  campaigns::moveToLedger(*services.credits, tenant);
  return jsonResponse(receipt->replayed ? 200 : 201, {{"tenant", tenant},
                                                      {"added", receipt->moved},
                                                      {"available", receipt->available},
                                                      {"replayed", receipt->replayed}});
}

}  // namespace

void addCreditRoutes(Router& router, const Services& services) {
  const Authenticator* auth = services.auth;
  router.add("GET", "/api/v1/credits",
             tenantRoute(auth, Role::kViewer, [services](const Request& r, const Principal& p) {
               return balance(services, r, p.tenant);
             }));
  router.add("GET", "/api/v1/credits/history",
             tenantRoute(auth, Role::kViewer, [services](const Request& r, const Principal& p) {
               return history(services, r, p);
             }));
  router.add("GET", "/api/v1/usage",
             tenantRoute(auth, Role::kViewer, [services](const Request& r, const Principal& p) {
               return usage(services, r, p);
             }));
  router.add("GET", "/api/v1/admin/tenants/{id}/credits",
             adminRoute(auth, [services](const Request& r, const Principal&) {
               const std::string& tenant = r.params.at("id");
               if (Result<accounts::Tenant> known = services.accounts->tenant(tenant);
                   !known.ok()) {
                 return statusResponse(known.status(), r.request_id);
               }
               return balance(services, r, tenant);
             }));
  router.add("POST", "/api/v1/admin/tenants/{id}/topups",
             adminRoute(auth, [services](const Request& r, const Principal& p) {
               return topup(services, r, p);
             }));
}

}  // namespace smmhub::api
