// The webhook store and dispatcher on both SQL back ends, with a real
// redis-server for the lock and an HTTP receiver on 127.0.0.1 that each test
// starts. Jobs change state through the real JobStore, which writes the
// job_events rows the dispatcher reads.
#include <soci/soci.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "jobs/job_store.h"
#include "testing/backend_test.h"
#include "testing/loopback_http_server.h"
#include "testing/redis_server.h"
#include "webhooks/delivery.h"
#include "webhooks/dispatcher.h"
#include "webhooks/webhook_store.h"

namespace smmhub::webhooks {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpConnection;
using testing::HttpRequest;
using testing::httpResponse;
using testing::LoopbackHttpServer;

// Computes the signature a receiver expects, independently of signature().
std::string expectedSignature(const std::string& secret, const std::string& timestamp,
                              const std::string& body) {
  std::string text = timestamp + "." + body;
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(text.data()),
                                text.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string("v1=") + hex;
}

// A receiver that answers each request with the next status of STATUSES,
// and the last one for every request after.
LoopbackHttpServer::Handler answering(std::vector<int> statuses) {
  auto next = std::make_shared<std::atomic<size_t>>(0);
  return [statuses, next](const HttpRequest&, HttpConnection& connection) {
    size_t index = std::min(next->fetch_add(1), statuses.size() - 1);
    connection.send(httpResponse(statuses[index], {}, "status " + std::to_string(statuses[index])));
  };
}

class WebhooksTest : public smmhub::testing::BackendTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(sodium_init() >= 0, true);
    db_ = openTestDatabase();
    ASSERT_NE(db_, nullptr);
    jobs_ = std::make_unique<jobs::JobStore>(*db_);
    store_ = std::make_unique<WebhookStore>(*db_, WebhookStoreOptions{.allow_http = true});
  }

  // Options of a dispatcher that may reach the receiver on 127.0.0.1 over
  // http, with a short backoff.
  DispatcherOptions receiverOptions(const std::string& id = "dispatcher-1") const {
    return {.redis_url = redis_.url(),
            .id = id,
            .poll_interval = 50ms,
            .backoff = {100ms},
            .max_attempts = 10,
            .allow_http = true,
            .allow = {"127.0.0.1/32"},
            .gap_grace = 200ms};
  }

  std::unique_ptr<Dispatcher> makeDispatcher(DispatcherOptions options) {
    Result<std::unique_ptr<Dispatcher>> dispatcher = Dispatcher::create(*db_, std::move(options));
    EXPECT_TRUE(dispatcher.ok()) << dispatcher.status().toString();
    return dispatcher.ok() ? std::move(*dispatcher) : nullptr;
  }

  // Creates a batch of TENANT with ROWS jobs and returns their ids.
  jobs::CreatedBatch makeBatch(const std::string& tenant, int rows) {
    std::vector<jobs::JobSpec> specs;
    for (int row = 1; row <= rows; ++row) {
      specs.push_back(
          {.row = row, .row_json = "{}", .output_name = "video-" + std::to_string(row) + ".mp4"});
    }
    Result<jobs::CreatedBatch> batch =
        jobs_->createBatch({.tenant = tenant,
                            .idempotency_key = "key-" + std::to_string(++batches_),
                            .template_path = "t.json",
                            .data_path = "rows.csv",
                            .storage_dir = "/tmp",
                            .max_attempts = 1},
                           specs);
    EXPECT_TRUE(batch.ok()) << batch.status().toString();
    return batch.ok() ? *batch : jobs::CreatedBatch{};
  }

  void completeJob(const std::string& job_id) {
    std::int64_t token = ++tokens_;
    ASSERT_TRUE(jobs_->claim(job_id, "worker-1", token).ok());
    Status completed = jobs_->complete(job_id, token, "/tmp/out.mp4");
    ASSERT_TRUE(completed.ok()) << completed.toString();
  }

  void failJob(const std::string& job_id, const std::string& error) {
    std::int64_t token = ++tokens_;
    ASSERT_TRUE(jobs_->claim(job_id, "worker-1", token).ok());
    Result<jobs::JobState> failed = jobs_->fail(job_id, token, error, std::nullopt);
    ASSERT_TRUE(failed.ok()) << failed.status().toString();
    EXPECT_EQ(*failed, jobs::JobState::kFailed);
  }

  Webhook createWebhook(const std::string& tenant, const std::string& url,
                        const std::vector<std::string>& events = {"*"}) {
    Result<Webhook> webhook = store_->create(tenant, url, events);
    EXPECT_TRUE(webhook.ok()) << webhook.status().toString();
    return webhook.ok() ? *webhook : Webhook{};
  }

  std::vector<Delivery> deliveries(const Webhook& webhook) {
    Result<std::vector<Delivery>> list = store_->deliveries(webhook.tenant, webhook.id, 100);
    EXPECT_TRUE(list.ok()) << list.status().toString();
    return list.ok() ? *list : std::vector<Delivery>{};
  }

  // Runs passes of DISPATCHER until CONDITION holds or 20 s pass.
  bool runUntil(Dispatcher& dispatcher, const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      Result<PassStats> pass = dispatcher.runOnce();
      EXPECT_TRUE(pass.ok()) << pass.status().toString();
      if (condition()) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  testing::RedisServer redis_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<jobs::JobStore> jobs_;
  std::unique_ptr<WebhookStore> store_;
  int batches_ = 0;
  std::int64_t tokens_ = 0;
};

TEST_P(WebhooksTest, DeliveryIsSignedWithTheSecret) {
  LoopbackHttpServer receiver(answering({200}));
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/hooks/smmhub"));
  ASSERT_TRUE(webhook.secret.starts_with("whsec_"));
  EXPECT_EQ(webhook.secret.size(), 6u + 43u);
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(runUntil(*dispatcher, [&] { return receiver.requests().size() == 2; }));

  std::vector<HttpRequest> requests = receiver.requests();
  const HttpRequest& video = requests[0];
  EXPECT_EQ(video.method, "POST");
  EXPECT_EQ(video.target, "/hooks/smmhub");
  EXPECT_EQ(video.header("content-type"), "application/json");
  std::string timestamp = video.header("x-smmhub-timestamp");
  std::int64_t now_s = nowMillis() / 1000;
  EXPECT_LE(std::abs(std::stoll(timestamp) - now_s), 60);
  EXPECT_EQ(video.header("x-smmhub-signature"),
            expectedSignature(webhook.secret, timestamp, video.body));
  EXPECT_NE(video.header("x-smmhub-signature"),
            expectedSignature(webhook.secret + "x", timestamp, video.body));

  json payload = json::parse(video.body);
  EXPECT_EQ(payload["type"], "video.completed");
  EXPECT_EQ(payload["tenant"], "acme");
  EXPECT_EQ(video.header("x-smmhub-event-id"), payload["id"]);
  EXPECT_TRUE(payload["id"].get<std::string>().starts_with("evt_"));
  EXPECT_EQ(payload["data"]["batch_id"], batch.batch_id);
  EXPECT_EQ(payload["data"]["job_id"], batch.job_ids[0]);
  EXPECT_EQ(payload["data"]["row"], 1);
  EXPECT_EQ(payload["data"]["state"], "completed");
  EXPECT_EQ(payload["data"]["error"], "");
  EXPECT_EQ(payload["data"]["video_url"], "/api/v1/batches/" + batch.batch_id + "/videos/1");

  json finished = json::parse(requests[1].body);
  EXPECT_EQ(finished["type"], "batch.completed");
  EXPECT_EQ(finished["id"], "evt_batch_" + batch.batch_id);
  EXPECT_EQ(finished["data"]["counts"],
            json({{"total", 1}, {"completed", 1}, {"failed", 0}, {"cancelled", 0}}));
  EXPECT_EQ(requests[1].header("x-smmhub-signature"),
            expectedSignature(webhook.secret, requests[1].header("x-smmhub-timestamp"),
                              requests[1].body));
}

TEST_P(WebhooksTest, RestartDeliversNothingTwice) {
  LoopbackHttpServer receiver(answering({200}));
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"));
  jobs::CreatedBatch batch = makeBatch("acme", 3);
  completeJob(batch.job_ids[0]);
  failJob(batch.job_ids[1], "font missing");
  completeJob(batch.job_ids[2]);

  auto first = makeDispatcher(receiverOptions("dispatcher-a"));
  ASSERT_NE(first, nullptr);
  first->start();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (receiver.requests().size() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(receiver.requests().size(), 4u);
  first->stop();
  first.reset();

  auto second = makeDispatcher(receiverOptions("dispatcher-b"));
  ASSERT_NE(second, nullptr);
  for (int pass = 0; pass < 5; ++pass) {
    Result<PassStats> stats = second->runOnce();
    ASSERT_TRUE(stats.ok()) << stats.status().toString();
    EXPECT_TRUE(stats->locked);
    EXPECT_EQ(stats->deliveries_queued, 0);
    EXPECT_EQ(stats->delivered, 0);
  }
  // Even a scan from the start again inserts nothing.
  ASSERT_TRUE(db_->write([](soci::session& sql) {
                   sql << "UPDATE webhook_cursor SET last_event_id = 0";
                   return okStatus();
                 })
                  .ok());
  Result<PassStats> rescan = second->runOnce();
  ASSERT_TRUE(rescan.ok()) << rescan.status().toString();
  EXPECT_GT(rescan->events_read, 0);
  EXPECT_EQ(rescan->deliveries_queued, 0);

  std::vector<HttpRequest> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 4u);
  std::set<std::string> ids;
  std::multiset<std::string> types;
  for (const HttpRequest& request : requests) {
    ids.insert(request.header("x-smmhub-event-id"));
    types.insert(json::parse(request.body)["type"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(types, (std::multiset<std::string>{"batch.completed", "video.completed",
                                               "video.completed", "video.failed"}));
  for (const Delivery& delivery : deliveries(webhook)) {
    EXPECT_EQ(delivery.state, "delivered") << delivery.event_id;
    EXPECT_EQ(delivery.attempts, 1) << delivery.event_id;
    EXPECT_EQ(delivery.last_status, 200) << delivery.event_id;
  }
}

TEST_P(WebhooksTest, FailedVideoCarriesItsError) {
  LoopbackHttpServer receiver(answering({204}));
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.failed"});
  jobs::CreatedBatch batch = makeBatch("acme", 2);
  completeJob(batch.job_ids[0]);
  failJob(batch.job_ids[1], "font missing");

  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(runUntil(*dispatcher, [&] { return receiver.requests().size() == 1; }));
  for (int pass = 0; pass < 3; ++pass) {
    ASSERT_TRUE(dispatcher->runOnce().ok());
  }

  ASSERT_EQ(receiver.requests().size(), 1u);
  json payload = json::parse(receiver.requests()[0].body);
  EXPECT_EQ(payload["type"], "video.failed");
  EXPECT_EQ(payload["data"]["row"], 2);
  EXPECT_EQ(payload["data"]["state"], "failed");
  EXPECT_EQ(payload["data"]["error"], "font missing");
  EXPECT_TRUE(payload["data"]["video_url"].is_null());
  std::vector<Delivery> list = deliveries(webhook);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].last_status, 204);
  EXPECT_EQ(list[0].state, "delivered");
}

TEST_P(WebhooksTest, ThirdAttemptDeliversAfterTwoErrors) {
  LoopbackHttpServer receiver(answering({500, 500, 200}));
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(runUntil(*dispatcher, [&] {
    std::vector<Delivery> list = deliveries(webhook);
    return !list.empty() && list[0].state == "delivered";
  }));

  std::vector<HttpRequest> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("x-smmhub-event-id"), requests[2].header("x-smmhub-event-id"));
  EXPECT_EQ(requests[0].body, requests[2].body);
  std::vector<Delivery> list = deliveries(webhook);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].attempts, 3);
  EXPECT_EQ(list[0].last_status, 200);
  EXPECT_EQ(list[0].last_error, "");
  EXPECT_GT(list[0].delivered_at_ms, 0);
}

TEST_P(WebhooksTest, NeverSuccessfulEndsFailed) {
  LoopbackHttpServer receiver(answering({503}));
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  DispatcherOptions options = receiverOptions();
  options.max_attempts = 3;
  auto dispatcher = makeDispatcher(options);
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(runUntil(*dispatcher, [&] {
    std::vector<Delivery> list = deliveries(webhook);
    return !list.empty() && list[0].state == "failed";
  }));
  for (int pass = 0; pass < 3; ++pass) {
    ASSERT_TRUE(dispatcher->runOnce().ok());
    std::this_thread::sleep_for(150ms);
  }

  EXPECT_EQ(receiver.requests().size(), 3u);
  std::vector<Delivery> list = deliveries(webhook);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].attempts, 3);
  EXPECT_EQ(list[0].last_status, 503);
  EXPECT_EQ(list[0].last_error, "HTTP 503: status 503");
  EXPECT_EQ(list[0].delivered_at_ms, 0);
}

TEST_P(WebhooksTest, LoopbackRejectedByDefault) {
  LoopbackHttpServer receiver(answering({200}));
  ASSERT_TRUE(receiver.started());
  WebhookStore strict(*db_);
  std::string url = "https://127.0.0.1:" + std::to_string(receiver.port()) + "/";
  Result<Webhook> webhook = strict.create("acme", url, {"video.completed"});
  ASSERT_TRUE(webhook.ok()) << webhook.status().toString();
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  auto dispatcher =
      makeDispatcher({.redis_url = redis_.url(), .id = "dispatcher-1", .backoff = {100ms}});
  ASSERT_NE(dispatcher, nullptr);
  Result<PassStats> pass = dispatcher->runOnce();
  ASSERT_TRUE(pass.ok()) << pass.status().toString();
  EXPECT_EQ(pass->retried, 1);

  EXPECT_EQ(receiver.connections(), 0);
  std::vector<Delivery> list = deliveries(*webhook);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].state, "pending");
  EXPECT_EQ(list[0].attempts, 1);
  EXPECT_EQ(list[0].last_status, 0);
  EXPECT_EQ(list[0].last_error,
            "the host resolved to an address that is not allowed: 127.0.0.1 is a loopback "
            "address (127.0.0.0/8); if the deployment trusts it, allow it with --webhook-allow "
            "127.0.0.1/32");
}

TEST_P(WebhooksTest, HttpRejectedAtDeliveryWithoutTheOption) {
  // A webhook stored while http was allowed, sent by a dispatcher that does
  // not allow it.
  LoopbackHttpServer receiver(answering({200}));
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  DispatcherOptions options = receiverOptions();
  options.allow_http = false;
  auto dispatcher = makeDispatcher(options);
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(dispatcher->runOnce().ok());

  EXPECT_EQ(receiver.connections(), 0);
  std::vector<Delivery> list = deliveries(webhook);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].state, "pending");
  EXPECT_EQ(list[0].attempts, 1);
  EXPECT_NE(list[0].last_error.find("http"), std::string::npos) << list[0].last_error;
}

TEST_P(WebhooksTest, LongReplyBodyIsCutOff) {
  // 1 MiB replies: the status counts, and last_error keeps 200 bytes.
  auto next = std::make_shared<std::atomic<int>>(0);
  LoopbackHttpServer receiver([next](const HttpRequest&, HttpConnection& connection) {
    connection.send(
        httpResponse(next->fetch_add(1) == 0 ? 500 : 200, {}, std::string(1 << 20, 'x')));
  });
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(dispatcher->runOnce().ok());
  std::vector<Delivery> failed = deliveries(webhook);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].last_status, 500);
  EXPECT_EQ(failed[0].last_error, "HTTP 500: " + std::string(200, 'x'));
  ASSERT_TRUE(runUntil(*dispatcher, [&] { return deliveries(webhook)[0].state == "delivered"; }));

  EXPECT_EQ(deliveries(webhook)[0].last_status, 200);
  EXPECT_EQ(deliveries(webhook)[0].attempts, 2);
}

TEST_P(WebhooksTest, SlowReceiverTimesOut) {
  LoopbackHttpServer receiver([](const HttpRequest&, HttpConnection& connection) {
    if (connection.pause(2s)) {
      connection.send(httpResponse(200, {}, "late"));
    }
  });
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  DispatcherOptions options = receiverOptions();
  options.timeout = 300ms;
  auto dispatcher = makeDispatcher(options);
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(dispatcher->runOnce().ok());

  std::vector<Delivery> list = deliveries(webhook);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].state, "pending");
  EXPECT_EQ(list[0].attempts, 1);
  EXPECT_EQ(list[0].last_status, 0);
  EXPECT_EQ(list[0].last_error, "timed out after 300 ms");
}

TEST_P(WebhooksTest, RedirectIsNotFollowed) {
  LoopbackHttpServer target(answering({200}));
  ASSERT_TRUE(target.started());
  std::string location = target.url("/elsewhere");
  LoopbackHttpServer receiver([location](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(307, {{"Location", location}}, ""));
  });
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);

  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(dispatcher->runOnce().ok());

  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(target.connections(), 0);
  std::vector<Delivery> list = deliveries(webhook);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].state, "pending");
  EXPECT_EQ(list[0].last_status, 307);
  EXPECT_EQ(list[0].last_error, "HTTP 307: ");
}

TEST_P(WebhooksTest, OneDispatcherHoldsTheLock) {
  auto first = makeDispatcher(receiverOptions("dispatcher-a"));
  auto second = makeDispatcher(receiverOptions("dispatcher-b"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  Result<PassStats> a = first->runOnce();
  Result<PassStats> b = second->runOnce();
  ASSERT_TRUE(a.ok()) << a.status().toString();
  ASSERT_TRUE(b.ok()) << b.status().toString();
  EXPECT_TRUE(a->locked);
  EXPECT_FALSE(b->locked);

  // Stopping releases the lock, so the other takes over at its next pass.
  first->stop();
  Result<PassStats> taken = second->runOnce();
  ASSERT_TRUE(taken.ok()) << taken.status().toString();
  EXPECT_TRUE(taken->locked);
}

TEST_P(WebhooksTest, OnlyEventsAfterCreationAndOfTheTenant) {
  LoopbackHttpServer receiver(answering({200}));
  ASSERT_TRUE(receiver.started());
  jobs::CreatedBatch before = makeBatch("acme", 1);
  completeJob(before.job_ids[0]);
  // Webhooks see events from their creation on, and never another tenant's.
  std::this_thread::sleep_for(5ms);
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch other = makeBatch("globex", 1);
  completeJob(other.job_ids[0]);
  jobs::CreatedBatch after = makeBatch("acme", 1);
  completeJob(after.job_ids[0]);

  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(runUntil(*dispatcher, [&] { return receiver.requests().size() == 1; }));
  ASSERT_TRUE(dispatcher->runOnce().ok());

  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(json::parse(receiver.requests()[0].body)["data"]["batch_id"], after.batch_id);
  EXPECT_EQ(deliveries(webhook).size(), 1u);
}

TEST_P(WebhooksTest, PingReachesAWebhookOfAnyEvents) {
  LoopbackHttpServer receiver(answering({200}));
  ASSERT_TRUE(receiver.started());
  Webhook webhook = createWebhook("acme", receiver.url("/"), {"batch.completed"});

  Result<Delivery> ping = store_->queuePing("acme", webhook.id);
  ASSERT_TRUE(ping.ok()) << ping.status().toString();
  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  ASSERT_TRUE(runUntil(*dispatcher, [&] { return receiver.requests().size() == 1; }));

  json payload = json::parse(receiver.requests()[0].body);
  EXPECT_EQ(payload["type"], "ping");
  EXPECT_EQ(payload["id"], ping->event_id);
  EXPECT_EQ(payload["data"]["webhook_id"], webhook.id);
  EXPECT_EQ(store_->queuePing("globex", webhook.id).status().code(), StatusCode::kNotFound);
}

TEST_P(WebhooksTest, OtherTenantsWebhookIsNotFound) {
  Webhook webhook = createWebhook("acme", "https://hooks.example.com/a");

  Result<std::vector<Webhook>> theirs = store_->list("globex");
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs->empty());
  EXPECT_EQ(store_->get("globex", webhook.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->deliveries("globex", webhook.id, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->remove("globex", webhook.id).code(), StatusCode::kNotFound);

  Result<std::vector<Webhook>> ours = store_->list("acme");
  ASSERT_TRUE(ours.ok());
  ASSERT_EQ(ours->size(), 1u);
  EXPECT_EQ((*ours)[0].secret, "");
  EXPECT_EQ((*ours)[0].url, "https://hooks.example.com/a");
  EXPECT_EQ((*ours)[0].events, std::vector<std::string>{"*"});
  EXPECT_TRUE(store_->remove("acme", webhook.id).ok());
  EXPECT_EQ(store_->get("acme", webhook.id).status().code(), StatusCode::kNotFound);
}

TEST_P(WebhooksTest, CursorWaitsAtAGapThenSkipsIt) {
  LoopbackHttpServer receiver(answering({200}));
  ASSERT_TRUE(receiver.started());
  createWebhook("acme", receiver.url("/"), {"video.completed"});
  jobs::CreatedBatch batch = makeBatch("acme", 1);
  completeJob(batch.job_ids[0]);
  std::int64_t last = 0;
  ASSERT_TRUE(db_->write([&](soci::session& sql) {
                   sql << "SELECT MAX(id) FROM job_events", soci::into(last);
                   // An event two ids on, as if the one between had not committed yet.
                   std::int64_t id = last + 2;
                   std::int64_t at = nowMillis();
                   // PostgreSQL's identity column takes an explicit id only when told.
                   std::string overriding =
                       GetParam() == store::Backend::kPostgresql ? "OVERRIDING SYSTEM VALUE " : "";
                   sql << "INSERT INTO job_events (id, job_id, batch_id, tenant, from_state, "
                          "to_state, at_ms, attempt) " +
                              overriding +
                              "VALUES (:id, :job, :batch, 'acme', 'active', 'completed', :at, 1)",
                       soci::use(id), soci::use(batch.job_ids[0]), soci::use(batch.batch_id),
                       soci::use(at);
                   return okStatus();
                 })
                  .ok());

  auto dispatcher = makeDispatcher(receiverOptions());
  ASSERT_NE(dispatcher, nullptr);
  Result<PassStats> first = dispatcher->runOnce();
  ASSERT_TRUE(first.ok()) << first.status().toString();
  // Events on both sides of the gap are queued, and the cursor waits before it.
  EXPECT_EQ(first->cursor, last);
  EXPECT_EQ(first->deliveries_queued, 2);
  std::this_thread::sleep_for(300ms);
  Result<PassStats> second = dispatcher->runOnce();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(second->cursor, last + 2);
  EXPECT_EQ(second->deliveries_queued, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhooksTest, smmhub::testing::kBackends,
                         smmhub::testing::backendName);

TEST(WebhookUrlTest, AcceptsHttpsOnly) {
  EXPECT_TRUE(checkWebhookUrl("https://hooks.example.com/smmhub?x=1", false).ok());
  EXPECT_TRUE(checkWebhookUrl("http://hooks.example.com/", true).ok());

  struct Case {
    std::string url;
    std::string message;
  };
  const Case cases[] = {
      {"", "url: missing; give an https URL"},
      {"http://hooks.example.com/",
       "url: http is not accepted, because the payloads would cross the network unencrypted; "
       "use https"},
      {"ftp://hooks.example.com/", "url: scheme 'ftp' is not accepted; use https"},
      {"https://user:pw@hooks.example.com/",
       "url: must not contain a user name or password; the signature authenticates deliveries"},
      {"https://hooks.example.com/#part", "url: must not contain a fragment ('#...')"},
      {"https://hooks.example.com/a b",
       "url: contains a space or a control character; percent-encode it"},
      {"https://" + std::string(2'000, 'a') + ".com/", "url: 2013 bytes is over the limit of 2000"},
  };
  for (const Case& item : cases) {
    Status status = checkWebhookUrl(item.url, false);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << item.url;
    EXPECT_EQ(status.message(), item.message) << item.url;
  }
  Status malformed = checkWebhookUrl("not a url", false);
  EXPECT_EQ(malformed.code(), StatusCode::kInvalidArgument);
  Status no_scheme = checkWebhookUrl("hooks.example.com/x", false);
  EXPECT_EQ(no_scheme.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(no_scheme.message().starts_with("url: ")) << no_scheme.message();
}

TEST(WebhookEventsTest, KnownTypesOrAll) {
  EXPECT_TRUE(checkWebhookEvents({"*"}).ok());
  EXPECT_TRUE(checkWebhookEvents({"video.completed", "batch.completed"}).ok());

  EXPECT_EQ(checkWebhookEvents({}).message(),
            "events: must list at least one of video.completed, video.failed, batch.completed, "
            "or be [\"*\"]");
  EXPECT_EQ(checkWebhookEvents({"video.completed", "video.started"}).message(),
            "events/1: unknown event type 'video.started'; use video.completed, video.failed, "
            "batch.completed or \"*\"");
  EXPECT_EQ(checkWebhookEvents({"video.failed", "video.failed"}).message(),
            "events/1: 'video.failed' is listed twice");
  EXPECT_EQ(checkWebhookEvents({"*", "video.failed"}).message(),
            "events: \"*\" must be the only entry when given");
  EXPECT_TRUE(subscribes({"*"}, "video.failed"));
  EXPECT_TRUE(subscribes({"video.failed"}, "video.failed"));
  EXPECT_FALSE(subscribes({"video.completed"}, "video.failed"));
}

TEST(SignatureTest, MatchesOpensslHmac) {
  // printf '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test
  EXPECT_EQ(signature("whsec_test", 1'700'000'000, R"({"id":"evt_1"})"),
            "v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
  EXPECT_NE(signature("whsec_test", 1'700'000'001, R"({"id":"evt_1"})"),
            "v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
}

}  // namespace
}  // namespace smmhub::webhooks
