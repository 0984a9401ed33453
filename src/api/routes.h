// The admin API's routes:
//   GET /healthz          200 {"status":"ok"}, or 503 {"status":"unavailable","problems":[...]}
//   GET /metrics          the registry in the Prometheus text format 0.0.4
//   GET /api/v1/version   {"version":"<project version>"}
//   GET /api/v1/status    live workers, the broker's queue and the tenant's unfinished jobs
// docs/openapi.yaml describes the same routes, and a unit test compares the two.
#pragma once

#include <chrono>
#include <filesystem>

#include "api/auth.h"
#include "api/router.h"
#include "metrics/registry.h"
#include "redis/pool.h"
#include "store/database.h"

namespace smmhub::accounts {
class Accounts;
}  // namespace smmhub::accounts
namespace smmhub::broker {
class Broker;
class EventLog;
class WorkerRegistry;
}  // namespace smmhub::broker
namespace smmhub::campaigns {
class CampaignStore;
}  // namespace smmhub::campaigns
namespace smmhub::content {
class AssetStore;
class BrandKitStore;
class TemplateStore;
}  // namespace smmhub::content
namespace smmhub::credits {
class Credits;
}  // namespace smmhub::credits
namespace smmhub::jobs {
class JobStore;
}  // namespace smmhub::jobs
namespace smmhub::webhooks {
class WebhookStore;
}  // namespace smmhub::webhooks

namespace smmhub::api {

// Dependencies of the handlers. The pointers must outlive the router. Only
// the handlers read them, so a router made for its route table alone may
// leave them null.
struct Services {
  store::Database* db = nullptr;
  redis::Pool* redis = nullptr;
  const metrics::Registry* registry = nullptr;
  const Authenticator* auth = nullptr;
  accounts::Accounts* accounts = nullptr;
  jobs::JobStore* jobs = nullptr;
  broker::Broker* broker = nullptr;
  credits::Credits* credits = nullptr;
  webhooks::WebhookStore* webhooks = nullptr;
  campaigns::CampaignStore* campaigns = nullptr;
  content::AssetStore* assets = nullptr;
  content::BrandKitStore* brand_kits = nullptr;
  content::TemplateStore* templates = nullptr;
  broker::EventLog* events = nullptr;
  // The live workers, for GET /api/v1/status.
  broker::WorkerRegistry* workers = nullptr;
  // The storage folder shared with the workers: tenants' content and videos.
  std::filesystem::path storage;
  // Whether cookies carry Secure, for a server behind TLS.
  bool secure_cookies = false;
  // How long POST /api/v1/previews waits for a worker's frame.
  std::chrono::milliseconds preview_timeout{10'000};
  // How long POST /api/v1/campaigns/{id}/preflight waits for a worker's
  // report.
  std::chrono::milliseconds preflight_timeout{60'000};
  // Calls of Generate all and retry that one tenant may make per minute
  // (0: no limit), counted in Redis across API processes.
  int generate_per_minute = 30;
  // Videos that one tenant may have queued, retrying or rendering at once
  // (0: no limit). Generate all of a batch that would pass it is rejected.
  int max_unfinished_jobs = 10'000;
};

// Adds every route of the API to ROUTER.
void addRoutes(Router& router, const Services& services);

// Adds sign-in, /api/v1/me, the owners' user and API key routes and the
// platform administrators' tenant routes (src/api/account_routes.cc).
void addAccountRoutes(Router& router, const Services& services);

// Adds the owners' webhook routes (src/api/webhook_routes.cc).
void addWebhookRoutes(Router& router, const Services& services);

// Adds the campaign, batch, download and event stream routes
// (src/api/campaign_routes.cc).
void addCampaignRoutes(Router& router, const Services& services);

// Adds the asset, brand kit and template routes (src/api/content_routes.cc).
void addContentRoutes(Router& router, const Services& services);

// Adds the credit, usage and top-up routes (src/api/credit_routes.cc).
void addCreditRoutes(Router& router, const Services& services);

// Adds POST /api/v1/previews, frames rendered by the workers, and POST
// /api/v1/campaigns/{id}/preflight, campaigns checked by the workers
// (src/api/preview_routes.cc).
void addPreviewRoutes(Router& router, const Services& services);

// The project version this binary was built from, such as "0.1.0".
std::string_view version();

}  // namespace smmhub::api
