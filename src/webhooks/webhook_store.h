// Webhooks: the URLs a tenant registers to be told, by a signed HTTP POST,
// when a video or a batch finishes.
//
//   WebhookStore webhooks(db, {.allow_http = false});
//   SMMHUB_ASSIGN_OR_RETURN(Webhook created,
//                           webhooks.create("acme", "https://hooks.acme.example/smmhub",
//                                           {"video.completed", "batch.completed"}));
//   // created.secret ("whsec_...") is shown to the tenant once; list() omits it.
//
// Every method takes the tenant and finds rows by (tenant, id), so that an
// id of another tenant's webhook is notFound, as an unknown one is. The
// secret is stored as it is, because signing a delivery needs it.
// Dispatcher (dispatcher.h) turns job events into rows of
// webhook_deliveries and sends them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace smmhub::webhooks {

// The event types a webhook may subscribe to.
inline constexpr std::string_view kVideoCompleted = "video.completed";
inline constexpr std::string_view kVideoFailed = "video.failed";
inline constexpr std::string_view kBatchCompleted = "batch.completed";
// The type of the event that POST /api/v1/webhooks/{id}/test queues; it
// goes to the webhook whatever its events.
inline constexpr std::string_view kPing = "ping";

// The longest webhook URL accepted, in bytes.
inline constexpr std::size_t kMaxUrlBytes = 2'000;

struct Webhook {
  std::string id;  // "wh_" + 16 hex digits
  std::string tenant;
  std::string url;
  // Empty except in the result of create().
  std::string secret;
  // Subscribed event types, or {"*"} for all of them.
  std::vector<std::string> events;
  std::int64_t created_at_ms = 0;
};

// One event queued for one webhook, and how sending it went.
struct Delivery {
  std::string id;  // see newDeliveryId()
  std::string webhook_id;
  std::string tenant;
  std::string event_id;
  std::string event_type;
  std::string payload;  // the JSON body sent
  std::string state;    // "pending", "delivered" or "failed"
  int attempts = 0;
  std::int64_t next_try_at_ms = 0;
  int last_status = 0;  // HTTP status of the last attempt, 0 when none came back
  std::string last_error;
  std::int64_t created_at_ms = 0;
  std::int64_t delivered_at_ms = 0;
};

struct WebhookStoreOptions {
  // Accept http:// URLs too; for tests and private networks only, because
  // plain http exposes the payloads to the network.
  bool allow_http = false;
};

// Checks URL as create() does: https (or http when ALLOW_HTTP), a host, no
// user name or password, no fragment, at most kMaxUrlBytes. Errors:
// invalidArgument starting with "url: " and saying which rule URL breaks.
Status checkWebhookUrl(std::string_view url, bool allow_http);

// Checks EVENTS as create() does: a non-empty list of distinct types from
// kVideoCompleted, kVideoFailed and kBatchCompleted, or exactly {"*"}.
// Errors: invalidArgument starting with "events: ".
Status checkWebhookEvents(const std::vector<std::string>& events);

// Returns whether a webhook subscribed to EVENTS receives events of TYPE.
bool subscribes(const std::vector<std::string>& events, std::string_view type);

// Returns the webhook's payload for a ping event, with id EVENT_ID.
std::string pingPayload(const std::string& event_id, const Webhook& webhook,
                        std::int64_t created_at_ms);

class WebhookStore {
 public:
  WebhookStore(store::Database& db, WebhookStoreOptions options = {});

  // Registers URL for TENANT's EVENTS with a fresh secret, "whsec_" and 32
  // random bytes in unpadded base64url, and returns the webhook with the
  // secret. Errors: invalidArgument naming the field (see
  // checkWebhookUrl() and checkWebhookEvents()) or the tenant; unavailable
  // when the database fails; internal when libsodium cannot start.
  Result<Webhook> create(const std::string& tenant, const std::string& url,
                         const std::vector<std::string>& events);

  // Returns TENANT's webhooks, oldest first, without their secrets.
  Result<std::vector<Webhook>> list(const std::string& tenant);

  // Returns one webhook without its secret. Errors: notFound.
  Result<Webhook> get(const std::string& tenant, const std::string& id);

  // Deletes the webhook and its deliveries; pending ones are never sent.
  // Errors: notFound.
  Status remove(const std::string& tenant, const std::string& id);

  // Returns the webhook's deliveries, newest first, at most LIMIT. Errors:
  // notFound for an unknown webhook.
  Result<std::vector<Delivery>> deliveries(const std::string& tenant, const std::string& id,
                                           int limit);

  // Queues a ping event for the webhook, due now, and returns its delivery.
  // Errors: notFound.
  Result<Delivery> queuePing(const std::string& tenant, const std::string& id);

  const WebhookStoreOptions& options() const { return options_; }

 private:
  store::Database& db_;
  WebhookStoreOptions options_;
};

// Returns a fresh id: PREFIX and 16 random hex digits. REQUIRES:
// initLibraries() (delivery.h) succeeded.
std::string newId(std::string_view prefix);

// Returns a fresh delivery id: "whd_", the time in milliseconds and a counter
// of this process (16 hex digits, so that ids sort in the order they were
// made), and 8 random hex digits.
std::string newDeliveryId();

// Returns the time in Unix milliseconds from the system clock.
std::int64_t nowMillis();

}  // namespace smmhub::webhooks
