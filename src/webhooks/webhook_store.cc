#include "webhooks/webhook_store.h"

#include <curl/curl.h>
#include <soci/soci.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/tenant.h"
#include "webhooks/delivery.h"

namespace smmhub::webhooks {
namespace {

constexpr std::string_view kAllEvents = "*";
constexpr std::string_view kKnownEvents[] = {kVideoCompleted, kVideoFailed, kBatchCompleted};

std::string joinEvents(const std::vector<std::string>& events) {
  std::string joined;
  for (const std::string& event : events) {
    joined += (joined.empty() ? "" : ",") + event;
  }
  return joined;
}

std::vector<std::string> splitEvents(const std::string& joined) {
  std::vector<std::string> events;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t comma = joined.find(',', start);
    if (comma == std::string::npos) {
      comma = joined.size();
    }
    if (comma > start) {
      events.push_back(joined.substr(start, comma - start));
    }
    start = comma + 1;
  }
  return events;
}

std::string newSecret() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  std::string encoded(
      sodium_base64_encoded_len(sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), bytes, sizeof bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  encoded.resize(encoded.size() - 1);  // the terminating NUL
  return "whsec_" + encoded;
}

// A webhooks row bound to a statement.
struct WebhookRow {
  Webhook webhook;
  std::string events;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(webhook.id));
    statement.exchange(soci::into(webhook.tenant));
    statement.exchange(soci::into(webhook.url));
    statement.exchange(soci::into(events));
    statement.exchange(soci::into(webhook.created_at_ms));
  }
};

// Returns TENANT's webhooks, or only ID when it is not empty. Throws
// soci::soci_error.
std::vector<Webhook> selectWebhooks(soci::session& sql, const std::string& tenant,
                                    const std::string& id) {
  WebhookRow row;
  soci::statement statement(sql);
  row.bind(statement);
  statement.exchange(soci::use(tenant));
  std::string query =
      "SELECT id, tenant, url, events, created_at_ms FROM webhooks WHERE tenant = :tenant";
  if (!id.empty()) {
    statement.exchange(soci::use(id));
    query += " AND id = :id";
  }
  statement.alloc();
  statement.prepare(query + " ORDER BY created_at_ms, id", soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();
  std::vector<Webhook> found;
  while (statement.fetch()) {
    Webhook webhook = row.webhook;
    webhook.events = splitEvents(row.events);
    found.push_back(std::move(webhook));
  }
  return found;
}

Result<Webhook> selectWebhook(soci::session& sql, const std::string& tenant,
                              const std::string& id) {
  std::vector<Webhook> found = selectWebhooks(sql, tenant, id);
  if (found.empty()) {
    return Status::notFound("webhook " + id + " not found");
  }
  return found.front();
}

// A webhook_deliveries row bound to a statement.
struct DeliveryRow {
  Delivery delivery;
  std::int64_t attempts = 0;
  std::int64_t last_status = 0;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(delivery.id));
    statement.exchange(soci::into(delivery.webhook_id));
    statement.exchange(soci::into(delivery.tenant));
    statement.exchange(soci::into(delivery.event_id));
    statement.exchange(soci::into(delivery.event_type));
    statement.exchange(soci::into(delivery.payload));
    statement.exchange(soci::into(delivery.state));
    statement.exchange(soci::into(attempts));
    statement.exchange(soci::into(delivery.next_try_at_ms));
    statement.exchange(soci::into(last_status));
    statement.exchange(soci::into(delivery.last_error));
    statement.exchange(soci::into(delivery.created_at_ms));
    statement.exchange(soci::into(delivery.delivered_at_ms));
  }

  Delivery take() const {
    Delivery copy = delivery;
    copy.attempts = static_cast<int>(attempts);
    copy.last_status = static_cast<int>(last_status);
    return copy;
  }
};

}  // namespace

std::string newId(std::string_view prefix) {
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return std::string(prefix) + hex;
}

std::string newDeliveryId() {
  static std::atomic<std::uint32_t> counter{0};
  std::uint32_t sequence = counter.fetch_add(1) & 0xffff;
  std::string random = newId("");
  return fmt::format("whd_{:012x}{:04x}{}", nowMillis(), sequence, random.substr(0, 8));
}

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status checkWebhookUrl(std::string_view url, bool allow_http) {
  if (url.empty()) {
    return Status::invalidArgument("url: missing; give an https URL");
  }
  if (url.size() > kMaxUrlBytes) {
    return Status::invalidArgument(
        fmt::format("url: {} bytes is over the limit of {}", url.size(), kMaxUrlBytes));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status::invalidArgument(
          "url: contains a space or a control character; percent-encode it");
    }
  }

  std::unique_ptr<CURLU, void (*)(CURLU*)> handle(curl_url(), curl_url_cleanup);
  if (!handle) {
    return Status::internal("curl_url() failed: out of memory");
  }
  std::string text(url);
  if (CURLUcode parsed = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0);
      parsed != CURLUE_OK) {
    return Status::invalidArgument(
        fmt::format("url: '{}' is not a valid URL: {}", text, curl_url_strerror(parsed)));
  }
  auto part = [&](CURLUPart which) {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, 0) != CURLUE_OK || value == nullptr) {
      return std::string();
    }
    std::string copy(value);
    curl_free(value);
    return copy;
  };

  std::string scheme = part(CURLUPART_SCHEME);
  if (scheme == "http" && !allow_http) {
    return Status::invalidArgument(
        "url: http is not accepted, because the payloads would cross the network unencrypted; "
        "use https");
  }
  if (scheme != "https" && scheme != "http") {
    return Status::invalidArgument(
        fmt::format("url: scheme '{}' is not accepted; use https", scheme));
  }

  if (part(CURLUPART_HOST).empty()) {
    return Status::invalidArgument("url: has no host");
  }
  if (!part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty()) {
    return Status::invalidArgument(
        "url: must not contain a user name or password; the signature authenticates deliveries");
  }
  if (!part(CURLUPART_FRAGMENT).empty()) {
    return Status::invalidArgument("url: must not contain a fragment ('#...')");
  }
  return okStatus();
}

Status checkWebhookEvents(const std::vector<std::string>& events) {
  if (events.empty()) {
    return Status::invalidArgument(
        "events: must list at least one of video.completed, video.failed, batch.completed, or "
        "be [\"*\"]");
  }
  if (std::find(events.begin(), events.end(), kAllEvents) != events.end()) {
    return events.size() == 1
               ? okStatus()
               : Status::invalidArgument("events: \"*\" must be the only entry when given");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& event = events[i];
    if (std::find(std::begin(kKnownEvents), std::end(kKnownEvents), event) ==
        std::end(kKnownEvents)) {
      return Status::invalidArgument(
          fmt::format("events/{}: unknown event type '{}'; use video.completed, video.failed, "
                      "batch.completed or \"*\"",
                      i, event));
    }
    if (!seen.insert(event).second) {
      return Status::invalidArgument(fmt::format("events/{}: '{}' is listed twice", i, event));
    }
  }
  return okStatus();
}

bool subscribes(const std::vector<std::string>& events, std::string_view type) {
  return std::any_of(events.begin(), events.end(), [&](const std::string& event) {
    return event == kAllEvents || event == type;
  });
}

std::string pingPayload(const std::string& event_id, const Webhook& webhook,
                        std::int64_t created_at_ms) {
  return nlohmann::json{{"id", event_id},
                        {"type", kPing},
                        {"created_at_ms", created_at_ms},
                        {"tenant", webhook.tenant},
                        {"data", {{"webhook_id", webhook.id}}}}
      .dump();
}

WebhookStore::WebhookStore(store::Database& db, WebhookStoreOptions options)
    : db_(db), options_(options) {}

Result<Webhook> WebhookStore::create(const std::string& tenant, const std::string& url,
                                     const std::vector<std::string>& events) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(tenant));
  SMMHUB_RETURN_IF_ERROR(checkWebhookUrl(url, options_.allow_http));
  SMMHUB_RETURN_IF_ERROR(checkWebhookEvents(events));
  SMMHUB_RETURN_IF_ERROR(initLibraries());

  Webhook webhook{.id = newId("wh_"),
                  .tenant = tenant,
                  .url = url,
                  .secret = newSecret(),
                  .events = events,
                  .created_at_ms = nowMillis()};
  std::string joined = joinEvents(events);
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    sql << "INSERT INTO webhooks (id, tenant, url, secret, events, created_at_ms) "
           "VALUES (:id, :tenant, :url, :secret, :events, :at)",
        soci::use(webhook.id), soci::use(webhook.tenant), soci::use(webhook.url),
        soci::use(webhook.secret), soci::use(joined), soci::use(webhook.created_at_ms);
    return okStatus();
  }));
  return webhook;
}

Result<std::vector<Webhook>> WebhookStore::list(const std::string& tenant) {
  std::vector<Webhook> found;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    found = selectWebhooks(sql, tenant, "");
    return okStatus();
  }));
  return found;
}

Result<Webhook> WebhookStore::get(const std::string& tenant, const std::string& id) {
  Result<Webhook> found = Status::internal("webhook lookup did not run");
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    found = selectWebhook(sql, tenant, id);
    return okStatus();
  }));
  return found;
}

Status WebhookStore::remove(const std::string& tenant, const std::string& id) {
  return db_.write([&](soci::session& sql) {
    SMMHUB_RETURN_IF_ERROR(selectWebhook(sql, tenant, id));
    sql << "DELETE FROM webhook_deliveries WHERE webhook_id = :id", soci::use(id);
    sql << "DELETE FROM webhooks WHERE id = :id AND tenant = :tenant", soci::use(id),
        soci::use(tenant);
    return okStatus();
  });
}

Result<std::vector<Delivery>> WebhookStore::deliveries(const std::string& tenant,
                                                       const std::string& id, int limit) {
  std::vector<Delivery> found;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    SMMHUB_RETURN_IF_ERROR(selectWebhook(sql, tenant, id));
    DeliveryRow row;
    soci::statement statement(sql);
    row.bind(statement);
    statement.exchange(soci::use(id));
    statement.exchange(soci::use(tenant));
    statement.alloc();
    statement.prepare(
        fmt::format(
            "SELECT id, webhook_id, tenant, event_id, event_type, payload, state, attempts, "
            "next_try_at_ms, last_status, last_error, created_at_ms, delivered_at_ms "
            "FROM webhook_deliveries WHERE webhook_id = :id AND tenant = :tenant "
            "ORDER BY created_at_ms DESC, id DESC LIMIT {}",
            limit),
        soci::details::st_one_time_query);
    statement.define_and_bind();
    statement.execute();
    while (statement.fetch()) {
      found.push_back(row.take());
    }
    return okStatus();
  }));
  return found;
}

Result<Delivery> WebhookStore::queuePing(const std::string& tenant, const std::string& id) {
  SMMHUB_RETURN_IF_ERROR(initLibraries());
  Delivery delivery;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    SMMHUB_ASSIGN_OR_RETURN(Webhook webhook, selectWebhook(sql, tenant, id));
    std::int64_t now = nowMillis();
    std::string event_id = newId("evt_ping_");
    delivery = {.id = newDeliveryId(),
                .webhook_id = webhook.id,
                .tenant = tenant,
                .event_id = event_id,
                .event_type = std::string(kPing),
                .payload = pingPayload(event_id, webhook, now),
                .state = "pending",
                .next_try_at_ms = now,
                .created_at_ms = now};
    sql << "INSERT INTO webhook_deliveries (id, webhook_id, tenant, event_id, event_type, "
           "payload, state, next_try_at_ms, created_at_ms) VALUES (:id, :webhook, :tenant, "
           ":event, :type, :payload, 'pending', :due, :at)",
        soci::use(delivery.id), soci::use(delivery.webhook_id), soci::use(delivery.tenant),
        soci::use(delivery.event_id), soci::use(delivery.event_type), soci::use(delivery.payload),
        soci::use(delivery.next_try_at_ms), soci::use(delivery.created_at_ms);
    return okStatus();
  }));
  return delivery;
}

}  // namespace smmhub::webhooks
